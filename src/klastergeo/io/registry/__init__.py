"""Reading and validating a registry of firms: the ingest engine."""

"""Reading and validating a registry of firms: the ingest engine.

One path from a file (or a DataFrame) to the kept firms, with one validator:

- :mod:`.reading` reads a file as it is (CSV, Excel via :mod:`.sheets`, Parquet, GIS);
  :mod:`.frames` writes a DataFrame as a registry file;
- :mod:`.mapping` finds the column of each role (:mod:`.columns` is the ``[columns]``
  section, :mod:`.headers` the synonyms); :mod:`.numbers` decides decimal marks and units;
- :mod:`.checks` holds the checks of one row alone, :mod:`.validation` the one validator
  of a batch (:func:`.validation.check_batch`: reasons, duplicates, rejected frames);
- :mod:`.sources` stages a registry as batches; :mod:`.batches` checks every batch, finds
  the duplicates across them and commits the kept firms (a table held in memory is one
  batch: :func:`.batches.validate_records`); :mod:`.distributed` is one way of running
  the batches, on Dask;
- :mod:`.firms` reads the kept firms back (:class:`.firms.FirmStore`).

:mod:`.records` gathers the public names of these modules, where the documentation
imports them from.
"""

"""The ingest layer: everything that touches files.

- :mod:`klastergeo.io.registry`: reading a registry of firms (CSV, Excel, GeoPackage,
  Parquet, ...), mapping its columns, reading numbers as people write them, placing
  records by coordinates, codes or names, and validating them (in one batch, in many, or
  on Dask), with every rejected record kept with its reason.
- :mod:`klastergeo.io.boundaries`: the administrative boundaries (provinsi to desa).
- :mod:`klastergeo.io.files`: atomic output, so a run's folder is entirely old or new.

It may import :mod:`klastergeo.analysis` (the point-in-area location) and the core
modules at the top of the package, never :mod:`klastergeo.publish` or :mod:`klastergeo.app`.
"""

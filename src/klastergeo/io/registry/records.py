"""Enterprise records: read any registry file, map its columns, validate every row.

The facade of the ingest engine (:mod:`klastergeo.io.registry`): the public names of its
modules, where the documentation and older code import them from.

- :mod:`~klastergeo.io.registry.reading`: files as they are (CSV, Excel, Parquet, GIS);
- :mod:`~klastergeo.io.registry.frames`: an in-memory DataFrame as a registry;
- :mod:`~klastergeo.io.registry.mapping`: which column plays each role;
- :mod:`~klastergeo.io.registry.numbers`: decimal marks and number formats;
- :mod:`~klastergeo.io.registry.checks`: the checks of one row alone;
- :mod:`~klastergeo.io.registry.validation`: the one validator of a batch;
- :mod:`~klastergeo.io.registry.batches`: a registry of any size as batches (an in-memory
  table is one batch), run here or on Dask (:mod:`~klastergeo.io.registry.distributed`).
"""

from __future__ import annotations

from klastergeo.io.registry.batches import validate_records
from klastergeo.io.registry.checks import (
    OUTSIDE_SAMPLE,
    REASONS,
    REPAIRS,
    VALUE_BOUNDS,
    Checked,
    check_rows,
    sample_outside,
    sector_lengths,
)
from klastergeo.io.registry.frames import (
    INDEX_ID,
    StagedFrame,
    stage_frame,
)
from klastergeo.io.registry.mapping import (
    CANDIDATES,
    PLACEMENT_ROLES,
    RESERVED,
    STANDARD,
    known_names,
    resolve_columns,
    single_values,
)
from klastergeo.io.registry.numbers import (
    NumberFormat,
    check_units,
    coordinate_units,
    file_decimal,
    file_formats,
    merge_formats,
    number_format,
    numeric_column,
    numeric_columns,
    parse_numbers,
)
from klastergeo.io.registry.reading import (
    CsvLayout,
    RawRecords,
    check_source,
    csv_layout,
    implied_roles,
    read_records,
    skip_rows,
)
from klastergeo.io.registry.validation import (
    ValidationReport,
    duplicate_keys,
    find_duplicates,
    locate,
)

__all__ = [
    "CANDIDATES",
    "INDEX_ID",
    "OUTSIDE_SAMPLE",
    "PLACEMENT_ROLES",
    "REASONS",
    "REPAIRS",
    "RESERVED",
    "STANDARD",
    "VALUE_BOUNDS",
    "Checked",
    "CsvLayout",
    "NumberFormat",
    "RawRecords",
    "StagedFrame",
    "ValidationReport",
    "check_rows",
    "check_source",
    "check_units",
    "coordinate_units",
    "csv_layout",
    "duplicate_keys",
    "file_decimal",
    "file_formats",
    "find_duplicates",
    "implied_roles",
    "known_names",
    "locate",
    "merge_formats",
    "number_format",
    "numeric_column",
    "numeric_columns",
    "parse_numbers",
    "read_records",
    "resolve_columns",
    "sample_outside",
    "sector_lengths",
    "single_values",
    "skip_rows",
    "stage_frame",
    "validate_records",
]

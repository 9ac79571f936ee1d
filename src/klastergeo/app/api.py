"""The Python entry point: :func:`run`, the whole pipeline in one call.

``klastergeo run`` on the command line and :func:`run` here build the same
configuration (:class:`~klastergeo.app.config.RunConfig`) and call the same pipeline
(:func:`klastergeo.app.pipeline.run`); every option is a ``"section.key"`` of the docs'
option reference (``docs/options.md``).
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

if TYPE_CHECKING:
    from klastergeo.app.config import RunConfig
    from klastergeo.app.pipeline import RunResult
    from klastergeo.errors import KlastergeoError

__all__ = ["run", "run_counts", "staged"]


def run(
    records: str | Path | pd.DataFrame,
    *,
    area: str | None = None,
    level: str | None = None,
    out: str | Path | None = None,
    boundaries: str | Path | None = None,
    config: str | Path | None = None,
    options: Mapping[str, Any] | None = None,
) -> RunResult:
    """Run the whole pipeline on a registry and return its tables.

    Parameters
    ----------
    records
        The registry: a file (CSV, Parquet, Excel, GIS) or a DataFrame (or GeoDataFrame
        of points) with the same columns, read as that file would be: without an id
        column its index gives the record ids (a named index, or the labels of a
        filtered or sorted frame; the default 0..n-1 numbers them 1..n as rows of a
        file); columns need unique names; values Parquet cannot hold are read as text.
        :func:`klastergeo.io.registry.records.stage_frame` gives the rules; the temporary copy is
        removed when the run ends, however it ends.
    area
        The study area's code (e.g. ``"33"``, ``"33.09"``) or its unique name
        (``"Boyolali"``); None for the whole country or a custom boundaries file.
    level
        The areas of analysis: ``provinsi``, ``kabupaten``, ``kecamatan``, ``desa`` or
        ``h3:<resolution>`` (default: the configuration's, else ``desa``).
    out
        The output folder (default: a new temporary folder, named in the result's
        ``out``; removed if the run fails, unless it holds the report of the rejected
        records the error names).
    boundaries
        A folder of boundaries or a polygon file (default: ``KLASTERGEO_DATA_DIR``).
    config
        A TOML configuration file; the other arguments override it.
    options
        More options as ``{"section.key": value}``, e.g. ``{"analysis.seed": 7,
        "sentra.min_firms": 30}``.

    Returns
    -------
    RunResult
        ``areas`` (a GeoDataFrame of the areas with their statistics, wide by sector),
        ``sector(code)`` (every statistic of one sector), ``sentra`` (a GeoDataFrame),
        ``table`` (the long area x sector table), ``models``, ``firms`` and the rest; the
        files are in ``out``.

    Raises
    ------
    KlastergeoError
        Its subclasses for bad input, configuration or environment (what the command
        line reports with exit code 2).

    Examples
    --------
    >>> import klastergeo
    >>> result = klastergeo.run("firms.csv", area="33.09")  # doctest: +SKIP
    >>> result.areas[["name", "n_firms_25", "lq_25", "spec_bin_25"]].head()  # doctest: +SKIP
    >>> result.sector("25").plot(column="spec_bin")  # doctest: +SKIP
    """
    from klastergeo.app import pipeline
    from klastergeo.app.config import load_config
    from klastergeo.errors import ConfigError

    if not isinstance(records, str | os.PathLike | pd.DataFrame):
        raise ConfigError(
            f"records must be a file path or a pandas DataFrame, not {type(records).__name__}"
            " (a polars or pyarrow table: pass table.to_pandas())"
        )
    if area is not None and (boundaries is None or Path(boundaries).expanduser().is_dir()):
        from klastergeo.app.config import is_area_code
        from klastergeo.io.boundaries import resolve_area_name

        # "Boyolali", "Kab. Klaten", "Kota Semarang": the area's code (not in a polygon file)
        area = area if is_area_code(area) else resolve_area_name(area, source=boundaries)
    # The folders this call makes: removed on any failure (an error, Ctrl-C), the
    # DataFrame's scratch copy always.
    made = Path(tempfile.mkdtemp(prefix="klastergeo-")) if out is None else None
    target = made / "run" if made is not None else Path(out)  # type: ignore[arg-type]
    try:
        overrides: dict[str, Any] = {
            "records.path": None if isinstance(records, pd.DataFrame) else str(records),
            "area.code": area,
            "area.level": level,
            "area.boundaries": None if boundaries is None else str(boundaries),
            "out": str(target),
            **dict(options or {}),
        }
        with staged(records, load_config(config, overrides=overrides)) as settings:
            return pipeline.run(settings)
    except BaseException:
        if made is not None:
            _remove_unless_reported(made, target)
        raise


def run_counts(
    counts: str | Path,
    *,
    area: str | None = None,
    level: str | None = None,
    out: str | Path | None = None,
    boundaries: str | Path | None = None,
    config: str | Path | None = None,
    options: Mapping[str, Any] | None = None,
) -> RunResult:
    """Run the pipeline on counts of firms per area (``--counts``): a PODES-style table
    with a column per sector or industry group, or a long table of area, sector and
    count (:mod:`klastergeo.io.registry.area_counts`). Everything defined on counts per area is
    computed; the steps that need firms are listed in ``summary["not_computed"]``.

    Parameters
    ----------
    counts
        The counts file (CSV, Excel or Parquet).
    area, level, out, boundaries, config, options
        As for :func:`run` (e.g. ``options={"counts.sectors": {"Industri kayu": "31"}}``).

    Returns
    -------
    RunResult
        As for :func:`run`; ``firms`` is empty.

    Examples
    --------
    >>> import klastergeo
    >>> result = klastergeo.run_counts("podes.xlsx", area="35.04")  # doctest: +SKIP
    >>> result.sentra[["name", "sector", "n_firms"]]  # doctest: +SKIP
    """
    from klastergeo.app import pipeline
    from klastergeo.app.config import load_config
    from klastergeo.errors import ConfigError

    if not isinstance(counts, str | os.PathLike):
        raise ConfigError(f"counts must be a file path, not {type(counts).__name__}")
    if area is not None and boundaries is None:
        from klastergeo.app.config import is_area_code
        from klastergeo.io.boundaries import resolve_area_name

        area = area if is_area_code(area) else resolve_area_name(area)
    made = Path(tempfile.mkdtemp(prefix="klastergeo-")) if out is None else None
    target = made / "run" if made is not None else Path(out)  # type: ignore[arg-type]
    try:
        overrides: dict[str, Any] = {
            "counts.path": str(counts),
            "area.code": area,
            "area.level": level,
            "area.boundaries": None if boundaries is None else str(boundaries),
            "out": str(target),
            **dict(options or {}),
        }
        return pipeline.run(load_config(config, overrides=overrides))
    except BaseException:
        if made is not None:
            _remove_unless_reported(made, target)
        raise


@contextmanager
def staged(records: str | Path | pd.DataFrame, config: RunConfig) -> Iterator[RunConfig]:
    """``config`` reading ``records``: a file as it is; a DataFrame written to a scratch
    Parquet file (:func:`klastergeo.io.registry.records.stage_frame`, which also says how its index
    and dtypes are read), removed when the block ends however it ends (an error,
    Ctrl-C). Errors raised in the block name "the records DataFrame", not the scratch
    file.

    Parameters
    ----------
    records
        A registry file, or a DataFrame.
    config
        The run's configuration; ``columns.id`` decides whether the frame has an id
        column.

    Yields
    ------
    RunConfig
        ``config`` with ``records.path`` set (and ``columns.id``, where the frame's
        index gives the record ids).

    Examples
    --------
    >>> from klastergeo.app.config import load_config
    >>> frame = pd.DataFrame({"lat": [-7.5], "lon": [110.2], "kbli": ["31001"]},
    ...                      index=pd.Index(["B-17"], name="nib"))
    >>> with staged(frame, load_config()) as config:
    ...     config.columns.id, config.records.path.name
    ('nib', 'records.parquet')
    """
    from klastergeo.errors import KlastergeoError
    from klastergeo.io.registry.records import stage_frame

    if not isinstance(records, pd.DataFrame):
        yield config.with_overrides({"records.path": str(records)})
        return
    scratch = Path(tempfile.mkdtemp(prefix="klastergeo-records-"))
    try:
        frame = stage_frame(records, scratch / "records.parquet", columns=config.columns)
        try:
            yield config.with_overrides(
                {"records.path": str(frame.path), "columns.id": frame.id_col}
            )
        except KlastergeoError as err:  # name the frame, not its scratch copy
            raise _naming_frame(err, frame.path) from err
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def _naming_frame(err: KlastergeoError, path: Path) -> KlastergeoError:
    """``err`` with the DataFrame named where its message names the scratch file."""
    text = str(err).replace(repr(str(path)), "the records DataFrame")
    return err if text == str(err) else type(err)(text)


def _remove_unless_reported(folder: Path, target: Path) -> None:
    """Remove the temporary output folder of a failed run, unless it holds the report
    of the rejected records the error points to (``<out>.rejected``)."""
    from klastergeo.app.pipeline.intake import rejection_folder

    if rejection_folder(target).exists():
        return
    shutil.rmtree(folder, ignore_errors=True)

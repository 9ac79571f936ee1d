"""Command-line interface: parse options, configure logging, call the library, report.

Exit codes: 0 success, 2 bad input or configuration, 1 internal error.
"""

from __future__ import annotations

import errno
import inspect
import logging
import signal
import sys
import traceback
import typing
import unicodedata
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer
from rich.console import Console
from rich.logging import RichHandler
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text

from klastergeo import __version__
from klastergeo._errors import ConfigError, KlastergeoError
from klastergeo._io import STORAGE_ERRNOS, output_error
from klastergeo.config import MAX_PERMUTATIONS
from klastergeo.publish import FIRM_DECIMALS

# Nothing printed is read as rich markup: paths, column names and messages may hold "[".
console = Console(stderr=True, markup=False, highlight=False)
out_console = Console(markup=False, highlight=False)
logger = logging.getLogger("klastergeo")

app = typer.Typer(
    name="klastergeo",
    help="From a registry of georeferenced enterprises to a published map of sentra.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
boundaries_app = typer.Typer(
    help="Find, inspect and download administrative boundaries.", no_args_is_help=True
)
app.add_typer(boundaries_app, name="boundaries")

_STATE: dict[str, Any] = {"debug": False}


def _version(value: bool) -> None:
    if value:
        out_console.print(f"klastergeo {__version__}")
        raise typer.Exit()


@app.callback()
def _main(
    verbose: Annotated[
        int, typer.Option("--verbose", "-v", count=True, help="More log output (-vv for debug).")
    ] = 0,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Only warnings and errors.")] = False,
    debug: Annotated[
        bool, typer.Option("--debug", help="Show tracebacks of internal errors.")
    ] = False,
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_version, is_eager=True, help="Print the version and exit."
        ),
    ] = False,
) -> None:
    level = logging.WARNING if quiet else (logging.DEBUG if verbose > 1 else logging.INFO)
    if verbose == 0 and not quiet:
        level = logging.WARNING  # progress bars speak for the steps; -v shows the details
    handler = RichHandler(console=console, show_path=False, show_time=False, markup=False)
    logging.basicConfig(level=logging.WARNING, handlers=[handler], force=True)
    handler.setFormatter(_LiteralFormatter("%(message)s"))
    logger.setLevel(level)
    _STATE["debug"] = debug


def literal(text: object) -> str:
    """``text`` with control and format characters shown as escapes (``\\x1b``,
    ``\\u202e``), so that a message cannot move the cursor, recolour the terminal or
    reorder what follows; newlines and tabs stay.

    >>> literal("bad\\x1b[31m name\\u202e")
    'bad\\\\x1b[31m name\\\\u202e'
    """
    out = []
    for char in str(text):
        if char in "\n\t" or unicodedata.category(char) not in ("Cc", "Cf", "Zl", "Zp"):
            out.append(char)
        else:
            out.append(char.encode("unicode_escape").decode("ascii"))
    return "".join(out)


class _LiteralFormatter(logging.Formatter):
    """Log lines as plain text, control characters escaped (see :func:`literal`)."""

    def format(self, record: logging.LogRecord) -> str:
        return literal(super().format(record))


def _error(label: str, message: object, style: str = "bold red") -> None:
    # not wrapped: a path or value in a message stays whole, to copy and to search
    console.print(Text.assemble((label, style), " ", literal(message)), soft_wrap=True)


class _Terminated(BaseException):
    """SIGTERM, raised in the main thread so that a run unwinds as on Ctrl-C."""


def _on_sigterm(signum: int, frame: object) -> None:
    raise _Terminated()


@contextmanager
def _guard() -> Iterator[None]:
    """Map bad input and environment problems to exit code 2 and anything unexpected to
    exit code 1; Ctrl-C and SIGTERM stop a run cleanly (130, 143)."""
    try:
        yield
    except typer.Exit:
        raise
    except KlastergeoError as err:
        _error("error:", err)
        raise typer.Exit(2) from None
    except KeyboardInterrupt:
        _error("interrupted:", "stopped by Ctrl-C; earlier outputs are unchanged", "yellow")
        raise typer.Exit(130) from None
    except _Terminated:
        _error("terminated:", "stopped by SIGTERM; earlier outputs are unchanged", "yellow")
        raise typer.Exit(143) from None
    except MemoryError:
        _error(
            "error:",
            "not enough memory for this run; use a smaller study area (--area), a coarser "
            "--level or fewer --permutations, or a machine with more memory",
        )
        raise typer.Exit(2) from None
    except OSError as err:
        if err.errno not in STORAGE_ERRNOS:
            _internal(err)
        if err.errno in (errno.ENAMETOOLONG, errno.ELOOP, errno.ENOTDIR, errno.ENOENT):
            _error("error:", f"cannot use the path {err.filename!r}: {err.strerror}")
        else:
            _error("error:", output_error(err, "writing outputs"))
        raise typer.Exit(2) from None
    except Exception as err:
        _internal(err)


def _internal(err: BaseException) -> NoReturn:
    if _STATE["debug"]:
        console.print(traceback.format_exc())
    _error(
        "internal error:",
        f"{type(err).__name__}: {err}\nThis is a bug in klastergeo; rerun with --debug for "
        "the traceback and report it.",
    )
    raise typer.Exit(1) from None


class _RichReporter:
    """Shows the pipeline's steps and per-sector progress as rich progress bars."""

    def __init__(self, progress: Progress, steps: tuple[str, ...]) -> None:
        self.progress = progress
        self.overall = progress.add_task("klastergeo", total=len(steps))
        self.detail: Any = None
        self.steps = steps

    def step(self, name: str) -> None:
        done = self.steps.index(name) if name in self.steps else 0
        self.progress.update(self.overall, completed=done, description=f"step: {name}")
        if self.detail is not None:
            self.progress.remove_task(self.detail)
            self.detail = None

    def advance(self, detail: str, done: int, total: int) -> None:
        if self.detail is None:
            self.detail = self.progress.add_task(detail, total=total)
        self.progress.update(self.detail, completed=done, total=total, description=f"  {detail}")

    def finish(self) -> None:
        self.progress.update(self.overall, completed=len(self.steps), description="done")


@contextmanager
def _progress(steps: tuple[str, ...] | None = None) -> Iterator[_RichReporter]:
    from klastergeo.pipeline import STEPS

    columns = (
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total}"),
        TimeElapsedColumn(),
    )
    with Progress(
        *columns, console=console, transient=True, disable=not console.is_terminal
    ) as progress:
        reporter = _RichReporter(progress, steps or STEPS)
        yield reporter
        reporter.finish()


# Options shared by run and validate ------------------------------------------------------

RecordsOpt = Annotated[
    Path | None,
    typer.Option(
        "--records",
        "-r",
        help="Enterprise registry: CSV, Excel, GeoPackage, GeoJSON, Shapefile or Parquet.",
    ),
]
IdCol = Annotated[str | None, typer.Option("--id-col", help="Record id column.")]
LatCol = Annotated[str | None, typer.Option("--lat-col", help="Latitude column.")]
LonCol = Annotated[str | None, typer.Option("--lon-col", help="Longitude column.")]
SectorCol = Annotated[str | None, typer.Option("--sector-col", help="KBLI code column.")]
WorkersCol = Annotated[str | None, typer.Option("--workers-col", help="Workers column.")]
OutputCol = Annotated[str | None, typer.Option("--output-col", help="Production value column.")]
InvestmentCol = Annotated[str | None, typer.Option("--investment-col", help="Investment column.")]
NameCol = Annotated[str | None, typer.Option("--name-col", help="Firm name column.")]
Delimiter = Annotated[
    str | None, typer.Option("--delimiter", help="CSV delimiter (default: sniffed).")
]
Encoding = Annotated[
    str | None,
    typer.Option(
        "--encoding", help="CSV encoding (default: UTF-8 with or without BOM, else Windows-1252)."
    ),
]
DecimalOpt = Annotated[
    str | None, typer.Option("--decimal", help="Decimal mark: auto, '.' or ','.")
]
Sheet = Annotated[str | None, typer.Option("--sheet", help="Excel sheet name.")]
Layer = Annotated[str | None, typer.Option("--layer", help="GIS layer name.")]
SectorDigits = Annotated[
    int | None,
    typer.Option("--sector-digits", help="KBLI digits of a sector: 2 (division, default) to 5."),
]
Strict = Annotated[
    bool | None,
    typer.Option(
        "--strict/--no-strict",
        help="Any rejected or repaired record stops the run with exit code 2.",
    ),
]
BoundariesOpt = Annotated[
    Path | None,
    typer.Option(
        "--boundaries",
        "-b",
        help="Directory of "
        "<level>.parquet boundaries or one polygon file (default: "
        "$KLASTERGEO_DATA_DIR, then data/boundaries).",
    ),
]
AreaOpt = Annotated[
    str | None,
    typer.Option("--area", "-a", help="Study area code prefix, e.g. 33 (Jawa Tengah) or 33.11."),
]
LevelOpt = Annotated[
    str | None,
    typer.Option(
        "--level", "-l", help="Unit of analysis: desa, kecamatan, kabupaten, provinsi or h3:RES."
    ),
]
AreaIdCol = Annotated[
    str | None,
    typer.Option("--area-id-col", help="Id column of a polygon file given with --boundaries."),
]
AreaNameCol = Annotated[
    str | None, typer.Option("--area-name-col", help="Name column of a polygon file.")
]
OutOpt = Annotated[Path | None, typer.Option("--out", "-o", help="Output directory.")]


def _record_overrides(
    records: Path | None,
    id_col: str | None,
    lat_col: str | None,
    lon_col: str | None,
    sector_col: str | None,
    workers_col: str | None,
    output_col: str | None,
    investment_col: str | None,
    name_col: str | None,
    delimiter: str | None,
    encoding: str | None,
    decimal: str | None,
    sheet: str | None,
    layer: str | None,
    sector_digits: int | None,
    strict: bool | None,
) -> dict[str, Any]:
    return {
        "records.path": records,
        "records.delimiter": delimiter,
        "records.encoding": encoding,
        "records.decimal": decimal,
        "records.sheet": sheet,
        "records.layer": layer,
        "records.sector_digits": sector_digits,
        "records.strict": strict,
        "columns.id": id_col,
        "columns.lat": lat_col,
        "columns.lon": lon_col,
        "columns.sector": sector_col,
        "columns.workers": workers_col,
        "columns.output": output_col,
        "columns.investment": investment_col,
        "columns.name": name_col,
    }


@app.command()
def run(
    config: Annotated[
        Path | None,
        typer.Option("--config", "-c", help="TOML run configuration; flags override it."),
    ] = None,
    records: RecordsOpt = None,
    id_col: IdCol = None,
    lat_col: LatCol = None,
    lon_col: LonCol = None,
    sector_col: SectorCol = None,
    workers_col: WorkersCol = None,
    output_col: OutputCol = None,
    investment_col: InvestmentCol = None,
    name_col: NameCol = None,
    delimiter: Delimiter = None,
    encoding: Encoding = None,
    decimal: DecimalOpt = None,
    sheet: Sheet = None,
    layer: Layer = None,
    sector_digits: SectorDigits = None,
    strict: Strict = None,
    boundaries: BoundariesOpt = None,
    area: AreaOpt = None,
    level: LevelOpt = None,
    area_id_col: AreaIdCol = None,
    area_name_col: AreaNameCol = None,
    out: OutOpt = None,
    seed: Annotated[
        int | None, typer.Option("--seed", help="Seed of the permutations (default 0).")
    ] = None,
    permutations: Annotated[
        int | None,
        typer.Option(
            "--permutations", help="Conditional permutations (default 999; 0 = analytical)."
        ),
    ] = None,
    fdr: Annotated[
        bool | None,
        typer.Option(
            "--fdr/--no-fdr", help="Control the false discovery rate (Benjamini-Hochberg)."
        ),
    ] = None,
    weights: Annotated[
        str | None,
        typer.Option(
            "--weights",
            help="queen, rook, knn or auto (distance band chosen by "
            "incremental spatial autocorrelation).",
        ),
    ] = None,
    tolerance: Annotated[
        float | None,
        typer.Option("--tolerance", help="Contiguity snapping tolerance in metres (default 10)."),
    ] = None,
    islands: Annotated[
        str | None,
        typer.Option(
            "--islands", help="Areas without neighbours: nearest (link to nearest area) or keep."
        ),
    ] = None,
    min_firms: Annotated[
        int | None,
        typer.Option(
            "--min-firms", help="Minimum firms of the sector in a sentra area (default 20)."
        ),
    ] = None,
    lq_threshold: Annotated[
        float | None,
        typer.Option(
            "--lq-threshold", help="Minimum location quotient of a sentra area (default 2)."
        ),
    ] = None,
    predictors: Annotated[
        str | None, typer.Option("--predictors", help="Comma-separated model predictors.")
    ] = None,
    lang: Annotated[str | None, typer.Option("--lang", help="Map language: id or en.")] = None,
    tiles: Annotated[
        str | None,
        typer.Option(
            "--tiles",
            help="Base map: OpenStreetMap (default), 'CartoDB positron', 'Esri imagery', none, "
            "or a tile URL https://.../{z}/{x}/{y}.png with --attribution.",
        ),
    ] = None,
    attribution: Annotated[
        str | None,
        typer.Option("--attribution", help="Attribution of a custom tile URL (--tiles)."),
    ] = None,
) -> None:
    """Run the whole pipeline: validate, aggregate, hot spots, sentra, models, map."""
    _execute(sentra_only=False, **locals())


def sentra(**options: Any) -> None:
    """Find and profile the sentra (validate, aggregate, hot spots, sentra, typology,
    concentration, diagnosis, point patterns): the run without models and map."""
    _execute(sentra_only=True, **options)


def _resolved(func: Any, names: Any = None) -> list[inspect.Parameter]:
    """``func``'s parameters (those in ``names``, or all) with their annotations resolved,
    ``Annotated`` metadata (typer's options: help, short names) included."""
    hints = typing.get_type_hints(func, include_extras=True)
    return [
        p.replace(annotation=hints[name])
        for name, p in inspect.signature(func).parameters.items()
        if names is None or name in names
    ]


sentra.__signature__ = inspect.Signature(_resolved(run))  # type: ignore[attr-defined]
app.command(name="sentra")(sentra)


#: ``run``/``sentra`` flags -> configuration keys (the record flags go through
#: :func:`_record_overrides`, in its parameter order).
#: Study-area and output flags shared by ``run``, ``sentra`` and ``model``.
_AREA_FLAGS = {
    "boundaries": "area.boundaries",
    "area": "area.code",
    "level": "area.level",
    "area_id_col": "area.id_col",
    "area_name_col": "area.name_col",
    "out": "out",
}
_RUN_FLAGS = {
    **_AREA_FLAGS,
    "seed": "analysis.seed",
    "permutations": "analysis.permutations",
    "fdr": "analysis.fdr",
    "weights": "analysis.weights",
    "tolerance": "analysis.tolerance_m",
    "islands": "analysis.islands",
    "min_firms": "sentra.min_firms",
    "lq_threshold": "sentra.lq_threshold",
    "predictors": "model.predictors",
    "lang": "map.lang",
    "tiles": "map.tiles",
    "attribution": "map.attribution",
}


def _execute(*, sentra_only: bool, config: Path | None, **flags: Any) -> None:
    """The body of ``run`` and ``sentra``: flags -> configuration -> pipeline."""
    from klastergeo.config import load_config
    from klastergeo.pipeline import SENTRA_STEPS
    from klastergeo.pipeline import run as run_pipeline

    with _guard():
        record_flags = inspect.signature(_record_overrides).parameters
        overrides = _record_overrides(**{name: flags[name] for name in record_flags})
        overrides.update({key: flags[name] for name, key in _RUN_FLAGS.items()})
        settings = load_config(config, overrides=overrides)
        with _progress(SENTRA_STEPS if sentra_only else None) as reporter:
            result = run_pipeline(settings, reporter=reporter, sentra_only=sentra_only)
        _print_summary(result.summary, result.sentra, result.out)


@app.command()
def validate(
    records: RecordsOpt = None,
    id_col: IdCol = None,
    lat_col: LatCol = None,
    lon_col: LonCol = None,
    sector_col: SectorCol = None,
    workers_col: WorkersCol = None,
    output_col: OutputCol = None,
    investment_col: InvestmentCol = None,
    name_col: NameCol = None,
    delimiter: Delimiter = None,
    encoding: Encoding = None,
    decimal: DecimalOpt = None,
    sheet: Sheet = None,
    layer: Layer = None,
    sector_digits: SectorDigits = None,
    strict: Strict = None,
    boundaries: BoundariesOpt = None,
    area: AreaOpt = None,
    level: LevelOpt = None,
    area_id_col: AreaIdCol = None,
    out: OutOpt = None,
    config: Annotated[
        Path | None, typer.Option("--config", "-c", help="TOML configuration.")
    ] = None,
) -> None:
    """Check a registry: read it, validate every row, write rejected.csv and repaired.csv.

    With --area (or --boundaries) the study area is checked too and swapped coordinates
    are repaired.
    """
    from klastergeo.config import load_config
    from klastergeo.pipeline import validate_run, validation_problem

    with _guard():
        overrides = _record_overrides(
            records,
            id_col,
            lat_col,
            lon_col,
            sector_col,
            workers_col,
            output_col,
            investment_col,
            name_col,
            delimiter,
            encoding,
            decimal,
            sheet,
            layer,
            sector_digits,
            strict,
        )
        overrides.update(
            {
                "area.boundaries": boundaries,
                "area.code": area,
                "area.level": level,
                "area.id_col": area_id_col,
                "out": out,
            }
        )
        settings = load_config(config, overrides=overrides)
        report = validate_run(settings)
        _print_records(report.summary())
        out_console.print(Text.assemble("reports written to ", (str(settings.out), "bold")))
        problem = validation_problem(settings, report)
        if problem is not None:
            raise problem


def _model_flags(
    outcome: Annotated[
        str | None,
        typer.Option(
            "--outcome",
            help="0/1 column to explain, or in_sentra (the firm lies in a sentra; runs the "
            "sentra analysis first). Default: in_sentra.",
        ),
    ] = None,
    predictors: Annotated[
        str | None, typer.Option("--predictors", help="Comma-separated predictor columns.")
    ] = None,
    kind: Annotated[
        str | None,
        typer.Option("--kind", help="lpm, logit or probit; comma-separated for several."),
    ] = None,
    categorical: Annotated[
        str | None,
        typer.Option("--categorical", help="Predictors to treat as categories (dummies)."),
    ] = None,
    log: Annotated[
        str | None, typer.Option("--log", help="Predictors to log-transform (positive).")
    ] = None,
    standardise: Annotated[
        bool | None,
        typer.Option("--standardise/--no-standardise", help="z-score the numeric predictors."),
    ] = None,
    cutoff: Annotated[
        float | None,
        typer.Option("--cutoff", help="Probability predicted as 1 (default 0.5)."),
    ] = None,
    robust: Annotated[
        str | None,
        typer.Option(
            "--robust",
            help="Standard errors: auto (HC1 for the LPM, maximum likelihood for logit and "
            "probit), HC0-HC3 or none.",
        ),
    ] = None,
    area_data: Annotated[
        Path | None,
        typer.Option(
            "--area-data",
            help="Area-level table (one row per area, --area-id column): fit OLS with spatial "
            "diagnostics and the spatial lag/error model they recommend instead.",
        ),
    ] = None,
    area_id: Annotated[
        str | None, typer.Option("--area-id", help="Area code column of --area-data.")
    ] = None,
    spatial: Annotated[
        str | None,
        typer.Option("--spatial", help="Area model: auto (LM tests decide), lag, error or none."),
    ] = None,
) -> None:
    """The options ``model`` adds to the record, study-area and output flags of ``run``
    (a signature only)."""


def model(**flags: Any) -> None:
    """Fit LPM, logit or probit models and print the studies' classification tables
    (or, with --area-data, an area-level regression with spatial diagnostics)."""
    from klastergeo.config import load_config
    from klastergeo.pipeline import MODEL_STEPS, STEPS, run_area_model, run_models

    config = flags.pop("config")
    outcome, predictors, kind = flags["outcome"], flags["predictors"], flags["kind"]
    categorical, log, standardise = flags["categorical"], flags["log"], flags["standardise"]
    cutoff, robust, area_data = flags["cutoff"], flags["robust"], flags["area_data"]
    area_id, spatial = flags["area_id"], flags["spatial"]
    with _guard():
        overrides = _record_overrides(
            **{name: flags[name] for name in inspect.signature(_record_overrides).parameters}
        )
        overrides.update({key: flags[name] for name, key in _AREA_FLAGS.items()})
        overrides.update(
            {
                "model.outcome": outcome,
                "model.predictors": predictors,
                "model.kinds": kind,
                "model.categorical": categorical,
                "model.log": log,
                "model.standardise": standardise,
                "model.cutoff": cutoff,
                "model.robust": robust,
                "model.area_data": area_data,
                "model.area_id": area_id,
                "model.spatial": spatial,
            }
        )
        settings = load_config(config, overrides=overrides)
        if settings.model.area_data is not None:
            _print_area_model(run_area_model(settings), settings.model.outcome)
            out_console.print(
                Text.assemble("outputs: ", (str(Path(settings.out) / "models"), "bold"))
            )
            return
        steps = STEPS if settings.model.outcome == "in_sentra" else MODEL_STEPS
        with _progress(tuple(s for s in steps if s != "map")) as reporter:
            fitted = run_models(settings, reporter=reporter)
        for result in fitted.values():
            _print_model(result)
        out_console.print(Text.assemble("outputs: ", (str(Path(settings.out) / "models"), "bold")))


# ``model`` takes run's record, study-area and output flags (declared once, on ``run``)
# and its own (declared on ``_model_flags``).
_SHARED = {"config", *inspect.signature(_record_overrides).parameters, *_AREA_FLAGS}
model.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
    _resolved(run, _SHARED) + _resolved(_model_flags)
)
app.command(name="model")(model)


def _print_area_model(result: dict[str, Any], outcome: str) -> None:
    """The area model's spatial diagnostics and the recommended model."""
    tables = result["tables"]
    diagnostics = Table("test", "statistic", "p", title=f"Spatial diagnostics of OLS: {outcome}")
    for row in tables["diagnostics"].itertuples():
        diagnostics.add_row(row.test, f"{row.statistic:.4f}", f"{row.p_value:.4f}")
    out_console.print(diagnostics)
    choice = result["recommended"]
    shown = tables.get(choice, tables["coefficients"])
    coefficients = Table(
        "term", "estimate", "std. error", "p", title=f"{choice.upper()} model: {outcome}"
    )
    for row in shown.itertuples():
        coefficients.add_row(
            row.term, f"{row.estimate:.4f}", f"{row.std_error:.4f}", f"{row.p_value:.4f}"
        )
    out_console.print(coefficients)


def _print_model(result: Any) -> None:
    """Coefficients and the classification table in the source studies' form."""
    from klastergeo.models import TITLES

    coefficients = Table(
        "term",
        "estimate",
        "std. error",
        "z/t",
        "p",
        title=f"{TITLES[result.kind]}: {result.outcome} (n = {result.fit['n']:,})",
    )
    for row in result.coefficients.itertuples():
        coefficients.add_row(
            row.term,
            f"{row.estimate:.4f}",
            f"{row.std_error:.4f}",
            f"{row.statistic:.3f}",
            f"{row.p_value:.4f}",
        )
    out_console.print(coefficients)
    table = result.classification
    classification = Table(
        "actual",
        "n",
        "predicted 0",
        "predicted 1",
        "mean probability",
        title=f"Classification table (cut-off {result.fit['cutoff']:g})",
    )
    labels = {"0": f"{result.outcome} = 0", "1": f"{result.outcome} = 1", "all": "overall"}
    for label, row in table.iterrows():
        classification.add_row(
            labels.get(str(label), str(label)),
            f"{int(row['n']):,}",
            f"{row['predicted_0']:.1%}",
            f"{row['predicted_1']:.1%}",
            f"{row['mean_probability']:.3f}",
        )
    out_console.print(classification)
    extra = "mcfadden_r2" if "mcfadden_r2" in result.fit else "r2"
    out_console.print(
        f"{extra}: {result.fit[extra]:.4f}, count R2: {result.fit['count_r2']:.4f}, "
        f"AUC: {result.fit['auc']:.4f}, Hosmer-Lemeshow p: {result.fit['hosmer_lemeshow_p']:.3f}"
    )


@app.command()
def publish(
    run_folder: Annotated[Path, typer.Argument(help="The --out folder of a run.")],
    site: Annotated[Path, typer.Option("--site", help="Folder to publish (static site).")],
    with_firms: Annotated[
        bool,
        typer.Option(
            "--with-firms/--no-firms",
            help="Also publish firm locations, names and sectors (off: registries may be "
            "confidential).",
        ),
    ] = False,
    firm_decimals: Annotated[
        int,
        typer.Option(
            "--firm-decimals",
            help="Decimal degrees kept of published firm coordinates with --with-firms: "
            "3 = about 110 m, 2 = about 1.1 km, 5 = about 1 m.",
        ),
    ] = FIRM_DECIMALS,
    lang: Annotated[
        str | None, typer.Option("--lang", help="Index page language: id or en.")
    ] = None,
) -> None:
    """Write a static site (index, map, report, figures, data downloads) from a run.

    Without --with-firms nothing firm-level is published (no names, ids or coordinates)."""
    from klastergeo.publish import embed_snippet
    from klastergeo.publish import publish as publish_site

    with _guard():
        files = publish_site(
            run_folder, site, with_firms=with_firms, firm_decimals=firm_decimals, lang=lang
        )
        out_console.print(Text.assemble(f"published {len(files)} files to ", (str(site), "bold")))
        out_console.print(f"open {site / 'index.html'}; embed the map with:")
        out_console.print(embed_snippet("klastergeo"))


@app.command(name="compile")
def compile_() -> None:
    """Compile and cache the statistics kernels (make does this at install), so that the
    first analysis starts at full speed."""
    with _guard():
        from klastergeo._compile import compile_kernels

        seconds = compile_kernels()
        out_console.print(f"kernels compiled and cached in {seconds:.1f} s")


@app.command()
def demo(
    out: Annotated[
        Path, typer.Option("--out", "-o", help="The demo run's folder (replaced by the run).")
    ] = Path("maps/demo"),
    data: Annotated[
        Path | None,
        typer.Option(
            "--data",
            help="Where the demo registry and its configuration go (default: beside --out, "
            "as <out>-input).",
        ),
    ] = None,
    boundaries: BoundariesOpt = None,
    seed: Annotated[
        int, typer.Option("--seed", min=0, help="Seed of the synthetic registry.")
    ] = 20261122,
    background: Annotated[
        int, typer.Option("--background", min=0, max=5_000_000, help="Background firms.")
    ] = 40_000,
    permutations: Annotated[
        int,
        typer.Option(
            "--permutations",
            min=0,
            max=MAX_PERMUTATIONS,
            help="Permutations of the local statistics.",
        ),
    ] = 999,
) -> None:
    """Generate the demo registry over Jawa Tengah and run the whole pipeline on it."""
    from klastergeo import boundaries as bnd
    from klastergeo import demo as demo_mod
    from klastergeo._io import check_output
    from klastergeo.config import load_config
    from klastergeo.pipeline import run as run_pipeline

    with _guard():
        inputs = data if data is not None else out.parent / f"{out.name}-input"
        check_output(out)  # before the registry is generated
        source = _demo_boundaries(boundaries)
        console.print(f"boundaries: {source}")
        villages = bnd.load_areas("desa", area=demo_mod.DEMO_AREA, source=source)
        generated = demo_mod.generate_registry(villages, n_background=background, seed=seed)
        paths = demo_mod.write_registry(generated, inputs)
        config_path = demo_mod.write_config(inputs, out=out, permutations=permutations)
        console.print(
            f"demo registry: {paths['registry']} ({len(generated.registry):,} rows); "
            f"configuration: {config_path}"
        )
        settings = load_config(config_path, overrides={"area.boundaries": source})
        with _progress() as reporter:
            result = run_pipeline(settings, reporter=reporter)
        _print_summary(result.summary, result.sentra, result.out)
        scores, unmatched = demo_mod.score_recovery(generated.truth, result.sentra)
        found = int(scores["found"].sum())
        rates = demo_mod.recovery_rates(scores, unmatched)
        out_console.print(
            f"planted sentra recovered: {found}/{len(scores)}; "
            f"reported sentra matching no planted one: {unmatched}; "
            f"member villages: recall {rates['area_recall']:.2f}, "
            f"precision {rates['area_precision']:.2f}"
        )
        if "typology_ok" in scores.columns:
            out_console.print(
                f"planted Markusen types recovered: {int(scores['typology_ok'].sum())}"
                f"/{len(scores)}"
            )
        if "stage_ok" in scores.columns:
            out_console.print(
                f"planted development stages recovered: {int(scores['stage_ok'].sum())}"
                f"/{len(scores)}"
            )


def _demo_boundaries(boundaries: Path | None) -> Path:
    from klastergeo import boundaries as bnd

    try:
        return bnd.resolve_source(boundaries)
    except KlastergeoError:
        if boundaries is not None:
            raise
    console.print(
        "no boundaries found; downloading Jawa Tengah (area 33) into "
        f"{bnd.DEFAULT_DIR} from the public source ..."
    )
    bnd.download("33", levels=("kabupaten", "kecamatan", "desa"), dest=bnd.DEFAULT_DIR)
    return bnd.DEFAULT_DIR


@boundaries_app.command("download")
def boundaries_download(
    area: AreaOpt = None,
    level: Annotated[
        list[str] | None,
        typer.Option("--level", "-l", help="Level(s) to fetch (repeatable; default all four)."),
    ] = None,
    dest: Annotated[Path, typer.Option("--dest", help="Where the GeoParquet files go.")] = Path(
        "data/boundaries"
    ),
    base_url: Annotated[
        str | None,
        typer.Option(
            "--base-url",
            help="Mirror of the source "
            "repository at the pinned commit (default: GitHub; or "
            "$KLASTERGEO_BOUNDARIES_URL).",
        ),
    ] = None,
    cache_dir: Annotated[
        Path | None, typer.Option("--cache-dir", help="Cache of downloaded SQL files.")
    ] = None,
) -> None:
    """Download boundaries from cahyadsn/wilayah_boundaries and convert them to GeoParquet."""
    from klastergeo import boundaries as bnd
    from klastergeo.config import ADMIN_LEVELS

    with _guard():
        levels = [v.strip() for item in (level or ADMIN_LEVELS) for v in item.split(",")]
        for name in levels:
            if name not in ADMIN_LEVELS:
                raise ConfigError(f"--level {name!r} is not one of {', '.join(ADMIN_LEVELS)}")
        with _progress() as reporter:

            def progress(detail: str, done: int, total: int) -> None:
                reporter.advance(detail, done, total)

            written = bnd.download(
                area,
                levels=levels,
                dest=dest,
                base_url=base_url,
                cache_dir=cache_dir,
                progress=progress,
            )
        for path in written:
            out_console.print(f"wrote {path}")


@boundaries_app.command("info")
def boundaries_info(boundaries: BoundariesOpt = None) -> None:
    """Show where boundaries are found and which levels they hold."""
    import pyarrow.parquet as pq

    from klastergeo import boundaries as bnd

    with _guard():
        source = bnd.resolve_source(boundaries)
        table = Table("level", "areas", "file")
        files = sorted(source.glob("*.parquet")) if source.is_dir() else [source]
        for path in files:
            rows = pq.ParquetFile(path).metadata.num_rows if path.suffix == ".parquet" else "?"
            table.add_row(path.stem, f"{rows:,}" if isinstance(rows, int) else rows, str(path))
        out_console.print(Text.assemble("boundaries from ", (str(source), "bold")))
        out_console.print(table)


def _print_records(block: dict[str, Any]) -> None:
    table = Table("records", "count", title="Data quality")
    for key in ("read", "kept", "rejected", "repaired"):
        table.add_row(key, f"{block[key]:,}")
    for reason, n in block["by_reason"].items():
        if n:
            table.add_row(f"  {reason}", f"{n:,}")
    out_console.print(table)


def _print_summary(summary: dict[str, Any], sentra: Any, out: Path) -> None:
    _print_records(summary["records"])
    if len(sentra):
        table = Table(
            "sentra_id",
            "name",
            "sector",
            "firms",
            "areas",
            "LQ",
            "type",
            "stage",
            title=f"Sentra ({len(sentra)})",
        )
        for row in sentra.itertuples():
            table.add_row(
                literal(row.sentra_id),
                literal(row.name),
                f"{row.sector} {row.sector_label}",
                f"{row.n_firms:,}",
                str(row.n_areas),
                f"{row.lq:.1f}",
                str(getattr(row, "typology_label", "")),
                str(getattr(row, "stage", "")),
            )
        out_console.print(table)
    else:
        out_console.print("no sentra found")
    for item in summary.get("not_computed") or []:
        out_console.print(
            Text.assemble(("not computed: ", "yellow"), literal(f"{item['what']}: {item['why']}")),
            soft_wrap=True,
        )
    timings = ", ".join(f"{k} {v:.1f}s" for k, v in summary["timings"].items())
    out_console.print(f"timings: {timings}")
    has_map = (out / "map.html").exists() and "map" in summary["timings"]
    out_console.print(
        Text.assemble(
            "outputs: ", (str(out), "bold"), f" (map: {out / 'map.html'})" if has_map else ""
        )
    )


def main(argv: list[str] | None = None) -> None:
    """Entry point of the ``klastergeo`` console script."""
    # SIGTERM (a scheduler, a container stop, kill) unwinds a run as Ctrl-C does: the
    # staging folder is removed and the previous outputs stay.
    signal.signal(signal.SIGTERM, _on_sigterm)
    try:
        app(args=argv, prog_name="klastergeo", standalone_mode=True)
    except _Terminated:
        sys.exit(143)
    except SystemExit as exit_:
        code = exit_.code if isinstance(exit_.code, int) else (0 if exit_.code is None else 1)
        sys.exit(code)

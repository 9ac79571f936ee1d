"""Command-line interface: parse options, configure logging, call the library, print.

The flags of ``run``, ``sentra``, ``validate`` and ``model`` are made from the
configuration table (:func:`klastergeo.app.config.options`): an option is declared once,
with its default and help, and every key can also be set with ``--set section.key=value``.

Exit codes: 0 success, 2 bad input, configuration or environment, 1 a bug (130 Ctrl-C,
143 SIGTERM).
"""

from __future__ import annotations

import inspect
import logging
import signal
import sys
import types
import typing
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, Union, get_args, get_origin

import typer

from klastergeo import __version__
from klastergeo.app.config import MAX_PERMUTATIONS, Option, RunConfig, options
from klastergeo.app.console import (
    Terminated,
    guard,
    on_sigterm,
    out_console,
    setup_logging,
    unraisable,
)
from klastergeo.app.demo import DEMO_BACKGROUND, DEMO_SEED
from klastergeo.publish import FIRM_DECIMALS

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
    setup_logging(level)
    _STATE["debug"] = debug


# Commands made from the configuration table ---------------------------------------------

#: The parameters every configuration command has: name, type and typer option.
_COMMON = {
    "config": (Path | None, typer.Option("--config", "-c", help="TOML run configuration.")),
    "set_": (
        list[str] | None,
        typer.Option(
            "--set",
            metavar="SECTION.KEY=VALUE",
            help="Any configuration key (repeatable), e.g. --set analysis.alpha=0.1.",
        ),
    ),
    "out": (Path | None, typer.Option("--out", "-o", help="Output folder (replaced whole).")),
}


def _flag_type(hint: Any) -> Any:
    """The type a flag of a configuration key takes: lists as comma-separated text."""
    args = [a for a in get_args(hint) if a is not type(None)]
    if get_origin(hint) in (Union, types.UnionType):
        hint = bool if bool in args else args[0]
    if get_origin(hint) is tuple or get_origin(hint) is typing.Literal:
        return str
    return hint if hint in (bool, int, float, Path) else str


def _option_parameter(option: Option) -> inspect.Parameter:
    kind = _flag_type(option.hint)
    assert option.flag is not None
    names = [f"{option.flag}/--no-{option.flag[2:]}" if kind is bool else option.flag]
    names += [option.short] if option.short else []
    default = option.default
    if isinstance(default, tuple):
        default = ",".join(default)
    shown = "" if default in (None, "", False) and kind is not bool else f" (default: {default})"
    flag = typer.Option(*names, help=f"{option.help}{shown}")
    if option.more:  # a repeatable flag: one value is this key, several are option.more
        kind = list[kind]  # type: ignore[valid-type]
    return inspect.Parameter(
        option.key.replace(".", "__"),
        inspect.Parameter.KEYWORD_ONLY,
        default=None,
        annotation=Annotated[kind | None, flag],
    )


def _parameters(command: str) -> list[inspect.Parameter]:
    """``command``'s parameters: --config, --set, --out and its configuration flags."""
    common = [
        inspect.Parameter(
            name, inspect.Parameter.KEYWORD_ONLY, default=None, annotation=Annotated[kind, flag]
        )
        for name, (kind, flag) in _COMMON.items()
    ]
    return common + [_option_parameter(o) for o in options().values() if command in o.commands]


def _settings(values: dict[str, Any]) -> RunConfig:
    """The configuration of a command: its TOML file, then --set, then its flags."""
    from klastergeo.app.config import command_config, parse_assignment

    overrides: dict[str, Any] = dict(parse_assignment(item) for item in values["set_"] or ())
    # a flag not given (None) leaves the key to --set and the file
    overrides.update(
        {
            name.replace("__", "."): value
            for name, value in values.items()
            if "__" in name and value is not None
        }
    )
    return command_config(values["config"], overrides, out=values["out"])


def _config_command(name: str) -> Callable[[Callable[[RunConfig], None]], None]:
    """Register ``body(settings)`` as command ``name`` with the flags of the table."""

    def register(body: Callable[[RunConfig], None]) -> None:
        def command(**values: Any) -> None:
            _STATE["lang"] = values.get("map__lang")  # the words around an early error
            with guard(_STATE):
                settings = _settings(values)
                _STATE["lang"] = settings.map.lang  # what the console words is in it
                body(settings)

        command.__signature__ = inspect.Signature(_parameters(name))  # type: ignore[attr-defined]
        command.__doc__ = body.__doc__
        app.command(name=name)(command)

    return register


@_config_command("run")
def _run(settings: RunConfig) -> None:
    """Run the whole pipeline: validate, aggregate, hot spots, sentra, models, map."""
    from klastergeo.app.console import run_pipeline

    run_pipeline(settings, sentra_only=False)


@_config_command("sentra")
def _sentra(settings: RunConfig) -> None:
    """Find and profile the sentra (validate, aggregate, hot spots, sentra, typology,
    concentration, diagnosis, point patterns): the run without models and map."""
    from klastergeo.app.console import run_pipeline

    run_pipeline(settings, sentra_only=True)


@_config_command("validate")
def _validate(settings: RunConfig) -> None:
    """Check a registry: read it, validate every row, write rejected.csv and repaired.csv.

    With --area (or --boundaries) the study area is checked too and swapped coordinates
    are repaired."""
    from klastergeo.app.console import run_validation

    run_validation(settings)


@_config_command("model")
def _model(settings: RunConfig) -> None:
    """Fit LPM, logit or probit models and print the studies' classification tables
    (or, with --area-data, an area-level regression with spatial diagnostics)."""
    from klastergeo.app.console import run_models

    run_models(settings)


# Commands of their own --------------------------------------------------------------------


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
        str | None, typer.Option("--lang", help="Pages and output: id or en (default: the run's).")
    ] = None,
) -> None:
    """Write a static site (index, map, report, figures, data downloads) from a run.

    Without --with-firms nothing firm-level is published (no names, ids or coordinates)."""
    from klastergeo.app.console import print_published
    from klastergeo.publish import publish as publish_site

    _STATE["lang"] = lang
    with guard(_STATE):
        files = publish_site(
            run_folder, site, with_firms=with_firms, firm_decimals=firm_decimals, lang=lang
        )
        print_published(files, site, lang, run_folder)


@app.command(name="compile")
def compile_() -> None:
    """Compile and cache the statistics kernels (make does this at install), so that the
    first analysis starts at full speed."""
    with guard(_STATE):
        from klastergeo.analysis import compile_kernels

        seconds = compile_kernels()
        out_console.print(f"kernels compiled and cached in {seconds:.1f} s")


BoundariesOpt = Annotated[
    Path | None, typer.Option("--boundaries", "-b", help=options()["area.boundaries"].help)
]


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
    ] = DEMO_SEED,
    background: Annotated[
        int, typer.Option("--background", min=0, max=5_000_000, help="Background firms.")
    ] = DEMO_BACKGROUND,
    permutations: Annotated[
        int,
        typer.Option(
            "--permutations",
            min=0,
            max=MAX_PERMUTATIONS,
            help="Permutations of the local statistics.",
        ),
    ] = 999,
    lang: Annotated[str, typer.Option("--lang", help=options()["map.lang"].help)] = options()[
        "map.lang"
    ].default,
) -> None:
    """Generate the demo registry over Jawa Tengah and run the whole pipeline on it."""
    from klastergeo.app.console import run_demo

    _STATE["lang"] = lang
    with guard(_STATE):
        run_demo(
            out, data=data, boundaries=boundaries, seed=seed, background=background,
            permutations=permutations, lang=lang,
        )  # fmt: skip


@boundaries_app.command("download")
def boundaries_download(
    area: Annotated[
        str | None, typer.Option("--area", "-a", help=options()["area.code"].help)
    ] = None,
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
            help="Mirror of the source repository at the pinned commit (default: GitHub; or "
            "$KLASTERGEO_BOUNDARIES_URL).",
        ),
    ] = None,
    cache_dir: Annotated[
        Path | None, typer.Option("--cache-dir", help="Cache of downloaded SQL files.")
    ] = None,
) -> None:
    """Download boundaries from cahyadsn/wilayah_boundaries and convert them to GeoParquet."""
    from klastergeo.app import console as _console
    from klastergeo.app.config import ADMIN_LEVELS
    from klastergeo.io import boundaries as bnd

    with guard(_STATE):
        with _console.progress(("download",)) as reporter:
            written = bnd.download(
                area,
                levels=level or ADMIN_LEVELS,
                dest=dest,
                base_url=base_url,
                cache_dir=cache_dir,
                progress=reporter.advance,
            )
        for path in written:
            out_console.print(f"wrote {path}")


@boundaries_app.command("find")
def boundaries_find(
    name: Annotated[str, typer.Argument(help="An area name or part of one, e.g. Boyolali.")],
    level: Annotated[
        list[str] | None,
        typer.Option("--level", "-l", help="Level(s) to search (repeatable; default all four)."),
    ] = None,
    limit: Annotated[int, typer.Option("--limit", help="Most areas listed.")] = 20,
    boundaries: BoundariesOpt = None,
) -> None:
    """Look an area's code up by its name (case and accents ignored, partial names too)."""
    from klastergeo.app import console as _console
    from klastergeo.io import boundaries as bnd

    with guard(_STATE):
        found = bnd.find_areas(name, levels=level, source=boundaries, limit=limit)
        _console.print_areas_found(name, found)


@boundaries_app.command("info")
def boundaries_info(boundaries: BoundariesOpt = None) -> None:
    """Show where boundaries are found and which levels they hold."""
    from klastergeo.app import console as _console
    from klastergeo.io import boundaries as bnd

    with guard(_STATE):
        source = bnd.resolve_source(boundaries)
        _console.print_boundaries(source, bnd.describe(source))


def main(argv: list[str] | None = None) -> None:
    """Entry point of the ``klastergeo`` console script."""
    # SIGTERM (a scheduler, a container stop, kill) unwinds a run as Ctrl-C does: the
    # staging folder is removed and the previous outputs stay.
    signal.signal(signal.SIGTERM, on_sigterm)
    sys.unraisablehook = unraisable(_STATE)
    try:
        app(args=argv, prog_name="klastergeo", standalone_mode=True)
    except Terminated:
        sys.exit(143)
    except SystemExit as exit_:
        code = exit_.code if isinstance(exit_.code, int) else (0 if exit_.code is None else 1)
        sys.exit(code)

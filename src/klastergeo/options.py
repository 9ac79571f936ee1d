"""How an option is declared: :func:`opt` (default, help text, command-line flag) and
:class:`Options`, the base of every configuration section, which checks each field
against its declared type and the section's own rules.

The sections live with what they configure (``[columns]`` in
:mod:`klastergeo.io.registry.columns`, the rest in :mod:`klastergeo.app.config`); the
command line, the library and the option reference of the docs are all built from them.
"""

from __future__ import annotations

import dataclasses
import math
import os
import types
import typing
from dataclasses import field, fields
from pathlib import Path
from typing import Any, ClassVar, Literal, Union, get_args, get_origin

from klastergeo.errors import ConfigError, Phrase

__all__ = [
    "PATH_KEYS",
    "PATH_LIST_KEYS",
    "Decimal",
    "Options",
    "at_least",
    "at_most",
    "choice_problem",
    "conforms",
    "describe",
    "opt",
    "positive",
    "type_problems",
]

#: Keys holding a path (resolved from the TOML file's folder; a published summary keeps
#: only the file's name).
PATH_KEYS = {
    ("records", "path"),
    ("area", "boundaries"),
    ("diagnosis", "table"),
    ("model", "area_data"),
    ("colocation", "linkage_table"),
    ("counts", "path"),
}
#: Keys holding a list of paths (each checked and resolved as a path key is).
PATH_LIST_KEYS = {("records", "files"), ("counts", "files")}

#: Decimal mark of numbers written as text.
Decimal = Literal["auto", ".", ","]


def conforms(value: Any, hint: Any) -> bool:
    """Whether ``value`` is of the declared type ``hint`` (floats finite, bools not ints).

    Parameters
    ----------
    value
        An option's value.
    hint
        Its declared type (a class, ``X | None``, ``Literal[...]``, ``tuple[X, ...]``,
        ``dict[K, V]``, ...).

    Returns
    -------
    True when ``value`` is one of the values ``hint`` accepts.
    """
    if hint is Any:
        return True
    origin = get_origin(hint)
    if origin in (Union, types.UnionType):
        return any(conforms(value, arg) for arg in get_args(hint))
    if hint is type(None):
        return value is None
    if origin is Literal:
        return any(type(value) is type(a) and value == a for a in get_args(hint))
    if hint is bool:
        return isinstance(value, bool)
    if hint is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if hint is float:
        return (
            isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
        )
    if hint is str:
        return isinstance(value, str)
    if hint is Path:
        return isinstance(value, str | os.PathLike)
    if origin is tuple:
        args = get_args(hint)
        return isinstance(value, tuple) and all(conforms(v, args[0]) for v in value)
    if origin is dict:
        key, item = get_args(hint)
        return isinstance(value, dict) and all(
            conforms(k, key) and conforms(v, item) for k, v in value.items()
        )
    return isinstance(value, hint)


def describe(hint: Any) -> str:
    """What a type hint accepts, in words.

    Parameters
    ----------
    hint
        A declared type, as for :func:`conforms`.

    Returns
    -------
    The words, for an error message (e.g. ``a whole number``, ``text (in quotes)``).
    """
    origin = get_origin(hint)
    if origin in (Union, types.UnionType):
        parts = [describe(a) for a in get_args(hint) if a is not type(None)]
        return " or ".join(parts)
    if origin is Literal:
        return "one of " + ", ".join(repr(a) for a in get_args(hint))
    if origin is tuple:
        return f"a list of {describe(get_args(hint)[0])} values"
    if origin is dict:
        return f"a table of names = {describe(get_args(hint)[1])}"
    return {
        bool: "true or false",
        int: "a whole number",
        float: "a finite number",
        str: "text (in quotes)",
        Path: "a path (in quotes)",
    }.get(hint, getattr(hint, "__name__", str(hint)))


def type_problems(options: Any) -> list[str]:
    """Every field of an options dataclass that is not of its declared type, as messages
    naming ``section.key``, the value and what is accepted, e.g.
    ``area.code=33.09 is a number; it must be text (in quotes): code = "33.09"``.

    Parameters
    ----------
    options
        An instance of a configuration section (a dataclass with ``SECTION``).

    Returns
    -------
    The messages, empty when every field is of its type.
    """
    section = options.SECTION
    hints = typing.get_type_hints(type(options))
    problems: list[str] = []
    for item in fields(options):
        value = getattr(options, item.name)
        hint = hints[item.name]
        if conforms(value, hint):
            continue
        name = f"{section}.{item.name}"
        wanted = _wanted(hint)
        named = {"name": name, "value": repr(value), "wanted": wanted}
        if isinstance(value, float) and not math.isfinite(value):
            problem = f"{name}={value!r} is not accepted: it must be a finite number"
            problems.append(Phrase(problem, "option_finite", named))
        elif (
            isinstance(value, int | float)
            and not isinstance(value, bool)
            and conforms(str(value), hint)
        ):
            problem = f'{name}={value!r} is a number; it must be {wanted}: {item.name} = "{value}"'
            named.update(key=item.name, text=str(value))
            problems.append(Phrase(problem, "option_number", named))
        else:
            problem = f"{name}={value!r} is not accepted: it must be {wanted}"
            problems.append(Phrase(problem, "option_type", named))
    return problems


def _wanted(hint: Any) -> str:
    """What a field accepts (:func:`describe`), as a part of a message that the command
    line words in the run's language when it is a plain kind or a choice."""
    wanted = describe(hint)
    if get_origin(hint) is Literal:
        return Phrase(wanted, "wanted_choice", {"choices": wanted.removeprefix("one of ")})
    kinds = {bool: "wanted_bool", int: "wanted_int", float: "wanted_float", str: "wanted_text"}
    kinds[Path] = "wanted_path"
    return Phrase(wanted, kinds[hint]) if hint in kinds else wanted


def choice_problem(name: str, value: object, allowed: object) -> str | None:
    options = get_args(allowed)
    if value not in options:
        choices = ", ".join(map(repr, options))
        problem = f"{name}={value!r} is not accepted; use one of {choices}"
        return Phrase(
            problem, "option_choice", {"name": name, "value": repr(value), "choices": choices}
        )
    return None


def at_least(name: str, value: float, low: float, *, integer: bool = False) -> str | None:
    named: dict[str, object] = {"name": name, "value": repr(value)}
    if integer and (isinstance(value, bool) or not isinstance(value, int)):
        return Phrase(f"{name}={value!r} must be a whole number", "option_whole", named)
    if value < low:
        words = {0: "zero or positive", 1: "positive" if integer else "at least 1"}
        said = words.get(int(low), f"at least {low:g}")
        key = {"zero or positive": "option_not_negative", "positive": "option_positive"}
        named["low"] = f"{low:g}"
        return Phrase(f"{name}={value!r} must be {said}", key.get(said, "option_at_least"), named)
    return None


def positive(name: str, value: float) -> str | None:
    problem = f"{name}={value!r} must be positive"
    return (
        None
        if value > 0
        else Phrase(problem, "option_positive", {"name": name, "value": repr(value)})
    )


def at_most(name: str, value: float, high: float, why: str = "") -> str | None:
    return f"{name}={value!r} is too many; use at most {high:,}{why}" if value > high else None


def opt(default: Any = dataclasses.MISSING, help: str = "", **flags: Any) -> Any:
    """A configuration field: its default and help text, and, for options common enough
    to have one, its command-line ``flag`` (and ``short`` name, ``commands``). The CLI
    builds its flags from these, and the docs' option reference comes from them too.

    Parameters
    ----------
    default
        The field's default value. A callable that is not a plain value (e.g. ``list``)
        becomes a default factory. Left out, the field is required.
    help
        One-line help text, shown by the CLI and in the docs' option reference.
    **flags
        Further metadata: ``flag`` (the long command-line flag, e.g. ``"--seed"``),
        ``short`` (a short flag such as ``"-r"``), ``commands`` (the commands that
        take the flag; default: those of the field's section) and ``more`` (the key that
        takes the values when the flag is repeated, e.g. ``records.files``).

    Returns
    -------
    dataclasses.Field
        The field, with ``help`` and the flags in its metadata.
    """
    metadata = {"help": help, **flags}
    if callable(default) and not isinstance(default, str | int | float | bool | tuple | Path):
        return field(default_factory=default, metadata=metadata)
    return field(default=default, metadata=metadata)


class Options:
    """Base of every configuration section: after construction every field is checked
    against its declared type and the section's rules; all problems are raised at once."""

    SECTION: ClassVar[str] = ""

    def __post_init__(self) -> None:
        problems = type_problems(self)
        if not problems:
            problems = [p for p in self._problems() if p]
        if problems:
            raise ConfigError("; ".join(problems), key="problems", params={"problems": problems})

    def _problems(self) -> list[str | None]:
        return []

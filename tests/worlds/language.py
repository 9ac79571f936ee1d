"""What an Indonesian reader must not meet: a list of English words and the helpers that
find them in a page's visible text, a JSON payload or any other text (used by the language
tests of every output)."""

from __future__ import annotations

import re
from html.parser import HTMLParser

#: English words a reader of an Indonesian page must not meet (whole words, any case);
#: "lag" is not listed: "lag spasial" is the Indonesian statistical term.
ENGLISH = (
    "read", "kept", "rejected", "repaired", "reason", "term", "estimate", "actual",
    "predicted", "probability", "advance", "mature", "survival", "marshallian", "with",
    "traits", "hot", "cold", "spot", "firms", "areas", "sector", "significant", "stage",
    "type", "name", "value", "density", "specialisation", "weights", "permutations",
    "seed", "not", "the", "and", "of", "none", "found", "source", "created", "boundaries",
    "search", "statistic", "cluster", "clusters", "count", "all", "mean", "standardised",
    "spatial", "beyond", "interval", "threshold", "location", "quotient",
    "record", "records", "missing", "duplicate", "outside", "invalid", "heat", "map",
    "points", "layers", "open", "figures", "report", "table", "rule", "rules", "hub",
    "spoke", "satellite", "state", "anchored", "mixed", "available", "unknown", "yes",
    "no", "level", "fit", "error", "low", "high",
)  # fmt: skip
_WORD = re.compile(r"[A-Za-z]+")


class _Visible(HTMLParser):
    """The text a reader sees: everything outside scripts and styles, plus titles and
    placeholders."""

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self.skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style"):
            self.skip += 1
        for key, value in attrs:
            if key in ("title", "placeholder", "alt") and value:
                self.parts.append(value)

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style"):
            self.skip -= 1

    def handle_data(self, data: str) -> None:
        if not self.skip:
            self.parts.append(data)


def visible(page: str) -> str:
    parser = _Visible()
    parser.feed(page)
    return " ".join(parser.parts)


def english(text: str, allowed: frozenset[str] | set[str] = frozenset()) -> set[str]:
    """The listed English words in ``text`` (file names like ``candidates.csv``, column
    names like ``p_norm``, folder names like ``firms/`` and command-line flags like
    ``--with-firms`` are not words)."""
    text = re.sub(r"\S+\.(csv|json|html|geojson|gpkg|parquet|xlsx)\b", " ", text)
    text = re.sub(r"(?<![\w/])[a-z_]+/(?![\w/])", " ", text)
    text = re.sub(r"--[a-z][a-z-]*", " ", text)
    words = {w.lower() for w in _WORD.findall(text)}
    return (words & set(ENGLISH)) - allowed


def strings(value: object) -> list[str]:
    """Every string in a JSON value (the map's texts, labels and popups)."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in strings(v)]
    return []

"""Kemendagri area codes and administrative levels: what a study area and a level of
analysis may be (``33``, ``33.10``, ``desa``, ``h3:8``)."""

from __future__ import annotations

import re

from klastergeo.errors import ConfigError

__all__ = ["ADMIN_LEVELS", "check_area_code", "is_area_code", "parse_level"]

#: Indonesian administrative levels, coarse to fine.
ADMIN_LEVELS: tuple[str, ...] = ("provinsi", "kabupaten", "kecamatan", "desa")
_LEVEL_ALIASES = {
    "kelurahan": "desa",
    "village": "desa",
    "district": "kecamatan",
    "kota": "kabupaten",
    "regency": "kabupaten",
    "province": "provinsi",
}
_AREA_CODE = re.compile(r"^\d{2}(\.\d{2}(\.\d{2}(\.\d{4})?)?)?$")


def parse_level(level: str) -> tuple[str, int | None]:
    """Split an analysis level into its kind and H3 resolution.

    Parameters
    ----------
    level
        ``desa``, ``kecamatan``, ``kabupaten``, ``provinsi`` (case-insensitive; the aliases
        kelurahan, village, district, kota, regency and province are accepted) or
        ``h3:RES`` with RES from 0 to 15.

    Returns
    -------
    tuple
        The kind (an administrative level or ``"h3"``) and the H3 resolution (None for an
        administrative level).

    Raises
    ------
    ConfigError
        If the level is not known or the H3 resolution is out of range.

    Examples
    --------
    >>> parse_level("desa")
    ('desa', None)
    >>> parse_level("h3:8")
    ('h3', 8)
    """
    text = str(level).strip().lower()
    if text.startswith("h3"):
        match = re.fullmatch(r"h3:(\d{1,2})", text)
        if not match or not 0 <= int(match.group(1)) <= 15:
            raise ConfigError(
                f"level {level!r} is not a valid H3 level; use h3:RES with RES 0..15 "
                "(h3:7 is about 5 km2 a cell, h3:8 about 0.7 km2)"
            )
        return "h3", int(match.group(1))
    text = _LEVEL_ALIASES.get(text, text)
    if text not in ADMIN_LEVELS:
        raise ConfigError(
            f"level {level!r} is not known; use one of {', '.join(ADMIN_LEVELS)} or h3:RES"
        )
    return text, None


def is_area_code(text: str) -> bool:
    """Whether ``text`` has the form of a Kemendagri code (``33``, ``33.09``, ...), not
    of a name.

    Parameters
    ----------
    text
        What was given as the study area.
    """
    return bool(_AREA_CODE.match(str(text).strip()))


def check_area_code(code: str | None) -> str | None:
    """Validate a study-area code prefix such as ``33`` or ``33.11``.

    Parameters
    ----------
    code
        A Kemendagri code: province (``33``), regency (``33.11``), district
        (``33.11.11``) or village (``33.11.11.2013``); surrounding spaces are dropped.
        None means no study area.

    Returns
    -------
    str or None
        The code, stripped, or None if ``code`` is None.

    Raises
    ------
    ConfigError
        If the code does not have one of those forms.
    """
    if code is None:
        return None
    text = str(code).strip()
    if not _AREA_CODE.match(text):
        raise ConfigError(
            f"area {code!r} is not a Kemendagri code; use a province (33), regency (33.11), "
            "district (33.11.11) or village (33.11.11.2013) code"
        )
    return text

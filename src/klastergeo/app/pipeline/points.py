"""The firms a step that needs positions can use: those with a point.

A firm placed by its area's code or name (``placement`` ``code`` or ``name``) has no
point: its ``lat``/``lon`` are NaN, and it is never put on its village's centre. It
counts in its area like every firm (location quotients, Gi*, LISA, sentra from areas,
concentration, the models of areas), but the steps that need positions (co-location,
point patterns, sentra from points, the map's firm markers and density grid) use the
firms that have a point, and say in ``not_computed`` how many were left out; where no
firm has a point, the step is not computed, with that reason.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from klastergeo.analysis.geometry import has_point
from klastergeo.app.pipeline._steps import Notes
from klastergeo.publish import messages

__all__ = ["WHAT", "left_out", "with_points"]

#: The steps that need the firms' points, as the catalogue's ``notes`` group names them.
WHAT = ("colocation", "point_patterns", "point_sentra", "firm_markers", "density_grid")


def left_out(missing: int, total: int, lang: str) -> str | None:
    """Why a step that needs points used only some firms (``missing`` of ``total`` have
    none), or computed nothing (none has one); None when every firm has a point.

    Parameters
    ----------
    missing
        Firms without a point.
    total
        Firms the step would have used.
    lang
        ``"id"`` or ``"en"``.

    Examples
    --------
    >>> left_out(1234, 5000, "en").split(";")[0]
    '1,234 of 5,000 firms placed by area name or code have no point and are left out'
    >>> left_out(0, 5000, "en") is None
    True
    """
    if not missing:
        return None
    said = messages.note(WHAT[0], _why(missing, total), {"missing": missing, "total": total}, lang)
    return said[1]


def _why(missing: int, total: int) -> str:
    """The key of the ``notes`` group that says why (some or all firms have no point)."""
    return "points_none" if missing >= total else "points_some"


def with_points(
    firms: pd.DataFrame,
    notes: Notes | None,
    *,
    step: str,
    what: str,
) -> tuple[pd.DataFrame, NDArray[np.int64] | None]:
    """The firms that have a point, and their positions in ``firms`` (None when every
    firm has one, and ``firms`` is returned as it is). When some have none, ``notes``
    says how many the step leaves out; when none has one, the step is not computed
    (the returned frame is empty) and ``notes`` says so.

    Parameters
    ----------
    firms
        A GeoDataFrame of points, or a frame with ``lon`` and ``lat``.
    notes
        The run's notes (``not_computed``); None to note nothing.
    step
        The pipeline step (``profile``, ``sentra``, ``map``).
    what
        What the step computes: one of :data:`WHAT`.
    """
    found = has_point(firms)
    if found.all():
        return firms, None
    note_pointless(notes, int((~found).sum()), len(found), step=step, what=what)
    positions = np.flatnonzero(found).astype(np.int64)
    return firms.iloc[positions], positions


def note_pointless(notes: Notes | None, missing: int, total: int, *, step: str, what: str) -> None:
    """Note that ``missing`` of ``total`` firms have no point and are left out of what
    ``step`` computes (:func:`with_points`; for steps that count the firms block by
    block). Nothing when every firm has one.

    Parameters
    ----------
    notes
        The run's notes; None to note nothing.
    missing, total
        Firms without a point, and all the firms.
    step, what
        As for :func:`with_points`.
    """
    if notes is None or not missing:
        return
    # some firms left out: the step is computed (on fewer firms), a warning only when
    # nothing could be computed
    notes.add(
        step,
        what,
        _why(missing, total),
        warn=missing == total,
        partly=missing < total,
        missing=missing,
        total=total,
    )

"""Radar charts of the cluster diagnosis: one PNG per sentra of its Porter's-diamond item
scores (:func:`klastergeo.analysis.diagnosis.score`), coloured by dimension, with the
stage and overall score in the title, in the report's language."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pandas as pd

from klastergeo.analysis.diagnosis import DIMENSIONS, ITEMS
from klastergeo.io.files import atomic_path
from klastergeo.publish import messages
from klastergeo.schema import sentra_ids

__all__ = ["radar_charts"]

logger = logging.getLogger(__name__)

#: The dimension of every item.
DIMENSION_OF = {item: dim for dim, items in ITEMS.items() for item in items}


def radar_charts(
    scores: pd.DataFrame,
    folder: str | Path,
    *,
    sentra: pd.DataFrame | None = None,
    lang: str = "en",
) -> list[Path]:
    """One radar chart (PNG) per sentra of its item scores, coloured by dimension.

    Files are ``<folder>/<sentra_id>.png``; sentra without scores get none, and with fewer
    than 3 items scored no chart is drawn at all.

    Parameters
    ----------
    scores
        The result of :func:`klastergeo.analysis.diagnosis.score`, indexed by ``sentra_id``.
    folder
        Folder the PNG files go to; created if missing.
    sentra
        The sentra table; its ``name`` column, when present, is added to each chart's
        title. None titles charts by ``sentra_id`` only.
    lang
        ``"en"`` or ``"id"``: the language of items, dimensions and stage.

    Returns
    -------
    list of Path
        The charts written.
    """
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    item_cols = [i for d in DIMENSIONS for i in ITEMS[d] if i in scores.columns]
    names = messages.text("diagnosis", lang)
    figure_text = messages.text("figures", lang)
    titles = (
        pd.Series(sentra["name"].astype(str).to_numpy(), index=sentra_ids(sentra))
        if sentra is not None and "name" in sentra.columns
        else pd.Series(dtype=str)
    )
    colours = dict(zip(DIMENSIONS, ("#1b9e77", "#d95f02", "#7570b3", "#e7298a"), strict=True))
    written: list[Path] = []
    if len(item_cols) < 3:
        logger.warning("diagnosis: fewer than 3 items scored; no radar charts drawn")
        return written
    angles = np.linspace(0, 2 * np.pi, len(item_cols), endpoint=False)
    for sid, row in scores.iterrows():  # one chart per sentra (tens)
        values = row[item_cols].to_numpy(dtype=float)
        if np.isnan(values).all():
            continue
        fig = plt.figure(figsize=(6.4, 6.4), dpi=100)
        ax = fig.add_subplot(projection="polar")
        closed = np.append(np.nan_to_num(values, nan=0.0), np.nan_to_num(values[:1], nan=0.0))
        ax.plot(np.append(angles, angles[:1]), closed, color="#333333", linewidth=1.5)
        ax.fill(np.append(angles, angles[:1]), closed, color="#999999", alpha=0.25)
        for angle, item in zip(angles, item_cols, strict=True):
            ax.scatter([angle], [row[item]], color=colours[DIMENSION_OF[item]], s=30, zorder=3)
        ax.set_xticks(angles)
        ax.set_xticklabels([names[i] for i in item_cols], fontsize=8)
        ax.set_ylim(0, 5)
        ax.set_yticks([1, 2, 3, 4, 5])
        title = f"{sid} {titles.get(sid, '')}".strip()
        stage = figure_text["stage_line"].format(
            stage=messages.label("stage", row["stage"], lang),
            overall=messages.number(row["overall"], lang, 2),
        )
        ax.set_title(
            f"{title}\n{stage}",
            fontsize=10,
            parse_math=False,  # a sentra's name is text, "$" included
        )
        handles = [
            plt.Line2D([], [], marker="o", linestyle="", color=colours[d], label=names[d])
            for d in DIMENSIONS
            if any(DIMENSION_OF[i] == d for i in item_cols)
        ]
        fig.legend(handles=handles, loc="lower center", ncol=2, fontsize=8, frameon=False)
        path = folder / f"{sid}.png"
        with atomic_path(path) as tmp:
            fig.savefig(tmp, format="png")
        plt.close(fig)
        written.append(path)
    return written

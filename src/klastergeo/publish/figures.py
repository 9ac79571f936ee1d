"""Static figures for reports and papers (matplotlib, PNG): LISA and hot-spot maps per
sector with legend, scale bar and north arrow, and Moran scatterplots.

Up to :data:`RASTER_PARTS` polygon parts, the areas are drawn once into one
``PathCollection`` in a projected CRS (simplified to an eighth of a pixel), and every
further map of the same areas only recolours that collection and saves the figure.
Beyond that (a country's 83,402 villages: 8.8 million vertices, 3.5 s per ``savefig``),
the areas are rasterised once at twice the figure's resolution with the compiled point
locator, and each map is an image of the areas' colours with their borders traced
between pixels of different areas, at 0.1-0.2 s per figure whatever the number of areas.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from libpysal.graph import Graph

from klastergeo import kbli
from klastergeo.analysis.geometry import locate_pixels, to_metric
from klastergeo.errors import DataError
from klastergeo.io.files import atomic_path
from klastergeo.publish import messages

__all__ = [
    "RASTER_PARTS",
    "TREND_COLOURS",
    "AreaCanvas",
    "figure_shapes",
    "moran_scatterplot",
    "moran_slope",
    "sector_figures",
    "sentra_map",
    "trend_maps",
]

logger = logging.getLogger(__name__)

#: The figures' texts per language (the ``figures`` group of :mod:`klastergeo.publish.messages`):
#: titles of the area maps (``spec``, ``gi``, ``lisa``, ``lisa_sig``) and their labels.
FIGURE_TITLES = messages.MESSAGES["figures"]
#: GeoDa's significance map: colour per p-value class (``lisa_sig``), most significant
#: first; areas above 0.05 are grey.
SIGNIFICANCE_BREAKS = (0.0001, 0.001, 0.01, 0.05)
SIGNIFICANCE_COLOURS = ("#004400", "#348124", "#53c53c", "#84f576")


def _lisa_labels(lang: str) -> dict[int, str]:
    """LISA quadrants (GeoDa's order: HH, LL, LH, HL, then not significant)."""
    return messages.class_labels("lisa_quadrant", lang)


def _significance(p: pd.Series, lang: str) -> tuple[pd.Series, dict[str, str]]:
    """Each area's colour on a significance map and the legend (p = 0.0001 ... not
    significant), as GeoDa draws it."""
    values = p.to_numpy(dtype=float)
    k = np.searchsorted(np.asarray(SIGNIFICANCE_BREAKS), values, side="left")
    colours = np.asarray([*SIGNIFICANCE_COLOURS, _NEUTRAL], dtype=object)[
        np.where(np.isfinite(values), k, len(SIGNIFICANCE_BREAKS))
    ]
    legend = {
        f"p <= {messages.significant(b, lang, 1)}": c
        for b, c in zip(SIGNIFICANCE_BREAKS, SIGNIFICANCE_COLOURS, strict=True)
    }
    legend[messages.text("figures", lang)["not_sig"]] = _NEUTRAL
    return pd.Series(colours, index=p.index), legend


_NEUTRAL = "#eeeeee"
_BORDER = "#bbbbbb"
#: Polygon parts beyond which the areas are drawn as an image (see the module docstring).
RASTER_PARTS = 20_000
#: The area maps' size (inches) and resolution.
_FIGURE_SIZE, _DPI = (9.0, 7.5), 110
#: Image pixels per figure pixel in raster mode (each way), for smooth borders.
_SUPERSAMPLE = 2


def _matplotlib() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot

    return pyplot


def figure_shapes(geometry: gpd.GeoSeries) -> gpd.GeoSeries:
    """The areas simplified to a quarter of an image pixel of raster mode (where the
    image is :data:`_SUPERSAMPLE` times the figure's pixels), an eighth of a figure
    pixel: what a figure can show of a village border, at a fraction of the vertices to
    project, index and draw (a country's 8.8 million to 670,000, a province's 774,000 to
    315,000). The tolerance is in the areas' own units, from the larger side of their
    box spread over the figure's width (its smallest scale), so it is never coarser.

    :class:`AreaCanvas` simplifies its areas so unless told they already are; a run
    simplifies them before they are sent to the process that draws its figures (a
    tenth of the bytes of a country's villages).

    Parameters
    ----------
    geometry
        The areas' polygons (any CRS).

    Returns
    -------
    geopandas.GeoSeries
        The simplified polygons (topology preserved), indexed and in the CRS of
        ``geometry``.
    """
    minx, miny, maxx, maxy = geometry.total_bounds
    pixels = _FIGURE_SIZE[0] * _DPI * _SUPERSAMPLE
    tolerance = max(maxx - minx, maxy - miny) / pixels / 4
    if not np.isfinite(tolerance) or tolerance <= 0:
        return geometry
    simple = shapely.simplify(geometry.to_numpy(), tolerance, preserve_topology=True)
    return gpd.GeoSeries(simple, index=geometry.index, crs=geometry.crs)


class AreaCanvas:
    """A figure with the areas drawn once; :meth:`paint` recolours and saves them.

    Parameters
    ----------
    areas
        Polygons indexed by area code (any CRS; drawn in their UTM zone).
    outlines
        Optional coarser boundaries (e.g. kabupaten) drawn on top as lines.
    raster_parts
        Polygon parts beyond which the areas are drawn as an image.
    simplified
        The areas are already :func:`figure_shapes` (not simplified again).
    """

    def __init__(
        self,
        areas: gpd.GeoDataFrame,
        *,
        outlines: gpd.GeoDataFrame | None = None,
        raster_parts: int = RASTER_PARTS,
        simplified: bool = False,
    ) -> None:
        plt = _matplotlib()
        self.index = pd.Index(areas.index)
        geometry = areas.geometry
        self.raster = int(shapely.get_num_geometries(geometry.to_numpy()).sum()) > raster_parts
        # an eighth of a pixel: no line moves visibly, and a province's villages keep 40 %
        # of their vertices, which every figure transforms and draws again
        if not simplified:
            geometry = figure_shapes(geometry)
        metric = to_metric(gpd.GeoDataFrame(geometry=geometry))
        #: The CRS the figure is drawn in (the areas' UTM zone).
        self.crs = metric.crs
        geoms = metric.geometry.to_numpy()
        self.figure = plt.figure(figsize=_FIGURE_SIZE, dpi=_DPI)
        self.axes = self.figure.add_axes((0.02, 0.12, 0.96, 0.8))
        minx, miny, maxx, maxy = metric.total_bounds
        pad = 0.02 * max(maxx - minx, maxy - miny)
        self.axes.set_xlim(minx - pad, maxx + pad)
        self.axes.set_ylim(miny - pad, maxy + pad)
        self.axes.set_aspect("equal")
        if self.raster:
            self._rasterise(geoms)
        else:
            self._vectors(*shapely.get_parts(geoms, return_index=True))
        if outlines is not None and len(outlines):
            from matplotlib.collections import LineCollection

            # lines finer than a pixel only cost drawing time
            pixel = (maxx - minx + 2 * pad) / (self.figure.get_figwidth() * self.figure.dpi)
            lines = shapely.get_parts(
                shapely.simplify(
                    shapely.boundary(outlines.geometry.to_crs(metric.crs).to_numpy()),
                    pixel / 2,
                )
            )
            segments = [np.asarray(line.coords)[:, :2] for line in shapely.get_parts(lines)]
            self.axes.add_collection(LineCollection(segments, linewidths=0.5, colors="#555555"))
        self.axes.set_axis_off()
        self._scale_bar(minx, miny, maxx - minx)
        self._north_arrow()
        # titles and notes carry names from the data: "$" in them is text, never TeX
        self._title = self.figure.text(
            0.5, 0.95, "", ha="center", va="center", fontsize=12, parse_math=False
        )
        self._note = self.figure.text(
            0.02, 0.015, "", ha="left", va="bottom", fontsize=7, parse_math=False
        )
        self._legend: Any = None

    def _vectors(self, parts: np.ndarray, owner: np.ndarray) -> None:
        """One compound path per polygon part, holes included (enclaves stay visible)."""
        from matplotlib.collections import PathCollection
        from matplotlib.path import Path as MplPath

        paths = [
            MplPath.make_compound_path(
                *(
                    MplPath(np.asarray(ring.coords)[:, :2], closed=True)
                    for ring in (part.exterior, *part.interiors)
                )
            )
            for part in parts
        ]
        self._owner = owner
        self.collection = PathCollection(paths, linewidths=0.1, edgecolors=_BORDER)
        self.axes.add_collection(self.collection)

    def _rasterise(self, geoms: np.ndarray) -> None:
        """The area at every pixel centre of the axes (supersampled), and which pixels lie
        on a border between areas."""
        self.figure.canvas.draw()  # fixes the axes' box in pixels (aspect "equal")
        box = self.axes.get_window_extent()
        width = max(int(box.width) * _SUPERSAMPLE, 1)
        height = max(int(box.height) * _SUPERSAMPLE, 1)
        (x0, x1), (y0, y1) = self.axes.get_xlim(), self.axes.get_ylim()
        xs = x0 + (np.arange(width) + 0.5) * (x1 - x0) / width
        ys = y1 - (np.arange(height) + 0.5) * (y1 - y0) / height  # image rows top down
        gx, gy = np.meshgrid(xs, ys)
        # a pixel centre exactly on a border: background
        self._pixels = locate_pixels(geoms, gx.ravel(), gy.ravel()).reshape(height, width)
        cells = self._pixels
        border = np.zeros(cells.shape, dtype=bool)
        border[:, 1:] |= cells[:, 1:] != cells[:, :-1]
        border[1:, :] |= cells[1:, :] != cells[:-1, :]
        self._border = border & (cells >= 0)
        self._image = self.axes.imshow(
            np.zeros((height, width, 4)),
            extent=(x0, x1, y0, y1),
            interpolation="antialiased",
            zorder=0,
        )

    def _scale_bar(self, x0: float, y0: float, width: float) -> None:
        """A bar of a round length (1, 2 or 5 x 10^k m) about a fifth of the map wide."""
        target = width / 5
        exponent = 10 ** np.floor(np.log10(target))
        length = max(m * exponent for m in (1, 2, 5) if m * exponent <= target)
        label = f"{length / 1000:g} km" if length >= 1000 else f"{length:g} m"
        x, y = x0 + 0.03 * width, y0 + 0.02 * width
        self.axes.plot([x, x + length], [y, y], color="black", linewidth=3, solid_capstyle="butt")
        self.axes.text(x + length / 2, y + 0.012 * width, label, ha="center", fontsize=8)

    def _north_arrow(self) -> None:
        self.axes.annotate(
            "N",
            xy=(0.95, 0.95),
            xytext=(0.95, 0.86),
            xycoords="axes fraction",
            ha="center",
            va="center",
            fontsize=11,
            fontweight="bold",
            arrowprops={"facecolor": "black", "width": 4, "headwidth": 11, "headlength": 10},
        )

    def paint(
        self,
        colours: pd.Series,
        path: str | Path,
        *,
        title: str,
        legend: Mapping[str, str],
        note: str = "",
    ) -> Path:
        """Colour the areas and save the figure as a PNG.

        Parameters
        ----------
        colours
            Colour per area, indexed by area code; areas missing from it are light grey.
        path
            The PNG file, replaced only once it is written whole.
        title
            The figure's title (drawn as text, never as TeX).
        legend
            Label -> colour of the legend's entries, in their order.
        note
            A line of small text at the bottom (the data source).

        Returns
        -------
        Path
            ``path``.
        """
        from matplotlib.colors import to_rgba_array
        from matplotlib.patches import Patch

        per_area = colours.reindex(self.index).fillna(_NEUTRAL).to_numpy(dtype=object)
        # each distinct colour converted once (a country's 83,402 villages have a few)
        codes, distinct = pd.factorize(per_area)
        area_rgba = to_rgba_array(list(distinct))[codes]
        if self.raster:
            lookup = np.vstack([area_rgba, [[1.0, 1.0, 1.0, 0.0]]])
            rgba = lookup[self._pixels]  # -1 (no area) takes the last, transparent, row
            # borders around neutral areas only: where villages are smaller than a few
            # pixels, a coloured one stays visible instead of vanishing under its border
            plain = (per_area == _NEUTRAL)[self._pixels] & (self._pixels >= 0)
            rgba[self._border & plain] = to_rgba_array([_BORDER])[0]
            self._image.set_data(rgba)
        else:
            self.collection.set_facecolor(area_rgba[self._owner])
        self._title.set_text(title)
        self._note.set_text(note)
        if self._legend is not None:
            self._legend.remove()
        handles = [Patch(facecolor=c, edgecolor="#999999", label=lb) for lb, c in legend.items()]
        self._legend = self.figure.legend(
            handles=handles, loc="lower right", fontsize=8, frameon=True, ncol=1
        )
        target = Path(path)
        with atomic_path(target) as tmp:
            self.figure.savefig(tmp, format="png")
        return target

    def close(self) -> None:
        _matplotlib().close(self.figure)


def sector_figures(
    areas: gpd.GeoDataFrame,
    table: pd.DataFrame,
    sectors: Sequence[str],
    folder: str | Path,
    *,
    lang: str = "id",
    outlines: gpd.GeoDataFrame | None = None,
    source: str = "",
    canvas: AreaCanvas | None = None,
) -> list[Path]:
    """Maps of each sector in ``folder``: specialisation and Gi* hot spots by
    confidence (``spec_<sector>.png``, ``gi_<sector>.png``), LISA clusters
    (``lisa_<sector>.png``) and, beside them, the LISA significance map
    (``lisa_sig_<sector>.png``: p classes in GeoDa's greens).

    Parameters
    ----------
    areas
        Polygons indexed by area code (any CRS).
    table
        The run's area x sector table (``spec_bin``, ``gi_bin``, ``lisa_quadrant``,
        ``lisa_p_sim`` or ``lisa_p``).
    sectors
        The sectors to draw.
    folder
        Where the PNGs are written (created if missing).
    lang
        ``"id"`` or ``"en"``: the language of the titles and legends.
    outlines
        Coarser boundaries drawn on top as lines; or None.
    source
        The note at the bottom of every figure (the data source).
    canvas
        The areas already drawn (with ``outlines``), to draw on and leave open; by
        default a canvas of ``areas`` is drawn and closed.

    Returns
    -------
    list of Path
        The files written.
    """
    from klastergeo.publish.maps import GISTAR_COLOURS, LISA_COLOURS

    t = messages.text("figures", lang)
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    owned = canvas is None
    canvas = AreaCanvas(areas, outlines=outlines) if canvas is None else canvas
    written = []
    gi, lisa = messages.hot_spot_labels(lang), _lisa_labels(lang)
    try:
        for sector in sectors:  # one figure per sector and statistic (tens)
            rows = table.xs(sector, level="sector")
            name = kbli.titled(sector, lang=lang)
            maps: list[tuple[str, pd.Series, dict[str, str]]] = []
            for stem, column, colours, labels in (
                ("spec", "spec_bin", GISTAR_COLOURS, gi),
                ("gi", "gi_bin", GISTAR_COLOURS, gi),
                ("lisa", "lisa_quadrant", LISA_COLOURS, lisa),
            ):
                if column in rows.columns:  # a table without the specialisation has none
                    # legend in the labels' order: strongest hot spot (or HH) first
                    legend = {label: colours.get(k, _NEUTRAL) for k, label in labels.items()}
                    maps.append((stem, rows[column].fillna(0).astype(int).map(colours), legend))
            p = rows.get("lisa_p_sim", rows.get("lisa_p"))
            if p is not None and p.notna().any():
                maps.append(("lisa_sig", *_significance(p, lang)))
            for stem, colour, legend in maps:
                written.append(
                    canvas.paint(
                        colour,
                        folder / f"{stem}_{sector}.png",
                        title=f"{t[stem]}: {name}",
                        legend=legend,
                        note=source,
                    )
                )
    finally:
        if owned:
            canvas.close()
    return written


#: Lineage trends' colours (maps and figures of a multi-period run).
TREND_COLOURS = {
    "growing": "#1a9850",
    "declining": "#d73027",
    "stable": "#4575b4",
    "new": "#fdae61",
    "gone": "#969696",
    "split": "#9e6bb8",
    "merged": "#e7298a",
}


#: Most sentra labelled with their name as well as their id (more would overlap).
MAX_NAMED_SENTRA = 12


def sentra_map(
    areas: gpd.GeoDataFrame,
    sentra: gpd.GeoDataFrame,
    path: str | Path,
    *,
    title: str,
    legend: str,
    outlines: gpd.GeoDataFrame | None = None,
    note: str = "",
    canvas: AreaCanvas | None = None,
) -> Path:
    """A static map of the sentra (for the printed report): the study area's areas in
    light grey, each sentra filled and outlined in the web map's sentra colour and
    labelled with its id (and name, up to :data:`MAX_NAMED_SENTRA` sentra), with a scale
    bar and a north arrow.

    Parameters
    ----------
    areas
        The areas of analysis (any CRS).
    sentra
        The sentra polygons (any CRS) with ``sentra_id`` (a column or the index) and
        ``name``.
    path
        The PNG file, replaced only once it is written whole.
    title
        The figure's title (drawn as text, never as TeX).
    legend
        The legend's label of the sentra.
    outlines
        Coarser boundaries drawn on top as lines; or None.
    note
        A line of small text at the bottom (the data source).
    canvas
        The areas already drawn (with ``outlines``), to draw on and leave as they were
        (the sentra taken off again); by default a canvas of ``areas`` is drawn and
        closed.

    Returns
    -------
    Path
        ``path``.
    """
    from klastergeo.publish.maps import SENTRA_COLOUR

    owned = canvas is None
    canvas = AreaCanvas(areas, outlines=outlines) if canvas is None else canvas
    before = set(canvas.axes.get_children())
    try:
        _draw_sentra(canvas, sentra)
        return canvas.paint(
            pd.Series(dtype=object), path, title=title, legend={legend: SENTRA_COLOUR}, note=note
        )
    finally:
        if owned:
            canvas.close()
        else:  # the sentra, their dots and labels off again
            for artist in set(canvas.axes.get_children()) - before:
                artist.remove()


def _draw_sentra(canvas: AreaCanvas, sentra: gpd.GeoDataFrame) -> None:
    """The sentra on ``canvas``: filled and outlined, a dot each and their labels."""
    from matplotlib.collections import PathCollection
    from matplotlib.path import Path as MplPath

    from klastergeo.publish.maps import SENTRA_COLOUR

    shown = sentra.reset_index() if "sentra_id" not in sentra.columns else sentra
    shown = shown.loc[~shown.geometry.is_empty & shown.geometry.notna()]
    shapes = shown.geometry.to_crs(canvas.crs).to_numpy()
    parts = shapely.get_parts(shapes)
    paths = [
        MplPath.make_compound_path(
            *(
                MplPath(np.asarray(ring.coords)[:, :2], closed=True)
                for ring in (part.exterior, *part.interiors)
            )
        )
        for part in parts
        if isinstance(part, shapely.Polygon)
    ]
    canvas.axes.add_collection(
        PathCollection(
            paths,
            facecolors=SENTRA_COLOUR + "55",
            edgecolors=SENTRA_COLOUR,
            linewidths=1.5,
            zorder=3,
        )
    )
    named = len(shown) <= MAX_NAMED_SENTRA
    ids = shown["sentra_id"].astype(str).tolist()
    names = shown["name"].astype(str).tolist() if "name" in shown else [""] * len(shown)
    at = shapely.point_on_surface(shapes)
    x, y = shapely.get_x(at), shapely.get_y(at)
    # a dot per sentra: a village-sized sentra is a speck on a province's map
    canvas.axes.scatter(x, y, s=28, c=SENTRA_COLOUR, edgecolors="white", zorder=4)
    texts = [f"{i} {n}" if named and n else i for i, n in zip(ids, names, strict=True)]
    for (tx, ty), (px, py), text in zip(
        _label_places(canvas.axes, x, y, texts), zip(x, y, strict=True), texts, strict=True
    ):  # sentra (tens)
        canvas.axes.annotate(
            text,
            xy=(px, py),
            xytext=(tx, ty),
            ha="left",
            va="center",
            fontsize=7,
            zorder=5,
            annotation_clip=False,
            bbox={"facecolor": "white", "alpha": 0.85, "edgecolor": "none", "pad": 1.0},
            arrowprops={"arrowstyle": "-", "color": "#555555", "linewidth": 0.5}
            if ty != py  # moved down: a line back to its dot
            else None,
        )


def _label_places(
    axes: Any, x: np.ndarray, y: np.ndarray, texts: Sequence[str]
) -> list[tuple[float, float]]:
    """Where each label goes (its left middle, in data units): right of its point (left
    of it at the map's right edge), moved down a line at a time while it would cover a
    label placed before it (labels of sentra a few kilometres apart overlap on a
    province's map). The labels' boxes are estimated from the characters (7 pt) and the
    axes' scale."""
    axes.apply_aspect()  # the box the equal aspect leaves
    (x0, x1), (y0, y1) = axes.get_xlim(), axes.get_ylim()
    box = axes.get_position()
    fig_w, fig_h = axes.figure.get_size_inches()
    per_inch_x = (x1 - x0) / (box.width * fig_w)
    per_inch_y = (y1 - y0) / (box.height * fig_h)
    char_w, line_h = 0.055 * per_inch_x, 0.16 * per_inch_y  # 7 pt text, with its box
    gap = 0.06 * per_inch_x
    placed: list[tuple[float, float, float]] = []  # left, right, middle of each label
    out: list[tuple[float, float]] = [(0.0, 0.0)] * len(texts)
    for k in np.argsort(-y, kind="stable").tolist():  # top down (tens of sentra)
        width = char_w * len(texts[k])
        start = float(x[k]) + gap
        if start + width > x1:  # past the map's right edge: left of its point
            start = float(x[k]) - gap - width
        end = start + width
        middle = float(y[k])
        for _ in range(12):
            if not any(start < e and s < end and abs(middle - m) < line_h for s, e, m in placed):
                break
            middle -= line_h
        placed.append((start, end, middle))
        out[k] = (start, middle)
    return out


def trend_maps(
    areas: gpd.GeoDataFrame,
    members: pd.DataFrame,
    folder: str | Path,
    *,
    periods: Sequence[str],
    lang: str = "id",
    source: str = "",
) -> list[Path]:
    """Small multiples of the sentra over time: one map per period
    (``trend_<period>.png``) with each sentra's areas coloured by its lineage's trend.

    Parameters
    ----------
    areas
        Polygons indexed by area code.
    members
        One row per sentra area and period: ``period``, ``area_code`` and ``trend`` (its
        lineage's, one of :data:`TREND_COLOURS`).
    folder
        Where the PNGs go (created if missing).
    periods
        The periods, in time order (one map each, even without sentra).
    lang
        ``"id"`` or ``"en"``: titles and legend.
    source
        The note at the bottom of every figure.

    Returns
    -------
    list of Path
        The files written, in the order of ``periods``.
    """
    names = messages.text("trends", lang)
    title = messages.text("dynamics", lang)["title"]
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    legend = {names[t]: colour for t, colour in TREND_COLOURS.items()}
    canvas = AreaCanvas(areas)
    written = []
    try:
        for period in periods:  # one figure per period (a few)
            rows = members.loc[members["period"].astype(str) == str(period)]
            colours = pd.Series(
                rows["trend"].map(TREND_COLOURS).to_numpy(), index=rows["area_code"].to_numpy()
            )
            written.append(
                canvas.paint(
                    colours[~colours.index.duplicated()],
                    folder / f"trend_{period}.png",
                    title=f"{title}: {period}",
                    legend=legend,
                    note=source,
                )
            )
    finally:
        canvas.close()
    return written


def moran_slope(z: np.ndarray, lag: np.ndarray) -> float:
    """The scatterplot's least-squares slope through the origin, ``z'Wz / z'z``: Moran's I
    for row-standardised weights.

    Parameters
    ----------
    z
        The standardised values.
    lag
        Their spatial lag, ``Wz``.
    """
    return float((z @ lag) / (z @ z))


def _bulk_range(values: np.ndarray) -> tuple[float, float]:
    """An axis range holding the bulk of ``values`` (the 1-99 % quantiles), with a
    margin of a tenth of its width each side."""
    # data values, not interpolations (one extreme value would pull an interpolation)
    low = float(np.quantile(values, 0.01, method="higher"))
    high = float(np.quantile(values, 0.99, method="lower"))
    margin = max(0.1 * (high - low), 1e-9)
    return low - margin, high + margin


def moran_scatterplot(
    y: pd.Series,
    graph: Graph,
    path: str | Path,
    *,
    title: str = "",
    quadrant: pd.Series | None = None,
    p_value: float | None = None,
    lang: str = "en",
) -> Path:
    """Moran scatterplot: standardised ``y`` against its spatial lag (row-standardised);
    the slope of the fitted line is Moran's I (drawn and printed), quadrants are GeoDa's.

    As in GeoDa, points are coloured by their LISA cluster (``quadrant``: 1 HH, 2 LL,
    3 LH, 4 HL, 0 not significant, grey). The axes span the bulk of the points (the 1-99 %
    quantiles, with a margin): a few extreme areas do not squeeze every other point into
    the origin; points beyond are drawn on the edge as triangles and counted in the
    legend.

    Parameters
    ----------
    y
        A value per area, indexed by the ids of ``graph``: every area of the graph needs
        one, and they must not all be equal.
    graph
        The spatial weights (row-standardised for the lag).
    path
        The PNG file to write (its folder is created).
    title
        A title line above Moran's I (e.g. the sector's code and name).
    quadrant
        LISA cluster code per area (indexed like ``y``); None for one colour.
    p_value
        Moran's I p-value, shown in the title; None to leave it out.
    lang
        ``"id"`` or ``"en"``: the axis labels.

    Returns
    -------
    Path
        ``path``.
    """
    plt = _matplotlib()
    text = messages.text("figures", lang)
    ids, z, lag = _standardised_lag(y, graph)
    slope = moran_slope(z, lag)
    codes = (
        np.zeros(len(ids), dtype=int)
        if quadrant is None
        else quadrant.reindex(ids).fillna(0).to_numpy(dtype=int)
    )
    colours = _cluster_colours(codes)
    (x0, x1), (y0, y1) = _bulk_range(z), _bulk_range(lag)
    outside = (z < x0) | (z > x1) | (lag < y0) | (lag > y1)
    shown_x = np.clip(z, x0, x1)
    shown_y = np.clip(lag, y0, y1)
    figure = plt.figure(figsize=(5.5, 5.5), dpi=110)
    axes = figure.add_subplot()
    order = np.argsort(codes != 0, kind="stable")  # significant areas drawn on top
    inside = order[~outside[order]]
    axes.scatter(shown_x[inside], shown_y[inside], s=6, c=colours[inside], linewidths=0)
    if outside.any():
        axes.scatter(
            shown_x[outside],
            shown_y[outside],
            s=18,
            marker="^",
            c=colours[outside],
            edgecolors="black",
            linewidths=0.4,
            label=f"{int(outside.sum())} {text['outside']}",
        )
        axes.legend(loc="lower right", fontsize=8, frameon=False)
    axes.axhline(0, color="#888888", linewidth=0.8)
    axes.axvline(0, color="#888888", linewidth=0.8)
    span = np.array([x0, x1])
    axes.plot(span, slope * span, color="#c0392b", linewidth=1.5)
    axes.set_xlim(x0, x1)
    axes.set_ylim(y0, y1)
    axes.set_xlabel(text["x"])
    axes.set_ylabel(text["y"])
    axes.set_title(_moran_title(title, slope, p_value, lang), fontsize=10, parse_math=False)
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(target) as tmp:
        figure.savefig(tmp, format="png")
    plt.close(figure)
    return target


def _standardised_lag(y: pd.Series, graph: Graph) -> tuple[pd.Index, np.ndarray, np.ndarray]:
    """The areas of ``graph``, ``y`` standardised on them and its row-standardised lag."""
    ids = pd.Index(graph.unique_ids)
    values = y.reindex(ids).to_numpy(dtype=float)
    if np.isnan(values).any():
        raise DataError("y has no value for some areas of the graph")
    sd = values.std()
    if sd == 0:
        raise DataError("y is constant; Moran's I is undefined")
    z = (values - values.mean()) / sd
    return ids, z, graph.transform("r").sparse @ z


def _cluster_colours(codes: np.ndarray) -> np.ndarray:
    """The colour (RGBA, a row per area) of each area's point by its LISA cluster code:
    significant areas solid, the others a light grey (one colour per cluster type; a
    code other than 1-4 is not significant)."""
    from matplotlib.colors import to_rgba

    from klastergeo.publish.maps import LISA_COLOURS

    palette = np.array(
        [to_rgba(LISA_COLOURS.get(c, "#9a9a9a"), 1.0 if c else 0.5) for c in range(5)]
    )
    codes = np.asarray(codes)
    return palette[np.where((codes >= 0) & (codes < len(palette)), codes, 0)]


def _moran_title(title: str, slope: float, p_value: float | None, lang: str) -> str:
    """The scatterplot's title: ``title`` and Moran's I (with its p-value when given)."""
    stats = f"Moran's I = {messages.number(slope, lang, 4)}"
    if p_value is not None and np.isfinite(p_value):
        shown = messages.p_value(p_value, lang)
        stats += f" (p {shown if shown.startswith('<') else '= ' + shown})"
    return f"{title}\n{stats}".strip()

/* klastergeo map exploration: a Moran scatterplot linked to the map and a significance
 * filter (MIT licence). Needs klastergeo-map.js's sector view (KG.view).
 *
 * The scatterplot is plain SVG: both axes on an inverse hyperbolic sine scale (linear
 * near 0, logarithmic beyond) with ticks in standardised units, so no point is cut off.
 * Dragging a rectangle selects points and outlines their areas on the map; clicking an
 * area selects its point. The filter re-decides the classes of the shown statistic from
 * the raw p-values at a level, with or without Benjamini-Hochberg control (publish/explore.py).
 * Both follow the measure selector (KG.setMeasure): a measure's own values and p-values.
 */
(function () {
  "use strict";
  var KG = (window.klastergeo = window.klastergeo || {});
  var SVG = "http://www.w3.org/2000/svg";
  var W = 330;
  var SMALL_MAP = [800, 640]; // width, height in pixels: below either, folded
  var H = 290;
  var M = { left: 46, right: 10, top: 10, bottom: 34 };
  var GREY = "#c8c8c8";
  var HIGHLIGHT = "#000000";

  // A tooltip's body as text (Leaflet writes a string tooltip as HTML).
  function textNode(text) {
    var span = document.createElement("span");
    span.textContent = text;
    return span;
  }

  function unzig(v) {
    return v % 2 ? -(v + 1) / 2 : v / 2;
  }

  function element(name, attrs, parent) {
    var node = document.createElementNS(SVG, name);
    Object.keys(attrs).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    if (parent) {
      parent.appendChild(node);
    }
    return node;
  }

  // Benjamini-Hochberg adjusted values of p (the smallest of m tests), in p's order.
  KG.bhAdjust = function (p, m) {
    var order = p.map(function (_, k) { return k; });
    order.sort(function (a, b) { return p[a] - p[b]; });
    var q = new Array(p.length);
    var running = Infinity;
    for (var r = order.length - 1; r >= 0; r -= 1) {
      running = Math.min(running, Math.min(1, (p[order[r]] * m) / (r + 1)));
      q[order[r]] = running;
    }
    return q;
  };

  // The measure the map shows (the measure selector's; firms without one).
  function measureOf() {
    return KG.measure || "firms";
  }

  // The filter's p-values of the measure shown, per statistic and sector.
  function filterOf(data) {
    var measure = measureOf();
    return measure === "firms" ? data.filter : (data.filters && data.filters[measure]) || {};
  }

  // ---------------------------------------------------------------- the filter
  function makeFilter(data, view) {
    var filter = { level: null, fdr: false, cache: {}, decoded: {} };
    function decoded(stat, sector) {
      var shown = filterOf(data);
      var raw = shown[stat] && shown[stat][sector];
      if (!raw) {
        return null;
      }
      var key = measureOf() + "\u0000" + stat + "\u0000" + sector;
      if (!filter.decoded[key]) {
        var gaps = KG.varints(raw.i);
        var at = 0;
        var positions = gaps.map(function (g) { at += g; return at; });
        var units = KG.varints(raw.p);
        filter.decoded[key] = {
          m: raw.m,
          positions: positions,
          p: units.map(function (u) { return u / (raw.u || data.pUnits); }),
          side: raw.s.split("").map(function (c) { return c.charCodeAt(0) - 48; }),
        };
      }
      return filter.decoded[key];
    }
    // every area's class code under the filter (not significant unless it passes)
    function codes(stat, sector) {
      var key = [measureOf(), stat, sector, filter.level, filter.fdr].join("\u0000");
      if (filter.cache[key]) {
        return filter.cache[key];
      }
      var d = decoded(stat, sector);
      var none = stat === "lisa" ? 0 : 3;
      var out = new Int8Array(view.count).fill(none);
      var p = filter.fdr ? KG.bhAdjust(d.p, d.m) : d.p;
      for (var k = 0; k < d.positions.length; k += 1) {
        if (!(p[k] <= filter.level)) {
          continue;
        }
        if (stat === "lisa") {
          out[d.positions[k]] = d.side[k];
        } else {
          var bin = p[k] <= 0.01 ? 3 : 2; // ArcGIS's confidence bins (99 %, 95 %)
          out[d.positions[k]] = d.side[k] === 1 ? 3 + bin : 3 - bin;
        }
      }
      filter.cache[key] = out;
      return out;
    }
    view.state.override = function (stat, sector, i) {
      if (filter.level === null || !decoded(stat, sector)) {
        return undefined;
      }
      return codes(stat, sector)[i];
    };
    filter.set = function (level, fdr) {
      filter.level = level;
      filter.fdr = fdr;
      view.restyle();
    };
    return filter;
  }

  function filterControl(map, data, filter, view) {
    var t = data.text;
    var control = L.control({ position: "topright" });
    control.onAdd = function () {
      var div = L.DomUtil.create("div", "klastergeo-control leaflet-bar klastergeo-filter");
      var label = document.createElement("label");
      label.appendChild(document.createTextNode(t.filter + " "));
      var select = document.createElement("select");
      select.className = "klastergeo-level";
      [["", t.as_run]].concat(data.levels.map(function (l) { return [String(l), "p \u2264 " + l]; }))
        .forEach(function (pair) {
          var option = document.createElement("option");
          option.value = pair[0];
          option.textContent = pair[1];
          select.appendChild(option);
        });
      label.appendChild(select);
      div.appendChild(label);
      var fdrLabel = document.createElement("label");
      var box = document.createElement("input");
      box.type = "checkbox";
      box.className = "klastergeo-fdr";
      box.disabled = true;
      fdrLabel.appendChild(box);
      fdrLabel.appendChild(document.createTextNode(" " + t.fdr));
      div.appendChild(fdrLabel);
      var note = document.createElement("small");
      note.className = "klastergeo-filter-note";
      note.style.display = "block";
      div.appendChild(note);
      // the statistic shown has no p-values in the page (e.g. Gi* decided on
      // FDR-adjusted analytical p-values): the filter leaves it as computed
      filter.note = function (stat) {
        var shown = filterOf(data);
        var off = filter.level !== null && stat !== "none" && !(shown[stat] &&
          shown[stat][view.state.sector]);
        note.textContent = off ? t.not_filtered : "";
      };
      function changed() {
        box.disabled = select.value === "";
        filter.set(select.value === "" ? null : Number(select.value), box.checked);
      }
      select.addEventListener("change", changed);
      box.addEventListener("change", changed);
      L.DomEvent.disableClickPropagation(div);
      return div;
    };
    control.addTo(map);
    return control;
  }

  // ---------------------------------------------------------------- the scatterplot
  function ticks(lo, hi, scale) {
    var steps = [0];
    [0.5, 1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000].forEach(function (v) {
      steps.push(v, -v);
    });
    var inside = steps.filter(function (v) { return v >= lo && v <= hi; });
    inside.sort(function (a, b) { return Math.abs(a) - Math.abs(b); });
    var kept = [];
    inside.forEach(function (v) {
      var px = scale(v);
      if (kept.every(function (k) { return Math.abs(scale(k) - px) >= 24; })) {
        kept.push(v);
      }
    });
    return kept;
  }

  // The spatial weights among the page's areas (publish/explore.py graph_payload):
  // per area, its neighbours' positions and weights; null outside the graph.
  function weightsOf(data) {
    if (data.weights) {
      return data.weights;
    }
    var deg = KG.varints(data.graph.deg);
    var steps = KG.varints(data.graph.nb);
    var w = data.graph.w ? KG.varints(data.graph.w) : null;
    var out = new Array(deg.length);
    var i;
    for (i = 0; i < deg.length; i += 1) {
      out[i] = deg[i] === 0 ? null : { nb: [], w: [] };
    }
    var k = 0;
    for (i = 0; i < deg.length; i += 1) {
      var at = i;
      for (var j = 0; j < deg[i] - 1; j += 1, k += 1) {
        at = j === 0 ? i + unzig(steps[k]) : at + steps[k];
        var weight = w ? w[k] / 1000 : 1;
        out[i].nb.push(at);
        out[i].w.push(weight);
        if (data.graph.symmetric) { // each pair listed once: it holds both ways
          out[at].nb.push(i);
          out[at].w.push(weight);
        }
      }
    }
    data.weights = out;
    return out;
  }

  // The scatterplot's points of a sector under the measure shown: each area of the
  // graph with its value standardised over the graph's areas (population standard
  // deviation, as esda and GeoDa) and the row-standardised lag of it; Moran's I the
  // slope. Firm counts come from the map's tooltips, other measures with the payload,
  // where an area whose sum is suppressed has none: it is left out, and the others are
  // standardised and lagged over the areas shown.
  function points(data, view, sector) {
    var m = data.measures[measureOf()] || {};
    var s = m[sector];
    if (!s) {
      return null;
    }
    if (!s.decoded) {
      var weights = weightsOf(data);
      var n = weights.length;
      var x = new Float64Array(n);
      var shipped = s.x ? KG.varints(s.x) : null;
      var shown = new Array(n);
      for (var a = 0; a < n; a += 1) {
        shown[a] = Boolean(weights[a]) && (!shipped || shipped[a] > 0);
      }
      var count = 0;
      var sum = 0;
      for (var i = 0; i < n; i += 1) {
        if (!shown[i]) {
          continue;
        }
        if (shipped) {
          x[i] = (shipped[i] - 1) / s.scale;
        } else {
          var tip = view.tip(sector, i);
          x[i] = tip && tip.n != null ? tip.n : 0;
        }
        count += 1;
        sum += x[i];
      }
      var mean = sum / count;
      var squares = 0;
      for (i = 0; i < n; i += 1) {
        if (shown[i]) {
          squares += (x[i] - mean) * (x[i] - mean);
        }
      }
      var sd = Math.sqrt(squares / count);
      var z = new Float64Array(n);
      for (i = 0; i < n; i += 1) {
        z[i] = shown[i] ? (x[i] - mean) / sd : 0;
      }
      var out = [];
      var zz = 0;
      var zl = 0;
      for (i = 0; i < n; i += 1) {
        var wi = weights[i];
        if (!shown[i]) {
          continue;
        }
        var total = 0;
        var lag = 0;
        for (var j = 0; j < wi.nb.length; j += 1) {
          if (shown[wi.nb[j]]) { // a neighbour left out is no neighbour
            lag += wi.w[j] * z[wi.nb[j]];
            total += wi.w[j];
          }
        }
        lag = total > 0 ? lag / total : 0;
        zz += z[i] * z[i];
        zl += z[i] * lag;
        out.push({ i: i, z: z[i], lag: lag });
      }
      s.decoded = out;
      s.slope = zl / zz;
    }
    return s;
  }

  function scatterPanel(map, data, view) {
    var t = data.text;
    var panel = { selected: [], svg: null };
    var control = L.control({ position: "bottomleft" });
    control.onAdd = function () {
      var div = L.DomUtil.create("div", "klastergeo-legend klastergeo-scatter");
      div.style.maxHeight = "none";
      var fold = document.createElement("button");
      fold.className = "klastergeo-scatter-fold";
      fold.textContent = "\u2212";
      fold.title = t.hide;
      fold.style.cssText = "float:right;margin-left:6px;cursor:pointer";
      div.appendChild(fold);
      var head = document.createElement("b");
      head.className = "klastergeo-scatter-title";
      div.appendChild(head);
      var body = document.createElement("div");
      var stats = document.createElement("div");
      stats.className = "klastergeo-scatter-stats";
      body.appendChild(stats);
      var left = document.createElement("small");
      left.className = "klastergeo-scatter-note";
      left.style.display = "block";
      left.style.maxWidth = W + "px";
      body.appendChild(left);
      div.appendChild(body);
      function setOpen(open) {
        body.style.display = open ? "" : "none";
        fold.textContent = open ? "\u2212" : "+";
        fold.title = open ? t.hide : t.show;
      }
      fold.addEventListener("click", function () {
        setOpen(body.style.display === "none");
      });
      // a small map (the start page's or the report's frame) would be half covered by
      // the plot: it starts folded there, one click away
      var size = map.getSize();
      if (size.y < SMALL_MAP[1] || size.x < SMALL_MAP[0]) {
        setOpen(false);
      }
      panel.svg = element("svg", { width: W, height: H, "class": "klastergeo-scatter-plot" }, body);
      panel.svg.style.cursor = "crosshair";
      var foot = document.createElement("div");
      var count = document.createElement("span");
      count.className = "klastergeo-scatter-count";
      foot.appendChild(count);
      var clear = document.createElement("button");
      clear.textContent = t.clear;
      clear.style.marginLeft = "6px";
      clear.addEventListener("click", function () { panel.select([]); });
      foot.appendChild(clear);
      var zoom = document.createElement("button");
      zoom.className = "klastergeo-scatter-zoom";
      zoom.textContent = t.zoom;
      zoom.style.marginLeft = "4px";
      zoom.addEventListener("click", function () { // the selected areas, in view
        var bounds = null;
        panel.selected.forEach(function (i) {
          var l = view.part.layers[i];
          if (l) {
            bounds = bounds ? bounds.extend(l.getBounds()) : L.latLngBounds(l.getBounds().getSouthWest(), l.getBounds().getNorthEast());
          }
        });
        if (bounds) {
          map.fitBounds(bounds, { maxZoom: 14, padding: [40, 40] });
        }
      });
      foot.appendChild(zoom);
      body.appendChild(foot);
      var hint = document.createElement("small");
      hint.textContent = t.hint;
      hint.style.display = "block";
      hint.style.maxWidth = W + "px";
      body.appendChild(hint);
      panel.head = head;
      panel.stats = stats;
      panel.note = left;
      panel.count = count;
      L.DomEvent.disableClickPropagation(div);
      L.DomEvent.disableScrollPropagation(div);
      brush(panel);
      return div;
    };
    control.addTo(map);

    panel.draw = function () {
      var svg = panel.svg;
      while (svg.firstChild) {
        svg.removeChild(svg.firstChild);
      }
      var sector = view.state.sector;
      var s = points(data, view, sector);
      var measure = measureOf();
      panel.head.textContent = t.scatter + ": " + (data.sectorLabels[sector] || sector || "") +
        (data.measureLabels[measure] ? " (" + data.measureLabels[measure] + ")" : "");
      panel.pixels = [];
      // areas whose sums of the measure are suppressed are not in the page
      panel.note.textContent = s && s.o ? t.suppressed_out.replace("{n}", String(s.o)) : "";
      if (!s) {
        panel.stats.textContent = t.no_scatter;
        return;
      }
      var floor = 0.001; // as the report writes p-values: never 0
      var slope = Math.round(s.slope * 10000) / 10000;
      panel.stats.textContent = "Moran's I = " + slope.toLocaleString(data.locale) +
        (s.p == null ? "" : s.p < floor ? " (p < " + floor.toLocaleString(data.locale) + ")"
          : " (p = " + s.p.toLocaleString(data.locale) + ")");
      var pts = s.decoded;
      var fx = pts.map(function (d) { return Math.asinh(d.z); });
      var fy = pts.map(function (d) { return Math.asinh(d.lag); });
      function domain(values) {
        var lo = Math.min(0, Math.min.apply(null, values));
        var hi = Math.max(0, Math.max.apply(null, values));
        var pad = (hi - lo) * 0.04 || 0.5;
        return [lo - pad, hi + pad];
      }
      var dx = domain(fx);
      var dy = domain(fy);
      var px = function (u) { return M.left + ((u - dx[0]) / (dx[1] - dx[0])) * (W - M.left - M.right); };
      var py = function (v) { return H - M.bottom - ((v - dy[0]) / (dy[1] - dy[0])) * (H - M.top - M.bottom); };
      panel.toPixel = function (z, lag) { return [px(Math.asinh(z)), py(Math.asinh(lag))]; };
      var sx = function (v) { return px(Math.asinh(v)); };
      var sy = function (v) { return py(Math.asinh(v)); };
      element("rect", { x: M.left, y: M.top, width: W - M.left - M.right,
        height: H - M.top - M.bottom, fill: "#ffffff", stroke: "#999999" }, svg);
      var axes = element("g", { "font-size": "10", fill: "#333333" }, svg);
      ticks(Math.sinh(dx[0]), Math.sinh(dx[1]), sx).forEach(function (v) {
        element("line", { x1: sx(v), x2: sx(v), y1: M.top, y2: H - M.bottom,
          stroke: v === 0 ? "#888888" : "#eeeeee" }, axes);
        element("text", { x: sx(v), y: H - M.bottom + 12, "text-anchor": "middle" }, axes)
          .textContent = v.toLocaleString(data.locale);
      });
      ticks(Math.sinh(dy[0]), Math.sinh(dy[1]), sy).forEach(function (v) {
        element("line", { x1: M.left, x2: W - M.right, y1: sy(v), y2: sy(v),
          stroke: v === 0 ? "#888888" : "#eeeeee" }, axes);
        element("text", { x: M.left - 4, y: sy(v) + 3, "text-anchor": "end" }, axes)
          .textContent = v.toLocaleString(data.locale);
      });
      element("text", { x: (M.left + W - M.right) / 2, y: H - 4, "text-anchor": "middle" }, axes)
        .textContent = t.x;
      element("text", { x: 10, y: (M.top + H - M.bottom) / 2, "text-anchor": "middle",
        transform: "rotate(-90 10 " + (M.top + H - M.bottom) / 2 + ")" }, axes).textContent = t.y;
      // Moran's I: the line lag = I z, a curve on these axes
      var line = [];
      for (var k = 0; k <= 60; k += 1) {
        var u = dx[0] + ((dx[1] - dx[0]) * k) / 60;
        var v = Math.asinh(s.slope * Math.sinh(u));
        if (v >= dy[0] && v <= dy[1]) {
          line.push(px(u).toFixed(1) + "," + py(v).toFixed(1));
        }
      }
      element("polyline", { points: line.join(" "), fill: "none", stroke: "#c0392b",
        "stroke-width": 1.5 }, svg);
      var dots = element("g", {}, svg);
      var codes = pts.map(function (d) { return view.codeOf("lisa", d.i); });
      var order = pts.map(function (_, k) { return k; });
      order.sort(function (a, b) { return (codes[a] > 0) - (codes[b] > 0); }); // significant on top
      order.forEach(function (k) {
        var d = pts[k];
        var colour = codes[k] > 0 ? data.lisaColours[codes[k]] : GREY;
        var c = element("circle", { cx: px(fx[k]).toFixed(1), cy: py(fy[k]).toFixed(1), r: 2.5,
          fill: colour, "fill-opacity": codes[k] > 0 ? 0.95 : 0.7, "data-i": d.i }, dots);
        c.style.pointerEvents = "none";
      });
      panel.pixels = pts.map(function (d, k) { return { i: d.i, x: px(fx[k]), y: py(fy[k]) }; });
      panel.marks = element("g", {}, svg);
      panel.band = element("rect", { fill: "rgba(30,100,200,0.12)", stroke: "#1e64c8",
        "stroke-dasharray": "3,2", width: 0, height: 0, visibility: "hidden" }, svg);
      panel.mark();
    };

    // the selected points ringed in the plot, their areas outlined on the map
    panel.mark = function () {
      if (!panel.marks) {
        return;
      }
      while (panel.marks.firstChild) {
        panel.marks.removeChild(panel.marks.firstChild);
      }
      var chosen = {};
      panel.selected.forEach(function (i) { chosen[i] = true; });
      (panel.pixels || []).forEach(function (p) {
        if (chosen[p.i]) {
          element("circle", { cx: p.x.toFixed(1), cy: p.y.toFixed(1), r: 5, fill: "none",
            stroke: HIGHLIGHT, "stroke-width": 1.8, "data-i": p.i,
            "class": "klastergeo-scatter-mark" }, panel.marks);
        }
      });
      panel.selected.forEach(function (i) {
        var l = view.part.layers[i];
        if (l) {
          l.setStyle({ stroke: true, color: HIGHLIGHT, weight: 2.5, opacity: 1 });
          l.bringToFront();
        }
      });
      panel.count.textContent = panel.selected.length
        ? t.selected.replace("{n}", String(panel.selected.length)) : "";
    };

    panel.points = function (sector) {
      return points(data, view, sector);
    };

    panel.select = function (list) {
      panel.selected = list.slice();
      view.part.layer.setStyle(view.part.style); // the outlines of the last selection go
      panel.mark();
    };
    return panel;
  }

  function brush(panel) {
    var svg = panel.svg;
    var start = null;
    function at(e) {
      var box = svg.getBoundingClientRect();
      return [e.clientX - box.left, e.clientY - box.top];
    }
    svg.addEventListener("mousedown", function (e) {
      start = at(e);
      e.preventDefault();
    });
    window.addEventListener("mousemove", function (e) {
      if (!start || !panel.band) {
        return;
      }
      var p = at(e);
      panel.band.setAttribute("x", Math.min(start[0], p[0]));
      panel.band.setAttribute("y", Math.min(start[1], p[1]));
      panel.band.setAttribute("width", Math.abs(p[0] - start[0]));
      panel.band.setAttribute("height", Math.abs(p[1] - start[1]));
      panel.band.setAttribute("visibility", "visible");
    });
    window.addEventListener("mouseup", function (e) {
      if (!start) {
        return;
      }
      var p = at(e);
      var x0 = Math.min(start[0], p[0]);
      var x1 = Math.max(start[0], p[0]);
      var y0 = Math.min(start[1], p[1]);
      var y1 = Math.max(start[1], p[1]);
      start = null;
      if (panel.band) {
        panel.band.setAttribute("visibility", "hidden");
      }
      var hits;
      if (x1 - x0 < 3 && y1 - y0 < 3) { // a click: the nearest point within 6 pixels
        var best = null;
        (panel.pixels || []).forEach(function (q) {
          var d = Math.hypot(q.x - x0, q.y - y0);
          if (d <= 6 && (!best || d < best.d)) {
            best = { i: q.i, d: d };
          }
        });
        hits = best ? [best.i] : [];
      } else {
        hits = (panel.pixels || []).filter(function (q) {
          return q.x >= x0 && q.x <= x1 && q.y >= y0 && q.y <= y1;
        }).map(function (q) { return q.i; });
      }
      panel.select(hits);
    });
  }

  KG.explore = function (map, data) {
    var view = KG.view;
    if (!view || !view.part) {
      return null;
    }
    var filter = makeFilter(data, view);
    filterControl(map, data, filter, view);
    view.listeners.push(function () { filter.note(view.state.stat); });
    // the sector view's texts (sector names, locale)
    data.sectorLabels = data.sectorLabels || {};
    Object.keys(view.sectorLabels || {}).forEach(function (k) {
      data.sectorLabels[k] = view.sectorLabels[k];
    });
    data.locale = view.locale || "en-GB";
    var panel = scatterPanel(map, data, view);
    var drawn = null;
    view.listeners.push(function () {
      var key = [view.state.sector, measureOf(), filter.level, filter.fdr].join("\u0000");
      if (key !== drawn) {
        drawn = key;
        panel.draw();
      } else {
        panel.mark();
      }
      if (view.state.sector !== panel.sector) {
        panel.sector = view.state.sector;
        panel.select([]);
      }
    });
    panel.sector = view.state.sector;
    panel.draw();
    view.part.layer.on("click", function (e) {
      var layer = e.propagatedFrom || e.layer;
      if (layer && layer.feature) {
        panel.select([layer.feature.properties.i]);
      }
    });
    KG.exploration = { filter: filter, panel: panel, view: view };
    return KG.exploration;
  };

  // ---------------------------------------------------------------- co-location of firms
  // The firms of a chosen sector pair's first sector, coloured by their local
  // co-location with the second (co-located, isolated, not significant). The data are
  // part of the page's firm block: a page published without firms has no such layer.
  KG.colocationLayer = function (map, control, firms) {
    var data = firms.colocation;
    var t = data.text;
    var points = [];
    var x = 0;
    var y = 0;
    for (var k = 0; k < firms.n; k += 1) {
      x += firms.xy[2 * k];
      y += firms.xy[2 * k + 1];
      points.push([y / firms.q, x / firms.q]);
    }
    var group = L.featureGroup();
    var size = map.getSize(); // a small map starts with the legend folded, as the plot
    var state = { pair: data.pairs.length ? data.pairs[0].pair : null, shown: [],
      open: !(size.y < SMALL_MAP[1] || size.x < SMALL_MAP[0]) };
    // in the top-right corner, under the sector controls (stacked above the map's legend
    // at the bottom right it reached the map's middle), narrow and fold-able
    var legend = L.control({ position: "topright" });
    legend.onAdd = function () {
      this._div = L.DomUtil.create("div", "klastergeo-legend klastergeo-colocation");
      L.DomEvent.disableClickPropagation(this._div);
      return this._div;
    };
    function draw() {
      group.clearLayers();
      state.shown = [];
      var pair = data.pairs.filter(function (p) { return p.pair === state.pair; })[0];
      if (!pair) {
        return;
      }
      var at = 0;
      var gaps = KG.varints(pair.i);
      gaps.forEach(function (gap, j) {
        at += gap;
        var code = pair.c.charCodeAt(j) - 48;
        state.shown.push([at, code]);
        L.circleMarker(points[at], { radius: 4, weight: 0.6, color: "#333333",
          fillColor: data.colours[code - 1], fillOpacity: 0.9 })
          .bindTooltip(textNode(firms.names[at] ? firms.names[at] + " - " + data.labels[code - 1]
            : data.labels[code - 1])) // text, never markup: firm names come from the registry
          .addTo(group);
      });
    }
    function fillLegend(div) {
      div.textContent = "";
      div.style.maxWidth = "300px";
      var fold = document.createElement("button");
      fold.className = "klastergeo-colocation-fold";
      fold.style.cssText = "float:right;margin-left:6px;cursor:pointer";
      div.appendChild(fold);
      var head = document.createElement("b");
      head.textContent = t.title;
      div.appendChild(head);
      var body = document.createElement("div");
      body.className = "klastergeo-colocation-body";
      div.appendChild(body);
      function setOpen(open) {
        state.open = open;
        body.style.display = open ? "" : "none";
        fold.textContent = open ? "\u2212" : "+";
        fold.title = open ? t.hide : t.show;
        fold.setAttribute("aria-label", fold.title);
      }
      fold.addEventListener("click", function () { setOpen(!state.open); });
      setOpen(state.open);
      var label = document.createElement("label");
      label.style.display = "block";
      label.appendChild(document.createTextNode(t.pair + " "));
      var select = document.createElement("select");
      select.className = "klastergeo-colocation-pair";
      data.pairs.forEach(function (p) {
        var option = document.createElement("option");
        option.value = p.pair;
        option.textContent = p.label;
        option.selected = p.pair === state.pair;
        select.appendChild(option);
      });
      select.addEventListener("change", function () {
        state.pair = select.value;
        draw();
      });
      select.style.maxWidth = "100%";
      label.appendChild(select);
      body.appendChild(label);
      data.labels.forEach(function (text, c) {
        var row = document.createElement("div");
        var sw = document.createElement("span");
        sw.className = "klastergeo-swatch";
        sw.style.background = data.colours[c];
        sw.style.borderRadius = "6px";
        row.appendChild(sw);
        row.appendChild(document.createTextNode(text));
        body.appendChild(row);
      });
      var note = document.createElement("small");
      note.textContent = t.note;
      note.style.display = "block";
      body.appendChild(note);
    }
    group.on("add", function () {
      legend.addTo(map);
      fillLegend(legend._div);
      draw();
    });
    group.on("remove", function () { legend.remove(); });
    control.addOverlay(group, t.title);
    KG.colocation = { state: state, group: group, draw: draw };
    return group;
  };

  // ---------------------------------------------------------------- emerging hot spots
  // The change map's areas by emerging hot-spot category of one sector (a selector),
  // under the sentra, in ArcGIS's colours; "no pattern" is not drawn.
  KG.emergingView = function (map, data) {
    var t = data.text;
    var state = { sector: data.sectors[0] || null };
    var features = KG.decodeAreas(data.shapes, data.q);
    function codeOf(i) {
      var codes = state.sector !== null && data.codes[state.sector];
      return codes ? codes.charCodeAt(i) - 48 : 0;
    }
    var layer = L.geoJSON(features, {
      style: function (f) {
        var colour = data.colours[codeOf(f.properties.i)];
        return colour ? { stroke: true, fill: true, color: "#666666", weight: 0.4, fillColor: colour,
          fillOpacity: 0.8 } : { stroke: false, fill: false };
      },
      onEachFeature: function (f, l) {
        l.bindTooltip(function () { // text, never markup: area names come from files
          return textNode(data.names[f.properties.i] + " - " + data.labels[codeOf(f.properties.i)]);
        }, { sticky: true });
      },
    }).addTo(map);
    layer.bringToBack();
    var legend = L.control({ position: "bottomleft" });
    legend.onAdd = function () {
      this._div = L.DomUtil.create("div", "klastergeo-legend klastergeo-emerging-legend");
      return this._div;
    };
    legend.update = function () {
      var div = this._div;
      div.textContent = "";
      if (state.sector === null) {
        div.style.display = "none";
        return;
      }
      div.style.display = "";
      var head = document.createElement("b");
      head.textContent = t.title + ": " + data.sectorLabels[state.sector];
      div.appendChild(head);
      var present = {};
      for (var i = 0; i < data.names.length; i += 1) {
        present[codeOf(i)] = true;
      }
      data.categories.forEach(function (_, c) {
        if (!data.colours[c] || !present[c]) {
          return;
        }
        var row = document.createElement("div");
        row.className = "klastergeo-emerging-row";
        var sw = document.createElement("span");
        sw.className = "klastergeo-swatch";
        sw.style.background = data.colours[c];
        row.appendChild(sw);
        row.appendChild(document.createTextNode(data.labels[c]));
        div.appendChild(row);
      });
    };
    legend.addTo(map);
    var control = L.control({ position: "topright" });
    control.onAdd = function () {
      var div = L.DomUtil.create("div", "klastergeo-control leaflet-bar");
      var label = document.createElement("label");
      label.appendChild(document.createTextNode(t.sector + " "));
      var select = document.createElement("select");
      select.className = "klastergeo-emerging-sector";
      [[null, t.none]].concat(data.sectors.map(function (s) { return [s, data.sectorLabels[s]]; }))
        .forEach(function (pair) {
          var option = document.createElement("option");
          option.value = pair[0] === null ? "" : pair[0];
          option.textContent = pair[1];
          option.selected = pair[0] === state.sector;
          select.appendChild(option);
        });
      select.addEventListener("change", function () {
        state.sector = select.value === "" ? null : select.value;
        layer.setStyle(layer.options.style);
        legend.update();
      });
      label.appendChild(select);
      div.appendChild(label);
      L.DomEvent.disableClickPropagation(div);
      return div;
    };
    control.addTo(map);
    legend.update();
    KG.emerging = { state: state, layer: layer, codeOf: codeOf,
      colourOf: function (i) { return data.colours[codeOf(i)]; } };
    return KG.emerging;
  };
})();

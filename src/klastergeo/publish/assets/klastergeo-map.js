/* klastergeo map: one shared geometry payload styled in the page (MIT licence).
 *
 * The areas arrive once, as quantised delta-encoded rings; every statistic of every sector
 * is a string with one character per area (runs of one class shortened to the class and
 * the run's length, "3{812}": KG.decodeCodes). A sector selector and a statistic selector
 * restyle the same canvas layer, so a map of all sectors costs one geometry.
 */
(function () {
  "use strict";
  var KG = (window.klastergeo = window.klastergeo || {});

  // Every tooltip stays inside its map. Leaflet 1.9 sets a sticky tooltip beside the
  // pointer, centred on it vertically, left or right by the map's centre: near the bottom
  // edge the lower half (the area's totals) was cut off. After Leaflet has placed it, a
  // tooltip crossing the bottom edge is lifted (it opens upward, still beside the
  // pointer), one crossing the right edge goes to the pointer's left; its arrow, no
  // longer at the pointer, is hidden (klastergeo-tip-shifted).
  KG.TIP_MARGIN = 4; // pixels kept between a tooltip and the map's edge
  if (window.L && L.Tooltip && !L.Tooltip.prototype.klastergeoInside) {
    var leafletPlace = L.Tooltip.prototype._setPosition;
    L.Tooltip.prototype.klastergeoInside = true;
    L.Tooltip.prototype._setPosition = function (pos) {
      leafletPlace.call(this, pos);
      var map = this._map;
      var box = this._container;
      if (!map || !box) {
        return;
      }
      var size = map.getSize();
      var placed = L.DomUtil.getPosition(box);
      var at = map.layerPointToContainerPoint(placed);
      var pointer = map.layerPointToContainerPoint(pos);
      var width = box.offsetWidth;
      var height = box.offsetHeight;
      var m = KG.TIP_MARGIN;
      var dx = 0;
      var dy = 0;
      if (at.x + width > size.x - m) { // to the pointer's left
        dx = pointer.x - 12 - width - at.x;
      }
      if (at.x + dx < m) {
        dx = m - at.x;
      }
      if (at.y + height > size.y - m) { // upward
        dy = size.y - m - height - at.y;
      }
      if (at.y + dy < m) {
        dy = m - at.y;
      }
      L.DomUtil.removeClass(box, "klastergeo-tip-shifted");
      if (dx || dy) {
        L.DomUtil.setPosition(box, placed.add(L.point(dx, dy)));
        L.DomUtil.addClass(box, "klastergeo-tip-shifted");
      }
    };
  }

  function decodeRing(ints, q) {
    var out = new Array(ints.length / 2);
    var x = 0;
    var y = 0;
    for (var k = 0, j = 0; k < ints.length; k += 2, j += 1) {
      x += ints[k];
      y += ints[k + 1];
      out[j] = [x / q, y / q];
    }
    return out;
  }

  KG.decodeAreas = function (shapes, q) {
    var features = new Array(shapes.length);
    for (var i = 0; i < shapes.length; i += 1) {
      var polygons = shapes[i].map(function (polygon) {
        return polygon.map(function (ring) {
          return decodeRing(ring, q);
        });
      });
      features[i] = {
        type: "Feature",
        properties: { i: i },
        geometry:
          polygons.length === 1
            ? { type: "Polygon", coordinates: polygons[0] }
            : { type: "MultiPolygon", coordinates: polygons },
      };
    }
    return features;
  };

  function escapeHtml(text) {
    return String(text).replace(/[&<>"']/g, function (c) {
      return { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c];
    });
  }

  // Numbers as the page's language writes them (1.234,5 in Indonesian).
  function formatNumber(data, x, digits) {
    return Number(x).toLocaleString(data.locale || "en-GB",
      { minimumFractionDigits: digits, maximumFractionDigits: digits });
  }

  // A p-value from its thousandths (0: below 0.001), never shown as 0.
  function formatP(data, thousandths) {
    return thousandths === 0 ? "< " + formatNumber(data, 0.001, 3)
      : "= " + formatNumber(data, thousandths / 1000, 3);
  }

  // Non-negative integers written five bits a character (maps.varint_text).
  function varints(text) {
    var out = [];
    var value = 0;
    var shift = 0;
    for (var k = 0; k < text.length; k += 1) {
      var c = text.charCodeAt(k) - 63;
      value += (c & 31) * Math.pow(2, shift);
      if (c & 32) {
        shift += 5;
      } else {
        out.push(value);
        value = 0;
        shift = 0;
      }
    }
    return out;
  }

  KG.varints = varints;

  // The tooltip numbers of area i of a part for a sector, by field name (null: missing),
  // or null when the area has no firm of the sector and nothing significant. A sector's
  // numbers are decoded the first time one of its areas is hovered.
  function tipOf(data, part, sector, i) {
    var raw = part.tips && part.tips[sector];
    if (!raw) {
      return null;
    }
    part.tipIndex = part.tipIndex || {};
    var decoded = part.tipIndex[sector];
    if (!decoded) {
      var rows = {};
      var gaps = varints(raw.i);
      var at = 0;
      for (var k = 0; k < gaps.length; k += 1) {
        at += gaps[k];
        rows[at] = k;
      }
      decoded = part.tipIndex[sector] = { rows: rows, values: varints(raw.v) };
    }
    var row = decoded.rows[i];
    if (row === undefined) {
      return null;
    }
    var width = data.tipFields.length;
    var tip = {};
    data.tipFields.forEach(function (name, j) {
      var v = decoded.values[row * width + j];
      if (name === "w" || name === "o") {
        tip[name] = measureValue(v);
      } else if (v === 0) {
        tip[name] = null;
      } else if (name === "sz" || name === "gz") {
        v -= 1; // zigzag
        tip[name] = v % 2 ? -(v + 1) / 2 : v / 2;
      } else {
        tip[name] = v - 1;
      }
    });
    return tip;
  }

  // A sum as maps.measure_codes stores it: null when not available, SUPPRESSED when
  // withheld by disclosure control, else the (scaled) value.
  var SUPPRESSED = -1;
  function measureValue(code) {
    return code === 0 ? null : code === 1 ? SUPPRESSED : code - 2;
  }

  // The totals of area i of a part over every sector (firms, workers, output, by
  // data.totalFields), decoded for every area the first time one is hovered; null when
  // the page has none.
  function totalsOf(data, part, i) {
    if (!part.totals) {
      return null;
    }
    part.totalRows = part.totalRows || varints(part.totals);
    var width = data.totalFields.length;
    var out = {};
    data.totalFields.forEach(function (name, j) {
      out[name] = measureValue(part.totalRows[i * width + j]);
    });
    return out;
  }

  // A sum in a tooltip: the value, "suppressed" or "not available", never a made-up 0.
  function measureText(data, value, scale, digits) {
    if (value === SUPPRESSED) {
      return data.text.suppressed;
    }
    if (value == null) {
      return data.text.notAvailable;
    }
    return formatNumber(data, value / scale, digits);
  }

  // The tooltip rows of the sums a run has: workers and output (``tip`` coded as
  // tipOf's; a missing tip is an area without firms: 0).
  function measureRows(data, tip, rows) {
    (data.measureTips || []).forEach(function (name) {
      var scale = name === "o" ? data.outputScale : 1;
      var value = tip ? tip[name] : 0;
      rows.push([name === "o" ? data.text.output : data.text.workers,
        measureText(data, value, scale, name === "o" ? 1 : 0)]);
    });
  }

  // The class codes of a column as one character per area: a run written as the code and
  // its length in braces ("3{812}", maps.encode_codes) becomes the code repeated.
  KG.decodeCodes = function (text) {
    return text.replace(/([\s\S])\{(\d+)\}/g, function (_, c, n) { return c.repeat(Number(n)); });
  };

  // Decoded columns, per object of columns (a statistic's sectors: the firms', a
  // measure's, a province's) and sector: each is decoded the first time it is drawn.
  var decodedColumns = new WeakMap();
  function column(bySector, sector) {
    var cache = decodedColumns.get(bySector);
    if (!cache) {
      cache = {};
      decodedColumns.set(bySector, cache);
    }
    if (!(sector in cache)) {
      var text = bySector[sector];
      cache[sector] = typeof text === "string" ? KG.decodeCodes(text) : null;
    }
    return cache[sector];
  }

  // The class code of area i of a part (the page's areas, or one province's) under the
  // current sector and statistic; -1 for none.
  function codeOf(state, part, i) {
    if (state.override) { // the significance filter (klastergeo-explore.js)
      var own = state.override(state.stat, state.sector, i, part);
      if (own !== undefined) {
        return own;
      }
    }
    if (state.stat === "prob" && !part.values.prob) {
      if (!part.prob) {
        return -1;
      }
      var prob = column(part, "prob");
      return prob.charCodeAt(i) - 48;
    }
    var codes = part.values[state.stat] ? column(part.values[state.stat], state.sector) : null;
    return codes ? codes.charCodeAt(i) - 48 : -1;
  }

  function colourOf(data, state, part, i) {
    if (state.stat === "none") {
      return null;
    }
    var c = codeOf(state, part, i);
    return c >= 0 ? data.palette[state.stat][c] || null : null;
  }

  // The areas of a part as one canvas layer styled by the view's state; part.names(i)
  // names area i. Sets part.layer, part.layers (one per area) and part.style.
  function areaLayer(data, state, part, renderer) {
    var t = data.text;
    var features = KG.decodeAreas(part.shapes, data.q);
    part.layers = new Array(features.length);
    part.style = function (feature) {
      var fill = colourOf(data, state, part, feature.properties.i);
      if (fill) {
        return { renderer: renderer, stroke: true, color: "#666", weight: 0.3,
                 fillColor: fill, fillOpacity: 0.75 };
      }
      // no fill but faintly outlined, and still under the pointer for the tooltip
      return { renderer: renderer, stroke: true, color: "#888", weight: 0.3, opacity: 0.6,
               fill: true, fillOpacity: 0 };
    };
    function tooltip(layer) {
      var i = layer.feature.properties.i;
      var rows = [];
      var found = tipOf(data, part, state.sector, i);
      var tip = found || {};
      if (state.sector) {
        rows.push([t.sector, data.sectorLabels[state.sector]]);
        rows.push([t.firms, tip.n != null ? formatNumber(data, tip.n, 0) : "0"]);
        measureRows(data, found, rows);
        if (tip.lq != null) {
          var lq = formatNumber(data, tip.lq / 10, 1);
          if (tip.lo != null && tip.hi != null) {
            lq += " (" + formatNumber(data, tip.lo / 10, 1) + " - " +
              formatNumber(data, tip.hi / 10, 1) + ")";
          }
          rows.push([t.lqInterval, lq]);
        }
      }
      if (state.stat !== "none") {
        var c = codeOf(state, part, i);
        var label = c >= 0 ? data.labels[state.stat][c] : "";
        var evidence = [];
        // z and p are the firms' statistics: under another measure's classes, none
        var own = !KG.measure || KG.measure === "firms";
        var z = own ? tip[{ spec: "sz", gi: "gz" }[state.stat]] : null;
        var p = own ? tip[{ spec: "sp", gi: "gp", lisa: "lp" }[state.stat]] : null;
        if (z != null) {
          evidence.push("z = " + formatNumber(data, z / 10, 1));
        }
        if (p != null) {
          evidence.push("p " + formatP(data, p));
        }
        if (state.stat === "prob" && tip.pc != null) {
          label = formatNumber(data, tip.pc / 100, 2);
        }
        rows.push([t.stats[state.stat], (label || "-") +
          (evidence.length ? " (" + evidence.join("; ") + ")" : "")]);
      }
      var box = document.createElement("div");
      var title = document.createElement("b");
      title.textContent = part.names(i);
      box.appendChild(title);
      box.appendChild(rowsElement(rows));
      var totals = totalsOf(data, part, i);
      if (totals) { // the area whatever the sector: every firm, worker and output
        var all = [[t.firms, measureText(data, totals.n, 1, 0)]];
        measureRows(data, totals, all);
        var heading = document.createElement("div");
        heading.className = "klastergeo-totals";
        heading.textContent = t.totals;
        box.appendChild(heading);
        box.appendChild(rowsElement(all));
      }
      return box;
    }
    part.layer = L.geoJSON(features, {
      style: part.style,
      renderer: renderer,
      onEachFeature: function (feature, l) {
        part.layers[feature.properties.i] = l;
        l.bindTooltip(tooltip, { sticky: true });
      },
    });
    return part.layer;
  }

  // An open tooltip shows the new sector's or statistic's numbers at once.
  function refreshTooltips(part) {
    part.layers.forEach(function (l) {
      if (l && l.isTooltipOpen()) {
        l.getTooltip().update();
      }
    });
  }

  function swatch(colour, label, outline) {
    var box = outline
      ? "border:2px solid " + colour + ";background:transparent"
      : "background:" + colour;
    return '<div><span class="klastergeo-swatch" style="' + box + '"></span>' +
      escapeHtml(label) + "</div>";
  }

  // The legend of the view: sentra, then what the areas show; ``extra()`` adds HTML
  // (escaped) on top, e.g. the provinces of a split map.
  function makeLegend(map, data, state, extra) {
    var t = data.text;
    var legend = L.control({ position: "bottomright" });
    legend.onAdd = function () {
      this._div = L.DomUtil.create("div", "klastergeo-legend");
      return this._div;
    };
    legend.update = function () {
      var html = extra ? extra() : "";
      html += swatch(data.sentraColour, t.sentra, true);
      if (state.stat !== "none") {
        var own = KG.measure && KG.measure !== "firms" && data.measures &&
          data.measures.stats && data.measures.stats[KG.measure];
        var heading = (own && own[state.stat]) || t.stats[state.stat];
        if (state.stat !== "prob" || data.probBySector) {
          heading += ": " + data.sectorLabels[state.sector];
        }
        html += "<b>" + escapeHtml(heading) + "</b>";
        var palette = data.palette[state.stat];
        // strongest first: hot spots above cold spots, high classes above low ones
        for (var c = palette.length - 1; c >= 0; c -= 1) {
          var k = state.stat === "lisa" ? palette.length - c : c;
          if (k < palette.length && palette[k]) {
            html += swatch(palette[k], data.labels[state.stat][k]);
          }
        }
        if (["spec", "gi", "lisa"].indexOf(state.stat) >= 0 && t.notSig) {
          html += swatch("#999999", t.notSig, true); // drawn without a fill
        }
        if (data.notes[state.stat]) {
          html += "<small>" + escapeHtml(data.notes[state.stat]) + "</small>";
        }
      }
      this._div.innerHTML = html;
    };
    legend.addTo(map);
    legend.update();
    return legend;
  }

  // The sector and statistic selectors and the search box; ``search(input, div)`` wires
  // the search.
  function makeControl(map, data, state, view, search) {
    var t = data.text;
    var control = L.control({ position: "topright" });
    control.onAdd = function () {
      var div = L.DomUtil.create("div", "klastergeo-control leaflet-bar");
      var html = '<label>' + escapeHtml(t.sector) + ' <select class="klastergeo-sector">';
      data.sectors.forEach(function (s) {
        html += '<option value="' + escapeHtml(s) + '"' + (s === state.sector ? " selected" : "") +
          ">" + escapeHtml(data.sectorLabels[s]) + "</option>";
      });
      html += "</select></label>";
      html += '<label>' + escapeHtml(t.statistic) + ' <select class="klastergeo-stat">';
      data.stats.concat(["none"]).forEach(function (s) {
        html += '<option value="' + s + '"' + (s === state.stat ? " selected" : "") + ">" +
          escapeHtml(t.stats[s]) + "</option>";
      });
      html += "</select></label>";
      html += '<label>' + escapeHtml(t.search) + ' <input class="klastergeo-search" list="' +
        'klastergeo-names" placeholder="' + escapeHtml(t.searchHint) + '"></label>';
      html += '<datalist id="klastergeo-names"></datalist>';
      html += '<button type="button" class="klastergeo-clear">' + escapeHtml(t.clear) +
        "</button>";
      html += '<div class="klastergeo-results"></div>';
      div.innerHTML = html;
      L.DomEvent.disableClickPropagation(div);
      L.DomEvent.disableScrollPropagation(div);
      div.querySelector(".klastergeo-sector").addEventListener("change", function (e) {
        view.setSector(e.target.value);
        KG.showSentra(e.target.value);
        KG.showFirms(e.target.value);
      });
      div.querySelector(".klastergeo-stat").addEventListener("change", function (e) {
        view.setStat(e.target.value);
      });
      search(div.querySelector(".klastergeo-search"), div.querySelector("datalist"),
        div.querySelector(".klastergeo-results"), div.querySelector(".klastergeo-clear"));
      return div;
    };
    control.addTo(map);
    return control;
  }

  KG.showFirms = function (sector) {
    KG.firmSector = sector; // the firms, once loaded, replace this with their own
  };

  // Only the sentra of the selected sector are drawn (every sentra when no sector view).
  KG.showSentra = function (sector) {
    if (!KG.sentraLayer || !KG.sentraAll) {
      return;
    }
    KG.sentraLayer.clearLayers();
    KG.sentraAll.forEach(function (layer) {
      if (!sector || layer.sector === sector) {
        KG.sentraLayer.addLayer(layer);
      }
    });
  };

  function fillOptions(list, labels) {
    var fragment = document.createDocumentFragment();
    labels.forEach(function (label) {
      var option = document.createElement("option");
      option.value = label;
      fragment.appendChild(option);
    });
    list.textContent = "";
    list.appendChild(fragment);
  }

  function initialState(data) {
    return { sector: data.initial, stat: data.stats.length ? data.stats[0] : "none" };
  }

  // Leaflet draws its controls above the map's tooltips: while a tooltip is open the
  // panels it could pass under (selectors, legend, scatterplot) are faded, so the
  // tooltip's numbers stay readable; a panel under the pointer stays opaque.
  function fadeUnderTips(map) {
    var box = map.getContainer();
    map.on("tooltipopen", function () {
      L.DomUtil.addClass(box, "klastergeo-tip-open");
    });
    map.on("tooltipclose", function () {
      L.DomUtil.removeClass(box, "klastergeo-tip-open");
    });
  }

  KG.sectorView = function (map, data) {
    fadeUnderTips(map);
    // the map's own renderer: one canvas for every vector layer, so the sentra drawn above
    // and the areas below both receive the pointer (a second canvas would hide the first)
    var renderer = map.getRenderer(L.polygon([[0, 0], [0, 0], [0, 0]]));
    var state = initialState(data);
    var part = {
      shapes: data.shapes, values: data.values, prob: data.prob, tips: data.tips,
      totals: data.totals, names: function (i) { return data.names[i]; },
    };
    var layer = areaLayer(data, state, part, renderer).addTo(map);
    var highlight = L.layerGroup().addTo(map);
    var legend = makeLegend(map, data, state, null);
    function restyle() {
      layer.setStyle(part.style);
      refreshTooltips(part);
      legend.update();
      view.listeners.forEach(function (listener) { listener(); });
    }
    var view = {
      layer: layer,
      state: state,
      part: part,
      restyle: restyle,
      sectorLabels: data.sectorLabels,
      locale: data.locale,
      // the tooltip numbers of area i for a sector (firms: n), or null
      tip: function (sector, i) {
        return tipOf(data, part, sector, i);
      },
      // called after every restyle (the scatterplot redraws, highlights are kept)
      listeners: [],
      codeOf: function (stat, i) {
        return codeOf({ stat: stat, sector: state.sector, override: state.override }, part, i);
      },
      count: data.shapes.length,
      setSector: function (sector) {
        state.sector = sector;
        restyle();
      },
      setStat: function (stat) {
        state.stat = stat;
        restyle();
      },
      colourOf: function (i) {
        return colourOf(data, state, part, i);
      },
      // the area a search names (partial, case and accents ignored): chosen when one
      // area answers, listed with every other match when several do; false when none
      find: function (name) {
        return searcher.find(name);
      },
      // zoom to area i and outline it until another is chosen or the search cleared
      choose: function (i) {
        view.selected = data.names[i];
        view.highlighted = i;
        highlight.clearLayers();
        highlight.addLayer(L.geoJSON(part.layers[i].feature, {
          renderer: renderer, interactive: false,
          style: { color: "#00bcd4", weight: 3, fill: false },
        }));
        map.fitBounds(part.layers[i].getBounds(), { maxZoom: 14 });
        part.layers[i].openTooltip(part.layers[i].getBounds().getCenter());
      },
      clear: function () {
        highlight.clearLayers();
        view.highlighted = null;
      },
      selected: null,
      highlighted: null,
    };
    var places = expandRuns(data.places || [], data.names.length);
    var labels = data.names.map(function (name, i) {
      return places[i] ? name + ", " + places[i] : name;
    });
    var index = { label: labels, full: data.names, lower: labels.map(fold) };
    var searcher = searchBox(data, index, function (j) { view.choose(j); }, view.clear);
    makeControl(map, data, state, view, searcher.wire);
    if (data.measures) {
      KG.measureSelector(map, data, part, restyle);
    }
    KG.view = view;
    KG.showSentra(state.sector);
    return view;
  };

  // The measure selector (firms, workers, output ...): which table of class codes the
  // areas are coloured by. ``data.measures.values[m]`` are coded as ``data.values``
  // (the firms'); the tooltips keep the firm counts.
  KG.measureSelector = function (map, data, part, restyle) {
    var m = data.measures;
    var control = L.control({ position: "topright" });
    control.onAdd = function () {
      var div = L.DomUtil.create("div", "klastergeo-control klastergeo-measures leaflet-bar");
      var html = "<label>" + escapeHtml(m.label) + ' <select class="klastergeo-measure">';
      m.names.forEach(function (name) {
        html += '<option value="' + escapeHtml(name) + '">' + escapeHtml(m.labels[name]) +
          "</option>";
      });
      div.innerHTML = html + "</select></label>";
      L.DomEvent.disableClickPropagation(div);
      div.querySelector(".klastergeo-measure").addEventListener("change", function (e) {
        KG.setMeasure(e.target.value);
      });
      return div;
    };
    control.addTo(map);
    KG.measure = "firms";
    KG.setMeasure = function (name) {
      KG.measure = name;
      part.values = name === "firms" ? data.values : m.values[name];
      restyle();
    };
  };

  // Run-length encoded values ([[value, count], ...], maps._runs) one per area.
  function expandRuns(runs, n) {
    var out = [];
    runs.forEach(function (run) {
      for (var r = 0; r < run[1]; r += 1) {
        out.push(run[0]);
      }
    });
    while (out.length < n) {
      out.push("");
    }
    return out;
  }

  // Every area a search text names: those whose own name is the text, else those whose
  // label starts with it, then those holding it (case and accents ignored); positions.
  function allMatches(index, text) {
    var low = fold(text);
    if (!low) {
      return [];
    }
    var exact = index.label.indexOf(String(text).trim());
    if (exact < 0) {
      exact = index.full.indexOf(String(text).trim());
    }
    if (exact >= 0) {
      return [exact];
    }
    var named = [];
    var first = [];
    var later = [];
    index.lower.forEach(function (s, j) {
      if (s.split(", ")[0] === low) {
        named.push(j);
      } else if (s.indexOf(low) === 0) {
        first.push(j);
      } else if (s.indexOf(low) > 0) {
        later.push(j);
      }
    });
    return named.length === 1 ? named : named.concat(first, later);
  }

  // The search box: typing suggests names (the datalist); Enter chooses the area the
  // text names when one does, and lists every match with its parents when several do
  // (two villages of one name both); a listed area is chosen by a click. ``choose(j)``
  // shows index entry j, ``clear()`` removes its highlight.
  function searchBox(data, index, choose, clear) {
    var t = data.text;
    var parts = {};
    function notFound(show) {
      if (parts.message) {
        parts.message.textContent = show ? t.notFound : "";
      }
    }
    function list(found) {
      var box = parts.results;
      box.textContent = "";
      if (found.length < 2) {
        return;
      }
      var heading = document.createElement("div");
      heading.textContent = t.matches.replace("{n}", String(found.length));
      box.appendChild(heading);
      found.forEach(function (j) {
        var button = document.createElement("button");
        button.type = "button";
        button.className = "klastergeo-result";
        button.textContent = index.label[j];
        button.addEventListener("click", function () { choose(j); });
        box.appendChild(button);
      });
    }
    function find(text) {
      var found = allMatches(index, text);
      notFound(!found.length && String(text).trim() !== "");
      list(found);
      if (found.length === 1) {
        choose(found[0]);
      }
      KG.searchMatches = found.map(function (j) { return index.label[j]; });
      return found.length > 0;
    }
    return {
      find: find,
      wire: function (input, datalist, results, clearButton) {
        parts.results = results;
        parts.message = L.DomUtil.create("div", "klastergeo-notfound", input.parentNode.parentNode);
        input.addEventListener("input", function () {
          var text = input.value;
          fillOptions(datalist, text.trim().length >= 2 ? matches(index, text, 30) : []);
        });
        input.addEventListener("change", function () {
          find(input.value);
        });
        clearButton.addEventListener("click", function () {
          input.value = "";
          results.textContent = "";
          notFound(false);
          clear();
        });
      },
    };
  }

  // The search index of a split map, flat: per area its province (position), its place
  // in the province's file, and its text as the tooltip shows it ("desa, kecamatan").
  function flatIndex(data) {
    var out = { province: [], local: [], full: [], label: [], lower: [] };
    data.index.forEach(function (entry, k) {
      var parents = [];
      entry.parents.forEach(function (run) {
        for (var r = 0; r < run[1]; r += 1) {
          parents.push(run[0]);
        }
      });
      var places = expandRuns(entry.places || [], entry.names.length);
      entry.full = entry.names.map(function (name, i) {
        var full = parents[i] ? name + ", " + parents[i] : name;
        out.province.push(k);
        out.local.push(i);
        out.full.push(full);
        // the kabupaten too: two villages of one name in one kecamatan's name elsewhere
        out.label.push((places[i] ? full + ", " + places[i] : full) + " (" +
          data.provinces.names[k] + ")");
        out.lower.push(fold(full));
        return full;
      });
    });
    return out;
  }

  // Text as searches compare it: no case, no accents, single spaces.
  function fold(text) {
    return String(text).normalize("NFD").replace(/[\u0300-\u036f]/g, "").toLowerCase()
      .replace(/\s+/g, " ").trim();
  }

  function matches(index, text, most) {
    var low = fold(text);
    var first = [];
    var later = [];
    for (var j = 0; j < index.lower.length && first.length < most; j += 1) {
      var at = index.lower[j].indexOf(low);
      if (at === 0) {
        first.push(index.label[j]);
      } else if (at > 0 && later.length < most) {
        later.push(index.label[j]);
      }
    }
    return first.concat(later).slice(0, most);
  }

  // A split map: the provinces (coloured by their hot-spot areas in the chosen sector)
  // and a search index of every area come with the page; a province's areas come from
  // the script <folder>/<code>.js (it calls klastergeo.province) when the province is
  // zoomed into, clicked or searched. A script, not fetch(): it loads from file:// too.
  KG.nationalView = function (map, data) {
    fadeUnderTips(map);
    var t = data.text;
    var P = data.provinces;
    var renderer = map.getRenderer(L.polygon([[0, 0], [0, 0], [0, 0]]));
    var state = initialState(data);
    var parts = {};
    var pending = {};
    var index = flatIndex(data);
    var total = P.counts.reduce(function (a, b) { return a + b; }, 0);

    function hotClass(k) {
      var n = (P.hot[state.sector] || [])[k] || 0;
      var c = 0;
      while (c < data.hotBreaks.length && n >= data.hotBreaks[c]) {
        c += 1;
      }
      return c;
    }
    function provinceStyle(feature) {
      var k = feature.properties.i;
      if (parts[k]) {
        // its areas are drawn: the province is an outline, not under the pointer
        return { renderer: renderer, color: "#333", weight: 1.5, fill: false,
                 interactive: false };
      }
      return { renderer: renderer, color: "#555", weight: 0.8,
               fillColor: data.hotColours[hotClass(k)], fillOpacity: 0.7 };
    }
    function provinceTooltip(layer) {
      var k = layer.feature.properties.i;
      var s = state.sector;
      var text = "<b>" + escapeHtml(P.names[k]) + "</b><br>" +
        escapeHtml(data.sectorLabels[s] || "");
      [[t.hotAreas, P.hot], [t.firms, P.firms], [t.sentra, P.sentra]].forEach(function (row) {
        if (row[1][s]) {
          text += "<br>" + escapeHtml(row[0]) + ": " + escapeHtml(row[1][s][k]);
        }
      });
      return text;
    }
    var provinceLayers = new Array(P.codes.length);
    var provinceLayer = L.geoJSON(KG.decodeAreas(P.shapes, data.q), {
      style: provinceStyle,
      renderer: renderer,
      onEachFeature: function (feature, l) {
        provinceLayers[feature.properties.i] = l;
        l.bindTooltip(provinceTooltip, { sticky: true });
        l.on("click", function () {
          view.open(feature.properties.i, true);
        });
      },
    }).addTo(map);
    var highlight = L.layerGroup().addTo(map);

    function legendExtra() {
      var html = "<b>" + escapeHtml(t.hotAreas + ": " + (data.sectorLabels[state.sector] || "")) +
        "</b>";
      for (var c = data.hotColours.length - 1; c >= 0; c -= 1) {
        var low = c === 0 ? 0 : data.hotBreaks[c - 1];
        var label = c === 0 ? "0" : c === data.hotBreaks.length ? ">= " + low :
          low + " - " + (data.hotBreaks[c] - 1);
        html += swatch(data.hotColours[c], label);
      }
      return html + "<small>" + escapeHtml(t.openHint) + "</small><br>";
    }
    var legend = makeLegend(map, data, state, legendExtra);

    function restyle() {
      provinceLayer.setStyle(provinceStyle);
      Object.keys(parts).forEach(function (k) {
        parts[k].layer.setStyle(parts[k].style);
        refreshTooltips(parts[k]);
      });
      legend.update();
    }

    // the province script calls this with its areas
    KG.province = function (code, payload) {
      var k = P.codes.indexOf(code);
      if (k < 0 || parts[k]) {
        return;
      }
      var entry = data.index[k];
      var part = {
        shapes: payload.shapes, values: payload.values, prob: payload.prob, tips: payload.tips,
        totals: payload.totals, names: function (i) { return entry.full[i]; },
      };
      areaLayer(data, state, part, renderer).addTo(map);
      parts[k] = part;
      provinceLayer.resetStyle(provinceLayers[k]);
      if (KG.sentraLayer) {
        KG.sentraLayer.bringToFront();
      }
      view.loaded.push(code);
      (pending[k] || []).forEach(function (done) { done(part); });
      delete pending[k];
    };

    function load(k) {
      return new Promise(function (resolve, reject) {
        if (parts[k]) {
          resolve(parts[k]);
          return;
        }
        if (pending[k]) {
          pending[k].push(resolve);
          return;
        }
        pending[k] = [resolve];
        var script = document.createElement("script");
        script.src = encodeURIComponent(data.folder) + "/" + encodeURIComponent(P.codes[k]) +
          ".js";
        script.onerror = function () {
          delete pending[k];
          reject(new Error("cannot load " + script.src));
        };
        document.head.appendChild(script);
      });
    }

    function loadInView() {
      if (map.getZoom() < data.loadZoom) {
        return;
      }
      var bounds = map.getBounds();
      provinceLayers.forEach(function (l, k) {
        if (!parts[k] && bounds.intersects(l.getBounds())) {
          load(k);
        }
      });
    }
    map.on("moveend", loadInView);
    KG.provinceIndex = function (code) {
      return P.codes.indexOf(code);
    };

    var view = {
      layer: provinceLayer,
      state: state,
      count: total,
      provinces: P.codes.length,
      loaded: [],
      selected: null,
      parts: parts,
      setSector: function (sector) {
        state.sector = sector;
        restyle();
      },
      setStat: function (stat) {
        state.stat = stat;
        restyle();
      },
      // the colour of area i of province ``code`` (null until it is loaded)
      colourOf: function (i, code) {
        var part = parts[P.codes.indexOf(code)];
        return part ? colourOf(data, state, part, i) : null;
      },
      open: function (k, fit) {
        if (fit) {
          map.fitBounds(provinceLayers[k].getBounds());
        }
        return load(k);
      },
      find: function (text) {
        return searcher.find(text);
      },
      clear: function () {
        highlight.clearLayers();
      },
      // load the province of index entry j, zoom to the area and outline it
      choose: function (j) {
        var k = index.province[j];
        var i = index.local[j];
        load(k).then(function (part) {
          var area = part.layers[i];
          map.fitBounds(area.getBounds(), { maxZoom: 14 });
          highlight.clearLayers();
          highlight.addLayer(L.geoJSON(area.feature, {
            renderer: renderer, interactive: false,
            style: { color: "#00bcd4", weight: 3, fill: false },
          }));
          area.openTooltip(area.getBounds().getCenter());
          view.selected = { province: P.codes[k], index: i, name: index.full[j] };
        });
      },
    };
    var searcher = searchBox(data, index, function (j) { view.choose(j); }, view.clear);
    makeControl(map, data, state, view, searcher.wire);
    KG.view = view;
    KG.showSentra(state.sector);
    return view;
  };

  function decodeFirms(data) {
    var points = new Array(data.n);
    var x = 0;
    var y = 0;
    for (var k = 0; k < data.n; k += 1) {
      x += data.xy[2 * k];
      y += data.xy[2 * k + 1];
      points[k] = [y / data.q, x / data.q];
    }
    return points;
  }

  // A popup or tooltip body built from text nodes only: registry and boundary values can
  // never become markup.
  function rowsElement(rows) {
    var table = document.createElement("table");
    table.className = "klastergeo-popup";
    rows.forEach(function (row) {
      var tr = table.insertRow();
      var th = document.createElement("th");
      th.textContent = row[0];
      tr.appendChild(th);
      tr.insertCell().textContent = row[1];
    });
    return table;
  }

  function textElement(text) {
    var span = document.createElement("span");
    span.textContent = text;
    return span;
  }

  function shapesLayer(shapes, q, style, renderer, each) {
    var features = KG.decodeAreas(shapes, q).filter(function (f) {
      return f.geometry.coordinates.length > 0;
    });
    return L.geoJSON(features, {
      style: function () {
        var out = Object.assign({}, style);
        out.renderer = renderer;
        return out;
      },
      renderer: renderer,
      onEachFeature: function (feature, layer) {
        each(feature.properties.i, layer);
      },
    });
  }

  // The map of a multi-period run: a selector between the change view (every lineage in
  // its last shape, coloured by its trend) and each period's sentra; popups and
  // tooltips are text.
  KG.changeView = function (map, data) {
    fadeUnderTips(map);
    var renderer = map.getRenderer(L.polygon([[0, 0], [0, 0], [0, 0]]));
    // faint outlines under the sentra, finest first (the areas, then the study area's
    // kecamatan or kabupaten), each a little stronger than the one before
    KG.changeOutlines = (data.outlines || []).map(function (shapes, k, all) {
      var strong = k === all.length - 1 && all.length > 1;
      return shapesLayer(shapes, data.q, { color: strong ? "#666666" : "#999999",
        weight: strong ? 1 : 0.5, opacity: 0.8, fill: false, interactive: false },
      renderer, function () {}).addTo(map);
    });
    var built = {};
    function layerOf(key) {
      if (!built[key]) {
        var view = key === "change" ? data.change : data.views[key];
        built[key] = shapesLayer(view.shapes, data.q, { weight: 2, fillOpacity: 0.45 },
          renderer, function (i, layer) {
            var colour = data.colours[view.trends[i]] || "#666666";
            layer.setStyle({ color: colour, fillColor: colour });
            layer.bindTooltip(textElement(view.tooltips[i]), { sticky: true });
            layer.bindPopup(function () { return rowsElement(view.popups[i]); });
          });
      }
      return built[key];
    }
    var current = null;
    function show(key) {
      if (current) {
        map.removeLayer(current);
      }
      current = layerOf(key).addTo(map);
      KG.changeShown = key;
    }
    var control = L.control({ position: "topright" });
    control.onAdd = function () {
      var div = L.DomUtil.create("div", "klastergeo-control leaflet-bar");
      var label = document.createElement("label");
      label.appendChild(document.createTextNode(data.text.period + " "));
      var select = document.createElement("select");
      select.className = "klastergeo-period";
      [["change", data.text.change]].concat(data.periods.map(function (p) { return [p, p]; }))
        .forEach(function (pair) {
          var option = document.createElement("option");
          option.value = pair[0];
          option.textContent = pair[1];
          select.appendChild(option);
        });
      select.addEventListener("change", function (e) { show(e.target.value); });
      label.appendChild(select);
      div.appendChild(label);
      L.DomEvent.disableClickPropagation(div);
      return div;
    };
    control.addTo(map);
    var legend = L.control({ position: "bottomright" });
    legend.onAdd = function () {
      var div = L.DomUtil.create("div", "klastergeo-legend");
      var heading = document.createElement("b");
      heading.textContent = data.text.trend;
      div.appendChild(heading);
      Object.keys(data.trends).forEach(function (key) {
        var row = document.createElement("div");
        var box = document.createElement("span");
        box.className = "klastergeo-swatch";
        box.style.background = data.colours[key];
        row.appendChild(box);
        row.appendChild(document.createTextNode(data.trends[key]));
        div.appendChild(row);
      });
      return div;
    };
    legend.addTo(map);
    show("change");
    if (current.getBounds().isValid()) {
      map.fitBounds(current.getBounds(), { padding: [20, 20] });
    }
  };

  // Outlines, sentra and firms, each registered with the layer control. Firms come from
  // the page's firm data block when it is present (a published map has none unless its
  // publisher asked for firms).
  KG.layers = function (map, control, data) {
    var renderer = map.getRenderer(L.polygon([[0, 0], [0, 0], [0, 0]]));
    var out = {};
    Object.keys(data.controls || {}).forEach(function (selector) {
      var button = map.getContainer().querySelector(selector);
      if (button) { // titles and labels set as text
        button.title = data.controls[selector];
        button.setAttribute("aria-label", data.controls[selector]);
      }
    });
    if (data.tiles) {
      out.tiles = L.tileLayer(data.tiles.url, { attribution: data.tiles.attribution, maxZoom: 18 })
        .addTo(map);
      control.addBaseLayer(out.tiles, data.tiles.name);
    }
    if (data.outlines) {
      var o = data.outlines;
      // drawn above the areas but not under the pointer: a canvas polygon catches the
      // pointer over its whole inside, which would hide every area's tooltip
      out.outlines = shapesLayer(o.shapes, o.q,
        { color: "#555555", weight: 1, fill: false, interactive: false },
        renderer, function () {}).addTo(map);
      control.addOverlay(out.outlines, o.label);
    }
    if (data.sentra) {
      var s = data.sentra;
      out.sentra = shapesLayer(s.shapes, s.q, { color: s.colour, weight: 3, fillOpacity: 0.1,
        fillColor: s.colour }, renderer, function (i, layer) {
        layer.sentraId = s.ids[i];
        layer.sector = s.sectors[i];
        layer.bindTooltip(textElement(s.tooltips[i]), { sticky: true });
        layer.bindPopup(function () {
          return relatedButtons(rowsElement(s.popups[i]), s.ids[i], data.firms.show_related);
        });
      }).addTo(map);
      control.addOverlay(out.sentra, s.label);
      KG.sentraLayer = out.sentra;
      KG.sentraAll = out.sentra.getLayers();
      if (KG.view) {
        KG.showSentra(KG.view.state.sector);
      }
    }
    var block = document.getElementById("klastergeo-firms");
    if (block) {
      var firms = JSON.parse(block.textContent);
      out.heat = L.featureGroup();
      if (firms.w) {
        // too many firms for markers: their counts on a grid, as a heat map only
        control.addOverlay(out.heat, data.firms.heat);
        KG.firms(null, firms, out.heat, data.firms.colour);
      } else {
        out.firms = L.featureGroup();
        control.addOverlay(out.firms, data.firms.points);
        control.addOverlay(out.heat, data.firms.heat);
        KG.firms(out.firms, firms, out.heat, data.firms.colour);
      }
      if (firms.links) { // after the firms: the popup's buttons fill it
        out.related = L.featureGroup();
        control.addOverlay(out.related, data.firms.related);
        KG.links = relatedFirms(map, firms.links, out.related, data.firms);
      }
      if (firms.colocation && KG.colocationLayer) { // klastergeo-explore.js
        out.colocation = KG.colocationLayer(map, control, firms);
      }
    }
    if (KG.view) {
      KG.showFirms(KG.view.state.sector);
    }
    KG.layerGroups = out;
    return out;
  };

  // A sentra's popup body followed by a button per related industry whose firms the
  // page holds (none when the page has no firm data): the button shows them.
  function relatedButtons(body, sentraId, label) {
    var runs = KG.links ? KG.links.of(sentraId) : [];
    if (!runs.length) {
      return body;
    }
    var div = document.createElement("div");
    div.appendChild(body);
    var row = document.createElement("div");
    row.className = "klastergeo-links";
    row.appendChild(document.createTextNode(label));
    runs.forEach(function (run) {
      var button = document.createElement("button");
      button.type = "button";
      button.className = "klastergeo-related";
      button.dataset.sector = run[1];
      button.textContent = KG.links.title(run[1]) + " (" + (run[3] - run[2]) + ")";
      button.addEventListener("click", function () { KG.links.show(sentraId, run[1]); });
      row.appendChild(document.createElement("br"));
      row.appendChild(button);
    });
    div.appendChild(row);
    return div;
  }

  // The firms of the related industries of each sentra (runs of a delta-encoded list):
  // ``show`` puts one run's firms on ``group`` (the layer control's overlay) and
  // switches it on.
  function relatedFirms(map, data, group, text) {
    var colour = text.related_colour;
    var points = null;
    // a note of what the layer shows (sector, sentra, firms), gone with the layer
    var note = L.control({ position: "bottomleft" });
    note.onAdd = function () {
      var div = L.DomUtil.create("div", "klastergeo-legend klastergeo-related-note");
      L.DomEvent.disableClickPropagation(div);
      return div;
    };
    var last = null;
    group.on("remove", function () { note.remove(); });
    group.on("add", function () {
      if (last) {
        describe.apply(null, last); // Leaflet builds a control's box anew on each add
      }
    });
    function describe(title, sentraId, count) {
      last = [title, sentraId, count];
      note.addTo(map);
      var div = note.getContainer();
      div.textContent = "";
      var box = document.createElement("span");
      box.className = "klastergeo-swatch";
      box.style.background = colour;
      box.style.borderRadius = "50%";
      div.appendChild(box);
      div.appendChild(document.createTextNode(
        text.related_note + ": " + title + " (" + count + "), sentra " + sentraId));
    }
    var bySentra = {}; // sentra id -> its runs
    data.runs.forEach(function (r) {
      (bySentra[r[0]] = bySentra[r[0]] || []).push(r);
    });
    function of(sentraId) {
      return Object.prototype.hasOwnProperty.call(bySentra, sentraId) ? bySentra[sentraId] : [];
    }
    function run(sentraId, sector) {
      return of(sentraId).find(function (r) { return r[1] === sector; }) || null;
    }
    return {
      of: of,
      title: function (sector) {
        return data.titles[sector] || sector;
      },
      show: function (sentraId, sector) {
        var found = run(sentraId, sector);
        points = points || decodeFirms(data);
        group.clearLayers();
        if (!found) {
          KG.relatedShown = { sentra: sentraId, sector: sector, count: 0 };
          return;
        }
        var title = this.title(sector);
        for (var k = found[2]; k < found[3]; k += 1) {
          var m = L.circleMarker(points[k], { radius: 6, weight: 2, color: "#222",
            fillColor: colour, fillOpacity: 0.9 });
          var name = data.names[k];
          m.bindTooltip(textElement(name ? name + " (" + title + ")" : title));
          group.addLayer(m);
        }
        if (!map.hasLayer(group)) {
          group.addTo(map);
        }
        // the firms and their sentra in view, the popup closed so they can be seen
        var bounds = group.getBounds();
        (KG.sentraAll || []).forEach(function (layer) {
          if (layer.sentraId === sentraId) {
            bounds.extend(layer.getBounds());
          }
        });
        map.closePopup();
        map.fitBounds(bounds, { padding: [30, 30], maxZoom: 15 });
        KG.relatedShown = { sentra: sentraId, sector: sector, count: found[3] - found[2] };
        describe(title, sentraId, found[3] - found[2]);
      },
    };
  }

  // Firms as clustered markers (``group``) and as a heat map (``heatGroup``), each built
  // from the one payload the first time its layer is switched on. With a sector view,
  // both show the firms of the selected sector only (KG.showFirms), in data.colour.
  KG.firms = function (group, data, heatGroup, colour) {
    var points = null;
    var markers = null;
    var cluster = null;
    var heat = null;
    function decoded() {
      points = points || decodeFirms(data);
      return points;
    }
    // the firms shown: those of KG.firmSector, or all without a sector (or a grid)
    function shown() {
      var all = KG.firmSector == null || !data.sectors || data.w;
      var s = all ? -1 : data.sectors.indexOf(KG.firmSector);
      var out = [];
      if (!all && s < 0) {
        return out; // no firm of the selected sector
      }
      for (var k = 0; k < data.n; k += 1) {
        if (all || data.sector[k] === s) {
          out.push(k);
        }
      }
      return out;
    }
    // a new cluster group for each sector: a chunked add still running into the old
    // one cannot mix sectors
    function fillMarkers() {
      if (cluster) {
        group.removeLayer(cluster);
      }
      var picked = shown();
      cluster = L.markerClusterGroup({ chunkedLoading: true });
      cluster.addLayers(picked.map(function (k) { return markers[k]; }));
      group.addLayer(cluster);
      KG.firmCount = picked.length;
    }
    function fillHeat() {
      var at = decoded();
      var options = { radius: 12, blur: 15, maxZoom: 13 };
      var picked = shown().map(function (k) { return at[k]; });
      if (data.w) {
        // a grid cell's intensity grows with the log of its firms (a town's thousands
        // would otherwise drown every village's tens)
        var top = Math.log1p(data.w.reduce(function (a, b) { return Math.max(a, b); }, 1));
        picked = at.map(function (point, k) {
          return [point[0], point[1], Math.log1p(data.w[k]) / top];
        });
        options.max = 1;
      }
      if (heat) {
        heatGroup.removeLayer(heat);
      }
      heat = L.heatLayer(picked, options);
      heatGroup.addLayer(heat);
      KG.heatCount = picked.length;
    }
    (group || L.featureGroup()).on("add", function () {
      if (markers) {
        return;
      }
      var at = decoded();
      markers = new Array(data.n);
      for (var k = 0; k < data.n; k += 1) {
        var m = L.circleMarker(at[k], { radius: 4, weight: 1, color: "#333",
          fillColor: colour || "#888888", fillOpacity: 0.8 });
        m.bindTooltip(escapeHtml(data.names[k]) + " (" + escapeHtml(data.sectors[data.sector[k]]) + ")");
        markers[k] = m;
      }
      fillMarkers();
    });
    if (heatGroup) {
      heatGroup.on("add", function () {
        if (!heat) {
          fillHeat();
        }
      });
    }
    KG.showFirms = function (sector) {
      KG.firmSector = sector;
      if (markers) {
        fillMarkers();
      }
      if (heat && !data.w) {
        fillHeat();
      }
    };
  };
})();

/* klastergeo map: one shared geometry payload styled in the page (MIT licence).
 *
 * The areas arrive once, as quantised delta-encoded rings; every statistic of every sector
 * is a string with one character per area. A sector selector and a statistic selector
 * restyle the same canvas layer, so a map of all sectors costs one geometry.
 */
(function () {
  "use strict";
  var KG = (window.klastergeo = window.klastergeo || {});

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

  KG.sectorView = function (map, data) {
    var t = data.text;
    var features = KG.decodeAreas(data.shapes, data.q);
    // the map's own renderer: one canvas for every vector layer, so the sentra drawn above
    // and the areas below both receive the pointer (a second canvas would hide the first)
    var renderer = map.getRenderer(L.polygon([[0, 0], [0, 0], [0, 0]]));
    var state = { sector: data.initial, stat: data.stats.length ? data.stats[0] : "none" };
    var layers = new Array(features.length);

    function code(i) {
      if (state.stat === "prob") {
        return data.prob ? data.prob.charCodeAt(i) - 48 : -1;
      }
      var column = data.values[state.stat] && data.values[state.stat][state.sector];
      return column ? column.charCodeAt(i) - 48 : -1;
    }
    function colour(i) {
      if (state.stat === "none") {
        return null;
      }
      var c = code(i);
      return c >= 0 ? data.palette[state.stat][c] || null : null;
    }
    function style(feature) {
      var fill = colour(feature.properties.i);
      if (fill) {
        return { renderer: renderer, stroke: true, color: "#666", weight: 0.3,
                 fillColor: fill, fillOpacity: 0.75 };
      }
      // transparent but still under the pointer, for the tooltip
      return { renderer: renderer, stroke: false, fill: true, fillOpacity: 0 };
    }
    function tooltip(layer) {
      var i = layer.feature.properties.i;
      var text = "<b>" + escapeHtml(data.names[i]) + "</b>";
      if (state.stat !== "none") {
        var c = code(i);
        var label = c >= 0 ? data.labels[state.stat][c] : "";
        text += "<br>" + escapeHtml(t.stats[state.stat]) + ": " + escapeHtml(label || "-");
      }
      return text;
    }
    var layer = L.geoJSON(features, {
      style: style,
      renderer: renderer,
      onEachFeature: function (feature, l) {
        layers[feature.properties.i] = l;
        l.bindTooltip(tooltip, { sticky: true });
      },
    }).addTo(map);

    var legend = L.control({ position: "bottomright" });
    legend.onAdd = function () {
      this._div = L.DomUtil.create("div", "klastergeo-legend");
      return this._div;
    };
    function swatch(colour, label, outline) {
      var box = outline
        ? "border:2px solid " + colour + ";background:transparent"
        : "background:" + colour;
      return '<div><span class="klastergeo-swatch" style="' + box + '"></span>' +
        escapeHtml(label) + "</div>";
    }
    legend.update = function () {
      var html = "<b>" + escapeHtml(t.sentra) + "</b>" + swatch(data.sentraColour, t.sentra, true);
      if (state.stat !== "none") {
        var heading = t.stats[state.stat];
        if (state.stat !== "prob") {
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
        if (data.notes[state.stat]) {
          html += "<small>" + escapeHtml(data.notes[state.stat]) + "</small>";
        }
      }
      this._div.innerHTML = html;
    };
    legend.addTo(map);
    legend.update();

    function restyle() {
      layer.setStyle(style);
      legend.update();
    }

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
      html += '<datalist id="klastergeo-names">';
      data.names.forEach(function (n) {
        html += '<option value="' + escapeHtml(n) + '">';
      });
      html += "</datalist>";
      div.innerHTML = html;
      L.DomEvent.disableClickPropagation(div);
      L.DomEvent.disableScrollPropagation(div);
      div.querySelector(".klastergeo-sector").addEventListener("change", function (e) {
        view.setSector(e.target.value);
      });
      div.querySelector(".klastergeo-stat").addEventListener("change", function (e) {
        view.setStat(e.target.value);
      });
      div.querySelector(".klastergeo-search").addEventListener("change", function (e) {
        view.find(e.target.value);
      });
      return div;
    };
    control.addTo(map);

    var view = {
      layer: layer,
      state: state,
      count: features.length,
      setSector: function (sector) {
        state.sector = sector;
        restyle();
      },
      setStat: function (stat) {
        state.stat = stat;
        restyle();
      },
      colourOf: function (i) {
        return colour(i);
      },
      find: function (name) {
        var i = data.names.indexOf(name);
        if (i < 0) {
          return false;
        }
        map.fitBounds(layers[i].getBounds(), { maxZoom: 14 });
        layers[i].openTooltip(layers[i].getBounds().getCenter());
        return true;
      },
    };
    KG.view = view;
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

  // Outlines, sentra and firms, each registered with the layer control. Firms come from
  // the page's firm data block when it is present (a published map has none unless its
  // publisher asked for firms).
  KG.layers = function (map, control, data) {
    var renderer = map.getRenderer(L.polygon([[0, 0], [0, 0], [0, 0]]));
    var out = {};
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
        layer.bindPopup(function () { return rowsElement(s.popups[i]); });
      }).addTo(map);
      control.addOverlay(out.sentra, s.label);
      KG.sentraLayer = out.sentra;
    }
    var block = document.getElementById("klastergeo-firms");
    if (block) {
      var firms = JSON.parse(block.textContent);
      out.heat = L.featureGroup();
      if (firms.w) {
        // too many firms for markers: their counts on a grid, as a heat map only
        control.addOverlay(out.heat, data.firms.heat);
        KG.firms(null, firms, out.heat);
      } else {
        out.firms = L.featureGroup();
        control.addOverlay(out.firms, data.firms.points);
        control.addOverlay(out.heat, data.firms.heat);
        KG.firms(out.firms, firms, out.heat);
      }
    }
    KG.layerGroups = out;
    return out;
  };

  // Firms as clustered markers (``group``) and as a heat map (``heatGroup``), each built
  // from the one payload the first time its layer is switched on.
  KG.firms = function (group, data, heatGroup) {
    var points = null;
    function decoded() {
      points = points || decodeFirms(data);
      return points;
    }
    var built = false;
    (group || L.featureGroup()).on("add", function () {
      if (built) {
        return;
      }
      built = true;
      var at = decoded();
      var cluster = L.markerClusterGroup({ chunkedLoading: true });
      var markers = new Array(data.n);
      for (var k = 0; k < data.n; k += 1) {
        var m = L.circleMarker(at[k], { radius: 4, weight: 1, color: "#333", fillOpacity: 0.7 });
        m.bindTooltip(escapeHtml(data.names[k]) + " (" + escapeHtml(data.sectors[data.sector[k]]) + ")");
        markers[k] = m;
      }
      cluster.addLayers(markers);
      group.addLayer(cluster);
      KG.firmCount = data.n;
    });
    if (heatGroup) {
      var heatBuilt = false;
      heatGroup.on("add", function () {
        if (heatBuilt) {
          return;
        }
        heatBuilt = true;
        var at = decoded();
        var options = { radius: 12, blur: 15, maxZoom: 13 };
        if (data.w) {
          // a grid cell's intensity grows with the log of its firms (a town's thousands
          // would otherwise drown every village's tens)
          var top = Math.log1p(data.w.reduce(function (a, b) { return Math.max(a, b); }, 1));
          at = at.map(function (point, k) {
            return [point[0], point[1], Math.log1p(data.w[k]) / top];
          });
          options.max = 1;
        }
        heatGroup.addLayer(L.heatLayer(at, options));
        KG.heatCount = data.n;
      });
    }
  };
})();

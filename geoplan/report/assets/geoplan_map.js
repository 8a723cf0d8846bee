/* geoplan meeting map runtime (inlined into map.html; plain Leaflet 1.9, no other library).
 *
 * Layers arrive as compact specs: columnar properties and one polyline-encoded coordinate
 * string per layer (1e-6 degrees, WGS 84). Every value that comes from data reaches the page
 * through textContent, never innerHTML: names in OSM or in a planner's file are data, and data
 * can be hostile.
 */
(function() {
  "use strict";
  var gp = window.geoplan = window.geoplan || {};
  gp.standards = {};
  gp.order = [];
  gp.current = null;
  gp.measure = "buffer";
  gp.measures = {};

  /* Polyline-encoded (lon, lat) pairs at 1/scale degrees (default 1e-6; large maps store
     1e-5); each coordinate is a running sum. */
  function decode(s, scale) {
    var out = [], i = 0, v = [0, 0], k = 0, unit = scale || 1e6;
    while (i < s.length) {
      var r = 0, sh = 0, b;
      do { b = s.charCodeAt(i++) - 63; r |= (b & 31) << sh; sh += 5; } while (b >= 32);
      v[k] += (r & 1) ? ~(r >> 1) : (r >> 1);
      out.push(v[k] / unit);
      k = 1 - k;
    }
    return out;
  }
  gp.decode = decode;

  function features(spec) {
    var flat = decode(spec.coords || "", spec.scale), at = 0, n = spec.n || 0, feats = [];
    function pt() { var c = [flat[at], flat[at + 1]]; at += 2; return c; }
    function seq(k) { var a = []; for (var j = 0; j < k; j++) { a.push(pt()); } return a; }
    for (var i = 0; i < n; i++) {
      var geom, parts = spec.parts ? spec.parts[i] : null;
      if (spec.kind === "point") {
        geom = {type: "Point", coordinates: pt()};
      } else if (spec.kind === "line") {
        geom = {type: "MultiLineString", coordinates: parts.map(seq)};
      } else {
        geom = {type: "MultiPolygon", coordinates: parts.map(function(p) { return p.map(seq); })};
      }
      var props = {};
      for (var key in spec.props) { props[key] = spec.props[key][i]; }
      feats.push({type: "Feature", id: i, geometry: geom, properties: props});
    }
    return feats;
  }

  function text(v) {
    if (v === null || v === undefined) { return ""; }
    return String(v);
  }

  /* A popup body: optional title, then one row per field with a value; empty ones are left out. */
  function popupBody(spec, props) {
    var div = document.createElement("div");
    div.className = "gp-popup";
    var title = spec.popupTitle ? text(props[spec.popupTitle]) : "";
    if (title) {
      var h = document.createElement("div");
      h.className = "gp-popup-title";
      h.textContent = title;
      div.appendChild(h);
    }
    var table = document.createElement("table");
    (spec.fields || []).forEach(function(f) {
      var value = text(props[f[0]]);
      if (value === "") { return; }
      var tr = table.insertRow();
      var th = document.createElement("th");
      th.textContent = f[1];
      tr.appendChild(th);
      var td = tr.insertCell();
      td.textContent = f[2] ? value + " " + f[2] : value;
    });
    div.appendChild(table);
    if (spec.note) {
      var p = document.createElement("p");
      p.className = "gp-popup-note";
      p.textContent = spec.note;
      div.appendChild(p);
    }
    return div;
  }

  function tipBody(spec, props) {
    var key = spec.tooltip;
    if (spec.tooltipByMeasure) { key = key + "_" + gp.measure; }
    var span = document.createElement("span");
    span.textContent = text(props[key]);
    return span;
  }

  function fillOf(spec, props) {
    if (!spec.fillBy) { return null; }
    var key = spec.fillBy.prop + (spec.fillBy.byMeasure ? "_" + gp.measure : "");
    return spec.fillBy.colours[props[key]] || spec.fillBy.colours.nodata;
  }

  /* A Leaflet layer from a compact spec (see geoplan/report/_map_layers.py). */
  function build(spec) {
    var base = spec.style || {};
    function style(f) {
      var s = {};
      for (var k in base) { s[k] = base[k]; }
      s.className = spec.cls;
      var fill = fillOf(spec, f.properties);
      if (fill) { s.fillColor = fill; }
      return s;
    }
    var opts = {style: style, interactive: spec.interactive !== false, className: spec.cls};
    if (spec.kind === "point") {
      opts.pointToLayer = function(f, latlng) {
        var s = style(f);
        s.radius = spec.radius || 6;
        s.interactive = spec.interactive !== false;
        return L.circleMarker(latlng, s);
      };
    }
    if (opts.interactive) {
      opts.onEachFeature = function(f, l) {
        if (spec.fields && spec.fields.length) {
          l.bindPopup(function() { return popupBody(spec, f.properties); },
                      {maxWidth: 360, autoPanPadding: [12, 12]});
        }
        if (spec.tooltip) {
          l.bindTooltip(function() { return tipBody(spec, f.properties); }, {sticky: true});
        }
      };
    }
    var layer = L.geoJson({type: "FeatureCollection", features: features(spec)}, opts);
    layer.geoplanSpec = spec;
    return layer;
  }

  /* Built on first display: a map with ten standards, three measures and hidden overlays
     only pays for what is on screen when it opens. */
  var Lazy = L.FeatureGroup.extend({
    initialize: function(spec) {
      L.FeatureGroup.prototype.initialize.call(this);
      this.geoplanSpec = spec;
      this._geoplanBuilt = false;
    },
    onAdd: function(map) {
      if (!this._geoplanBuilt) {
        this._geoplanBuilt = true;
        this.addLayer(build(this.geoplanSpec));
      }
      L.FeatureGroup.prototype.onAdd.call(this, map);
    }
  });
  gp.layer = function(spec) { return new Lazy(spec); };

  /* A popup never grows taller than the map leaves room for below the title: a district's
     popup on a city's index map lists every standard, which on a short screen ran off the
     top with its close button. Longer ones scroll inside. Nor wider than the map less its
     frame (about 50 px) and a margin: on a 390 px phone a 360 px popup was 407 px wide, its
     close button off the screen. */
  /* The band of a narrow map (a phone) that no box covers: below the boxes at the top, above
     those at the bottom (overview, zoom, legend button). */
  function clearBand(map) {
    var frame = map.getContainer().getBoundingClientRect();
    var top = 12, bottom = frame.height - 12;
    map.getContainer().querySelectorAll(".leaflet-control").forEach(function(c) {
      var r = c.getBoundingClientRect();
      if (!r.width || !r.height || c.style.visibility === "hidden") { return; }
      if (c.parentNode.classList.contains("leaflet-top")) {
        top = Math.max(top, r.bottom - frame.top + 12);
      } else if (c.parentNode.classList.contains("leaflet-bottom") &&
                 !c.classList.contains("leaflet-control-attribution")) {
        bottom = Math.min(bottom, r.top - frame.top - 12);
      }
    });
    return {top: top, bottom: bottom};
  }
  var NARROW_PX = 600;

  var layout = L.Popup.prototype._updateLayout;
  L.Popup.prototype._updateLayout = function() {
    if (this._map) {
      var title = document.getElementById("geoplan-title");
      var size = this._map.getSize();
      var room = size.y - (title ? title.offsetHeight : 0) - 80;
      if (size.x < NARROW_PX) {  // between the boxes, the tip's 20 px below it
        var band = clearBand(this._map);
        room = Math.min(room, band.bottom - band.top - 20);
      }
      this.options.maxHeight = Math.max(120, room);
      this.options.maxWidth = Math.max(160, Math.min(360, size.x - 80));
      this.options.minWidth = Math.min(this.options.minWidth || 50, this.options.maxWidth);
    }
    return layout.apply(this, arguments);
  };

  /* Popups keep clear of the layer panel (top right), the title (top left) and the boxes
     down the left side (live scenario, legend) beside them: a popup those boxes would cover
     is panned to their right, when the map is wide enough to hold it there. */
  var adjust = L.Popup.prototype._adjustPan;
  L.Popup.prototype._adjustPan = function() {
    var panel = document.getElementById("geoplan-layers");
    var title = document.getElementById("geoplan-title");
    var right = panel ? panel.offsetWidth + 24 : 12, left = 12;
    if (this._map && this._container) {
      var frame = this._map.getContainer().getBoundingClientRect();
      var box = this._container.getBoundingClientRect();
      this._map.getContainer().querySelectorAll(".leaflet-left > .leaflet-control")
        .forEach(function(c) {
          var r = c.getBoundingClientRect();
          if (c === title || !r.width || !r.height || c.style.visibility === "hidden") { return; }
          if (r.top < box.bottom && box.top < r.bottom) {
            left = Math.max(left, r.right - frame.left + 12);
          }
        });
      var top = title ? title.offsetHeight + 24 : 12, bottom = 12;
      if (frame.width - left - right < box.width) {
        // no room beside the boxes (a phone): between those at the top and those at the
        // bottom, so that none covers the popup's first line, its close button or its end
        var band = clearBand(this._map);
        left = 12;
        right = 12;
        top = Math.max(top, band.top);
        bottom = Math.max(bottom, frame.height - band.bottom);
      }
      this.options.autoPanPaddingTopLeft = L.point(left, top);
      this.options.autoPanPaddingBottomRight = L.point(right, bottom);
    } else {
      this.options.autoPanPaddingTopLeft = L.point(left, title ? title.offsetHeight + 24 : 12);
      this.options.autoPanPaddingBottomRight = L.point(right, 12);
    }
    return adjust.apply(this, arguments);
  };

  /* The opening view: the data fitted between the legend and the layer panel, the room kept
     for them shrunk on a narrow screen (a phone's 390 px cannot spare 440 px: the fit would
     give no zoom at all). */
  gp.openingView = function(map, bounds, topLeft, bottomRight) {
    var size = map.getSize();
    var kx = Math.min(1, 0.4 * size.x / Math.max(1, topLeft[0] + bottomRight[0]));
    var ky = Math.min(1, 0.4 * size.y / Math.max(1, topLeft[1] + bottomRight[1]));
    map.fitBounds(bounds, {paddingTopLeft: [topLeft[0] * kx, topLeft[1] * ky],
                           paddingBottomRight: [bottomRight[0] * kx, bottomRight[1] * ky],
                           animate: false});
    if (size.x < NARROW_PX) {
      // a phone: the legend and the panel start folded at the top and bottom, so the data
      // goes across the whole width, between the boxes, once they are all on the map (the
      // room kept beside them made the city 215 px wide on a 390 px phone)
      setTimeout(function() {
        var band = clearBand(map);
        if (band.bottom - band.top < 0.3 * map.getSize().y) { return; }  // boxes everywhere
        map.fitBounds(bounds, {paddingTopLeft: [10, band.top],
                               paddingBottomRight: [10, map.getSize().y - band.bottom],
                               animate: false});
      }, 0);
    }
  };

  /* The chosen standard's areas, then its gaps and sites, on top of area overlays. */
  gp.raiseStandard = function() {
    var entry = gp.standards[gp.current];
    if (!entry || !gp.map) { return; }
    ["homes", "reach", "gaps", "street"].forEach(function(kind) {
      var byView = entry.parts[kind] || {};
      for (var v in byView) {
        if (byView[v] && gp.map.hasLayer(byView[v])) { byView[v].bringToFront(); }
      }
    });
    if (entry.parts.sites && gp.map.hasLayer(entry.parts.sites)) {
      entry.parts.sites.bringToFront();
    }
  };

  /* The layer panel reaches down to the boxes at the bottom right (zoom, locator), and shows
     a mark at its foot while some of it is below. */
  gp.markMore = function(panel) {
    L.DomUtil[panel.scrollTop + panel.clientHeight < panel.scrollHeight - 4
      ? "addClass" : "removeClass"](panel, "gp-more");
  };
  gp.fitPanel = nextFrame(function() {
    var panel = document.getElementById("geoplan-layers");
    if (!panel || !gp.map) { return; }
    var frame = gp.map.getContainer().getBoundingClientRect();
    var below = frame.bottom;
    gp.map.getContainer().querySelectorAll(".leaflet-bottom.leaflet-right > .leaflet-control")
      .forEach(function(c) {
        var r = c.getBoundingClientRect();
        if (r.width && r.height && c.className.indexOf("leaflet-control-attribution") < 0) {
          below = Math.min(below, r.top);
        }
      });
    var room = below - panel.getBoundingClientRect().top - 10;
    panel.style.boxSizing = "border-box";
    panel.style.maxHeight = Math.max(120, room) + "px";
    gp.markMore(panel);
  });
  window.addEventListener("resize", function() { gp.fitPanel(); });

  /* ---- the chosen standard and measure ---- */

  gp.register = function(map, sid, entry) {
    gp.map = map;
    gp.standards[sid] = entry;
    gp.order.push(sid);
  };

  function setVisible(group, layer, on) {
    if (!layer) { return; }
    if (on && !group.hasLayer(layer)) { group.addLayer(layer); }
    if (!on && group.hasLayer(layer)) { group.removeLayer(layer); }
  }

  function applyMeasure(entry) {
    var m = gp.measure, view = gp.measures[m] ? gp.measures[m].view : "buffer";
    var parts = entry.parts;
    ["homes", "gaps", "street", "reach"].forEach(function(kind) {
      var byView = parts[kind] || {};
      for (var v in byView) { setVisible(entry.group, byView[v], v === view); }
    });
    if (parts.sites && gp.map && gp.map.hasLayer(parts.sites)) { parts.sites.bringToFront(); }
    if (parts.coverage) {
      parts.coverage.setStyle(function(f) {
        return {fillColor: fillOf(parts.coverage.geoplanSpec, f.properties)};
      });
    }
  }

  function setText(id, value) {
    var el = document.getElementById(id);
    if (el) { el.textContent = value || ""; }
  }

  function updateLegend(entry) {
    var legend = entry.legend || {}, m = gp.measure;
    setText("geoplan-legend-standard", legend.heading);
    setText("geoplan-legend-measure", (legend.measure || {})[m]);
    ["pass", "near", "low", "poor"].forEach(function(k) {
      setText("geoplan-legend-" + k, (legend.classes || {})[k]);
    });
    setText("geoplan-legend-gaps", (legend.gaps || {})[m]);
    setText("geoplan-legend-reach", (legend.reach || {})[m]);
    var reachRow = document.getElementById("geoplan-legend-reach-row");
    if (reachRow) {
      var view = gp.measures[m] ? gp.measures[m].view : "buffer";
      reachRow.style.display = entry.parts.reach && entry.parts.reach[view] ? "" : "none";
    }
    var homes = (legend.homes || {})[m] || [];
    [0, 1, 2].forEach(function(i) { setText("geoplan-legend-homes-" + i, homes[i]); });
    var homesRow = document.getElementById("geoplan-legend-homes-row");
    if (homesRow) { homesRow.style.display = homes.length ? "" : "none"; }
    fitLegend();
  }

  /* The legend (bottom left) grows upwards with the measure; it stops below the boxes at the
     top left (title, live scenario) and scrolls inside instead of covering them. */
  /* ``fn`` run once in the next frame however often it is asked for: what it measures on
     screen is then built, not halfway through an update. */
  function nextFrame(fn) {
    var pending = false;
    return function() {
      if (pending) { return; }
      pending = true;
      window.requestAnimationFrame(function() { pending = false; fn(); });
    };
  }

  var fitLegend = nextFrame(fitLegendNow);

  function fitLegendNow() {
    var legend = document.getElementById("geoplan-legend");
    if (!legend || !gp.map) { return; }
    watchTopLeft();
    foldableLegend(legend);
    var top = gp.map.getContainer().getBoundingClientRect().top;
    var above = top;
    document.querySelectorAll(".leaflet-top.leaflet-left > .leaflet-control").forEach(function(c) {
      var r = c.getBoundingClientRect();
      if (r.height) { above = Math.max(above, r.bottom); }
    });
    legend.style.boxSizing = "border-box";
    legend.style.maxHeight = "none";
    var room = legend.getBoundingClientRect().bottom - above - 10;
    legend.style.maxHeight = Math.max(0, room) + "px";
    legend.style.overflowY = "auto";
    // no room at all (a long list of planned sites above): out of the way until there is
    legend.style.visibility = room < 48 ? "hidden" : "";
    // the boxes labels must not hide under have their final size only now (the legend fitted,
    // a panel folded): labels hidden under their first, larger boxes are decided again
    if (declutterLabels) { declutterLabels(); }
  }
  window.addEventListener("resize", function() { fitLegend(); });

  /* Legend rows of overlays (facilities, dead ends, seat gaps, data checks) show while their
     overlay is ticked, and a section heading while any of its rows shows: the legend says what
     is on the map, not all it could hold. */
  gp.legendFollows = function(on) { gp.legendOn = on; followLegend(); };
  var followLegend = nextFrame(function() {  // the legend is built after the layer panel
    var legend = document.getElementById("geoplan-legend"), on = gp.legendOn || {};
    if (!legend) { return; }
    legend.querySelectorAll("[data-gp-keys]").forEach(function(row) {
      var shown = row.getAttribute("data-gp-keys").split(" ").some(function(k) { return on[k]; });
      row.style.display = shown ? "" : "none";
    });
    legend.querySelectorAll("h3").forEach(function(h) {
      var any = false, keyed = false;
      for (var el = h.nextElementSibling; el && el.tagName !== "H3"; el = el.nextElementSibling) {
        if (!el.hasAttribute("data-gp-keys")) { any = true; break; }
        keyed = true;
        if (el.style.display !== "none") { any = true; break; }
      }
      h.style.display = any || !keyed ? "" : "none";
    });
    fitLegend();
  });

  /* The legend folds to its heading (a tap on it), and starts folded on a phone, where it
     would cover most of the map. */
  function foldableLegend(legend) {
    var heading = legend.querySelector("h2");
    if (!heading || legend.dataset.gpFoldable) { return; }
    legend.dataset.gpFoldable = "1";
    heading.setAttribute("role", "button");
    heading.setAttribute("tabindex", "0");
    function toggle() {
      L.DomUtil[L.DomUtil.hasClass(legend, "gp-folded") ? "removeClass" : "addClass"](
        legend, "gp-folded");
      var open = !L.DomUtil.hasClass(legend, "gp-folded");
      heading.setAttribute("aria-expanded", open ? "true" : "false");
      /* on a phone the open legend and the locator would overlap: the locator steps aside */
      var box = legend.closest(".leaflet-container");
      if (box) { L.DomUtil[open ? "addClass" : "removeClass"](box, "gp-legend-open"); }
      fitLegend();
    }
    L.DomEvent.on(heading, "click", toggle);
    L.DomEvent.on(heading, "keydown", function(e) {
      if (e.key === "Enter" || e.key === " ") { L.DomEvent.preventDefault(e); toggle(); }
    });
    if (window.innerWidth < 600) { toggle(); }
    else { heading.setAttribute("aria-expanded", "true"); }
  }
  var watched = null;  // the top-left stack, watched for boxes growing (planned sites listed)
  function watchTopLeft() {
    var stack = gp.map && gp.map.getContainer().querySelector(".leaflet-top.leaflet-left");
    if (!stack || stack === watched || typeof ResizeObserver === "undefined") { return; }
    watched = stack;
    new ResizeObserver(function() { fitLegend(); }).observe(stack);
  }

  function updateLabels() {
    var entry = gp.standards[gp.current];
    (gp.labelMarkers || []).forEach(function(lm, i) {
      var share = entry && entry.labels && entry.labels[gp.measure]
        ? entry.labels[gp.measure][i] : "";
      lm.share.textContent = share || "";
      lm.share.style.display = share ? "" : "none";
    });
    declutterLabels();
  }

  /* District labels that would overlap on screen (a city of 200 districts seen whole) are
     hidden, the larger district's kept (its rank); every zoom, pan and resize, every change
     of the shares and every fitting of the legend decides again. A label under one of the
     map's boxes (title, panel, legend) moves to another spot inside its district first, if
     one is clear: the worst district's share was hidden under the legend in some views. */
  function labelRect(lm) {
    var r = null;
    [lm.nameEl, lm.share, lm.partEl].forEach(function(el) {
      if (!el) { return; }
      var b = el.getBoundingClientRect();
      if (!b.width || !b.height) { return; }
      r = r ? {l: Math.min(r.l, b.left), t: Math.min(r.t, b.top), r: Math.max(r.r, b.right),
               b: Math.max(r.b, b.bottom)}
            : {l: b.left, t: b.top, r: b.right, b: b.bottom};
    });
    return r;
  }
  function meets(r, boxes) {
    return boxes.some(function(k) { return r.l < k.r && k.l < r.r && r.t < k.b && k.t < r.b; });
  }
  var declutterLabels = nextFrame(function() {
      if (!(gp.labelMarkers || []).length) { return; }
      var boxes = [];  // the map's boxes (title, panel, legend): no label hides under them
      var map = gp.map && gp.map.getContainer();
      var frame = map ? map.getBoundingClientRect() : null;
      (map ? map.querySelectorAll(".leaflet-control") : []).forEach(function(c) {
        var b = c.getBoundingClientRect();
        if (b.width && b.height) { boxes.push({l: b.left, t: b.top, r: b.right, b: b.bottom}); }
      });
      var kept = [];
      var byRank = gp.labelMarkers.slice().sort(function(a, b) { return a.rank - b.rank; });
      byRank.forEach(function(lm) {
        lm.box.style.visibility = "";
        var spots = [lm.home].concat(lm.spots);
        for (var k = 0; k < spots.length; k++) {
          if (!lm.marker.getLatLng().equals(spots[k])) { lm.marker.setLatLng(spots[k]); }
          var r = labelRect(lm);
          if (!r) { return; }
          var inView = !frame || (r.l >= frame.left && r.r <= frame.right &&
                                  r.t >= frame.top && r.b <= frame.bottom);
          if (k > 0 && !inView) { continue; }  // a spot off the screen helps no one
          if (meets(r, boxes)) { continue; }  // under a box: the next spot inside the district
          if (meets(r, kept)) {  // another label, the larger district's, is there
            if (k === 0) { break; }
            continue;
          }
          kept.push(r);
          return;
        }
        if (!lm.marker.getLatLng().equals(lm.home)) { lm.marker.setLatLng(lm.home); }
        lm.box.style.visibility = "hidden";
      });
  });

  gp.refresh = function() {
    var entry = gp.standards[gp.current];
    if (!entry) { updateLabels(); return; }
    applyMeasure(entry);
    updateLegend(entry);
    updateLabels();
  };

  gp.showStandard = function(sid) {
    if (!gp.standards[sid]) { return; }
    gp.order.forEach(function(other) {
      var g = gp.standards[other].group;
      if (other !== sid && gp.map.hasLayer(g)) { gp.map.removeLayer(g); }
    });
    gp.current = sid;
    var entry = gp.standards[sid];
    applyMeasure(entry);
    if (!gp.map.hasLayer(entry.group)) { gp.map.addLayer(entry.group); }
    gp.refresh();
    if (gp.onChange) { gp.onChange(); }
    fitLegend();  // the live-scenario box above may have changed height
  };

  /* The standard and measure shown travel with a link between a city's index map and its
     district pages (#std=…&m=…): a planner discussing bus stops on the index opened a page
     on 300米见绿. Read back only as names of what the page registered. */
  gp.viewHash = function() {
    return "#std=" + encodeURIComponent(gp.current || "") + "&m=" + encodeURIComponent(gp.measure);
  };
  gp.viewFromHash = function() {
    var view = {};
    (window.location.hash || "").replace(/^#/, "").split("&").forEach(function(part) {
      var kv = part.split("=");
      if (kv.length === 2) {
        try { view[kv[0]] = decodeURIComponent(kv[1]); } catch (e) { /* not ours */ }
      }
    });
    return view;
  };
  document.addEventListener("click", function(e) {
    var a = e.target && e.target.closest ?
      e.target.closest("a.gp-index-link, #geoplan-index a, #geoplan-back a") : null;
    if (!a || !gp.current || !a.getAttribute("href")) { return; }
    a.setAttribute("href", a.getAttribute("href").split("#")[0] + gp.viewHash());
  }, true);

  gp.setMeasure = function(m) {
    if (!gp.measures[m]) { return; }
    gp.measure = m;
    gp.refresh();
    if (gp.onChange) { gp.onChange(); }
    fitLegend();  // the live-scenario box above may have changed height
  };

  /* District names with the chosen standard's share under them; text only. */
  gp.districtLabels = function(map, items) {
    var group = L.layerGroup();
    gp.labelMarkers = items.map(function(it, i) {
      var box = document.createElement("div");
      box.className = "geoplan-label";
      var name = document.createElement("div");
      name.className = "gp-label-name";
      name.textContent = text(it.name);
      var share = document.createElement("div");
      share.className = "gp-label-share";
      box.appendChild(name);
      box.appendChild(share);
      var part = null;
      if (it.part) {  // a district partly inside the data: its share is of that part
        part = document.createElement("div");
        part.className = "gp-label-part";
        part.textContent = text(it.part);
        box.appendChild(part);
      }
      var icon = L.divIcon({html: box, className: "gp-label", iconSize: [140, it.part ? 50 : 36],
                            iconAnchor: [70, it.part ? 25 : 18]});
      var home = L.latLng(it.lat, it.lon);
      var marker = L.marker(home, {icon: icon, interactive: false, keyboard: false}).addTo(group);
      return {share: share, name: it.name, nameEl: name, partEl: part, box: box,
              marker: marker, home: home,
              spots: (it.spots || []).map(function(p) { return L.latLng(p[0], p[1]); }),
              rank: typeof it.rank === "number" ? it.rank : i};
    });
    map.on("moveend resize", declutterLabels);  // moveend ends every zoom too
    group.on("add", declutterLabels);
    return group;
  };
})();

/* Street names from the map's own data, shown only at closer zooms (orientation offline). */
(function() {
  "use strict";
  var gp = window.geoplan;
  var StreetNames = L.LayerGroup.extend({
    initialize: function(items, minZoom) {
      L.LayerGroup.prototype.initialize.call(this);
      this._items = items;
      this._minZoom = minZoom;
      this._built = false;
    },
    _build: function() {
      var self = this;
      this._items.forEach(function(it) {
        var span = document.createElement("span");
        span.className = it.place ? "gp-place-name" : "gp-street-name";
        span.textContent = String(it.name);
        span.style.transform = "translate(-50%, -50%) rotate(" + it.angle + "deg)";
        var icon = L.divIcon({html: span, className: "gp-street", iconSize: [0, 0]});
        self.addLayer(L.marker([it.lat, it.lon], {icon: icon, interactive: false,
                                                  keyboard: false}));
      });
      this._built = true;
    },
    _update: function() {
      if (!this._map) { return; }
      var close = this._map.getZoom() >= this._minZoom;
      // built at the first close zoom, not at load: the map opens at a city's zoom, where
      // they are hidden (280 markers, a fifth of the default map's nodes at its opening)
      if (close && !this._built) { this._build(); }
      L.DomUtil[close ? "removeClass" : "addClass"](this._map.getContainer(),
                                                     "gp-streets-hidden");
    },
    onAdd: function(map) {
      L.LayerGroup.prototype.onAdd.call(this, map);
      map.on("zoomend", this._update, this);
      this._update();
    },
    onRemove: function(map) {
      map.off("zoomend", this._update, this);
      L.LayerGroup.prototype.onRemove.call(this, map);
    }
  });
  gp.streetNames = function(items, minZoom) { return new StreetNames(items, minZoom); };
})();

/* A small locator: the districts' outlines and the part of them in view (SVG, no tiles). */
(function() {
  "use strict";
  var gp = window.geoplan;
  var NS = "http://www.w3.org/2000/svg";
  gp.locator = function(map, spec) {
    var size = spec.size || 130, pad = 6;
    var b = spec.bounds;  // [minLon, minLat, maxLon, maxLat]
    var k = Math.cos((b[1] + b[3]) / 2 * Math.PI / 180);
    var w = (b[2] - b[0]) * k, h = b[3] - b[1];
    var scale = (size - 2 * pad) / Math.max(w, h);
    var width = Math.round(w * scale + 2 * pad), height = Math.round(h * scale + 2 * pad);
    function xy(lon, lat) {
      return [pad + (lon - b[0]) * k * scale, pad + (b[3] - lat) * scale];
    }
    var ctl = L.control({position: "bottomright"});
    ctl.onAdd = function() {
      var div = L.DomUtil.create("div", "geoplan-box geoplan-locator");
      div.id = "geoplan-locator";
      var svg = document.createElementNS(NS, "svg");
      svg.setAttribute("width", width);
      svg.setAttribute("height", height);
      var mine = {};
      (spec.mine || []).forEach(function(i) { mine[i] = true; });
      spec.rings.forEach(function(ring, ringIndex) {
        var path = document.createElementNS(NS, "path");
        var d = "";
        for (var i = 0; i + 1 < ring.length; i += 2) {
          var p = xy(ring[i], ring[i + 1]);
          d += (i ? "L" : "M") + p[0].toFixed(1) + " " + p[1].toFixed(1);
        }
        path.setAttribute("d", d + "Z");
        path.setAttribute("class", "gp-locator-district" +
                          (mine[ringIndex] ? " gp-locator-mine" : ""));
        svg.appendChild(path);
      });
      var view = document.createElementNS(NS, "rect");
      view.setAttribute("class", "gp-locator-view");
      svg.appendChild(view);
      div.appendChild(svg);
      function update() {
        var vb = map.getBounds();
        var a = xy(Math.max(vb.getWest(), b[0] - 1), Math.min(vb.getNorth(), b[3] + 1));
        var c = xy(Math.min(vb.getEast(), b[2] + 1), Math.max(vb.getSouth(), b[1] - 1));
        var x0 = Math.max(0, a[0]), y0 = Math.max(0, a[1]);
        var x1 = Math.min(width, c[0]), y1 = Math.min(height, c[1]);
        view.setAttribute("x", x0.toFixed(1));
        view.setAttribute("y", y0.toFixed(1));
        view.setAttribute("width", Math.max(2, x1 - x0).toFixed(1));
        view.setAttribute("height", Math.max(2, y1 - y0).toFixed(1));
      }
      map.on("moveend zoomend resize", update);
      update();
      L.DomEvent.disableClickPropagation(div);
      return div;
    };
    ctl.addTo(map);
    return ctl;
  };
})();

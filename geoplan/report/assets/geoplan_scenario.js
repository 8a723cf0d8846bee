/* geoplan live scenario (挂图作战) on the meeting map: plain JS, no library but Leaflet.
 *
 * A planner places planned facilities of the chosen standard (click to place, drag to move,
 * click a facility to delete it); each district's straight-line share is recomputed here from
 * the uncovered residential land embedded by geoplan/report/_map_scenario.py:
 *   covered after = covered before + area(uncovered land ∩ union of the new buffers),
 * each buffer the 128-gon shapely draws, clipped exactly (Sutherland–Hodgman against the
 * convex polygon), overlapping buffers counted once (inclusion–exclusion). Coordinates are
 * metres in the analysis CRS from an origin; WGS 84 ↔ analysis CRS by fitted polynomials.
 * Text from data reaches the page through textContent only.
 */
(function() {
  "use strict";
  var gp = window.geoplan = window.geoplan || {};

  /* ---- geometry (no Leaflet needed; tested on its own) ---- */

  /* Polyline-encoded integer pairs (running sums) to a flat array of integers. */
  function decodeInts(s) {
    var out = [], i = 0, v = [0, 0], k = 0;
    while (i < s.length) {
      var r = 0, sh = 0, b;
      do { b = s.charCodeAt(i++) - 63; r += (b & 31) * Math.pow(2, sh); sh += 5; } while (b >= 32);
      v[k] += (r % 2) ? -(r + 1) / 2 : r / 2;
      out.push(v[k]);
      k = 1 - k;
    }
    return out;
  }

  /* Twice the signed area is avoided: the shoelace sum over a ring of [x, y] points. */
  function ringArea(ring) {
    var a = 0, n = ring.length;
    for (var i = 0; i < n; i++) {
      var p = ring[i], q = ring[(i + 1) % n];
      a += p[0] * q[1] - q[0] * p[1];
    }
    return a / 2;
  }

  /* The buffer of a point as shapely draws it: n vertices at angles 2πk/n (here anticlockwise). */
  function circle(cx, cy, r, n) {
    var pts = [];
    for (var k = 0; k < n; k++) {
      var t = 2 * Math.PI * k / n;
      pts.push([cx + r * Math.cos(t), cy + r * Math.sin(t)]);
    }
    return pts;
  }

  /* ring ∩ convex polygon (anticlockwise), Sutherland–Hodgman: exact for the area, whatever
     the shape of the ring (a ring that leaves and re-enters gives zero-width bridges). */
  function clip(ring, conv) {
    var out = ring;
    for (var e = 0; e < conv.length && out.length; e++) {
      var a = conv[e], b = conv[(e + 1) % conv.length];
      var ex = b[0] - a[0], ey = b[1] - a[1];
      var input = out;
      out = [];
      var n = input.length;
      for (var i = 0; i < n; i++) {
        var p = input[i], q = input[(i + 1) % n];
        var sp = ex * (p[1] - a[1]) - ey * (p[0] - a[0]);
        var sq = ex * (q[1] - a[1]) - ey * (q[0] - a[0]);
        if (sp >= 0) { out.push(p); }
        if ((sp >= 0) !== (sq >= 0)) {
          var t = sp / (sp - sq);
          out.push([p[0] + t * (q[0] - p[0]), p[1] + t * (q[1] - p[1])]);
        }
      }
    }
    return out;
  }

  function bbox(ring) {
    var b = [Infinity, Infinity, -Infinity, -Infinity];
    ring.forEach(function(p) {
      if (p[0] < b[0]) { b[0] = p[0]; } if (p[1] < b[1]) { b[1] = p[1]; }
      if (p[0] > b[2]) { b[2] = p[0]; } if (p[1] > b[3]) { b[3] = p[1]; }
    });
    return b;
  }

  function overlaps(a, b) { return a[0] <= b[2] && b[0] <= a[2] && a[1] <= b[3] && b[1] <= a[3]; }

  /* Area of a polygon's part clipped by a convex polygon: exterior minus holes. */
  function rings(polygon, conv) {
    var out = [];
    for (var k = 0; k < polygon.length; k++) {
      var c = clip(polygon[k], conv);
      if (k === 0 && c.length < 3) { return null; }
      out.push(c);
    }
    return out;
  }

  function polyArea(polygon) {
    var a = Math.abs(ringArea(polygon[0]));
    for (var k = 1; k < polygon.length; k++) {
      if (polygon[k].length >= 3) { a -= Math.abs(ringArea(polygon[k])); }
    }
    return a;
  }

  /* Area of polygon (rings: exterior, holes) ∩ union of convex polygons (each {pts, box}). */
  function unionArea(polygon, convs) {
    var box = bbox(polygon[0]), total = 0;
    function rec(cur, curBox, start, sign) {
      for (var j = start; j < convs.length; j++) {
        if (!overlaps(curBox, convs[j].box)) { continue; }
        var next = rings(cur, convs[j].pts);
        if (!next) { continue; }
        var a = polyArea(next);
        if (!(a > 0)) { continue; }
        total += sign * a;
        rec(next, bbox(next[0]), j + 1, -sign);
      }
    }
    rec(polygon, box, 0, 1);
    return total;
  }

  function convex(pts) { return {pts: pts, box: bbox(pts)}; }

  /* Monomials u^(i-j) v^j, i = 0…deg, j = 0…i (the order numpy fitted them in). */
  function poly(c, u, v, deg) {
    var s = 0, k = 0;
    for (var i = 0; i <= deg; i++) {
      for (var j = 0; j <= i; j++) { s += c[k++] * Math.pow(u, i - j) * Math.pow(v, j); }
    }
    return s;
  }

  /* GCJ-02 from WGS 84 by the published formula (Krasovsky ellipsoid); unchanged outside
     the rough China box, as the formula defines. */
  function gcj02(lon, lat) {
    if (!(lon >= 72.004 && lon <= 137.8347 && lat >= 0.8293 && lat <= 55.8271)) {
      return [lon, lat];
    }
    var A = 6378245.0, F = 1 / 298.3, EE = F * (2 - F), PI = Math.PI;  // Krasovsky 1940
    var x = lon - 105.0, y = lat - 35.0;
    var wig = 20 * Math.sin(6 * PI * x) + 20 * Math.sin(2 * PI * x);
    var north = -100 + 2 * x + 3 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * Math.sqrt(Math.abs(x)) +
      (2 / 3) * (wig + 20 * Math.sin(PI * y) + 40 * Math.sin(PI * y / 3) +
                 160 * Math.sin(PI * y / 12) + 320 * Math.sin(PI * y / 30));
    var east = 300 + x + 2 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * Math.sqrt(Math.abs(x)) +
      (2 / 3) * (wig + 20 * Math.sin(PI * x) + 40 * Math.sin(PI * x / 3) +
                 150 * Math.sin(PI * x / 12) + 300 * Math.sin(PI * x / 30));
    var phi = lat * PI / 180, s = Math.sin(phi), w2 = 1 - EE * s * s, w = Math.sqrt(w2);
    return [lon + east * w / (A * Math.cos(phi)) * 180 / PI,
            lat + north * (w2 * w) / (A * (1 - EE)) * 180 / PI];
  }

  gp.liveGeom = {decodeInts: decodeInts, ringArea: ringArea, circle: circle, clip: clip,
                 unionArea: unionArea, convex: convex, gcj02: gcj02, poly: poly};

  /* ---- words ---- */

  var WORDS = {
    zh: {title: "现场规划（挂图作战）", mode: "放置规划设施（点击地图）",
         help: "点击地图放置，拖动移动，点击设施删除。",
         start: "勾选上面的方框，在地图上点击放置规划设施，各区县直线覆盖率即时更新。",
         standard: "标准", radius: "半径", m: "米", district: "区县", before: "现状",
         after: "规划后", uncovered: "未覆盖居住用地（公顷）", export: "导出 CSV",
         clear: "清除", placed: "已放置 {n}", none: "尚未放置规划设施。",
         measure: "直线覆盖率（官方口径），在本页即时计算；步行与人口覆盖率请把导出的 CSV 交给 " +
                  "geoplan scenario 配置文件 --planned 文件.csv。",
         merge: "与现有设施相距很近的规划点（公交站 30 米、学校 40 米内）在 geoplan 中会合并。",
         facility: "规划设施", remove: "点击删除，拖动移动", about: "说明",
         keyGap: "仍未覆盖的居住用地（直线）", keyNew: "新覆盖",
         skip: {street: "此标准的需求是街道长度（公厕），不在页面中推演；请用 geoplan scenario。",
                basket: "此标准是生活圈组合，不在页面中推演；请用 geoplan scenario。",
                radius_rule: "此标准的半径按公园面积而定，不在页面中推演；请用 geoplan scenario。",
                area_facility: "此标准的设施是面（公园、绿地），规划时需要边界：请在文件中画出并用 " +
                               "geoplan scenario。"},
         noStandard: "此标准不能在页面中推演。"},
    en: {title: "Live scenario (planned facilities)", mode: "Place planned facilities (click)",
         help: "Click the map to place, drag to move, click a facility to delete it.",
         start: "Tick the box above and click the map to place planned facilities; each " +
                "district's straight-line share updates at once.",
         standard: "Standard", radius: "radius", m: "m", district: "District", before: "Now",
         after: "Planned", uncovered: "Uncovered residential land (ha)", export: "Export CSV",
         clear: "Clear", placed: "{n} placed", none: "No planned facility placed yet.",
         measure: "Straight-line share (the official measure), computed in this page; for the " +
                  "walking and population measures give the exported CSV to geoplan scenario " +
                  "CONFIG --planned FILE.csv.",
         merge: "A planned point very close to an existing facility (bus stops 30 m, schools " +
                "40 m) is merged with it by geoplan.",
         facility: "planned facility", remove: "click to delete, drag to move", about: "About",
         keyGap: "residential land still uncovered (straight line)", keyNew: "newly covered",
         skip: {street: "This standard's demand is street length (toilets): not computed in the " +
                        "page; use geoplan scenario.",
                basket: "A life-circle basket: not computed in the page; use geoplan scenario.",
                radius_rule: "The radius depends on park size: not computed in the page; use " +
                             "geoplan scenario.",
                area_facility: "Its facilities are areas (parks, green space): a planned one " +
                               "needs its outline; draw it in a file and use geoplan scenario."},
         noStandard: "This standard cannot be computed in the page."}
  };

  var CSS = [
    ".geoplan-live { max-width: 300px; font-size: 12px; }",
    ".geoplan-live h2 { font-size: 14px; margin: 0 0 4px 0; cursor: pointer; }",
    ".geoplan-live h2::after { content: ' \u25be'; color: #777; font-weight: normal; }",
    ".geoplan-live.gp-folded h2 { margin: 0; }",
    ".geoplan-live.gp-folded h2::after { content: ' \u25b8'; }",
    ".geoplan-live.gp-folded > :not(h2) { display: none; }",
    ".geoplan-live table { border-collapse: collapse; margin: 4px 0; }",
    ".geoplan-live th, .geoplan-live td { padding: 1px 5px; text-align: right; }",
    ".geoplan-live th:first-child, .geoplan-live td:first-child { text-align: left; }",
    ".geoplan-live .gp-live-up { color: #1a7f37; font-weight: bold; }",
    ".geoplan-live p { margin: 3px 0; }",
    ".geoplan-live .gp-live-note { color: #555; font-size: 11px; }",
    ".geoplan-live button { margin: 2px 4px 0 0; }",
    ".geoplan-live details p { margin: 2px 0; }",
    ".geoplan-live summary { cursor: pointer; }",
    ".geoplan-live .gp-live-sw { display: inline-block; width: 14px; height: 10px;",
    "  margin-right: 3px; vertical-align: middle; border: 1px solid #555; }",
    ".geoplan-live .gp-live-sw-gap { background: #fff; border: 2px solid #67001f; }",
    ".geoplan-live .gp-live-sw-new { background: rgba(26,152,80,0.75); }",
    ".gp-placing, .gp-placing .leaflet-interactive { cursor: crosshair !important; }",
    ".gp-live-open .geoplan-legend { max-height: 26vh; overflow-y: auto; }",
    ".gp-placing .leaflet-overlay-pane .leaflet-interactive { pointer-events: none; }",
    ".gp-live-marker { width: 16px; height: 16px; margin: -8px 0 0 -8px; border-radius: 50%;",
    "  background: #6a3d9a; border: 2px solid #fff; box-shadow: 0 0 0 1px #333; }"
  ].join("\n");

  function el(tag, cls, parent, txt) {
    var e = document.createElement(tag);
    if (cls) { e.className = cls; }
    if (txt !== undefined) { e.textContent = String(txt); }
    if (parent) { parent.appendChild(e); }
    return e;
  }

  // null: a district with nothing to measure (no homes), neither 0 % nor 100 %
  function pct(v) { return v === null ? "—" : (100 * v).toFixed(1) + "%"; }

  function csvField(v) {
    var s = v === null || v === undefined ? "" : String(v);
    if (typeof v === "string" && /^[=+\-@\t\r]/.test(s)) { s = "'" + s; }
    return /[",\r\n]/.test(s) ? "\"" + s.replace(/"/g, "\"\"") + "\"" : s;
  }

  /* ---- the panel ---- */

  gp.liveScenario = function(map, spec) {
    var w = WORDS[spec.lang] || WORDS.zh;
    if (spec.ofScenario) {  // on a scenario's map the figure before placing is the scenario's
      w = Object.assign({}, w, {before: spec.lang === "en" ? "Scenario" : "本情景"});
    }
    if (w === WORDS.zh && spec.unitWord && spec.unitWord !== "区县") {
      // the districts as the config calls them (区县, 街道, 社区, 网格)
      w = Object.assign({}, w, {district: spec.unitWord,
                                start: w.start.split("区县").join(spec.unitWord)});
    }
    var P = spec.proj, unit = spec.unit, segs = spec.segs;
    var byId = {}, cache = {};
    spec.standards.forEach(function(s) { byId[s.id] = s; });
    var placed = [];   // {sid, marker}
    var placing = false, aboutOpen = false;
    var style = document.createElement("style");
    style.textContent = CSS;
    document.head.appendChild(style);

    /* metres from the origin (the fit gives millimetres) */
    function toXY(lon, lat) {
      var u = (lon - P.lon0) * 10, v = (lat - P.lat0) * 10;
      return [poly(P.fx, u, v, P.deg) / 1000, poly(P.fy, u, v, P.deg) / 1000];
    }
    /* [lat, lon] for Leaflet (the fit gives microdegrees) */
    function toLatLng(p) {
      var u = p[0] / 1000, v = p[1] / 1000;
      return [P.lat0 + poly(P.iy, u, v, P.deg) / 1e6, P.lon0 + poly(P.ix, u, v, P.deg) / 1e6];
    }

    /* the standard's gap polygons in metres from the origin, decoded once */
    function gaps(s) {
      if (cache[s.id]) { return cache[s.id]; }
      cache[s.id] = s.districts.map(function(d) {
        return d.gaps.map(function(rs) {
          return rs.map(function(enc) {
            var f = decodeInts(enc), ring = [];
            for (var i = 0; i + 1 < f.length; i += 2) { ring.push([f[i] * unit, f[i + 1] * unit]); }
            return ring;
          });
        });
      });
      return cache[s.id];
    }

    function current() { return byId[gp.current] || null; }

    function circlesOf(sid) {
      var s = byId[sid];
      return placed.filter(function(p) { return p.sid === sid; }).map(function(p) {
        var ll = p.marker.getLatLng(), c = toXY(ll.lng, ll.lat);
        return convex(circle(c[0], c[1], s.radius, segs));
      });
    }

    /* Shares of standard sid with its placed facilities: one row per district. */
    function shares(sid) {
      var s = byId[sid];
      if (!s) { return []; }
      var convs = circlesOf(sid), g = gaps(s);
      return s.districts.map(function(d, i) {
        var added = 0;
        if (convs.length && d.total > 0) {
          g[i].forEach(function(polygon) { added += unionArea(polygon, convs); });
        }
        var before = d.total > 0 ? d.covered / d.total : null;
        var covered = d.covered + added;
        var after = d.total > 0 ? Math.min(1, covered / d.total) : null;
        return {name: d.name, before: before, after: after, total: d.total,
                uncovered_m2: d.total > 0 ? Math.max(0, d.total - covered) : null,
                added_m2: added};
      });
    }

    /* ---- drawing ---- */
    var drawn = L.layerGroup().addTo(map);
    var markers = L.layerGroup().addTo(map);

    function syncMarkers() {
      var s = current();
      placed.forEach(function(p) {
        var on = !!s && p.sid === s.id;
        if (on && !markers.hasLayer(p.marker)) { markers.addLayer(p.marker); }
        if (!on && markers.hasLayer(p.marker)) { markers.removeLayer(p.marker); }
      });
      markers.eachLayer(function(m) {
        if (!placed.some(function(p) { return p.marker === m; })) { markers.removeLayer(m); }
      });
    }

    function redraw() {
      drawn.clearLayers();
      var s = current();
      if (!s || !placing && !placed.some(function(p) { return p.sid === s.id; })) { return; }
      var convs = circlesOf(s.id), g = gaps(s);
      g.forEach(function(polys) {
        polys.forEach(function(polygon) {
          L.polygon(polygon.map(function(r) { return r.map(toLatLng); }),
                    {className: "gp-live-gap", color: "#67001f", weight: 1.5, fill: false,
                     interactive: false}).addTo(drawn);
          convs.forEach(function(c) {
            var part = rings(polygon, c.pts);
            if (!part || !(polyArea(part) > 0)) { return; }
            L.polygon(part.filter(function(r) { return r.length >= 3; }).map(function(r) {
              return r.map(toLatLng);
            }), {className: "gp-live-new", stroke: false, fillColor: "#1a9850",
                 fillOpacity: 0.75, interactive: false}).addTo(drawn);
          });
        });
      });
      convs.forEach(function(c) {
        L.polygon(c.pts.map(toLatLng), {className: "gp-live-circle", color: "#6a3d9a",
                  weight: 1.5, dashArray: "5 4", fill: false, interactive: false}).addTo(drawn);
      });
    }

    /* ---- the control ---- */
    var box, body;
    var ctl = L.control({position: "topleft"});
    ctl.onAdd = function() {
      box = L.DomUtil.create("div", "geoplan-box geoplan-live");
      box.id = "geoplan-live";
      var heading = el("h2", "", box, w.title);
      foldable(heading);
      var label = el("label", "gp-live-mode", box);
      var input = el("input", "", label);
      input.type = "checkbox";
      input.id = "geoplan-live-mode";
      el("span", "", label, " " + w.mode);
      L.DomEvent.on(input, "change", function() { setPlacing(input.checked); });
      body = el("div", "gp-live-body", box);
      L.DomEvent.disableClickPropagation(box);
      L.DomEvent.disableScrollPropagation(box);
      return box;
    };
    ctl.addTo(map);

    /* The box folds to its heading (a tap on it), and starts folded on a phone, where its
       table would cover most of the map; placed sites stay placed while it is folded. */
    function foldable(heading) {
      heading.setAttribute("role", "button");
      heading.setAttribute("tabindex", "0");
      function fold(folded) {
        L.DomUtil[folded ? "addClass" : "removeClass"](box, "gp-folded");
        heading.setAttribute("aria-expanded", folded ? "false" : "true");
      }
      function toggle() { fold(!L.DomUtil.hasClass(box, "gp-folded")); }
      L.DomEvent.on(heading, "click", toggle);
      L.DomEvent.on(heading, "keydown", function(e) {
        if (e.key === "Enter" || e.key === " ") { L.DomEvent.preventDefault(e); toggle(); }
      });
      fold(window.innerWidth < 600);
    }

    function setPlacing(on) {
      placing = !!on;
      L.DomUtil[placing ? "addClass" : "removeClass"](map.getContainer(), "gp-placing");
      update();
    }

    function update() {
      if (!body) { return; }
      body.textContent = "";
      var s = current();
      if (!s) {
        L.DomUtil.removeClass(map.getContainer(), "gp-live-open");
        var why = spec.skipped[gp.current];
        el("p", "gp-live-note", body, why ? w.skip[why] : w.noStandard);
        syncMarkers();
        redraw();
        return;
      }
      el("p", "", body, w.standard + (spec.lang === "en" ? ": " : "：") + s.name + " · " + w.radius +
         " " + s.radius + " " + w.m);
      var open = placing || placed.length > 0;
      L.DomUtil[open ? "addClass" : "removeClass"](map.getContainer(), "gp-live-open");
      if (!open) {  // folded: the legend keeps its room until the planner starts
        el("p", "gp-live-note", body, w.start);
        syncMarkers();
        redraw();
        return;
      }
      if (placing) { el("p", "gp-live-note", body, w.help); }
      var mine = placed.filter(function(p) { return p.sid === s.id; });
      el("p", "", body, mine.length ? w.placed.replace("{n}", mine.length) : w.none);
      var table = el("table", "gp-live-table", body);
      var head = table.insertRow();
      [w.district, w.before, w.after, w.uncovered].forEach(function(t) { el("th", "", head, t); });
      var rows = shares(s.id);
      if (gp.refresh) { gp.refresh(); }  // the labels as they are, then the planned ones
      labels(rows, mine.length > 0);
      rows.forEach(function(r) {
        var tr = table.insertRow();
        tr.dataset.district = r.name;
        tr.dataset.before = r.before === null ? "" : String(r.before);
        tr.dataset.after = r.after === null ? "" : String(r.after);
        el("td", "", tr, r.name);
        el("td", "", tr, pct(r.before));
        el("td", r.after !== null && r.after > r.before + 5e-4 ? "gp-live-up" : "", tr,
           pct(r.after));
        el("td", "", tr, r.uncovered_m2 === null ? "—" : (r.uncovered_m2 / 1e4).toFixed(1));
      });
      var keyRow = el("p", "gp-live-key", body);
      el("span", "gp-live-sw gp-live-sw-gap", keyRow);
      el("span", "", keyRow, w.keyGap + "  ");
      el("span", "gp-live-sw gp-live-sw-new", keyRow);
      el("span", "", keyRow, w.keyNew);
      var exp = el("button", "gp-live-export", body, w.export);
      exp.type = "button";
      exp.disabled = placed.length === 0;
      L.DomEvent.on(exp, "click", exportCsv);
      var clr = el("button", "gp-live-clear", body, w.clear);
      clr.type = "button";
      L.DomEvent.on(clr, "click", function() { placed = []; update(); });
      var more = el("details", "gp-live-note", body);
      more.open = aboutOpen;
      more.addEventListener("toggle", function() { aboutOpen = more.open; });
      el("summary", "", more, w.about);
      el("p", "", more, w.measure);
      el("p", "", more, w.merge);
      syncMarkers();
      redraw();
    }

    function add(lat, lon, sid) {
      var s = byId[sid || gp.current];
      if (!s) { return null; }
      var icon = L.divIcon({className: "gp-live-marker", iconSize: null, html: ""});
      var marker = L.marker([lat, lon], {icon: icon, draggable: true, keyboard: false,
                                          title: w.facility + " · " + w.remove});
      var item = {sid: s.id, marker: marker};
      marker.on("click", function() {
        placed = placed.filter(function(p) { return p !== item; });
        update();
      });
      marker.on("drag", redraw);
      marker.on("dragend", update);
      placed.push(item);
      update();
      return item;
    }

    map.on("click", function(e) {
      if (placing && current()) { add(e.latlng.lat, e.latlng.lng); }
    });

    function exportCsv() {
      var keys = [];
      spec.standards.forEach(function(s) {
        Object.keys(s.attrs).forEach(function(k) { if (keys.indexOf(k) < 0) { keys.push(k); } });
      });
      var cols = ["standard", "standard_name", "layer", "name", "radius_m", "lon_wgs84",
                  "lat_wgs84", "lon_gcj02", "lat_gcj02"].concat(keys);
      var lines = [cols.join(",")], count = {};
      placed.forEach(function(p) {
        var s = byId[p.sid], ll = p.marker.getLatLng(), g = gcj02(ll.lng, ll.lat);
        count[p.sid] = (count[p.sid] || 0) + 1;
        var row = [s.id, s.name, s.layer, s.name + " " + w.facility + " " + count[p.sid],
                   s.radius, String(ll.lng), String(ll.lat), g[0].toFixed(8), g[1].toFixed(8)];
        keys.forEach(function(k) { row.push(k in s.attrs ? s.attrs[k] : ""); });
        lines.push(row.map(csvField).join(","));
      });
      var blob = new Blob(["\ufeff" + lines.join("\r\n") + "\r\n"],
                          {type: "text/csv;charset=utf-8"});
      var a = document.createElement("a");
      a.href = URL.createObjectURL(blob);
      a.download = "planned_facilities.csv";
      document.body.appendChild(a);
      a.click();
      setTimeout(function() { URL.revokeObjectURL(a.href); a.remove(); }, 1000);
    }

    /* the district labels: "now → planned" while the straight-line measure is shown and
       facilities are placed; every district then says its own figure now, so that on a
       scenario's map (labels "before → after" of the scenario) no label mixes the two */
    function labels(rows, any) {
      if (!any) { return; }
      if (gp.measure !== "buffer") {  // not placed live: the figure now, without the arrow
        (gp.labelMarkers || []).forEach(function(lm) {  // of a scenario's map
          var text = lm.share.textContent, at = text.lastIndexOf(" → ");
          if (at >= 0) { lm.share.textContent = text.slice(at + 3); }
        });
        return;
      }
      var byName = {};
      rows.forEach(function(r) { byName[r.name] = r; });
      (gp.labelMarkers || []).forEach(function(lm) {
        var r = byName[lm.name];
        if (!r || r.before === null) { return; }
        lm.share.textContent = r.after !== null && r.after > r.before
          ? pct(r.before) + " → " + pct(r.after) : pct(r.before);
        lm.share.style.display = "";
      });
    }

    /* follow the standard and the measure chosen in the layer panel */
    var show = gp.showStandard, measure = gp.setMeasure;
    if (show) {
      gp.showStandard = function(sid) { show(sid); update(); };
    }
    if (measure) {
      gp.setMeasure = function(m) { measure(m); update(); };
    }
    gp.live = {add: add, shares: shares, update: update, setPlacing: setPlacing,
               toXY: toXY, placed: function() { return placed; }, exportCsv: exportCsv};
    update();
  };
})();

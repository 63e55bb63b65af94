// qed tour: draws the interactive figures. Every frame was computed by qed in Python and
// is embedded as JSON beside its figure; this script only picks the frame the controls
// select and draws it as SVG. No library, no network.
(function () {
  "use strict";
  var NS = "http://www.w3.org/2000/svg";

  function el(tag, attrs, parent, text) {
    var e = document.createElementNS(NS, tag);
    for (var k in attrs) if (attrs[k] !== null && attrs[k] !== undefined) e.setAttribute(k, attrs[k]);
    if (text !== undefined) e.textContent = text;
    if (parent) parent.appendChild(e);
    return e;
  }

  function niceStep(span, n) {
    var raw = span / Math.max(n, 1), mag = Math.pow(10, Math.floor(Math.log10(raw)));
    var f = raw / mag;
    return (f < 1.5 ? 1 : f < 3 ? 2 : f < 7 ? 5 : 10) * mag;
  }

  function fmt(v) {
    if (v === 0) return "0";
    var a = Math.abs(v);
    if (a >= 1e4 || a < 1e-3) return v.toExponential(0).replace("e+", "e");
    return String(parseFloat(v.toPrecision(4)));
  }

  function ticks(lo, hi, log) {
    var out = [];
    if (log) {
      var a = Math.ceil(lo - 1e-9), b = Math.floor(hi + 1e-9), step = Math.max(1, Math.ceil((b - a + 1) / 6));
      for (var p = a; p <= b; p += step) out.push({ at: p, label: "1e" + p });
      return out;
    }
    var s = niceStep(hi - lo, 5);
    for (var v = Math.ceil(lo / s) * s; v <= hi + s * 1e-9; v += s) out.push({ at: v, label: fmt(Math.abs(v) < s * 1e-9 ? 0 : v) });
    return out;
  }

  function extent(series, axis, log) {
    var lo = Infinity, hi = -Infinity;
    series.forEach(function (s) {
      var vals = s.type === "vline" ? (axis === "x" ? [s.at] : []) : s.type === "hline" ? (axis === "y" ? [s.at] : []) : s[axis];
      vals.forEach(function (v) {
        if (v === null || !isFinite(v) || (log && v <= 0)) return;
        var w = log ? Math.log10(v) : v;
        if (w < lo) lo = w;
        if (w > hi) hi = w;
      });
    });
    if (!isFinite(lo)) return [0, 1];
    if (hi - lo < 1e-12) { lo -= 0.5; hi += 0.5; }
    var pad = log ? 0 : 0.04 * (hi - lo);
    return [lo - pad, hi + pad];
  }

  function drawPanel(svg, panel, series, box, id) {
    var g = el("g", { transform: "translate(" + box.x + "," + box.y + ")" }, svg);
    var m = { l: 58, r: 10, t: 22, b: 40 }, w = box.w - m.l - m.r, h = box.h - m.t - m.b;
    var lx = panel.logx, ly = panel.logy;
    var xr = panel.xlim ? panel.xlim.map(function (v) { return lx ? Math.log10(v) : v; }) : extent(series, "x", lx);
    var yr = panel.ylim ? panel.ylim.map(function (v) { return ly ? Math.log10(v) : v; }) : extent(series, "y", ly);
    function X(v) { return m.l + (((lx ? Math.log10(v) : v) - xr[0]) / (xr[1] - xr[0])) * w; }
    function Y(v) { return m.t + h - (((ly ? Math.log10(v) : v) - yr[0]) / (yr[1] - yr[0])) * h; }
    el("text", { x: m.l + w / 2, y: 14, "text-anchor": "middle", class: "ptitle" }, g, panel.title);
    ticks(xr[0], xr[1], lx).forEach(function (t) {
      var px = m.l + ((t.at - xr[0]) / (xr[1] - xr[0])) * w;
      el("line", { x1: px, x2: px, y1: m.t, y2: m.t + h, class: "grid" }, g);
      el("text", { x: px, y: m.t + h + 14, "text-anchor": "middle", class: "tick" }, g, t.label);
    });
    ticks(yr[0], yr[1], ly).forEach(function (t) {
      var py = m.t + h - ((t.at - yr[0]) / (yr[1] - yr[0])) * h;
      el("line", { x1: m.l, x2: m.l + w, y1: py, y2: py, class: "grid" }, g);
      el("text", { x: m.l - 4, y: py + 3, "text-anchor": "end", class: "tick" }, g, t.label);
    });
    el("rect", { x: m.l, y: m.t, width: w, height: h, class: "frame" }, g);
    el("text", { x: m.l + w / 2, y: box.h - 6, "text-anchor": "middle", class: "axlabel" }, g, panel.xlabel);
    el("text", { x: 12, y: m.t + h / 2, "text-anchor": "middle", class: "axlabel", transform: "rotate(-90 12 " + (m.t + h / 2) + ")" }, g, panel.ylabel);
    var clip = el("clipPath", { id: id }, g);
    el("rect", { x: m.l, y: m.t, width: w, height: h }, clip);
    var plot = el("g", { "clip-path": "url(#" + id + ")" }, g);
    var legend = [];
    series.forEach(function (s) {
      var dash = s.dash ? "5 4" : null;
      if (s.type === "line") {
        var d = "", pen = false;
        for (var i = 0; i < s.x.length; i++) {
          var x = s.x[i], y = s.y[i];
          var ok = x !== null && y !== null && (!lx || x > 0) && (!ly || y > 0);
          if (!ok) { pen = false; continue; }
          var px = X(x), py = Y(y);
          py = Math.max(-1e4, Math.min(1e4, py));
          d += (pen ? "L" : "M") + px.toFixed(1) + "," + py.toFixed(1);
          pen = true;
        }
        el("path", { d: d, fill: "none", stroke: s.color, "stroke-width": s.width, "stroke-dasharray": dash, "stroke-linejoin": "round" }, plot);
      } else if (s.type === "points") {
        for (var j = 0; j < s.x.length; j++) {
          if (s.x[j] === null || s.y[j] === null) continue;
          el("circle", { cx: X(s.x[j]).toFixed(1), cy: Y(s.y[j]).toFixed(1), r: s.size, fill: s.hollow ? "none" : s.color, stroke: s.hollow ? s.color : "#fff", "stroke-width": s.hollow ? 1.5 : 0.5, "fill-opacity": 0.85 }, plot);
        }
      } else if (s.type === "vline" && s.at !== null) {
        el("line", { x1: X(s.at), x2: X(s.at), y1: m.t, y2: m.t + h, stroke: s.color, "stroke-width": 1.5, "stroke-dasharray": dash }, plot);
      } else if (s.type === "hline" && s.at !== null) {
        el("line", { x1: m.l, x2: m.l + w, y1: Y(s.at), y2: Y(s.at), stroke: s.color, "stroke-width": 1.2, "stroke-dasharray": dash }, plot);
      }
      if (s.label) legend.push(s);
    });
    if (!legend.length) return;
    var widest = 0;
    legend.forEach(function (s) {
      var w = 0;  // wide (CJK) characters take about twice the width of Latin ones
      for (var c = 0; c < s.label.length; c++) w += s.label.charCodeAt(c) > 0x2e80 ? 10.5 : 5.9;
      widest = Math.max(widest, w);
    });
    var right = m.l + w - 6, top = m.t + 6;
    var lg = el("g", {}, g);
    el("rect", { x: right - widest - 30, y: top - 2, width: widest + 34, height: legend.length * 14 + 6, class: "legend" }, lg);
    legend.forEach(function (s, k) {
      var yy = top + 8 + k * 14, mx = right - widest - 16;
      if (s.type === "points") el("circle", { cx: mx, cy: yy, r: 3.5, fill: s.hollow ? "none" : s.color, stroke: s.color }, lg);
      else el("line", { x1: mx - 9, x2: mx + 9, y1: yy, y2: yy, stroke: s.color, "stroke-width": 2, "stroke-dasharray": s.dash ? "4 3" : null }, lg);
      el("text", { x: mx + 13, y: yy + 3.5, class: "legtext" }, lg, s.label);
    });
  }

  function setup(root, n) {
    var spec = JSON.parse(root.querySelector("script.frames").textContent);
    function unpack(s) {
      // long coordinate arrays that recur are stored once, in spec.shared
      var o = {};
      for (var k in s) o[k] = s[k];
      if (typeof o.x === "number") o.x = spec.shared[o.x];
      if (typeof o.y === "number") o.y = spec.shared[o.y];
      return o;
    }
    spec.panels.forEach(function (p) { p.static = p.static.map(unpack); });
    spec.frames.forEach(function (f) { f.series = f.series.map(function (ss) { return ss.map(unpack); }); });
    var state = spec.controls.map(function (c) { return c.initial; });
    var controls = root.querySelector(".controls"), canvas = root.querySelector(".canvas"), note = root.querySelector(".frame-text");
    var np = spec.panels.length, pw = np === 1 ? 720 : np === 2 ? 470 : 380, ph = np === 1 ? 340 : 320;
    var svg = el("svg", { viewBox: "0 0 " + pw * np + " " + ph, class: "plot", role: "img" }, null);
    svg.style.maxWidth = (np === 1 ? 760 : 1060) + "px";
    canvas.appendChild(svg);
    function draw() {
      var idx = 0;
      spec.controls.forEach(function (c, i) { idx = idx * c.names.length + state[i]; });
      var frame = spec.frames[spec.table[idx]];
      while (svg.firstChild) svg.removeChild(svg.firstChild);
      spec.panels.forEach(function (p, k) {
        var lim = frame.limits && frame.limits[k];
        if (lim) {
          var q = {};
          for (var key in p) q[key] = p[key];
          if (lim.xlim) q.xlim = lim.xlim;
          if (lim.ylim) q.ylim = lim.ylim;
          p = q;
        }
        drawPanel(svg, p, p.static.concat(frame.series[k]), { x: k * pw, y: 0, w: pw, h: ph }, "clip-" + n + "-" + k);
      });
      note.textContent = frame.text || "";
      root.setAttribute("data-frame", String(idx));
    }
    spec.controls.forEach(function (c, i) {
      var wrap = document.createElement("label");
      wrap.className = "control";
      var name = document.createElement("span");
      name.className = "cname";
      name.textContent = c.label;
      wrap.appendChild(name);
      var out = document.createElement("output");
      var input;
      if (c.kind === "select") {
        input = document.createElement("select");
        c.names.forEach(function (nm, j) {
          var o = document.createElement("option");
          o.value = String(j);
          o.textContent = nm;
          input.appendChild(o);
        });
      } else {
        input = document.createElement("input");
        input.type = "range";
        input.min = "0";
        input.max = String(c.names.length - 1);
        input.step = "1";
      }
      input.value = String(c.initial);
      out.textContent = c.kind === "select" ? "" : c.names[c.initial];
      input.addEventListener("input", function () {
        state[i] = parseInt(input.value, 10);
        if (c.kind !== "select") out.textContent = c.names[state[i]];
        draw();
      });
      input.addEventListener("change", function () {
        state[i] = parseInt(input.value, 10);
        if (c.kind !== "select") out.textContent = c.names[state[i]];
        draw();
      });
      wrap.appendChild(input);
      wrap.appendChild(out);
      controls.appendChild(wrap);
    });
    draw();
  }

  function start() {
    var all = document.querySelectorAll("div.explorable");
    for (var n = 0; n < all.length; n++) {
      try { setup(all[n], n); } catch (e) {
        all[n].querySelector(".frame-text").textContent = "figure error: " + e;
      }
    }
    document.documentElement.setAttribute("data-explorables", String(all.length));
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();

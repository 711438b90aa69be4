/* flame.js — the interactive flame graph of allocation sites, drawn on a canvas.
 *
 * Hand-written rather than taken from a library: the layout is a few lines, and a canvas with
 * aggregation of sub-pixel frames stays fast at 100k stacks where one SVG/DOM node per frame
 * (d3-style) does not. The tree is built once per orientation with all four metrics summed per
 * node, so switching metric only re-lays out what is visible.
 *   normal:   root = outermost frame (main), children = callees; width = memory below that call
 *   inverted: root = innermost frame (who called malloc), children = callers
 * Mouse: hover for details, click to zoom, click an ancestor bar or a breadcrumb to zoom out.
 * Keyboard (canvas focused): arrows move the selection, Enter zooms, Escape resets. */
"use strict";
(function () {
var MS = window.MS;
var ROW = 20;          /* px per stack level */
var MIN_W = 2;         /* frames narrower than this are merged into one grey "small frames" bar */
MS.METRICS = [
  {key: "bytes", label: "Live bytes", fmt: MS.fmtBytes},
  {key: "peak_bytes", label: "Bytes live at peak", fmt: MS.fmtBytes},
  {key: "total_bytes", label: "Total bytes allocated", fmt: MS.fmtBytes},
  {key: "total_count", label: "Allocations (count)", fmt: MS.fmtCount}
];
/* The fifth measure, growth in the time range selected on the timeline (views.js), exists only
 * when the dump has per-site timeline figures; its values are set by setRangeGrowth. */
MS.RANGE_METRIC = 4;
MS.RANGE_METRIC_DEF = {key: "range_growth", label: "Growth in selected range", fmt: MS.fmtBytes};
function nMetrics() { return MS.METRICS.length; }
function zeros() { var v = new Array(nMetrics()); for (var i = 0; i < v.length; i++) v[i] = 0; return v; }

var NO_KIDS = Object.freeze([]);   /* shared by the leaves (about half the nodes) */
function Node(name, frame, parent, kid) {
  this.name = name; this.frame = frame; this.parent = parent; this.kid = kid;
  this.children = NO_KIDS; this.map = null; this.v = zeros(); this.depth = parent ? parent.depth + 1 : 0;
  this.match = false; this.manyLines = false;
}

/* Frames merge in the graph when they name the same function in the same file (or module):
 * every distinct such key gets a small integer, so building the tree compares numbers. In the
 * compact form a frame object is shared by every stack that has it, so its key id is computed
 * once per distinct frame and kept on it. */
var KEY_IDS = new Map();   /* one numbering for the page: frames keep their id on them */
function keyOf(f) {
  var obj = !!f && typeof f === "object";   /* hand-made data may hold anything */
  if (obj && f._kid !== undefined) return f._kid;
  var key = obj ? MS.frameName(f) + "\u0000" + (f.file ? f.file : f.module || "") : "?";
  var id = KEY_IDS.get(key);
  if (id === undefined) { id = KEY_IDS.size; KEY_IDS.set(key, id); }
  if (obj && !Object.isFrozen(f)) f._kid = id;
  return id;
}

/* Frames outside main() (_start, __libc_start_main...) are the same for every stack of the
 * main thread and only push the interesting part down: the normal view starts at main. */
function mainIndex(st) {
  for (var i = st.length - 1; i >= 0; i--) if (st[i] && st[i].function === "main") return i;
  return -1;
}

/* The child of node for key id kid: most nodes have one or two children, so they are searched
 * in the array, and only nodes with many children get a Map (at 100k stacks the tree has
 * about a million nodes, and a Map each was most of the build time). */
function childOf(node, kid) {
  if (node.map) return node.map.get(kid);
  var ch = node.children;
  for (var i = 0; i < ch.length; i++) if (ch[i].kid === kid) return ch[i];
  return undefined;
}
function addChild(node, c) {
  if (node.children === NO_KIDS) node.children = [c];
  else node.children.push(c);
  if (node.map) node.map.set(c.kid, c);
  else if (node.children.length > 8) {
    node.map = new Map();
    for (var i = 0; i < node.children.length; i++) node.map.set(node.children[i].kid, node.children[i]);
  }
}

/* A stack the tracker cut at its depth limit starts at some mid-stack frame: it gets an explicit
 * "[truncated]" frame as its outermost one, so it never passes for a root (issue 17). */
var TRUNC_FRAME = Object.freeze({function: "[truncated]", synthetic: true});
MS.stackForTree = function (site, filt) {
  var st = MS.stackOf(site);
  if (MS.isTruncated(site)) st = st.concat([TRUNC_FRAME]);
  if (filt && filt.hide) st = st.filter(function (f) { return !(f && f.function && filt.hide.test(String(f.function))); });
  return st;
};
/* Allocations made before main(): stacks of the dynamic loader and of constructors (static
 * initialisers), which do not pass through main. */
var BEFORE_MAIN = /^(_dl_|dl_main|_dl_start|call_init|_init$|__libc_csu_init|__libc_early_init|_GLOBAL__sub_I|__static_initialization)/;
MS.beforeMain = function (site) {
  var st = MS.stackOf(site), pre = false;
  for (var i = 0; i < st.length; i++) {
    var fn = st[i] && st[i].function;
    if (fn === "main") return false;
    if (fn && BEFORE_MAIN.test(fn)) pre = true;
  }
  return pre;
};

/* Frames merged by function and file:line (the call tree's "by file:line" mode). */
var LINE_IDS = new Map();
function keyOfLine(f) {
  var obj = !!f && typeof f === "object";
  if (obj && f._kidL !== undefined) return f._kidL;
  var key = obj ? MS.frameName(f) + "\u0000" + (f.file ? f.file + ":" + (f.line || 0) : f.module || "") : "?";
  var id = LINE_IDS.get(key);
  if (id === undefined) { id = LINE_IDS.size; LINE_IDS.set(key, id); }
  if (obj && !Object.isFrozen(f)) f._kidL = id;
  return id;
}

function buildTree(sites, inverted, filt, byLine) {
  var kf = byLine ? keyOfLine : keyOf, NM = nMetrics();
  var root = new Node("all", null, null, -1);
  for (var s = 0; s < sites.length; s++) {
    var site = sites[s], vals = site._v;
    if (filt && !filt.keep(site)) continue;
    var st = MS.stackForTree(site, filt);
    var node = root;
    for (var k = 0; k < NM; k++) node.v[k] += vals[k] || 0;
    var mi = mainIndex(st), n = mi >= 0 ? mi + 1 : st.length;
    for (var i = 0; i < n; i++) {
      var f = st[inverted ? i : n - 1 - i], kid = kf(f);
      var c = childOf(node, kid);
      if (!c) { c = new Node(MS.frameName(f), f, node, kid); addChild(node, c); }
      else if (f && c.frame && f.line !== c.frame.line) c.manyLines = true; /* merged calls from several lines */
      for (k = 0; k < NM; k++) c.v[k] += vals[k] || 0;
      node = c;
    }
  }
  (function drop(nd) { nd.map = null; for (var i = 0; i < nd.children.length; i++) drop(nd.children[i]); })(root);
  return root;
}

/* Warm colours for the program's own frames, cool ones for libc/allocator/runtime frames, with
 * a stable hue per function name so the same function has the same colour everywhere. */
function colourOf(node) {
  var name = node.name, h = 0;
  for (var i = 0; i < name.length; i++) h = (h * 31 + name.charCodeAt(i)) | 0;
  var r = ((h >>> 0) % 1000) / 1000;
  if (node.depth === 0) return "hsl(220, 10%, 72%)";
  if (node.frame && node.frame.synthetic) return "hsl(0, 0%, 86%)";
  if (MS.isRuntimeFrame(node.frame)) return "hsl(" + (195 + 30 * r).toFixed(0) + ", 45%, " + (70 + 8 * r).toFixed(0) + "%)";
  return "hsl(" + (8 + 42 * r).toFixed(0) + ", 88%, " + (60 + 10 * r).toFixed(0) + "%)";
}

function FlameGraph(container, sites, opts) {
  var self = this;
  opts = opts || {};
  this.metric = 0;
  this.inverted = false;
  this.trees = [null, null];
  this.search = "";
  this.filt = null;
  this.listeners = [];
  var sum = zeros();
  sites.forEach(function (s) {
    s._v = zeros();
    s._v[0] = MS.num(s.bytes); s._v[1] = MS.num(s.peak_bytes); s._v[2] = MS.num(s.total_bytes);
    s._v[3] = MS.num(s.total_count !== undefined ? s.total_count : s.count);
    for (var k = 0; k < 4; k++) sum[k] += s._v[k];
  });
  /* Under "bytes live at peak" the graph's total is the peak headline: what no site holds
   * (the tracker's copy of the sites at the peak is taken at a threshold, and sampled figures
   * are estimates) is drawn as its own bar instead of silently missing (docs/REPORTS.md). */
  var gap = MS.num(opts.peak) - sum[1];
  this.sites = sites;
  if (sum[1] > 0 && gap > 0) {
    var pv = zeros(); pv[1] = gap;
    this.sites = sites.concat([{_v: pv, _pseudo: true,
      stack: [{function: "[peak not attributed to a site]", synthetic: true}]}]);
    sum[1] += gap;
  }
  /* Open on "bytes live at peak": which site holds most at the peak is the first question;
   * then whatever has data (a statistics-only dump may have none at the peak). */
  var order = [1, 0, 2, 3];
  for (var o = 0; o < 4; o++) if (sum[order[o]] > 0) { this.metric = order[o]; break; }

  var E = MS.el;
  this.metricSel = E("select", {id: "flame-metric", "aria-label": "flame graph metric", onchange: function () {
    self.metric = Number(this.value); self.refresh(); }});
  MS.METRICS.forEach(function (m, i) {
    var o = E("option", {value: i, text: m.label}); if (i === self.metric) o.selected = true;
    if (i === MS.RANGE_METRIC) { o.disabled = true; o.title = "select a time range on the timeline first"; }
    self.metricSel.appendChild(o);
  });
  this.invBtn = E("button", {id: "flame-invert", "aria-pressed": "false", title: "Inverted: allocating functions at the top, callers below",
    text: "Inverted", onclick: function () {
      self.inverted = !self.inverted; this.setAttribute("aria-pressed", String(self.inverted));
      self.focus = null; self.selected = null; self.refresh(); }});
  this.searchBox = E("input", {type: "search", id: "flame-search", placeholder: "Highlight function or file\u2026",
    "aria-label": "search the flame graph", oninput: MS.debounce(function () { self.setSearch(self.searchBox.value); }, 150)});
  this.resetBtn = E("button", {id: "flame-reset", text: "Reset zoom", onclick: function () { self.zoom(null); }});
  this.crumbs = E("div", {class: "crumbs", "aria-label": "zoom path"});
  this.canvas = E("canvas", {tabindex: "0", role: "img", id: "flame-canvas",
    "aria-label": "flame graph; use arrow keys to move, Enter to zoom, Escape to reset"});
  this.tip = E("div", {class: "flame-tip", role: "tooltip"});
  this.wrap = E("div", {class: "flame-wrap"}, this.canvas, this.tip);
  this.status = E("div", {class: "flame-status", "aria-live": "polite"});
  container.appendChild(E("div", {class: "toolbar"},
    E("label", {for: "flame-metric", text: "Size by"}), this.metricSel, this.invBtn,
    E("span", {class: "spacer"}), this.searchBox, this.resetBtn));
  /* Noise filters: start-up allocations, and frames of an interpreter's import machinery
   * (a pattern list the user can edit), shared with the sites table through MS.noise. */
  this.preMain = E("input", {type: "checkbox", id: "flame-hide-premain", onchange: function () { self.setNoise(); }});
  this.hideBox = E("input", {type: "text", id: "flame-hide-frames", value: "", size: 34, "aria-label": "hide frames whose function matches",
    placeholder: MS.IMPORT_FRAMES, onchange: function () { self.setNoise(); }});
  this.hideOn = E("input", {type: "checkbox", id: "flame-hide-import", onchange: function () { self.setNoise(); }});
  container.appendChild(E("div", {class: "toolbar noise"},
    E("label", null, this.preMain, " Hide allocations made before main"),
    E("label", null, this.hideOn, " Hide frames matching "), this.hideBox));
  container.appendChild(this.crumbs);
  container.appendChild(this.wrap);
  container.appendChild(this.status);

  this.canvas.addEventListener("mousemove", function (ev) { self.onMove(ev); });
  this.canvas.addEventListener("mouseleave", function () { self.tip.style.display = "none"; self.hover = null; self.draw(); });
  this.canvas.addEventListener("click", function (ev) { self.onClick(ev); });
  this.canvas.addEventListener("keydown", function (ev) { self.onKey(ev); });
  if (window.ResizeObserver) {
    var lastW = 0;
    new ResizeObserver(function () {
      var w = self.wrap.clientWidth; if (w !== lastW) { lastW = w; self.layout(); self.draw(); }
    }).observe(this.wrap);
  }
  this.refresh();
}

/* The timeline's selected range (views.js): growth(site) is the site's growth in it (only the
 * positive part can be drawn), other the growth of the sites no point listed, drawn as its
 * own bar so that the graph's total is everything that grew. null clears the range and goes
 * back to the measure shown before. */
FlameGraph.prototype.setRangeGrowth = function (growth, other, label) {
  var R = MS.RANGE_METRIC, opt = this.metricSel.options[R];
  if (!opt) return;
  if (this.rangePseudo) { this.sites = this.sites.filter(function (s) { return s !== this.rangePseudo; }, this); this.rangePseudo = null; }
  if (!growth) {
    this.sites.forEach(function (s) { if (s._v) s._v[R] = 0; });
    opt.disabled = true;
    if (this.metric === R) { this.metric = this.metricBeforeRange !== undefined ? this.metricBeforeRange : 1; this.metricSel.value = String(this.metric); }
  } else {
    var own = this.sites.filter(function (s) { return !s._pseudo; });
    own.forEach(function (s) { s._v[R] = Math.max(0, growth(s) || 0); });
    if (other > 0) {
      var pv = zeros(); pv[R] = other;
      this.rangePseudo = {_v: pv, _pseudo: true, stack: [{function: "[other sites: not among the biggest at the range's ends]", synthetic: true}]};
      this.sites = this.sites.concat([this.rangePseudo]);
    }
    opt.disabled = false;
    opt.textContent = MS.RANGE_METRIC_DEF.label + (label ? " (" + label + ")" : "");
    if (this.metric !== R) this.metricBeforeRange = this.metric;
    this.metric = R; this.metricSel.value = String(R);
  }
  this.trees = [null, null]; this.focus = null; this.selected = null;
  this.refresh();
  this.listeners.forEach(function (fn) { fn(); });
};

FlameGraph.prototype.tree = function () {
  var i = this.inverted ? 1 : 0;
  if (!this.trees[i]) this.trees[i] = buildTree(this.sites, this.inverted, this.filt);
  return this.trees[i];
};

/* The default pattern of "hide frames matching": CPython's import machinery (C and frozen
 * importlib frames); any regular expression works. */
MS.IMPORT_FRAMES = "^(_?PyImport_|import_|_imp_|_bootstrap|importlib|_find_and_load|_load_unlocked|_call_with_frames_removed|exec_module|_gcd_import)";
FlameGraph.prototype.setNoise = function () {
  var hide = null;
  if (this.hideOn.checked) {
    try { hide = new RegExp(this.hideBox.value.trim() || MS.IMPORT_FRAMES); this.hideBox.removeAttribute("aria-invalid"); }
    catch (e) { this.hideBox.setAttribute("aria-invalid", "true"); hide = null; }
  }
  var pre = this.preMain.checked;
  this.filt = pre || hide ? {hide: hide, keep: function (s) { return !(pre && !s._pseudo && MS.beforeMain(s)); }} : null;
  MS.noise = this.filt;
  this.trees = [null, null]; this.focus = null; this.selected = null;
  this.refresh();
  this.listeners.forEach(function (fn) { fn(); });
};

/* Select the frame of a site's stack (its innermost shown frame, in the top-down view), e.g.
 * when the site's row is clicked in the sites table. Returns the node or null. */
FlameGraph.prototype.selectSite = function (site) {
  if (this.inverted) { this.inverted = false; this.invBtn.setAttribute("aria-pressed", "false"); }
  var st = MS.stackForTree(site, this.filt), node = this.tree();
  var mi = mainIndex(st), n = mi >= 0 ? mi + 1 : st.length;
  for (var i = 0; i < n && node; i++) node = childOf(node, keyOf(st[n - 1 - i])) || null;
  if (!node || node.depth === 0) return null;
  this.zoom(node.parent && node.parent.depth > 0 ? node.parent : null);
  this.select(node);
  this.canvas.setAttribute("data-selected", node.name);
  return node;
};

FlameGraph.prototype.refresh = function () {
  if (this.search) this.markSearch();
  this.layout(); this.draw(); this.updateCrumbs(); this.updateStatus(this.selected);
};

FlameGraph.prototype.layout = function () {
  var root = this.tree(), m = this.metric, focus = this.focus || root;
  var W = Math.max(200, this.wrap.clientWidth || 800);
  var rects = [];
  /* The focus's ancestors span the full width (they are the path we zoomed along). */
  var path = [];
  for (var a = focus; a; a = a.parent) path.unshift(a);
  path.forEach(function (n) { rects.push({node: n, x: 0, w: W, depth: n.depth, anc: n !== focus}); });
  var maxDepth = focus.depth;
  (function lay(node, x, w) {
    var total = node.v[m];
    if (!(total > 0)) return;
    var kids = node.children.filter(function (c) { return c.v[m] > 0; });
    kids.sort(function (p, q) { return q.v[m] - p.v[m]; });
    var cx = x, small = 0, smallN = 0;
    for (var i = 0; i < kids.length; i++) {
      var c = kids[i], cw = w * c.v[m] / total;
      if (cw < MIN_W) { small += cw; smallN++; continue; }
      rects.push({node: c, x: cx, w: cw, depth: c.depth});
      if (c.depth > maxDepth) maxDepth = c.depth;
      lay(c, cx, cw);
      cx += cw;
    }
    if (small >= 1) {
      rects.push({node: node, x: cx, w: small, depth: node.depth + 1, agg: smallN});
      if (node.depth + 1 > maxDepth) maxDepth = node.depth + 1;
    }
  })(focus, 0, W);
  this.rects = rects;
  this.W = W;
  this.H = (maxDepth + 1) * ROW + 2;
  var dpr = window.devicePixelRatio || 1;
  this.canvas.width = Math.round(W * dpr);
  this.canvas.height = Math.round(this.H * dpr);
  this.canvas.style.height = this.H + "px";
  this.dpr = dpr;
};

FlameGraph.prototype.draw = function () {
  var ctx = this.canvas.getContext("2d"), dpr = this.dpr || 1;
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  ctx.clearRect(0, 0, this.W, this.H);
  ctx.font = "12px ui-monospace, 'DejaVu Sans Mono', monospace";
  ctx.textBaseline = "middle";
  var charW = ctx.measureText("m").width || 7;
  var searching = !!this.search, matchCol = MS.cssVar("--match") || "#e040a0";
  for (var i = 0; i < this.rects.length; i++) {
    var r = this.rects[i], y = r.depth * ROW, n = r.node;
    var fill = r.agg ? "hsl(0,0%,78%)" : (searching && n.match ? matchCol : colourOf(n));
    ctx.globalAlpha = (r.anc ? 0.55 : 1) * (searching && !n.match && !r.agg ? 0.35 : 1);
    ctx.fillStyle = fill;
    ctx.fillRect(r.x + 0.5, y + 1, Math.max(0.5, r.w - 1), ROW - 2);
    ctx.globalAlpha = 1;
    if (r.w > charW * 3 + 6) {
      var label = r.agg ? r.agg + " small frames" : (n.depth === 0 ? "all (" + MS.METRICS[this.metric].fmt(n.v[this.metric]) + ")" : n.name);
      var maxChars = Math.floor((r.w - 6) / charW);
      if (label.length > maxChars) label = label.slice(0, Math.max(1, maxChars - 1)) + "\u2026";
      ctx.fillStyle = "#111";
      ctx.fillText(label, r.x + 4, y + ROW / 2 + 0.5);
    }
  }
  var sel = this.selected, hov = this.hover;
  var self = this;
  [[hov, "rgba(0,0,0,.55)", 1], [sel, MS.cssVar("--accent") || "#2f6fdb", 2.5]].forEach(function (h) {
    if (!h[0]) return;
    var r = self.rectOf(h[0]);
    if (!r) return;
    ctx.strokeStyle = h[1]; ctx.lineWidth = h[2];
    ctx.strokeRect(r.x + 1, r.y + 1.5, Math.max(1, r.w - 2), ROW - 3);
  });
};

/* The drawn rectangle of a node, in CSS pixels relative to the canvas (null if not drawn). */
FlameGraph.prototype.rectOf = function (node) {
  for (var i = 0; i < this.rects.length; i++) {
    var r = this.rects[i];
    if (r.node === node && !r.agg) return {x: r.x, y: r.depth * ROW, w: r.w, h: ROW};
  }
  return null;
};
/* For tests and scripting: the first drawn frame whose function name is `name`. */
FlameGraph.prototype.findRect = function (name) {
  for (var i = 0; i < this.rects.length; i++) {
    var r = this.rects[i];
    if (!r.agg && r.node.name === name) return {x: r.x, y: r.depth * ROW, w: r.w, h: ROW};
  }
  return null;
};
FlameGraph.prototype.focusName = function () { return this.focus ? this.focus.name : "all"; };

FlameGraph.prototype.hit = function (ev) {
  var b = this.canvas.getBoundingClientRect();
  var x = ev.clientX - b.left, y = ev.clientY - b.top, d = Math.floor(y / ROW);
  for (var i = 0; i < this.rects.length; i++) {
    var r = this.rects[i];
    if (r.depth === d && x >= r.x && x < r.x + r.w) return r;
  }
  return null;
};

FlameGraph.prototype.describe = function (node) {
  var m = this.metric, root = this.tree(), f = node.frame, parts = [];
  var val = MS.METRICS[m].fmt(node.v[m]) + " " + MS.METRICS[m].label.toLowerCase().replace(/ \(count\)$/, "");
  parts.push(val + " \u2014 " + MS.fmtPct(node.v[m], root.v[m]) + " of all" +
    (node.parent && node.parent.depth > 0 ? ", " + MS.fmtPct(node.v[m], node.parent.v[m]) + " of " + node.parent.name : ""));
  var where = f ? (f.file ? f.file + (f.line && !node.manyLines ? ":" + f.line : "") : "") : "";
  return {title: node.depth === 0 ? "all allocation sites" : node.name, where: where,
    module: f && f.module ? String(f.module) : "", value: parts.join("")};
};

FlameGraph.prototype.onMove = function (ev) {
  var r = this.hit(ev), tip = this.tip;
  if (!r) { tip.style.display = "none"; if (this.hover) { this.hover = null; this.draw(); } return; }
  var E = MS.el;
  tip.textContent = "";
  if (r.agg) {
    tip.appendChild(E("div", {text: r.agg + " frames too small to draw here; click their parent to zoom in"}));
  } else {
    var d = this.describe(r.node);
    tip.appendChild(E("div", {class: "mono", style: "font-weight:600", text: d.title}));
    if (d.where) tip.appendChild(E("div", {text: d.where}));
    if (d.module) tip.appendChild(E("div", {style: "color:var(--muted)", text: MS.basename(d.module)}));
    tip.appendChild(E("div", {text: d.value}));
  }
  /* position: fixed, kept inside the window: a shallow graph is shorter than the tooltip, and
   * the wrap clips what overflows it (issue 17). */
  tip.style.display = "block";
  var vw = document.documentElement.clientWidth || window.innerWidth, vh = window.innerHeight;
  var tw = tip.offsetWidth, th = tip.offsetHeight, x = ev.clientX + 14, y = ev.clientY + 14;
  if (x + tw > vw - 4) x = ev.clientX - tw - 10;
  if (y + th > vh - 4) y = ev.clientY - th - 10;
  tip.style.left = Math.max(4, Math.min(x, vw - tw - 4)) + "px";
  tip.style.top = Math.max(4, Math.min(y, vh - th - 4)) + "px";
  var hn = r.agg ? null : r.node;
  if (hn !== this.hover) { this.hover = hn; this.draw(); }
};

FlameGraph.prototype.onClick = function (ev) {
  var r = this.hit(ev);
  if (!r) return;
  if (r.agg) { this.zoom(r.node); return; }
  this.zoom(r.node.depth === 0 ? null : r.node);
};

FlameGraph.prototype.zoom = function (node) {
  this.focus = node && node.depth > 0 ? node : null;
  this.selected = node || null;
  this.layout(); this.draw(); this.updateCrumbs(); this.updateStatus(this.selected);
  this.canvas.setAttribute("data-focus", this.focusName());
};

FlameGraph.prototype.select = function (node) {
  if (!node) return;
  this.selected = node;
  if (!this.rectOf(node)) { this.zoom(node.parent && node.parent.depth > 0 ? node.parent : null); this.selected = node; }
  this.draw(); this.updateStatus(node);
};

FlameGraph.prototype.onKey = function (ev) {
  var sel = this.selected || this.focus || this.tree(), self = this;
  var sameRow = function (dir) {
    var row = self.rects.filter(function (r) { return !r.agg && r.depth === sel.depth; });
    row.sort(function (a, b) { return a.x - b.x; });
    for (var i = 0; i < row.length; i++) if (row[i].node === sel) return row[i + dir] ? row[i + dir].node : null;
    return null;
  };
  var next = null, m = this.metric;
  switch (ev.key) {
  case "ArrowUp": next = sel.parent; break;
  case "ArrowDown":
    sel.children.forEach(function (c) { if (c.v[m] > 0 && (!next || c.v[m] > next.v[m])) next = c; });
    break;
  case "ArrowLeft": next = sameRow(-1); break;
  case "ArrowRight": next = sameRow(1); break;
  case "Enter": case " ": this.zoom(sel); ev.preventDefault(); return;
  case "Escape": case "Backspace": this.zoom(null); ev.preventDefault(); return;
  default: return;
  }
  ev.preventDefault();
  if (next) this.select(next);
};

FlameGraph.prototype.updateCrumbs = function () {
  var self = this, c = this.crumbs, E = MS.el;
  c.textContent = "";
  var path = [];
  for (var a = this.focus; a; a = a.parent) path.unshift(a);
  if (!path.length) { c.appendChild(document.createTextNode("Showing all sites. Click a frame to zoom in.")); return; }
  c.appendChild(document.createTextNode("Zoomed: "));
  path.forEach(function (n, i) {
    if (i) c.appendChild(document.createTextNode(" \u203a "));
    c.appendChild(E("button", {text: n.depth === 0 ? "all" : n.name, onclick: function () { self.zoom(n.depth === 0 ? null : n); }}));
  });
};

FlameGraph.prototype.updateStatus = function (node) {
  var s = this.status;
  if (this.search) {
    s.textContent = this.searchSummary;
    return;
  }
  if (!node) { s.textContent = "Width = " + MS.METRICS[this.metric].label.toLowerCase() + ". Hover a frame for details, click to zoom, Escape to reset."; return; }
  var d = this.describe(node);
  s.textContent = d.title + (d.where ? " (" + d.where + ")" : "") + ": " + d.value + ". Enter zooms, Escape resets.";
};

FlameGraph.prototype.setSearch = function (q) {
  this.search = (q || "").trim().toLowerCase();
  this.markSearch(); this.draw(); this.updateStatus(this.selected);
};

FlameGraph.prototype.markSearch = function () {
  var q = this.search, root = this.tree(), m = this.metric, n = 0, total = 0;
  (function walk(node, under) {
    var f = node.frame;
    node.match = !!q && node.depth > 0 && (node.name.toLowerCase().indexOf(q) >= 0 ||
      (f && f.file && String(f.file).toLowerCase().indexOf(q) >= 0));
    if (node.match) { n++; if (!under) total += node.v[m]; }
    for (var i = 0; i < node.children.length; i++) walk(node.children[i], under || node.match);
  })(root, false);
  this.searchSummary = q ? (n ? n + " frames match \u201c" + q + "\u201d: " + MS.METRICS[m].fmt(total) + ", " +
    MS.fmtPct(total, root.v[m]) + " of " + MS.METRICS[m].label.toLowerCase() : "No frame matches \u201c" + q + "\u201d.") : "";
};

MS.FlameGraph = FlameGraph;
MS.buildTree = buildTree;
/* The flame graph's own tree of one orientation (the call tree view shares it, so a row and
 * a frame are the same node object). */
FlameGraph.prototype.treeOf = function (inverted) {
  var i = inverted ? 1 : 0;
  if (!this.trees[i]) this.trees[i] = buildTree(this.sites, inverted, this.filt);
  return this.trees[i];
};
/* Show node (a node of treeOf(inv)) selected, switching orientation if needed. */
FlameGraph.prototype.showNode = function (node, inv) {
  if (!!inv !== this.inverted) {
    this.inverted = !!inv; this.invBtn.setAttribute("aria-pressed", String(this.inverted));
    this.focus = null; this.selected = null; this.refresh();
  }
  this.zoom(node.parent && node.parent.depth > 0 ? node.parent : null);
  this.select(node);
  this.canvas.setAttribute("data-selected", node.name);
};
})();

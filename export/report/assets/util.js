/* util.js — shared helpers of the memscope report: number/byte/time formatting, a small DOM
 * builder that only ever sets text (never innerHTML, so names from the profiled program cannot
 * inject markup), stack lookup and rendering, and theme colours. Everything hangs off window.MS. */
"use strict";
var MS = window.MS = window.MS || {};

MS.num = function (v) {
  if (v === null || v === undefined || v === "") return 0;
  var n = typeof v === "number" ? v : Number(v);
  return isFinite(n) ? n : 0;
};

MS.fmtBytes = function (n) {
  n = MS.num(n);
  var neg = n < 0; if (neg) n = -n;
  var units = ["B", "KiB", "MiB", "GiB", "TiB"], i = 0;
  while (n >= 1024 && i < units.length - 1) { n /= 1024; i++; }
  var s = i === 0 ? String(Math.round(n)) : n.toFixed(n < 10 ? 2 : n < 100 ? 1 : 0);
  return (neg ? "-" : "") + s + " " + units[i];
};

MS.fmtCount = function (n) {
  n = Math.round(MS.num(n));
  return n.toLocaleString("en-US");
};

MS.fmtShort = function (n) { /* 1.2k, 3.4M: for axes and flame labels */
  n = MS.num(n);
  var a = Math.abs(n);
  if (a >= 1e9) return (n / 1e9).toFixed(1) + "G";
  if (a >= 1e6) return (n / 1e6).toFixed(1) + "M";
  if (a >= 1e4) return (n / 1e3).toFixed(0) + "k";
  return String(Math.round(n));
};

MS.fmtTime = function (ns) {
  ns = MS.num(ns);
  var a = Math.abs(ns);
  if (a >= 60e9) { var m = Math.floor(ns / 60e9); return m + " min " + ((ns - m * 60e9) / 1e9).toFixed(0) + " s"; }
  if (a >= 1e9) return (ns / 1e9).toFixed(a >= 10e9 ? 1 : 2) + " s";
  if (a >= 1e6) return (ns / 1e6).toFixed(a >= 10e6 ? 0 : 1) + " ms";
  if (a >= 1e3) return (ns / 1e3).toFixed(0) + " \u00b5s";
  return Math.round(ns) + " ns";
};

MS.fmtPct = function (part, whole) {
  if (!whole) return "\u2013";
  var p = 100 * part / whole;
  return (p >= 10 ? p.toFixed(0) : p >= 1 ? p.toFixed(1) : p.toFixed(2)) + "%";
};

MS.basename = function (p) {
  if (!p) return "";
  var s = String(p), i = s.lastIndexOf("/");
  return i >= 0 ? s.slice(i + 1) : s;
};

MS.hex = function (v) {
  if (v === null || v === undefined) return "";
  if (typeof v === "string") return v;
  return "0x" + Number(v).toString(16);
};

/* el("td", {class: "num", title: "..."}, child, "text", ...) -> Element. */
MS.el = function (tag, attrs) {
  var e = document.createElement(tag);
  if (attrs) for (var k in attrs) {
    if (!Object.prototype.hasOwnProperty.call(attrs, k)) continue;
    var v = attrs[k];
    if (v === null || v === undefined || v === false) continue;
    if (k === "class") e.className = v;
    else if (k === "text") e.textContent = v;
    else if (k.slice(0, 2) === "on" && typeof v === "function") e.addEventListener(k.slice(2), v);
    else e.setAttribute(k, v === true ? "" : String(v));
  }
  for (var i = 2; i < arguments.length; i++) MS.append(e, arguments[i]);
  return e;
};
MS.append = function (e, c) {
  if (c === null || c === undefined || c === false) return;
  if (Array.isArray(c)) { c.forEach(function (x) { MS.append(e, x); }); return; }
  e.appendChild(typeof c === "object" ? c : document.createTextNode(String(c)));
};

MS.svg = function (tag, attrs) {
  var e = document.createElementNS("http://www.w3.org/2000/svg", tag);
  if (attrs) for (var k in attrs) if (attrs[k] !== null && attrs[k] !== undefined) {
    if (k === "text") e.textContent = attrs[k]; else e.setAttribute(k, String(attrs[k]));
  }
  for (var i = 2; i < arguments.length; i++) if (arguments[i]) e.appendChild(arguments[i]);
  return e;
};

MS.cssVar = function (name) {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim();
};

/* Stacks come in two forms (docs/JSON.md): inline, obj.stack = [frame, ...] (the default JSON,
 * hand-made data), or compact, obj.stack_id = N into the document's "stacks" table of frame
 * indexes into its "frames" table (what memscope convert embeds in the page). MS.stackOf hides
 * the difference. An id is turned into frames only when something asks for that stack (a row
 * opened, the flame graph built): resolving 100k stacks up front, or keeping 100k resolved
 * arrays, would give back what the compact form saves. */
var STK = {frames: [], stacks: []};
var NO_FRAME = {};
MS.useStackTables = function (frames, stacks) {
  STK.frames = Array.isArray(frames) ? frames : [];
  STK.stacks = Array.isArray(stacks) ? stacks : [];
};
MS.stackFrames = function () { return STK.frames; };
/* The frame-index array of obj's stack (which: "stack", "alloc_stack", "free_stack"), or null
 * when obj has no stack id (inline form, or no stack). */
MS.stackIds = function (obj, which) {
  if (!obj) return null;
  var id = obj[(which || "stack") + "_id"];
  if (typeof id !== "number" || id < 0 || id >= STK.stacks.length) return null;
  var ids = STK.stacks[id];
  return Array.isArray(ids) ? ids : null;
};
/* The frames of obj's stack, innermost first; [] when there is none. */
MS.stackOf = function (obj, which) {
  if (!obj) return [];
  var v = obj[which || "stack"];
  if (Array.isArray(v)) return v;
  var ids = MS.stackIds(obj, which);
  if (!ids) return [];
  var out = new Array(ids.length);
  for (var i = 0; i < ids.length; i++) {
    var f = STK.frames[ids[i]];
    out[i] = f && typeof f === "object" ? f : NO_FRAME;
  }
  return out;
};

/* Frames are {function, file, line, module, address, offset, inlined}; any may be missing.
 * Without a function name a frame is called module+offset everywhere (tables, flame graph,
 * stacks: the same text as `memscope report`), which stays the same from run to run; a raw
 * run-time address only when no module is known. */
MS.frameName = function (f) {
  if (!f) return "?";
  if (f.function) return String(f.function);
  if (f.module && f.offset !== undefined && f.offset !== null) return MS.basename(f.module) + "+" + MS.hex(f.offset);
  if (f.address !== undefined && f.address !== null) return MS.hex(f.address) + (f.module ? " in " + MS.basename(f.module) : "");
  return "?";
};

/* "1 thread", "2 threads". */
MS.plural = function (n, word, many) {
  n = MS.num(n);
  return MS.fmtCount(n) + " " + (n === 1 ? word : (many || word + "s"));
};

/* Round axis ticks: steps of 1, 2 or 5 times a power of ten of the unit the axis is labelled
 * in (bytes: B, KiB, MiB... so ticks read 0, 32, 64 MiB rather than 47.7, 95.4 MiB; time:
 * ns, µs, ms, s). kind "bytes" or "ns". Returns {unit, div, ticks: [value...]} covering
 * [lo, hi] with about n ticks; labels are MS.tickLabel(v, axis). */
MS.niceTicks = function (lo, hi, n, kind) {
  lo = MS.num(lo); hi = MS.num(hi); n = Math.max(2, n || 5);
  if (!(hi > lo)) hi = lo + 1;
  var span = hi - lo, unit, div;
  if (kind === "bytes") {
    var units = ["B", "KiB", "MiB", "GiB", "TiB"], u = 0;
    while (u < units.length - 1 && Math.max(Math.abs(hi), Math.abs(lo)) >= 1024 * Math.pow(1024, u)) u++;
    unit = units[u]; div = Math.pow(1024, u);
  } else {
    var tu = [["ns", 1], ["\u00b5s", 1e3], ["ms", 1e6], ["s", 1e9]], t = 0;
    while (t < tu.length - 1 && span >= 2 * tu[t + 1][1]) t++;
    unit = tu[t][0]; div = tu[t][1];
  }
  var raw = span / div / n, p = Math.pow(10, Math.floor(Math.log10(raw))), step = p;
  [1, 2, 2.5, 5, 10].some(function (m) { step = m * p; return m * p >= raw; });
  if (kind === "bytes" && div === 1) step = Math.max(1, Math.round(step));
  var ticks = [], v0 = Math.ceil(lo / div / step - 1e-9) * step;
  for (var v = v0; v <= hi / div + 1e-9 && ticks.length < 100; v += step) ticks.push(Math.round(v / step) * step * div);
  return {unit: unit, div: div, step: step, ticks: ticks};
};
MS.tickLabel = function (v, axis) {
  var x = v / axis.div;
  if (Math.abs(x) < 1e-12) return "0";
  var dec = axis.step >= 1 ? 0 : Math.min(3, Math.ceil(-Math.log10(axis.step) - 1e-9));
  return x.toFixed(dec) + " " + axis.unit;
};
MS.frameWhere = function (f) {
  if (!f) return "";
  if (f.file) return MS.basename(f.file) + (f.line ? ":" + f.line : "");
  return f.module ? MS.basename(f.module) : "";
};

/* Frames that belong to the C library / runtime rather than to the program: used to pick the
 * frame to show as "the site" (the first frame of the program's own code). */
MS.isRuntimeFrame = function (f) {
  if (!f) return true;
  var fn = f.function || "", mod = MS.basename(f.module || "");
  if (/^(malloc|calloc|realloc|free|reallocarray|posix_memalign|aligned_alloc|memalign|valloc|pvalloc|operator new|operator delete|_Znw|_Zna|ms_|_ms_|mi_|_mi_)/.test(fn)) return true;
  if (/^(strdup|strndup|__libc_|__GI_|_IO_|__strdup)/.test(fn)) return true;
  if (/^(libc\.so|libc-|ld-linux|libmemscope|libmimalloc|libstdc\+\+|libpthread)/.test(mod)) return true;
  return false;
};
/* The frame a developer would change: the first frame outside allocator/runtime code. */
MS.siteFrame = function (stack) {
  if (!stack || !stack.length) return null;
  for (var i = 0; i < stack.length; i++) if (!MS.isRuntimeFrame(stack[i])) return stack[i];
  return stack[0];
};
MS.siteLabel = function (stack) {
  var f = MS.siteFrame(stack);
  if (!f) return "(no stack)";
  var w = MS.frameWhere(f);
  return MS.frameName(f) + (w ? " (" + w + ")" : "");
};

/* The label of a site/leak/error: the converter's "location" ("function (file:line)", the
 * same text as `memscope report`) when present, else computed from the stack. */
MS.labelOf = function (obj) {
  if (obj && obj.location) return String(obj.location);
  return MS.siteLabel(MS.stackOf(obj));
};

/* <ol class="stack">: innermost first, as in a debugger's backtrace. */
MS.renderStack = function (stack, opts) {
  opts = opts || {};
  if (!stack || !stack.length) return MS.el("p", {class: "help", text: opts.emptyText || "(no stack recorded)"});
  var max = opts.max || 64;
  var ol = MS.el("ol", {class: "stack", start: 0});
  stack.slice(0, max).forEach(function (f) {
    var loc = f.file ? f.file + (f.line ? ":" + f.line : "") : "";
    ol.appendChild(MS.el("li", {class: MS.isRuntimeFrame(f) ? "lib" : null},
      MS.el("span", {class: "fn", text: MS.frameName(f)}),
      f.inlined ? [" ", MS.el("span", {class: "badge info inl", text: "inlined", title: "the compiler inlined this function into the next frame; the line is where it was called"})] : null,
      loc ? [" ", MS.el("span", {class: "loc", text: loc})] : null,
      f.module ? [" ", MS.el("span", {class: "mod", text: "[" + MS.basename(f.module) + "]", title: String(f.module)})] : null));
  });
  if (stack.length > max) ol.appendChild(MS.el("li", {class: "lib", text: "\u2026 " + (stack.length - max) + " more frames"}));
  if (opts.truncated) ol.appendChild(MS.el("li", {class: "lib trunc", text: MS.TRUNCATED + " the tracker kept only this many frames " +
    "(MEMSCOPE_STACK_DEPTH); the outer callers are missing"}));
  return ol;
};

MS.TRUNCATED = "[truncated]";
/* Was obj's stack (which: "stack", "alloc_stack"...) cut at the tracker's depth limit? */
MS.isTruncated = function (obj, which) { return !!obj && obj[(which || "stack") + "_truncated"] === true; };

MS.debounce = function (fn, ms) {
  var t = null;
  return function () {
    var args = arguments, self = this;
    clearTimeout(t);
    t = setTimeout(function () { fn.apply(self, args); }, ms);
  };
};

/* A small step chart (reference-count history), as an inline SVG. points: [[t, v], ...]. */
MS.sparkSteps = function (points, t0, t1, w, h) {
  var s = MS.svg("svg", {class: "spark", width: w, height: h, viewBox: "0 0 " + w + " " + h, role: "img"});
  if (!points.length) return s;
  var vmax = 1;
  points.forEach(function (p) { if (p[1] > vmax) vmax = p[1]; });
  var span = Math.max(1, t1 - t0);
  var x = function (t) { return 1 + (w - 2) * (t - t0) / span; };
  var y = function (v) { return h - 2 - (h - 4) * v / vmax; };
  var d = "M" + x(points[0][0]).toFixed(1) + "," + y(points[0][1]).toFixed(1);
  for (var i = 1; i < points.length; i++) {
    d += "H" + x(points[i][0]).toFixed(1) + "V" + y(points[i][1]).toFixed(1);
  }
  d += "H" + x(t1).toFixed(1);
  s.appendChild(MS.svg("path", {d: d, fill: "none", stroke: MS.cssVar("--accent"), "stroke-width": 1.5}));
  s.appendChild(MS.svg("title", {text: "reference count over time (max " + vmax + ")"}));
  return s;
};

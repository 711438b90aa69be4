/* main.js — starts the report: reads the embedded JSON (default or compact form, docs/JSON.md),
 * normalises it (tolerating missing optional parts, so older or partial dumps still render),
 * lays out the header, navigation and sections, and wires the light/dark theme. A section that fails to render says so in place and
 * logs the error, instead of blanking the whole page. */
"use strict";
(function () {
var MS = window.MS, E = MS.el;
MS.tables = {};

var REASONS = {0: "snapshot", 1: "exit", 2: "signal"};
var EVENT_KINDS = {0: "alloc", 1: "track", 2: "realloc", 3: "free", 4: "retain", 5: "release", 6: "refset"};

function arr(v) { return Array.isArray(v) ? v : []; }

function normalise(data) {
  var D = {raw: data};
  D.process = data.process || {};
  D.summary = data.summary || {};
  D.sites = arr(data.sites).filter(function (s) { return s && typeof s === "object"; });
  D.leaks = arr(data.leaks).slice().sort(function (a, b) { return MS.num(b.bytes) - MS.num(a.bytes); });
  D.errors = arr(data.errors);
  D.timeline = arr(data.timeline).slice().sort(function (a, b) { return MS.num(a.time_ns) - MS.num(b.time_ns); });
  D.size_classes = arr(data.size_classes);
  D.threads = arr(data.threads);
  D.modules = arr(data.modules);
  D.findings = arr(data.findings);
  D.tags = arr(data.tags);

  var r = D.process.reason;
  D.reason = typeof r === "number" ? (REASONS[r] || "snapshot") : (r ? String(r) : null);
  D.atExit = D.reason ? D.reason === "exit" : D.leaks.length > 0;
  if (!D.reason) D.reason = D.atExit ? "exit" : "snapshot";

  var end = MS.num(D.process.dump_time_ns);
  if (D.timeline.length) end = Math.max(end, MS.num(D.timeline[D.timeline.length - 1].time_ns));
  D.variables = arr(data.variables).map(function (v) {
    v = Object.assign({}, v);
    v._freed = v.state ? v.state === "freed" : v.free_time_ns !== null && v.free_time_ns !== undefined;
    end = Math.max(end, MS.num(v.alloc_time_ns), v._freed ? MS.num(v.free_time_ns) : 0);
    /* "events" (converter): every event of the block; "ref_events": only reference-count ones. */
    v._refEvents = arr(v.events && v.events.length ? v.events : v.ref_events).map(function (e) {
      e = Object.assign({}, e);
      e._kind = typeof e.kind === "number" ? (EVENT_KINDS[e.kind] || String(e.kind)) : String(e.kind || "event");
      return e;
    }).sort(function (a, b) { return MS.num(a.time_ns) - MS.num(b.time_ns); });
    v._refs = v._refEvents.filter(function (e) { return /retain|release|refset|ref/.test(e._kind) && e.count !== undefined && e.count !== null; })
      .map(function (e) { return [MS.num(e.time_ns), MS.num(e.count)]; });
    return v;
  });
  D.endNs = end;
  D.variables.forEach(function (v) {
    v._life = v.lifetime_ns !== undefined && v.lifetime_ns !== null ? MS.num(v.lifetime_ns)
      : (v._freed ? MS.num(v.free_time_ns) : end) - MS.num(v.alloc_time_ns);
    v._state = v.state || (v._freed ? "freed" : D.atExit ? "leaked" : "live");
  });

  D.peakTimeNs = null;
  if (D.summary.peak_time_ns !== undefined && D.summary.peak_time_ns !== null) D.peakTimeNs = MS.num(D.summary.peak_time_ns);
  else if (D.timeline.length) {
    var best = D.timeline[0];
    D.timeline.forEach(function (p) { if (MS.num(p.live_bytes) > MS.num(best.live_bytes)) best = p; });
    D.peakTimeNs = MS.num(best.time_ns);
  }

  timelinePoints(D);

  D.findings = D.findings.map(function (f) {
    f = Object.assign({}, f);
    var site = f.site;
    /* Findings are few (the converter lists the most important), so their stacks are
     * resolved here; sites' and leaks' stay ids until shown (MS.stackOf). */
    var own = MS.stackOf(f);
    if (own.length) f._stack = own;
    else if (typeof site === "number" && D.sites[site]) f._stack = MS.stackOf(D.sites[site]);
    else if (site && typeof site === "object") f._stack = MS.stackOf(site);
    else if (f.function) f._stack = [{function: f.function, file: f.file, line: f.line, module: f.module}];
    else f._stack = [];
    return f;
  });

  function modName(i, full) {
    if (typeof i === "number" && D.modules[i]) { var p = D.modules[i].path || D.modules[i].name || "?"; return full ? p : MS.basename(p); }
    return full ? String(i) : MS.basename(String(i));
  }
  D.crossings = arr(data.crossings).map(function (c) {
    c = Object.assign({}, c);
    c._from = modName(c.alloc_module, false); c._fromFull = modName(c.alloc_module, true);
    c._to = modName(c.free_module, false); c._toFull = modName(c.free_module, true);
    return c;
  });

  var S = D.summary;
  /* RSS is read at different moments (timeline ticks, the dump): the peak is the largest seen. */
  D.peakRss = Math.max(MS.num(S.peak_rss_bytes), MS.num(S.rss_bytes));
  D.timeline.forEach(function (p) { if (MS.num(p.rss_bytes) > D.peakRss) D.peakRss = MS.num(p.rss_bytes); });
  D.frag = data.fragmentation && typeof data.fragmentation === "object" ? data.fragmentation : {};
  if (!Object.keys(D.frag).length && S.usable_bytes !== undefined) {
    D.frag = {requested_bytes: S.live_bytes, usable_bytes: S.usable_bytes, header_bytes: S.header_bytes, rss_bytes: S.rss_bytes};
  }
  /* One overhead vocabulary (docs/REPORTS.md "Overhead"): rounding = usable - requested,
   * metadata = memscope's own record per sampled block, overhead = their sum. The converter
   * writes these figures; older or hand-made JSON gets them computed the same way here. */
  if (S.usable_bytes !== undefined || S.header_bytes !== undefined || D.frag.usable_bytes !== undefined) {
    var F = D.frag, req = MS.num(F.requested_bytes !== undefined ? F.requested_bytes : S.live_bytes);
    var use = MS.num(F.usable_bytes !== undefined ? F.usable_bytes : S.usable_bytes);
    var rounding = F.rounding_bytes !== undefined ? MS.num(F.rounding_bytes) : Math.max(0, use - req);
    var meta = F.metadata_bytes !== undefined ? MS.num(F.metadata_bytes) : MS.num(F.header_bytes !== undefined ? F.header_bytes : S.header_bytes);
    var total = F.overhead_bytes !== undefined ? MS.num(F.overhead_bytes) : rounding + meta;
    D.overhead = {total: total, rounding: rounding, metadata: meta, requested: req, usable: use,
      detail: "rounding " + MS.fmtBytes(rounding) + " (usable \u2212 requested) + metadata " + MS.fmtBytes(meta) +
        (req ? "; " + MS.fmtPct(total, req) + " of requested" : "")};
  }
  /* What the sites attribute of the peak (docs/REPORTS.md "Peak"): equal to the peak at rate 1. */
  D.peakSites = 0;
  D.sites.forEach(function (s) { D.peakSites += MS.num(s.peak_bytes); });
  return D;
}

/* The timeline as points {t, live, rss, sites}, the exact peak among them (issue 17: the
 * peak is a point of the curve, not a line drawn across the gap between two samples). sites,
 * when the dump has them (format 3, docs/JSON.md timeline[].sites), is a Map from a site object
 * to its live bytes at that point, for the few biggest sites of the point; at the peak they
 * are the sites' peak_bytes, cut to as many as a point lists, so that every point says the
 * same kind of thing. D.timelineSites says whether any point has them. */
var POINT_SITES = 12;
function timelinePoints(D) {
  var byId = new Map();
  D.sites.forEach(function (s, i) { byId.set(typeof s.id === "number" ? s.id : i, s); });
  D.timelineSites = D.timeline.some(function (p) { return Array.isArray(p.sites); });
  D.points = D.timeline.map(function (p) {
    var m = null;
    if (D.timelineSites) {
      m = new Map();
      arr(p.sites).forEach(function (e) {
        var s = e && byId.get(e.site);
        if (s) m.set(s, (m.get(s) || 0) + MS.num(e.bytes));
      });
    }
    return {t: MS.num(p.time_ns), live: MS.num(p.live_bytes), rss: MS.num(p.rss_bytes), sites: m};
  });
  var peakB = MS.num(D.summary.peak_live_bytes), P = D.points;
  if (D.peakTimeNs === null || !(peakB > 0) || !P.length) return;
  var pm = null;
  if (D.timelineSites) {
    pm = new Map();
    D.sites.filter(function (s) { return MS.num(s.peak_bytes) > 0; })
      .sort(function (a, b) { return MS.num(b.peak_bytes) - MS.num(a.peak_bytes); })
      .slice(0, POINT_SITES).forEach(function (s) { pm.set(s, MS.num(s.peak_bytes)); });
  }
  var t = D.peakTimeNs, at = 0;
  while (at < P.length && P[at].t < t) at++;
  if (at < P.length && P[at].t === t) {
    if (peakB >= P[at].live) { P[at].live = peakB; if (pm) P[at].sites = pm; }
  } else {
    var a = P[Math.max(0, at - 1)], b = P[Math.min(P.length - 1, at)];
    var rss = b.t > a.t ? a.rss + (b.rss - a.rss) * (t - a.t) / (b.t - a.t) : a.rss;
    P.splice(at, 0, {t: t, live: peakB, rss: rss, sites: pm, peak: true});
  }
}

/* ---------------------------------------------------------------- theme */
function currentTheme() { return document.documentElement.getAttribute("data-theme") || "light"; }
function setTheme(t, btn) {
  document.documentElement.setAttribute("data-theme", t);
  try { window.localStorage.setItem("memscope-theme", t); } catch (e) { /* file:// storage may be off */ }
  if (btn) { btn.textContent = t === "dark" ? "Light theme" : "Dark theme"; btn.setAttribute("aria-pressed", String(t === "dark")); }
  MS.themeHooks.forEach(function (h) { try { h(); } catch (e) { console.error(e); } });
  if (MS.flame) MS.flame.draw();
}
function initialTheme() {
  var t = null;
  try { t = window.localStorage.getItem("memscope-theme"); } catch (e) { t = null; }
  if (t !== "dark" && t !== "light") t = window.matchMedia && window.matchMedia("(prefers-color-scheme: dark)").matches ? "dark" : "light";
  document.documentElement.setAttribute("data-theme", t);
}

/* ---------------------------------------------------------------- layout */
function build(D) {
  var app = document.getElementById("app");
  app.textContent = "";
  var P = D.process;
  var exe = P.exe ? MS.basename(P.exe) : "program";
  document.title = "memscope: " + exe + (P.pid ? " (pid " + P.pid + ")" : "");
  var cmd = Array.isArray(P.cmdline) ? P.cmdline.join(" ") : (P.cmdline || P.exe || "");
  var themeBtn = E("button", {id: "theme-toggle", onclick: function () { setTheme(currentTheme() === "dark" ? "light" : "dark", themeBtn); }});
  var sticky = E("div", {class: "sticky"});
  app.appendChild(sticky);
  sticky.appendChild(E("header", {class: "top"},
    E("h1", {text: "memscope"}),
    E("span", {class: "proc", title: cmd, text: exe + (P.pid ? " \u00b7 pid " + P.pid : "") + (cmd ? " \u00b7 " + cmd : "") +
      " \u00b7 dump at " + D.reason + (D.endNs ? ", " + MS.fmtTime(D.endNs) + " after start" : "")}),
    themeBtn));
  setTheme(currentTheme(), themeBtn);

  var sections = [
    {id: "overview", title: "Overview", view: MS.views.overview},
    {id: "timeline", title: "Timeline", view: MS.views.timeline},
    {id: "leaks", title: "Leaks", view: MS.views.leaks, count: D.atExit ? D.leaks.length : null, bad: D.leaks.length > 0},
    {id: "errors", title: "Memory errors", view: MS.views.errors, count: D.errors.length, bad: D.errors.length > 0},
    {id: "findings", title: "Findings", view: MS.views.findings, count: D.findings.length},
    {id: "flame", title: "Flame graph", view: MS.views.flame},
    {id: "calltree", title: "Call tree", view: MS.views.calltree},
    {id: "sites", title: "Allocation sites", view: MS.views.sites, count: D.sites.length},
    {id: "variables", title: "Named variables", view: MS.views.variables, count: D.variables.length},
    {id: "memory", title: "Size classes & fragmentation", view: MS.views.memory},
    {id: "threads", title: "Threads, tags & modules", view: MS.views.threads, count: D.threads.length}
  ];
  var nav = E("nav", {class: "toc", "aria-label": "sections"});
  var main = E("main");
  sticky.appendChild(nav);
  app.appendChild(main);
  sections.forEach(function (s) {
    nav.appendChild(E("a", {href: "#" + s.id}, s.title,
      s.count !== undefined && s.count !== null ? E("span", {class: "count" + (s.bad ? " bad" : ""), text: MS.fmtCount(s.count)}) : null));
    var sec = E("section", {class: "view", id: s.id, "aria-labelledby": s.id + "-h"}, E("h2", {id: s.id + "-h", text: s.title}));
    main.appendChild(sec);
    var t0 = performance.now();
    try {
      s.view(sec, D);
    } catch (e) {
      console.error("memscope report: the " + s.title + " view failed:", e);
      sec.appendChild(E("p", {class: "empty", text: "This view could not be drawn: " + e}));
    }
    D.timings[s.id] = Math.round(performance.now() - t0);
  });
  main.appendChild(E("p", {class: "help", text: "Made by memscope from a dump of format version " + (D.raw.format_version || "?") +
    ". This file is self-contained: it makes no network requests."}));
}

function start() {
  initialTheme();
  var node = document.getElementById("ms-data"), data;
  var tParse = performance.now();
  try {
    data = JSON.parse(node.textContent);
  } catch (e) {
    console.error("memscope report: the embedded data is not valid JSON:", e);
    document.getElementById("app").textContent = "This report's data could not be read: " + e;
    return;
  }
  var t0 = performance.now();
  MS.useStackTables(data.frames, data.stacks);   /* compact form; absent in the inline form */
  var D = normalise(data);
  /* How long each step took (ms), for the browser test's report and docs/REPORTS.md. */
  D.timings = {parse: Math.round(t0 - tParse), normalise: Math.round(performance.now() - t0)};
  var metaNode = document.getElementById("ms-meta");
  try { D.meta = metaNode ? JSON.parse(metaNode.textContent) : {}; } catch (e) { D.meta = {}; }
  build(D);
  window.memscope = {data: D, flame: MS.flame, tables: MS.tables, renderMs: performance.now() - t0};
  document.documentElement.setAttribute("data-ready", "1");
}

if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
else start();
})();

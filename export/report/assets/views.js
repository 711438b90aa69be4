/* views.js — one function per section of the report. Each gets its <section> element and the
 * normalised data (see main.js) and fills it; an empty data set always produces a plain
 * sentence saying so, never a blank box. Charts read theme colours from CSS variables and
 * register a redraw in MS.themeHooks so the theme toggle repaints them. */
"use strict";
(function () {
var MS = window.MS, E = MS.el;
var V = MS.views = {};
MS.themeHooks = [];

function help(text) { return E("p", {class: "help", text: text}); }
function empty(text) { return E("p", {class: "empty", text: text}); }
function card(label, value, sub, cls, id) {
  return E("div", {class: "card" + (cls ? " " + cls : ""), id: id},
    E("div", {class: "label", text: label}), E("div", {class: "value", text: value}),
    sub ? E("div", {class: "sub", text: sub}) : null);
}
/* "function (file:line)" shown as a bold function name and a muted location. */
function siteCell(obj) {
  var label = MS.labelOf(obj), m = /^(.*?) \((.*)\)$/.exec(label);
  if (!m) return E("span", {class: "fn mono", text: label});
  return E("span", null, E("span", {class: "fn mono", text: m[1]}), " ", E("span", {class: "where", text: MS.basename(m[2].replace(/:(\d+)$/, "")) + (/:(\d+)$/.test(m[2]) ? ":" + /:(\d+)$/.exec(m[2])[1] : "")}));
}
function stackText(stack) {
  return (stack || []).map(function (f) {
    return (f.function || "") + " " + (f.file || "") + " " + (f.module || "");
  }).join("\n").toLowerCase();
}
function frameMatches(f, q) {
  return !!f && ((f.function && String(f.function).toLowerCase().indexOf(q) >= 0) ||
    (f.address && String(f.address).toLowerCase().indexOf(q) >= 0) ||
    (f.file && String(f.file).toLowerCase().indexOf(q) >= 0) ||
    (f.module && MS.basename(f.module).toLowerCase().indexOf(q) >= 0));
}
/* Does any frame of obj's stack (function, file, library or address) contain q (lower case)?
 * With stack ids (compact form) each distinct frame is tested once per query and the answer
 * kept by frame index: filtering 100k sites looks at the ~20k distinct frames, not 1.2M. */
var frameMemo = {q: null, frames: null, hit: null};
function matchStack(obj, q, which) {
  var ids = MS.stackIds(obj, which);
  if (ids) {
    var F = MS.stackFrames();
    if (frameMemo.q !== q || frameMemo.frames !== F) frameMemo = {q: q, frames: F, hit: new Uint8Array(F.length)};
    var hit = frameMemo.hit;
    for (var i = 0; i < ids.length; i++) {
      var k = ids[i], h = hit[k];
      if (!h) h = hit[k] = frameMatches(F[k], q) ? 2 : 1;
      if (h === 2) return true;
    }
    return false;
  }
  var stack = Array.isArray(obj) ? obj : MS.stackOf(obj, which);
  for (var j = 0; j < stack.length; j++) if (frameMatches(stack[j], q)) return true;
  return false;
}
MS.matchStack = matchStack;
MS.stackText = stackText;
function humanKind(k) { return String(k === undefined || k === null ? "unknown" : k).replace(/_/g, " "); }
/* Jump to the sites table, filtered to one function. */
function showInSites(fn) {
  var t = MS.tables && MS.tables.sites;
  if (!t) return;
  t.setFilter(fn);
  var s = document.getElementById("sites");
  if (s) s.scrollIntoView({block: "start"});
  if (t.filter) t.filter.focus({preventScroll: true});
}

/* ---------------------------------------------------------------- overview */
V.overview = function (sec, D) {
  var S = D.summary, P = D.process;
  var secs = D.endNs / 1e9;
  var leakBytes = 0, leakCount = 0;
  D.leaks.forEach(function (l) { leakBytes += MS.num(l.bytes); leakCount += MS.num(l.count); });
  var rate = MS.num(S.sample_rate);
  var rateText = rate === 1 ? "exact" : rate === 0 ? "off" : MS.fmtBytes(rate);
  var rateSub = rate === 1 ? "every allocation recorded" : rate === 0 ? "statistics only, no stacks" :
    "one sample per " + MS.fmtBytes(rate) + " allocated; figures are unbiased estimates";

  if (D.meta && D.meta.sites_shown) sec.appendChild(E("p", {class: "empty", text: "This dump has " + MS.fmtCount(D.meta.sites_total) +
    " allocation sites, too many for one page: this report lists the " + MS.fmtCount(D.meta.sites_shown) +
    " biggest sites and leaks (totals cover everything). memscope convert -o report.json writes them all."}));
  var verdict = E("ul", {class: "verdict", id: "verdict"});
  var peakT = D.peakTimeNs !== null ? " at " + MS.fmtTime(D.peakTimeNs) : "";
  verdict.appendChild(E("li", null, "Heap peaked at ", E("strong", {text: MS.fmtBytes(S.peak_live_bytes)}), peakT,
    D.peakRss ? " (process RSS peaked at " + MS.fmtBytes(D.peakRss) + ")." : "."));
  if (D.atExit) {
    verdict.appendChild(leakCount
      ? E("li", null, E("strong", {class: "badge bad", text: "leaks"}), " ", MS.fmtBytes(leakBytes) + " in " + MS.plural(leakCount, "block") +
          " never freed, from " + D.leaks.length + " site" + (D.leaks.length === 1 ? "" : "s") + "; biggest: ",
          E("code", {text: MS.labelOf(D.leaks[0])}), ".")
      : E("li", null, E("strong", {class: "badge ok", text: "no leaks"}), " Every block was freed before exit."));
  } else {
    verdict.appendChild(E("li", null, "This dump was taken while the program ran (" + D.reason + "): " +
      MS.fmtBytes(S.live_bytes) + " was live then. Leaks are known only from a dump taken at exit."));
  }
  verdict.appendChild(D.errors.length
    ? E("li", null, E("strong", {class: "badge bad", text: D.errors.length + " memory error" + (D.errors.length === 1 ? "" : "s")}), " ",
        countKinds(D.errors) + " \u2014 see Memory errors.")
    : E("li", null, E("strong", {class: "badge ok", text: "no memory errors"}), " No double free, invalid free or overflow was detected."));
  if (D.sites.length) {
    var top = D.sites.slice().sort(function (a, b) { return MS.num(b.peak_bytes) - MS.num(a.peak_bytes); })[0];
    if (MS.num(top.peak_bytes) > 0) verdict.appendChild(E("li", null, "Largest site at the peak: ",
      E("code", {text: MS.labelOf(top)}), " with " + MS.fmtBytes(top.peak_bytes) + " (" +
      MS.fmtPct(top.peak_bytes, S.peak_live_bytes) + " of the peak)."));
  }
  if (D.findings.length) verdict.appendChild(E("li", null, D.findings.length + " usage-pattern finding" +
    (D.findings.length === 1 ? "" : "s") + " suggest what to change \u2014 see Findings."));
  sec.appendChild(verdict);

  var cards = E("div", {class: "cards"});
  cards.appendChild(card("Peak live heap", MS.fmtBytes(S.peak_live_bytes), D.peakTimeNs !== null ? "at " + MS.fmtTime(D.peakTimeNs) : null, null, "card-peak"));
  cards.appendChild(card(D.atExit ? "Live at exit" : "Live now", MS.fmtBytes(S.live_bytes), MS.plural(S.live_allocations, "block")));
  cards.appendChild(D.atExit
    ? card("Leaked", leakCount ? MS.fmtBytes(leakBytes) : "none", leakCount ? MS.plural(leakCount, "block") + ", " + MS.plural(D.leaks.length, "site") : "all memory freed", leakCount ? "bad" : "ok", "card-leaks")
    : card("Leaked", "n/a", "snapshot taken before exit", null, "card-leaks"));
  cards.appendChild(card("Allocations", MS.fmtCount(S.total_allocations),
    secs > 0 ? MS.fmtCount(S.total_allocations / secs) + " per second" : MS.fmtCount(S.total_frees) + " frees"));
  cards.appendChild(card("Allocated in total", MS.fmtBytes(S.total_bytes), MS.fmtCount(S.total_frees) + " frees"));
  cards.appendChild(card("Memory errors", D.errors.length ? MS.fmtCount(D.errors.length) : "none", D.errors.length ? countKinds(D.errors) : "none detected", D.errors.length ? "bad" : "ok"));
  if (D.peakRss) cards.appendChild(card("Peak RSS", MS.fmtBytes(D.peakRss), S.rss_bytes ? MS.fmtBytes(S.rss_bytes) + " at the dump" : null));
  cards.appendChild(card("Sample rate", rateText, rateSub));
  var over = D.overhead;
  if (over) cards.appendChild(card("Allocator overhead", MS.fmtBytes(over.total), over.detail, null, "card-overhead"));
  cards.appendChild(card("Duration", secs > 0 ? MS.fmtTime(D.endNs) : "\u2013", MS.plural(D.sites.length, "site") + ", " + MS.plural(D.threads.length, "thread")));
  sec.appendChild(cards);
};

function countKinds(errors) {
  var m = {};
  errors.forEach(function (e) { var k = humanKind(e.kind); m[k] = (m[k] || 0) + 1; });
  return Object.keys(m).map(function (k) { return m[k] + " " + k; }).join(", ");
}

/* ---------------------------------------------------------------- findings */
V.findings = function (sec, D) {
  sec.appendChild(help("Patterns in how the program uses memory that are worth changing, each with the allocation site to look at."));
  if (!D.findings.length) { sec.appendChild(empty("No findings: memscope saw no wasteful allocation pattern.")); return; }
  var order = {error: 0, bad: 0, warning: 1, warn: 1, info: 2};
  var list = D.findings.slice().sort(function (a, b) {
    return (order[a.severity] !== undefined ? order[a.severity] : 3) - (order[b.severity] !== undefined ? order[b.severity] : 3) ||
      MS.num(b.bytes) - MS.num(a.bytes);
  });
  list.forEach(function (f) {
    var stack = f._stack;
    var site = MS.siteFrame(stack);
    var it = E("div", {class: "item finding"});
    it.appendChild(E("div", {class: "head"},
      E("span", {class: "badge " + (f.severity || "info"), text: f.severity || "info"}),
      E("span", {class: "title", text: humanKind(f.kind)}),
      f.bytes !== undefined || f.count !== undefined ? E("span", {class: "meta", text:
        [f.bytes !== undefined ? MS.fmtBytes(f.bytes) : null, f.count !== undefined ? MS.fmtCount(f.count) + (MS.num(f.count) === 1 ? " allocation" : " allocations") : null].filter(Boolean).join(", ")}) : null));
    if (f.message) it.appendChild(E("p", {text: f.message, style: "margin:.3rem 0"}));
    if (f.suggestion) it.appendChild(E("p", {text: "Suggestion: " + f.suggestion, style: "margin:.3rem 0"}));
    if (site || f.location) {
      it.appendChild(E("div", null, "Fix at: ", E("code", {class: "fix-at", text: f.location || MS.siteLabel(stack)}), " ",
        site || f.location ? E("button", {text: "Show in sites table", onclick: function () { showInSites(f.location || MS.frameName(site)); }}) : null));
      if (stack && stack.length) it.appendChild(E("details", null, E("summary", {text: "Call stack"}), MS.renderStack(stack)));
    }
    sec.appendChild(it);
  });
};

/* ---------------------------------------------------------------- errors */
V.errors = function (sec, D) {
  sec.appendChild(help("Each error shows three stacks: where it was detected, where the block was allocated and where it was freed before."));
  if (!D.errors.length) { sec.appendChild(empty("No memory errors were detected (double free, invalid free, overflow, use after free).")); return; }
  D.errors.slice(0, 200).forEach(function (e) {
    var it = E("div", {class: "item error"});
    it.appendChild(E("div", {class: "head"}, E("span", {class: "badge bad", text: humanKind(e.kind)}),
      E("span", {class: "title mono", text: MS.labelOf(e)}),
      E("span", {class: "meta", text: "address " + MS.hex(e.address) + (e.size !== undefined && e.size !== null ? ", block of " + MS.fmtBytes(e.size) : "") +
        (e.time_ns !== undefined ? ", at " + MS.fmtTime(e.time_ns) : "")})));
    if (e.detail) it.appendChild(E("p", {text: e.detail, style: "margin:.3rem 0"}));
    it.appendChild(E("div", {class: "stacks3"},
      E("div", null, E("h4", {text: "Detected here"}), MS.renderStack(MS.stackOf(e), {emptyText: "(not recorded)", truncated: MS.isTruncated(e)})),
      E("div", null, E("h4", {text: "Allocated here"}), MS.renderStack(MS.stackOf(e, "alloc_stack"), {emptyText: "(unknown: block not sampled or not from this heap)", truncated: MS.isTruncated(e, "alloc_stack")})),
      E("div", null, E("h4", {text: "Freed here"}), MS.renderStack(MS.stackOf(e, "free_stack"), {emptyText: "(not freed before / unknown)", truncated: MS.isTruncated(e, "free_stack")}))));
    sec.appendChild(it);
  });
  if (D.errors.length > 200) sec.appendChild(help("\u2026 and " + (D.errors.length - 200) + " more errors (see the JSON output for all)."));
};

/* ---------------------------------------------------------------- leaks */
V.leaks = function (sec, D) {
  if (!D.atExit && !D.leaks.length) {
    sec.appendChild(empty("No leak data: this dump was taken while the program was running. Take a dump at exit " +
      "(MEMSCOPE_OUTPUT or memscope run) to see leaks."));
    return;
  }
  sec.appendChild(help("Blocks still allocated when the program exited, grouped by the call stack that allocated them."));
  /* the leak check's classes (memscope run --leak-check / MEMSCOPE_LEAK_CHECK=1) */
  var LC = D.raw.leak_check || null, KINDS = {definitely_lost: [0, "definitely lost", "bad"],
    indirectly_lost: [1, "indirectly lost", "bad"], possibly_lost: [2, "possibly lost", "warn"],
    unknown: [3, "unknown", "info"], still_reachable: [4, "still reachable", "ok"]};
  function kindOf(r) { return KINDS[r.kind] || KINDS.unknown; }
  if (LC) {
    var parts = [];
    if (LC.status === "done") {
      ["definitely_lost", "indirectly_lost", "possibly_lost", "still_reachable"].forEach(function (k) {
        var v = LC[k] || {};
        parts.push(KINDS[k][1] + ": " + MS.fmtBytes(v.bytes) + " in " + MS.plural(v.blocks, "block"));
      });
    } else {
      parts.push("classes unknown: " + (LC.note || LC.status));
    }
    var sp = LC.suppressed || {};
    parts.push("suppressed: " + MS.fmtBytes(sp.bytes) + " in " + MS.plural(sp.blocks, "block"));
    sec.appendChild(E("p", {id: "leak-classes", class: "help", text: "Leak check \u2014 " + parts.join("; ") + "."}));
  }
  MS.tables.leaks = new MS.DataTable(sec, {
    id: "leaks-table", label: "leaks", rows: D.leaks, pageSize: 10, sortKey: LC && LC.status === "done" ? "kind" : "bytes",
    sortDesc: !(LC && LC.status === "done"),
    emptyText: "No leaks: every block allocated was freed before exit.",
    filterPlaceholder: "Filter by function, file or library\u2026",
    match: function (r, q) { return matchStack(r, q); },
    columns: [
      {key: "site", label: "Allocated at", get: function (r) { return MS.labelOf(r); }, render: function (r) { return siteCell(r); }},
      {key: "kind", label: "Kind", num: true, get: function (r) { return kindOf(r)[0] * 1e15 - MS.num(r.bytes); },
        render: function (r) { var k = kindOf(r); return E("span", {class: "badge " + k[2], text: k[1]}); }},
      {key: "bytes", label: "Leaked bytes", num: true, get: function (r) { return MS.num(r.bytes); }, render: function (r) { return MS.fmtBytes(r.bytes); }},
      {key: "count", label: "Blocks", num: true, get: function (r) { return MS.num(r.count); }, render: function (r) { return MS.fmtCount(r.count); }},
      {key: "first", label: "First allocated", num: true, get: function (r) { return MS.num(r.first_time_ns); },
        render: function (r) { return r.first_time_ns === undefined ? "" : MS.fmtTime(r.first_time_ns); }}
    ],
    detail: function (r) { return MS.renderStack(MS.stackOf(r), {truncated: MS.isTruncated(r)}); }
  });
};

/* ---------------------------------------------------------------- timeline */
/* "How did memory grow, and who grew it" (issue 17): with per-site figures (D.points[].sites,
 * dump format 3) the live heap is drawn stacked by the TOP_SERIES sites that were biggest at
 * some point, the rest as "other"; dragging across the chart selects a time range, and the
 * flame graph, call tree and sites table then show what grew in it (MS.setTimeRange). Zoom is
 * the slider under the chart, Zoom to selection / peak, and double-click to reset. */
var TOP_SERIES = 8;
var SERIES_COLOURS = ["#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1", "#ff9da7"];
var OTHER_COLOUR = "#bab0ac";

/* The TOP_SERIES sites with the most bytes at any point, and one row per point:
 * [seconds, site 1 .. site N, other], other = live - the N sites (never below 0). */
function stackedSeries(D) {
  var best = new Map();
  D.points.forEach(function (p) {
    if (p.sites) p.sites.forEach(function (b, s) { if (b > (best.get(s) || 0)) best.set(s, b); });
  });
  var top = Array.from(best.keys()).sort(function (a, b) { return best.get(b) - best.get(a); }).slice(0, TOP_SERIES);
  var seen = {}, labels = top.map(function (s) {
    var l = MS.labelOf(s), m = /^(.*?) \((.*)\)$/.exec(l);
    if (m) l = m[1] + " (" + MS.basename(m[2]) + ")";   /* the legend line stays short */
    if (seen[l]) l += " [site " + (typeof s.id === "number" ? s.id : D.sites.indexOf(s)) + "]";   /* dygraphs needs distinct labels */
    seen[l] = 1;
    return l;
  });
  var rows = D.points.map(function (p) {
    var row = [p.t / 1e9], sum = 0;
    top.forEach(function (s) { var v = p.sites ? p.sites.get(s) || 0 : 0; row.push(v); sum += v; });
    row.push(Math.max(0, p.live - sum));
    return row;
  });
  return {sites: top, labels: labels.concat(["other sites"]), rows: rows};
}

/* Bytes of site s at point p (0 when the point does not list it) and the rest of the point. */
function siteAt(p, s) { return p && p.sites ? p.sites.get(s) || 0 : 0; }
function otherAt(p) {
  var sum = 0;
  if (p.sites) p.sites.forEach(function (b) { sum += b; });
  return Math.max(0, p.live - sum);
}
/* The last point at or before t (the first point if none). */
function pointAt(P, t) {
  var i = 0;
  while (i + 1 < P.length && P[i + 1].t <= t) i++;
  return i;
}

V.timeline = function (sec, D) {
  var tl = D.timeline, P = D.points;
  var intro = help("Live heap bytes (what the program holds in malloc'd blocks) and the process's resident memory over time. " +
    (D.timelineSites ? "Each colour is one allocation site (the " + TOP_SERIES + " that were biggest at some moment), grey is every other site. " : "") +
    "Drag across the chart to select a time range" + (D.timelineSites ? ": the flame graph, call tree and sites table then show what grew in it" : "") +
    ". Zoom with the slider below it, Zoom to selection or Zoom to peak; double-click or Reset zoom to zoom out.");
  sec.appendChild(intro);
  if (tl.length < 2) {
    sec.appendChild(empty((tl.length ? "Only one timeline point was recorded: the program ran shorter than one interval." :
      "No timeline points were recorded (MEMSCOPE_INTERVAL_MS, or the program ended too quickly).") +
      " Peak: " + MS.fmtBytes(D.summary.peak_live_bytes) + (D.peakTimeNs !== null ? " live at " + MS.fmtTime(D.peakTimeNs) : "") + "."));
    return;
  }
  var hasRss = P.some(function (p) { return p.rss > 0; });
  var chart = E("div", {id: "timeline-chart", role: "img", "aria-label": "timeline of live heap bytes" + (D.timelineSites ? " by allocation site" : "") + (hasRss ? " and RSS" : "")});
  var legend = E("div", {class: "legend-line", id: "timeline-legend"});
  var reset = E("button", {text: "Reset zoom", id: "timeline-reset"});
  var toPeak = E("button", {text: "Zoom to peak", id: "timeline-peak-zoom", title: "show the tenth of the run around the peak"});
  var toSel = E("button", {text: "Zoom to selection", id: "timeline-sel-zoom", disabled: true});
  var clearSel = E("button", {text: "Clear selection", id: "timeline-sel-clear", disabled: true});
  var selPeak = E("button", {text: "Select start \u2192 peak", id: "timeline-sel-peak", title: "select from the start of the run to the peak: what grew to make the peak"});
  var stackBox = E("input", {type: "checkbox", id: "timeline-stacked", checked: D.timelineSites ? true : null});
  var peakT = D.peakTimeNs !== null ? D.peakTimeNs : 0;
  sec.appendChild(E("div", {class: "toolbar"}, D.timelineSites ? E("label", null, stackBox, " Stack by site") : null,
    E("span", {class: "spacer"}), selPeak, clearSel, toSel, toPeak, reset));
  sec.appendChild(legend);
  sec.appendChild(chart);
  sec.appendChild(E("p", {class: "help", id: "timeline-peak", text: "Peak: " + MS.fmtBytes(D.summary.peak_live_bytes) + " live at " + MS.fmtTime(peakT) +
    " (red dot: the exact peak, a point of the curve; timeline points between are taken every interval)." +
    (hasRss && D.timelineSites ? " Dashed line: the process's resident memory (RSS)." : "")}));
  var rangeNote = E("p", {class: "help", id: "timeline-range", "aria-live": "polite"});
  sec.appendChild(rangeNote);

  /* The curve (total live bytes) with the exact peak among its points (main.js). */
  var data = P.map(function (p) { var row = [p.t / 1e9, p.live]; if (hasRss) row.push(p.rss); return row; });
  MS.timelineData = data;
  var stackedData = D.timelineSites ? stackedSeries(D) : null;
  MS.timelineStack = stackedData;
  var peakB = MS.num(D.summary.peak_live_bytes);
  var labels = ["Time", "Live heap"].concat(hasRss ? ["RSS"] : []);

  /* ---- the selected range */
  var range = null;   /* {t0, t1} in ns, snapped to timeline points */
  var g = null;       /* the chart (dygraphs), once drawn */
  function rangeText(r) {
    var p0 = P[r.i0], p1 = P[r.i1], d = p1.live - p0.live;
    return "Selected " + MS.fmtTime(p0.t) + " \u2013 " + MS.fmtTime(p1.t) + ": live heap " + MS.fmtBytes(p0.live) + " \u2192 " +
      MS.fmtBytes(p1.live) + " (" + (d >= 0 ? "+" : "") + MS.fmtBytes(d) + ")" +
      (D.timelineSites ? "; the sites that grew most are first in the sites table, and the flame graph shows what grew." : ".");
  }
  MS.setTimeRange = function (t0, t1) {
    if (t0 === null || t0 === undefined) {
      range = null; D.range = null;
      rangeNote.textContent = "Drag across the chart to select a time range" + (D.timelineSites ? ": the flame graph, call tree and sites table then show what grew in it." : ".");
      toSel.disabled = clearSel.disabled = true;
    } else {
      if (t1 < t0) { var x = t0; t0 = t1; t1 = x; }
      var i0 = pointAt(P, t0), i1 = pointAt(P, t1);
      if (i1 < i0) i1 = i0;
      range = {t0: P[i0].t, t1: P[i1].t, i0: i0, i1: i1};
      D.range = range;
      var p0 = P[i0], p1 = P[i1];
      range.growthOf = function (s) { return siteAt(p1, s) - siteAt(p0, s); };
      range.startOf = function (s) { return siteAt(p0, s); };
      range.endOf = function (s) { return siteAt(p1, s); };
      range.listed = function (s) { return siteAt(p0, s) > 0 || siteAt(p1, s) > 0; };
      range.otherGrowth = otherAt(p1) - otherAt(p0);
      range.growth = p1.live - p0.live;
      rangeNote.textContent = i0 === i1 ? "Selected " + MS.fmtTime(t0) + " \u2013 " + MS.fmtTime(t1) +
        ": no timeline point falls inside; drag across a wider range." : rangeText(range);
      toSel.disabled = clearSel.disabled = false;
    }
    MS.rangeListeners.forEach(function (fn) { try { fn(range); } catch (e) { console.error(e); } });
    if (g) g.updateOptions({}, false);
  };

  if (typeof window.Dygraph !== "function") {
    intro.textContent = "Live heap bytes (blue) and the process's resident memory (purple) over time. (This build has no " +
      "charting library, so the chart cannot zoom: install libjs-dygraphs and rebuild memscope.)";
    fallbackTimeline(chart, data, labels, peakT / 1e9); reset.remove(); toPeak.remove(); toSel.remove(); clearSel.remove();
    if (!D.timelineSites) selPeak.remove();
    selPeak.addEventListener("click", function () { MS.setTimeRange(P[0].t, peakT); });
    MS.setTimeRange(null);
    return;
  }
  var drag = null;   /* {x0, x1} in canvas pixels while dragging */
  function stacked() { return !!stackedData && stackBox.checked; }
  function opts() {
    var fg = MS.cssVar("--muted"), grid = MS.cssVar("--border"), st = stacked();
    var ymax = 0;
    P.forEach(function (p) { ymax = Math.max(ymax, p.live, hasRss ? p.rss : 0); });
    var series = {};
    if (st) stackedData.labels.forEach(function (l) { series[l] = {strokeWidth: 1}; });
    else { series["Live heap"] = {fillGraph: true, fillAlpha: 0.18, strokeWidth: 2}; series.RSS = {strokeWidth: 1.5, strokePattern: [6, 3]}; }
    return {
      file: st ? stackedData.rows : data,
      labels: st ? ["Time"].concat(stackedData.labels) : labels,
      colors: st ? SERIES_COLOURS.slice(0, stackedData.sites.length).concat([OTHER_COLOUR])
        : [MS.cssVar("--live"), MS.cssVar("--rss")].slice(0, labels.length - 1),
      stackedGraph: st, fillGraph: st, fillAlpha: st ? 0.75 : 0.18,
      /* stacked, dygraphs sizes the axis by the stack: RSS (drawn by hand) must fit too */
      valueRange: st ? [0, ymax * 1.05] : null,
      series: series,
      labelsDiv: legend, legend: "always", labelsSeparateLines: false,
      showRangeSelector: true, rangeSelectorHeight: 34,
      rangeSelectorPlotFillColor: MS.cssVar("--live"), rangeSelectorPlotStrokeColor: MS.cssVar("--live"),
      rangeSelectorBackgroundStrokeColor: grid, rangeSelectorForegroundStrokeColor: fg,
      gridLineColor: grid, axisLineColor: grid, includeZero: true, animatedZooms: false,
      /* Round ticks in one unit per axis (0, 2, 4, 6 ms; 0, 32, 64 MiB) and axis titles. */
      xlabel: "time since the program started", ylabel: "bytes", xLabelHeight: 16, yLabelWidth: 16,
      axes: {
        x: {valueFormatter: function (s) { return MS.fmtTime(s * 1e9); },
          ticker: function (a, b, px) {
            var ax = MS.niceTicks(a * 1e9, b * 1e9, Math.max(2, Math.floor(px / 110)), "ns");
            return ax.ticks.map(function (t) { return {v: t / 1e9, label: MS.tickLabel(t, ax)}; });
          }},
        y: {valueFormatter: MS.fmtBytes, axisLabelWidth: 72,
          ticker: function (a, b, px) {
            var ax = MS.niceTicks(Math.max(0, a), b, Math.max(2, Math.floor(px / 45)), "bytes");
            return ax.ticks.map(function (t) { return {v: t, label: MS.tickLabel(t, ax)}; });
          }}
      },
      /* Drag selects a time range (zoom is the slider and the buttons); double-click zooms out. */
      interactionModel: {
        mousedown: function (ev, g) {
          if (ev.button === 2) return;
          var area = g.getArea(), x0 = g.eventToDomCoords(ev)[0];
          var clamp = function (x) { return Math.max(area.x, Math.min(area.x + area.w, x)); };
          drag = {x0: clamp(x0), x1: clamp(x0)};
          var pending = false;
          var move = function (e) {
            drag.x1 = clamp(g.eventToDomCoords(e)[0]);
            if (!pending) { pending = true; window.requestAnimationFrame(function () { pending = false; if (drag) g.updateOptions({}, false); }); }
          };
          var up = function () {
            document.removeEventListener("mousemove", move); document.removeEventListener("mouseup", up);
            var d = drag; drag = null;
            if (Math.abs(d.x1 - d.x0) >= 3) MS.setTimeRange(g.toDataXCoord(Math.min(d.x0, d.x1)) * 1e9, g.toDataXCoord(Math.max(d.x0, d.x1)) * 1e9);
            else g.updateOptions({}, false);
          };
          document.addEventListener("mousemove", move); document.addEventListener("mouseup", up);
          ev.preventDefault();
        },
        dblclick: function (ev, g) { g.resetZoom(); }
      },
      drawCallback: function (g) {
        var ctx = g.hidden_ctx_, area = g.getArea();
        if (!ctx) return;
        ctx.save();
        ctx.beginPath(); ctx.rect(area.x, area.y, area.w, area.h); ctx.clip();
        if (st && hasRss) {   /* stacked series leave no room for RSS as a series: draw it */
          ctx.strokeStyle = MS.cssVar("--rss"); ctx.lineWidth = 1.5; ctx.setLineDash([6, 3]);
          ctx.beginPath();
          P.forEach(function (p, i) { var x = g.toDomXCoord(p.t / 1e9), y = g.toDomYCoord(p.rss); if (i) ctx.lineTo(x, y); else ctx.moveTo(x, y); });
          ctx.stroke(); ctx.setLineDash([]);
        }
        var xa = null, xb = null;
        if (drag) { xa = Math.min(drag.x0, drag.x1); xb = Math.max(drag.x0, drag.x1); }
        else if (range) { xa = g.toDomXCoord(range.t0 / 1e9); xb = g.toDomXCoord(range.t1 / 1e9); }
        if (xa !== null) {
          ctx.fillStyle = MS.cssVar("--accent"); ctx.globalAlpha = 0.16;
          ctx.fillRect(xa, area.y, Math.max(1, xb - xa), area.h);
          ctx.globalAlpha = 1; ctx.strokeStyle = MS.cssVar("--accent"); ctx.lineWidth = 1.5;
          ctx.beginPath(); ctx.moveTo(xa, area.y); ctx.lineTo(xa, area.y + area.h); ctx.moveTo(xb, area.y); ctx.lineTo(xb, area.y + area.h); ctx.stroke();
        }
        /* the peak point itself, over the filled areas (the underlay is below them) */
        var px = g.toDomXCoord(peakT / 1e9), py = g.toDomYCoord(peakB);
        if (D.peakTimeNs !== null && peakB > 0 && px >= area.x && px <= area.x + area.w) {
          ctx.fillStyle = MS.cssVar("--peak");
          ctx.beginPath(); ctx.arc(px, py, 4.5, 0, 2 * Math.PI); ctx.fill();
        }
        ctx.restore();
      },
      underlayCallback: function (ctx, area, g) {
        var x = g.toDomXCoord(peakT / 1e9);
        if (!(x >= area.x && x <= area.x + area.w)) return;
        ctx.save();
        ctx.strokeStyle = MS.cssVar("--peak"); ctx.lineWidth = 2; ctx.setLineDash([5, 4]);
        ctx.beginPath(); ctx.moveTo(x, area.y); ctx.lineTo(x, area.y + area.h); ctx.stroke();
        ctx.setLineDash([]); ctx.fillStyle = MS.cssVar("--peak"); ctx.font = "12px system-ui, sans-serif";
        var label = "peak " + MS.fmtBytes(D.summary.peak_live_bytes);
        var tw = ctx.measureText(label).width;
        ctx.fillText(label, x + 6 + tw > area.x + area.w ? x - tw - 6 : x + 6, area.y + 14);
        ctx.restore();
      }
    };
  }
  g = new window.Dygraph(chart, stacked() ? stackedData.rows : data, opts());
  MS.timelineGraph = g;
  reset.addEventListener("click", function () { g.resetZoom(); });
  toPeak.addEventListener("click", function () {
    var x0 = data[0][0], x1 = data[data.length - 1][0], half = Math.max((x1 - x0) / 20, 1e-6), p = peakT / 1e9;
    g.updateOptions({dateWindow: [Math.max(x0, p - half), Math.min(x1, p + half)]});
  });
  toSel.addEventListener("click", function () {
    if (!range || range.t1 <= range.t0) return;
    var pad = (range.t1 - range.t0) / 20;
    g.updateOptions({dateWindow: [(range.t0 - pad) / 1e9, (range.t1 + pad) / 1e9]});
  });
  clearSel.addEventListener("click", function () { MS.setTimeRange(null); });
  selPeak.addEventListener("click", function () { MS.setTimeRange(P[0].t, peakT); });
  stackBox.addEventListener("change", function () { g.updateOptions(opts()); });
  MS.themeHooks.push(function () { g.updateOptions(opts()); });
  MS.setTimeRange(null);
};
MS.rangeListeners = [];

/* Without dygraphs (not installed at build time): a static SVG line chart. */
function fallbackTimeline(div, data, labels, peakS) {
  var W = 900, H = 300, L = 70, B = 24, T = 10, x1 = data[data.length - 1][0], x0 = data[0][0], ymax = 1;
  data.forEach(function (r) { for (var i = 1; i < r.length; i++) ymax = Math.max(ymax, r[i]); });
  var X = function (v) { return L + (W - L - 10) * (v - x0) / Math.max(1e-9, x1 - x0); };
  var Y = function (v) { return T + (H - T - B) * (1 - v / ymax); };
  var s = MS.svg("svg", {class: "chart", viewBox: "0 0 " + W + " " + H, width: "100%", height: H});
  var ya = MS.niceTicks(0, ymax, 4, "bytes");
  ymax = Math.max(ymax, ya.ticks[ya.ticks.length - 1]);
  ya.ticks.forEach(function (v) {
    s.appendChild(MS.svg("line", {x1: L, x2: W - 10, y1: Y(v), y2: Y(v), class: "axis"}));
    s.appendChild(MS.svg("text", {x: L - 6, y: Y(v) + 4, "text-anchor": "end", text: MS.tickLabel(v, ya)}));
  });
  [["--live", 1], ["--rss", 2]].forEach(function (c) {
    if (labels.length <= c[1]) return;
    var d = data.map(function (r, i) { return (i ? "L" : "M") + X(r[0]).toFixed(1) + "," + Y(r[c[1]]).toFixed(1); }).join("");
    s.appendChild(MS.svg("path", {d: d, fill: "none", stroke: MS.cssVar(c[0]), "stroke-width": 2}));
  });
  s.appendChild(MS.svg("line", {x1: X(peakS), x2: X(peakS), y1: T, y2: H - B, stroke: MS.cssVar("--peak"), "stroke-dasharray": "5 4"}));
  var xa = MS.niceTicks(x0 * 1e9, x1 * 1e9, 6, "ns");
  xa.ticks.forEach(function (t) {
    s.appendChild(MS.svg("text", {x: X(t / 1e9), y: H - 6, "text-anchor": "middle", text: MS.tickLabel(t, xa)}));
  });
  div.appendChild(s);
}

/* ---------------------------------------------------------------- flame graph */
V.flame = function (sec, D) {
  sec.appendChild(help("Each bar is a function; its width is the memory allocated below it in the call tree (the program's own " +
    "code is orange, libraries and runtime are blue). Read top-down from main. \u201cInverted\u201d puts the functions that called " +
    "malloc at the top. Type to highlight a function; click a bar to zoom in."));
  if (!D.sites.length) { sec.appendChild(empty("No allocation sites were recorded (sample rate 0 records statistics only).")); return; }
  /* With per-site timeline figures the graph can show what grew in a selected time range. */
  if (D.timelineSites && MS.METRICS.length === MS.RANGE_METRIC) MS.METRICS.push(MS.RANGE_METRIC_DEF);
  MS.flame = new MS.FlameGraph(sec, D.sites, {peak: D.summary.peak_live_bytes});
  if (D.timelineSites) MS.rangeListeners.push(function (r) {
    MS.flame.setRangeGrowth(r && r.i1 > r.i0 ? r.growthOf : null, r ? r.otherGrowth : 0,
      r ? MS.fmtTime(r.t0) + " \u2013 " + MS.fmtTime(r.t1) : "");
  });
};

/* ---------------------------------------------------------------- sites */
V.sites = function (sec, D) {
  sec.appendChild(help("Every allocation site (a distinct call stack). Click a column to sort, type to filter by function, file or library, " +
    "and open a row for its full stack with file:line."));
  var hasTags = D.sites.some(function (s) { return s.tag !== undefined && s.tag !== null && s.tag !== ""; });
  var cols = [
    {key: "site", label: "Site", get: function (r) { return MS.labelOf(r); }, render: function (r) { return siteCell(r); }},
    {key: "bytes", label: "Live bytes", num: true, get: function (r) { return MS.num(r.bytes); }, render: function (r) { return MS.fmtBytes(r.bytes); }},
    {key: "count", label: "Live blocks", num: true, get: function (r) { return MS.num(r.count); }, render: function (r) { return MS.fmtCount(r.count); }},
    {key: "peak_bytes", label: "At peak", num: true, get: function (r) { return MS.num(r.peak_bytes); }, render: function (r) { return MS.fmtBytes(r.peak_bytes); }},
    {key: "peak_pct", label: "% of peak", num: true, get: function (r) { return MS.num(r.peak_bytes); }, render: function (r) { return MS.fmtPct(MS.num(r.peak_bytes), MS.num(D.summary.peak_live_bytes)); }},
    {key: "total_bytes", label: "Total bytes", num: true, get: function (r) { return MS.num(r.total_bytes); }, render: function (r) { return MS.fmtBytes(r.total_bytes); }},
    {key: "total_count", label: "Allocations", num: true, get: function (r) { return MS.num(r.total_count); }, render: function (r) { return MS.fmtCount(r.total_count); }}
  ];
  if (D.sites.some(function (s) { return MS.num(s.temporary_count) > 0; })) cols.push({key: "temp", label: "Short-lived", num: true,
    get: function (r) { return MS.num(r.temporary_count); }, render: function (r) { return MS.fmtCount(r.temporary_count); }});
  if (hasTags) cols.push({key: "tag", label: "Tag", get: function (r) { return r.tag || ""; }});
  if (D.sites.some(function (s) { return !!s.module; })) cols.push({key: "module", label: "Library", get: function (r) { return MS.basename(r.module || ""); },
    render: function (r) { return E("span", {class: "where", title: r.module || "", text: MS.basename(r.module || "")}); }});
  /* The time range selected on the timeline: each site's bytes at its start and end, and the
   * growth (shown only while a range is selected; 0 for a site the point did not list). */
  var inRange = function () { return !!D.range; };
  if (D.timelineSites) cols.push(
    {key: "range_start", label: "At range start", num: true, show: inRange, get: function (r) { return D.range ? D.range.startOf(r) : 0; },
      render: function (r) { return MS.fmtBytes(D.range ? D.range.startOf(r) : 0); }},
    {key: "range_end", label: "At range end", num: true, show: inRange, get: function (r) { return D.range ? D.range.endOf(r) : 0; },
      render: function (r) { return MS.fmtBytes(D.range ? D.range.endOf(r) : 0); }},
    {key: "range_growth", label: "Growth in range", num: true, show: inRange, get: function (r) { return D.range ? D.range.growthOf(r) : 0; },
      render: function (r) { var v = D.range ? D.range.growthOf(r) : 0; return (v > 0 ? "+" : "") + MS.fmtBytes(v); }});
  MS.tables.sites = new MS.DataTable(sec, {
    /* Opens on "at peak": which site holds most at the peak (then live, then total bytes). */
    id: "sites-table", label: "sites", rows: D.sites, pageSize: 25,
    sortKey: D.peakSites > 0 ? "peak_bytes" : D.sites.some(function (s) { return MS.num(s.bytes) > 0; }) ? "bytes" : "total_bytes",
    rowClick: function (r) { if (MS.flame) MS.flame.selectSite(r); },
    emptyText: "No allocation sites were recorded (sample rate 0 records statistics only).",
    filterPlaceholder: "Filter by function, file or library\u2026",
    match: function (r, q) { return matchStack(r, q) || (r.tag && String(r.tag).toLowerCase().indexOf(q) >= 0) ||
      (r.location && String(r.location).toLowerCase().indexOf(q) >= 0); },
    columns: cols,
    detail: function (r) { return E("div", null, MS.renderStack(MS.stackOf(r), {truncated: MS.isTruncated(r)}), lifetimes(r)); }
  });
  /* The flame graph's "hide allocations made before main" filters this table too, and so does a
   * time range (to the sites listed at either end of it). */
  function keepSites() {
    var f = MS.noise, r = D.range;
    MS.tables.sites.setKeep(f || r ? function (s) { return (!f || f.keep(s)) && (!r || r.listed(s)); } : null);
  }
  if (MS.flame) MS.flame.listeners.push(keepSites);
  var rangeNote = E("p", {class: "help", id: "sites-range"});
  MS.rangeListeners.push(function (r) {
    var t = MS.tables.sites;
    t.updateColumns();
    keepSites();
    if (r) t.sortByKey("range_growth", true);
    else t.sortByKey(D.peakSites > 0 ? "peak_bytes" : D.sites.some(function (s) { return MS.num(s.bytes) > 0; }) ? "bytes" : "total_bytes", true);
    rangeNote.textContent = !r ? "" : r.i1 <= r.i0 ? "The selected time range holds no timeline point." :
      "Time range " + MS.fmtTime(r.t0) + " \u2013 " + MS.fmtTime(r.t1) + ": the live heap grew by " + MS.fmtBytes(r.growth) +
      "; the sites listed here by " + MS.fmtBytes(r.growth - r.otherGrowth) + " and all other sites by " + MS.fmtBytes(r.otherGrowth) +
      " (each timeline point lists its biggest sites; the rest count as other).";
  });
  var peakNote = E("p", {class: "help", id: "sites-peak-sum"});
  var pk = MS.num(D.summary.peak_live_bytes);
  peakNote.textContent = D.peakSites === pk ? "The sites' bytes at the peak add up to the peak, " + MS.fmtBytes(pk) + "." :
    "The sites hold " + MS.fmtBytes(D.peakSites) + " of the " + MS.fmtBytes(pk) + " peak" +
    (MS.num(D.summary.sample_rate) > 1 ? " (sampled: an estimate)." : "; the flame graph shows the rest as \u201cnot attributed to a site\u201d.");
  if (D.sites.length) sec.appendChild(peakNote);
  if (D.timelineSites) sec.appendChild(rangeNote);
};

/* How long the site's freed (sampled) blocks lived, as a small bar list. */
var LIFETIME_LABELS = ["< 1 \u00b5s", "< 10 \u00b5s", "< 100 \u00b5s", "< 1 ms", "< 10 ms", "< 100 ms", "< 1 s", "\u2265 1 s"];
function lifetimes(r) {
  var b = Array.isArray(r.lifetimes) ? r.lifetimes.map(MS.num) : [];
  var total = b.reduce(function (a, x) { return a + x; }, 0);
  if (!total) return null;
  var max = Math.max.apply(null, b), W = 160;
  var t = E("table", {class: "lifetimes"}, E("caption", {text: "Lifetime of freed blocks"}));
  b.forEach(function (n, i) {
    if (i >= LIFETIME_LABELS.length) return;
    t.appendChild(E("tr", null, E("td", {class: "where", text: LIFETIME_LABELS[i]}),
      E("td", null, E("span", {class: "lbar", style: "width:" + Math.max(n ? 2 : 0, Math.round(W * n / max)) + "px"})),
      E("td", {class: "num", text: MS.fmtCount(n) + " (" + MS.fmtPct(n, total) + ")"})));
  });
  return t;
}

/* ---------------------------------------------------------------- variables */
V.variables = function (sec, D) {
  sec.appendChild(help("Heap blocks named in the program with MS_TRACK, drawn from allocation to free on the program's time axis. " +
    "The line inside a bar is the block's reference count (MS_REF_RETAIN / MS_REF_RELEASE)."));
  if (!D.variables.length) { sec.appendChild(empty("No named variables: the program did not call MS_TRACK.")); return; }
  var chartBox = E("div", {id: "lifecycles"});
  sec.appendChild(chartBox);
  sec.appendChild(E("div", {class: "fragkey", style: "margin:.2rem 0 .6rem"},
    E("span", null, E("i", {style: "background:var(--live);opacity:.5"}), "allocated → freed (or live)"),
    E("span", null, E("i", {style: "background:var(--bad);opacity:.5"}), "leaked (never freed)"),
    E("span", null, E("i", {style: "background:var(--accent)"}), "reference count (line) and its events (\u25b2 retain, \u25bc release, \u25c6 set: ticks on top)")));
  var end = D.endNs;
  MS.tables.variables = new MS.DataTable(sec, {
    id: "variables-table", label: "variables", detailLabel: "Events", detailTitle: "show the block's events and stacks", rows: D.variables, pageSize: 25, sortKey: "alloc", sortDesc: false,
    filterPlaceholder: "Filter by name, type or file\u2026",
    match: function (r, q) { return [r.name, r.type, r.file].join(" ").toLowerCase().indexOf(q) >= 0; },
    columns: [
      {key: "name", label: "Name", get: function (r) { return r.name || ""; }, render: function (r) { return E("span", {class: "fn mono", text: r.name || "?"}); }},
      {key: "type", label: "Type", get: function (r) { return r.type || ""; }, render: function (r) { return E("code", {text: r.type || ""}); }},
      {key: "size", label: "Size", num: true, get: function (r) { return MS.num(r.size); }, render: function (r) { return MS.fmtBytes(r.size); }},
      {key: "where", label: "Declared at", get: function (r) { return (r.file || "") + ":" + (r.line || 0); },
        render: function (r) { return E("span", {class: "where", text: MS.basename(r.file) + (r.line ? ":" + r.line : "")}); }},
      {key: "alloc", label: "Allocated", num: true, get: function (r) { return MS.num(r.alloc_time_ns); }, render: function (r) { return MS.fmtTime(r.alloc_time_ns); }},
      {key: "free", label: "Freed", num: true, get: function (r) { return r._freed ? MS.num(r.free_time_ns) : Infinity; },
        render: function (r) { return r._freed ? MS.fmtTime(r.free_time_ns) : E("span", {class: "badge " + (r._state === "leaked" ? "bad" : "info"), text: r._state}); }},
      {key: "life", label: "Lifetime", num: true, get: function (r) { return r._life; }, render: function (r) { return MS.fmtTime(r._life) + (r._freed ? "" : "+"); }},
      {key: "refs", label: "Ref count", num: true, get: function (r) { return r._refs.length ? r._refs[r._refs.length - 1][1] : -1; },
        render: function (r) {
          if (!r._refs.length) return E("span", {class: "where", text: "\u2013"});
          return E("span", null, r.refcount_unbalanced ? [E("span", {class: "badge bad", text: "unbalanced", title: "freed while the count was above zero, or the count went below zero"}), " "] : null,
            String(r._refs[r._refs.length - 1][1]) + " ", MS.sparkSteps(r._refs, MS.num(r.alloc_time_ns), r._freed ? MS.num(r.free_time_ns) : end, 90, 18),
            " ", E("span", {class: "where", text: MS.plural(r._refEvents.length, "event")}));
        }}
    ],
    detail: function (r) {
      var box = E("div");
      box.appendChild(E("dl", {class: "kv"}, E("dt", {text: "address"}), E("dd", {class: "mono", text: MS.hex(r.address)}),
        E("dt", {text: "declared at"}), E("dd", {class: "mono", text: (r.file || "?") + ":" + (r.line || "?")})));
      if (r._refEvents.length) {
        var t = E("table", {class: "data"}, E("thead", null, E("tr", null, E("th", {text: "time"}), E("th", {text: "event"}), E("th", {class: "num", text: "count after"}))));
        var tb = E("tbody");
        r._refEvents.slice(0, 500).forEach(function (ev) {
          tb.appendChild(E("tr", null, E("td", {text: MS.fmtTime(ev.time_ns)}), E("td", {text: ev._kind}), E("td", {class: "num", text: ev.count === undefined ? "" : String(ev.count)})));
        });
        t.appendChild(tb);
        box.appendChild(t);
      }
      var allocStack = MS.stackOf(r, "alloc_stack");
      if (allocStack.length) box.appendChild(E("div", null, E("h4", {text: "Allocated here"}), MS.renderStack(allocStack, {truncated: MS.isTruncated(r, "alloc_stack")})));
      return box;
    },
    onPage: function (rows) { drawLifecycles(chartBox, rows, end, D.atExit); }
  });
};

/* The lifecycle chart: one bar per variable on the program's time axis, its reference count as
 * a step line inside, and a tick per reference-count event. Counts can change within a
 * microsecond on an axis of many milliseconds (issue 17: a 1->2->1 in 0.3 us was invisible), so
 * every step of the count line and every event tick is at least MIN_STEP px wide, events closer
 * than that share one tick (its tooltip lists them), and the axis zooms: drag across the chart,
 * click a shared tick to zoom to its events, or a bar to zoom to all of that variable's
 * reference-count events; Reset zoom goes back. */
var MIN_STEP = 3;
/* "6.00015 ms": enough digits to tell apart times a span apart. */
function preciseMs(t, span) {
  var dec = Math.max(1, Math.min(6, Math.ceil(-Math.log10(Math.max(span, 1) / 1e6)) + 1));
  return (MS.num(t) / 1e6).toFixed(dec) + " ms";
}
var REF_MARK = {retain: "\u25b2", release: "\u25bc", refset: "\u25c6"};
function drawLifecycles(box, rows, end, atExit, view) {
  view = view || box._view || {win: null};
  box._view = view;
  box.textContent = "";
  if (!rows.length) return;
  var t0 = view.win ? view.win[0] : 0, t1 = view.win ? view.win[1] : Math.max(1, end);
  var W = 1000, L = 190, R = 20, RH = 24, T = 22, H = T + rows.length * RH + 8;
  var X = function (t) { return L + (W - L - R) * Math.min(1, Math.max(0, (MS.num(t) - t0) / Math.max(1e-9, t1 - t0))); };
  var toolbar = E("div", {class: "toolbar"},
    E("span", {class: "help", id: "lifecycles-axis", text: view.win ? "Showing " + MS.fmtTime(t1 - t0) + " from " + preciseMs(t0, t1 - t0) + " (ticks: time since then)." :
      "Drag across the chart to zoom the time axis; click a bar to zoom to its reference-count events, a tick to the events it holds."}),
    E("span", {class: "spacer"}),
    E("button", {id: "lifecycles-reset", text: "Reset zoom", disabled: view.win ? null : true,
      onclick: function () { view.win = null; drawLifecycles(box, rows, end, atExit, view); }}));
  box.appendChild(toolbar);
  var s = MS.svg("svg", {class: "chart", viewBox: "0 0 " + W + " " + H, width: "100%", role: "img",
    "aria-label": "lifecycles of the named variables on this page"});
  /* round ticks in one unit (MS.niceTicks), as on the timeline; zoomed in, they count from the
   * window's start ("+200 ns"), since 6000200 ns reads worse than that */
  var off = view.win ? t0 : 0, ax = MS.niceTicks(0, t1 - off, 5, "ns");
  ax.ticks.forEach(function (d) {
    var t = off + d;
    if (t < t0 - 1e-9 || t > t1 + 1e-9) return;
    var tx = X(t);
    s.appendChild(MS.svg("line", {x1: tx, x2: tx, y1: T - 4, y2: H - 6, class: "axis"}));
    s.appendChild(MS.svg("text", {x: tx, y: 12, "text-anchor": tx < L + 20 ? "start" : tx > W - R - 30 ? "end" : "middle", class: "muted lc-tick",
      text: (view.win && d > 0 ? "+" : "") + MS.tickLabel(d, ax)}));
  });
  var live = MS.cssVar("--live"), acc = MS.cssVar("--accent"), bad = MS.cssVar("--bad");
  rows.forEach(function (r, k) {
    var y = T + k * RH, a = X(r.alloc_time_ns), b = r._freed ? X(r.free_time_ns) : X(end);
    var name = (r.name || "?"); if (name.length > 24) name = name.slice(0, 23) + "\u2026";
    s.appendChild(MS.svg("text", {x: L - 8, y: y + RH / 2 + 4, "text-anchor": "end", text: name}));
    var g = MS.svg("g", {class: "lc-var", "data-name": r.name || "?"});
    var bar = MS.svg("rect", {x: a, y: y + 4, width: Math.max(2, b - a), height: RH - 8, rx: 3,
      fill: r._state === "leaked" ? bad : live, "fill-opacity": r._freed ? 0.35 : 0.5});
    g.appendChild(bar);
    if (r._refs.length) {
      var vmax = 1; r._refs.forEach(function (p) { vmax = Math.max(vmax, p[1]); });
      var Yv = function (v) { return y + RH - 6 - (RH - 12) * v / vmax; };
      /* each count lasts at least MIN_STEP px, so a change and its undo stay visible */
      var x = X(r._refs[0][0]), d = "M" + x.toFixed(1) + "," + Yv(r._refs[0][1]).toFixed(1);
      for (var j = 1; j < r._refs.length; j++) {
        x = Math.max(X(r._refs[j][0]), x + MIN_STEP);
        d += "H" + x.toFixed(1) + "V" + Yv(r._refs[j][1]).toFixed(1);
      }
      d += "H" + Math.max(b, x + MIN_STEP).toFixed(1);
      g.appendChild(MS.svg("path", {d: d, fill: "none", stroke: acc, "stroke-width": 2, class: "lc-count"}));
      /* one tick per event, events closer than MIN_STEP px sharing one */
      var evs = r._refEvents.filter(function (e) { return REF_MARK[e._kind]; }), groups = [];
      evs.forEach(function (e) {
        if (MS.num(e.time_ns) < t0 || MS.num(e.time_ns) > t1) return;   /* outside the zoomed window */
        var ex = X(e.time_ns), last = groups[groups.length - 1];
        if (last && ex - last.x < MIN_STEP) last.evs.push(e);
        else groups.push({x: ex, evs: [e]});
      });
      groups.forEach(function (gr) {
        var tick = MS.svg("rect", {x: gr.x - MIN_STEP / 2, y: y + 1, width: MIN_STEP, height: 5, fill: acc, class: "lc-event",
          "data-events": gr.evs.length},
          MS.svg("title", {text: gr.evs.slice(0, 12).map(function (e) {
            return REF_MARK[e._kind] + " " + e._kind + " \u2192 " + e.count + " at " + MS.fmtTime(e.time_ns); }).join("\n") +
            (gr.evs.length > 12 ? "\n\u2026 " + MS.plural(gr.evs.length - 12, "more event") : "")}));
        /* a click on a shared tick zooms to its events, which then get ticks of their own */
        if (gr.evs.length > 1) tick.addEventListener("click", function (ev) {
          if (drag && drag.moved) return;
          ev.stopPropagation();
          var e0 = MS.num(gr.evs[0].time_ns), e1 = MS.num(gr.evs[gr.evs.length - 1].time_ns), pad = Math.max((e1 - e0) * 0.5, 50);
          view.win = [Math.max(0, e0 - pad), e1 + pad];
          drawLifecycles(box, rows, end, atExit, view);
        });
        g.appendChild(tick);
      });
      /* a click zooms to the variable's reference-count events */
      g.style.cursor = "zoom-in";
      g.addEventListener("click", function () {
        if (drag && drag.moved) return;
        var a0 = MS.num(r._refs[0][0]), a1 = MS.num(r._refs[r._refs.length - 1][0]), pad = Math.max((a1 - a0) * 0.25, 50);
        view.win = [Math.max(0, a0 - pad), a1 + pad];
        drawLifecycles(box, rows, end, atExit, view);
      });
    }
    g.appendChild(MS.svg("title", {text: (r.name || "?") + " (" + (r.type || "?") + ", " + MS.fmtBytes(r.size) + "): allocated at " +
      MS.fmtTime(r.alloc_time_ns) + ", " + (r._freed ? "freed at " + MS.fmtTime(r.free_time_ns) : r._state === "leaked" ? "never freed (leaked)" : "still live") +
      (r._refs.length ? "; reference count " + r._refs.map(function (p) { return p[1]; }).join(" \u2192 ") + " (click to zoom to its events)" : "")}));
    s.appendChild(g);
  });
  /* drag across the chart: zoom the time axis to the dragged span */
  var drag = null;
  var band = MS.svg("rect", {y: T - 4, height: H - T - 2, fill: acc, "fill-opacity": 0.15, width: 0, x: 0, style: "display:none"});
  s.appendChild(band);
  var toX = function (ev) { var rc = s.getBoundingClientRect(); return (ev.clientX - rc.left) * W / Math.max(1, rc.width); };
  s.addEventListener("mousedown", function (ev) {
    if (ev.button) return;
    drag = {x0: Math.max(L, toX(ev)), x1: Math.max(L, toX(ev)), moved: false};
    ev.preventDefault();
  });
  s.addEventListener("mousemove", function (ev) {
    if (!drag) return;
    drag.x1 = Math.min(W - R, Math.max(L, toX(ev)));
    drag.moved = drag.moved || Math.abs(drag.x1 - drag.x0) >= 3;
    band.setAttribute("style", drag.moved ? "" : "display:none");
    band.setAttribute("x", Math.min(drag.x0, drag.x1)); band.setAttribute("width", Math.abs(drag.x1 - drag.x0));
  });
  var finish = function () {
    if (!drag) return;
    var d = drag;
    setTimeout(function () { drag = null; }, 0);   /* the click that ends a drag is not a bar click */
    if (!d.moved) return;
    var tA = t0 + (Math.min(d.x0, d.x1) - L) / (W - L - R) * (t1 - t0), tB = t0 + (Math.max(d.x0, d.x1) - L) / (W - L - R) * (t1 - t0);
    view.win = [tA, Math.max(tB, tA + 1)];
    drawLifecycles(box, rows, end, atExit, view);
  };
  s.addEventListener("mouseup", finish);
  s.addEventListener("mouseleave", finish);
  box.appendChild(s);
}

/* ---------------------------------------------------------------- memory layout */
V.memory = function (sec, D) {
  sec.appendChild(help("How live memory is spread over the allocator's size classes. Requested: what the program asked for; " +
    "usable: the slots the allocator gave (a block of 20 bytes uses a 24- or 32-byte slot); rounding = usable \u2212 requested; " +
    "metadata: memscope's own record of each sampled block. RSS above that is memory the allocator keeps but no block uses, " +
    "plus non-heap memory (code, stacks)."));
  var split = E("div", {class: "split"});
  var left = E("div"), right = E("div");
  split.appendChild(left); split.appendChild(right);
  sec.appendChild(split);

  left.appendChild(E("h3", {text: "Where the memory goes"}));
  /* The words and numbers of docs/REPORTS.md "Overhead", the same as the overview card, the
   * JSON, the SVG and `memscope report`: requested + rounding = usable; metadata apart. */
  var F = D.frag, O = D.overhead || {}, LABELS = {
    requested_bytes: ["Requested by the program (live)", "b"], usable_bytes: ["Usable (the allocator's slots for them)", "b"],
    rounding_bytes: ["Rounding (usable \u2212 requested)", "b"], metadata_bytes: ["memscope metadata (sampled blocks)", "b"],
    overhead_bytes: ["Overhead (rounding + metadata)", "b"],
    rss_bytes: ["Resident memory (RSS) at the dump", "b"], peak_rss_bytes: ["Peak RSS", "b"],
    rss_overhead_bytes: ["RSS not in live blocks", "b"], internal_ratio: ["Rounding / usable", "%"],
    rss_ratio: ["Heap efficiency (requested / RSS)", "%"], worst_class_size: ["Most wasteful size class", "b"]};
  /* header_bytes and class_waste_bytes are older names (metadata, and rounding without it):
   * showing them too would say one thing three ways. */
  var HIDE = {header_bytes: 1, class_waste_bytes: 1};
  var keys = Object.keys(F).filter(function (k) { return F[k] !== null && typeof F[k] !== "object" && !HIDE[k]; });
  ["rounding_bytes", "metadata_bytes", "overhead_bytes"].forEach(function (k) {
    var v = {rounding_bytes: O.rounding, metadata_bytes: O.metadata, overhead_bytes: O.total}[k];
    if (keys.indexOf(k) < 0 && v !== undefined && keys.length) { F[k] = v; keys.push(k); }
  });
  if (!keys.length) left.appendChild(empty("No fragmentation figures in this dump."));
  else {
    var req = MS.num(O.requested !== undefined ? O.requested : F.requested_bytes), round = MS.num(O.rounding),
      meta = MS.num(O.metadata), rss = MS.num(F.rss_bytes);
    var extra = Math.max(0, rss - req - round - meta), tot = Math.max(1, req + round + meta + extra);
    if (req) {
      var parts = [["--live", req, "requested"], ["--warn", round, "rounding"], ["--bad", meta, "metadata"], ["--border", extra, "rest of RSS"]];
      var bar = E("div", {class: "fragbar", role: "img", "aria-label": "live memory split: requested, rounding, metadata, rest of RSS"});
      var key = E("div", {class: "fragkey", id: "fragkey"});
      parts.forEach(function (p) {
        if (!(p[1] > 0)) return;
        bar.appendChild(E("span", {style: "width:" + (100 * p[1] / tot).toFixed(2) + "%;background:var(" + p[0] + ")", title: p[2] + ": " + MS.fmtBytes(p[1])}));
        key.appendChild(E("span", null, E("i", {style: "background:var(" + p[0] + ")"}), p[2] + " " + MS.fmtBytes(p[1])));
      });
      left.appendChild(bar); left.appendChild(key);
    }
    var kv = E("dl", {class: "kv", id: "fragmentation"});
    keys.forEach(function (k) {
      var v = F[k], l = LABELS[k] || [humanKind(k), /bytes$/.test(k) ? "b" : /ratio$/.test(k) ? "%" : "n"];
      var text = l[1] === "b" ? MS.fmtBytes(v) : l[1] === "%" ? (100 * MS.num(v)).toFixed(1) + "%" : typeof v === "number" ? MS.fmtCount(v) : String(v);
      kv.appendChild(E("dt", {text: l[0]}));
      kv.appendChild(E("dd", {text: text, "data-key": k}));
    });
    left.appendChild(kv);
  }

  right.appendChild(E("h3", {text: "Size classes (live)"}));
  var C = D.size_classes;
  if (!C.length) { right.appendChild(empty("No size-class statistics in this dump.")); }
  else {
    var rows = C.filter(function (c) { return MS.num(c.usable_bytes) > 0 || MS.num(c.count) > 0; });
    var top = rows.slice().sort(function (a, b) { return MS.num(b.usable_bytes) - MS.num(a.usable_bytes); }).slice(0, 16)
      .sort(function (a, b) { return MS.num(a.size) - MS.num(b.size); });
    var max = 1; top.forEach(function (c) { max = Math.max(max, MS.num(c.usable_bytes), MS.num(c.requested_bytes)); });
    var W = 600, L = 80, RH = 20, H = top.length * RH + 26;
    var s = MS.svg("svg", {class: "chart", viewBox: "0 0 " + W + " " + H, width: "100%", role: "img", id: "size-class-chart",
      "aria-label": "live bytes per size class, requested versus usable"});
    top.forEach(function (c, i) {
      var y = i * RH, wu = (W - L - 90) * MS.num(c.usable_bytes) / max, wr = (W - L - 90) * MS.num(c.requested_bytes) / max;
      s.appendChild(MS.svg("text", {x: L - 6, y: y + 14, "text-anchor": "end", text: "\u2264 " + MS.fmtBytes(c.size)}));
      s.appendChild(MS.svg("rect", {x: L, y: y + 3, width: Math.max(1, wu), height: RH - 6, fill: MS.cssVar("--rss"), "fill-opacity": 0.45},
        MS.svg("title", {text: "usable " + MS.fmtBytes(c.usable_bytes)})));
      s.appendChild(MS.svg("rect", {x: L, y: y + 3, width: Math.max(1, wr), height: RH - 6, fill: MS.cssVar("--live")},
        MS.svg("title", {text: "requested " + MS.fmtBytes(c.requested_bytes)})));
      s.appendChild(MS.svg("text", {x: L + Math.max(wu, wr) + 6, y: y + 14, class: "muted", text: MS.fmtBytes(c.usable_bytes)}));
    });
    s.appendChild(MS.svg("rect", {x: L, y: H - 16, width: 12, height: 10, fill: MS.cssVar("--live")}));
    s.appendChild(MS.svg("text", {x: L + 16, y: H - 7, text: "requested"}));
    s.appendChild(MS.svg("rect", {x: L + 100, y: H - 16, width: 12, height: 10, fill: MS.cssVar("--rss"), "fill-opacity": 0.45}));
    s.appendChild(MS.svg("text", {x: L + 116, y: H - 7, text: "usable (slot size \u00d7 blocks)"}));
    right.appendChild(s);
  }
  sec.appendChild(E("h3", {text: "All size classes"}));
  MS.tables.classes = new MS.DataTable(sec, {
    id: "classes-table", label: "size classes", rows: C, pageSize: 10, sortKey: "size", sortDesc: false,
    emptyText: "No size-class statistics in this dump.",
    columns: [
      {key: "size", label: "Class (up to)", num: true, get: function (r) { return MS.num(r.size); }, render: function (r) { return MS.fmtBytes(r.size); }},
      {key: "count", label: "Live blocks", num: true, get: function (r) { return MS.num(r.count); }, render: function (r) { return MS.fmtCount(r.count); }},
      {key: "req", label: "Requested", num: true, get: function (r) { return MS.num(r.requested_bytes); }, render: function (r) { return MS.fmtBytes(r.requested_bytes); }},
      {key: "use", label: "Usable", num: true, get: function (r) { return MS.num(r.usable_bytes); }, render: function (r) { return MS.fmtBytes(r.usable_bytes); }},
      {key: "waste", label: "Rounding (usable \u2212 requested)", num: true, get: function (r) { return MS.num(r.usable_bytes) - MS.num(r.requested_bytes); },
        render: function (r) { var w = MS.num(r.usable_bytes) - MS.num(r.requested_bytes); return MS.fmtBytes(w) + " (" + MS.fmtPct(w, r.usable_bytes) + ")"; }}
    ]
  });
};

/* ---------------------------------------------------------------- threads, modules */
V.threads = function (sec, D) {
  sec.appendChild(E("h3", {text: "Threads"}));
  sec.appendChild(help("Exact per-thread counters; \u201clive\u201d and \u201cholds most at\u201d come from sampled live blocks."));
  MS.tables.threads = new MS.DataTable(sec, {
    id: "threads-table", label: "threads", rows: D.threads, pageSize: 10, sortKey: "abytes",
    emptyText: "No per-thread statistics in this dump.",
    match: function (r, q) { return (String(r.name || "") + " " + r.tid).toLowerCase().indexOf(q) >= 0; },
    columns: [
      {key: "tid", label: "Thread id", num: true, get: function (r) { return MS.num(r.tid); }},
      {key: "name", label: "Name", get: function (r) { return r.name || ""; }},
      {key: "alive", label: "State", get: function (r) { return r.alive ? "running" : "exited"; }},
      {key: "allocs", label: "Allocations", num: true, get: function (r) { return MS.num(r.allocations); }, render: function (r) { return MS.fmtCount(r.allocations); }},
      {key: "frees", label: "Frees", num: true, get: function (r) { return MS.num(r.frees); }, render: function (r) { return MS.fmtCount(r.frees); }},
      {key: "abytes", label: "Allocated", num: true, get: function (r) { return MS.num(r.allocated_bytes); }, render: function (r) { return MS.fmtBytes(r.allocated_bytes); }},
      {key: "fbytes", label: "Freed", num: true, get: function (r) { return MS.num(r.freed_bytes); }, render: function (r) { return MS.fmtBytes(r.freed_bytes); }},
      {key: "live", label: "Live (sampled)", num: true, get: function (r) { return MS.num(r.live_bytes); }, render: function (r) { return r.live_bytes === undefined ? "" : MS.fmtBytes(r.live_bytes); }},
      {key: "top", label: "Holds most at", get: function (r) { return r.top_location || ""; }, render: function (r) { return r.top_location ? E("span", {class: "where mono", text: r.top_location}) : ""; }},
      {key: "net", label: "Net (alloc \u2212 free)", num: true, get: function (r) { return MS.num(r.allocated_bytes) - MS.num(r.freed_bytes); },
        render: function (r) { return MS.fmtBytes(MS.num(r.allocated_bytes) - MS.num(r.freed_bytes)); }}
    ]
  });
  sec.appendChild(E("p", {class: "help", text: "A thread's net can be negative when it frees memory that other threads allocated."}));

  sec.appendChild(E("h3", {text: "Memory crossing library boundaries"}));
  sec.appendChild(help("Blocks allocated by code in one module (executable or shared library) and freed by another. Harmless while both " +
    "use the same malloc, but a bug if one side uses its own allocator \u2014 and a sign of unclear ownership across an API."));
  MS.tables.crossings = new MS.DataTable(sec, {
    id: "crossings-table", label: "crossings", rows: D.crossings, pageSize: 10, sortKey: "bytes",
    emptyText: "No memory crossed a library boundary: every sampled block was freed by the module that allocated it.",
    columns: [
      {key: "from", label: "Allocated in", get: function (r) { return r._from; }, render: function (r) { return E("span", {class: "mono", title: r._fromFull, text: r._from}); }},
      {key: "to", label: "Freed in", get: function (r) { return r._to; }, render: function (r) { return E("span", {class: "mono", title: r._toFull, text: r._to}); }},
      {key: "count", label: "Blocks", num: true, get: function (r) { return MS.num(r.count); }, render: function (r) { return MS.fmtCount(r.count); }},
      {key: "bytes", label: "Bytes", num: true, get: function (r) { return MS.num(r.bytes); }, render: function (r) { return MS.fmtBytes(r.bytes); }}
    ]
  });

  sec.appendChild(E("h3", {text: "Tags"}));
  sec.appendChild(help("Subsystems named with MS_TAG_PUSH / MS_TAG_POP: memory allocated while a tag was active is counted under it."));
  MS.tables.tags = new MS.DataTable(sec, {
    id: "tags-table", label: "tags", rows: D.tags.filter(function (t) { return t && typeof t === "object"; }), pageSize: 10, sortKey: "total",
    emptyText: "No tags: the program did not use MS_TAG_PUSH.",
    columns: [
      {key: "name", label: "Tag", get: function (r) { return r.name || ""; }, render: function (r) { return E("span", {class: "fn mono", text: r.name || "?"}); }},
      {key: "sites", label: "Sites", num: true, get: function (r) { return MS.num(r.sites); }, render: function (r) { return MS.fmtCount(r.sites); }},
      {key: "live", label: "Live bytes", num: true, get: function (r) { return MS.num(r.live_bytes); }, render: function (r) { return MS.fmtBytes(r.live_bytes); }},
      {key: "total", label: "Total bytes", num: true, get: function (r) { return MS.num(r.total_bytes); }, render: function (r) { return MS.fmtBytes(r.total_bytes); }},
      {key: "count", label: "Allocations", num: true, get: function (r) { return MS.num(r.total_count); }, render: function (r) { return MS.fmtCount(r.total_count); }}
    ]
  });

  sec.appendChild(E("h3", {text: "Modules"}));
  var extra = {};
  D.modules.forEach(function (m) { Object.keys(m).forEach(function (k) {
    if (["path", "base", "start", "end", "build_id", "name", "live_count"].indexOf(k) < 0 && typeof m[k] === "number") extra[k] = true; }); });
  var cols = [
    {key: "path", label: "Module", get: function (r) { return MS.basename(r.path || r.name); }, render: function (r) { return E("span", {class: "mono", title: r.path || "", text: MS.basename(r.path || r.name || "?")}); }},
    {key: "base", label: "Load address", get: function (r) { return MS.hex(r.base); }, render: function (r) { return E("span", {class: "mono", text: MS.hex(r.base)}); }},
    {key: "symbols", label: "Symbols", get: function (r) { return r.symbols || ""; }, render: function (r) {
      return r.build_id_mismatch ? E("span", {class: "badge warn", title: "the file on disk has a different build id than the one that ran", text: "build-id mismatch"}) : (r.symbols || ""); }},
    {key: "build_id", label: "Build id", get: function (r) { return r.build_id || ""; }, render: function (r) { return E("span", {class: "mono", text: r.build_id || "\u2013"}); }}
  ];
  Object.keys(extra).forEach(function (k) {
    var b = /bytes$/.test(k);
    cols.push({key: k, label: humanKind(k), num: true, get: function (r) { return MS.num(r[k]); }, render: function (r) { return b ? MS.fmtBytes(r[k]) : MS.fmtCount(r[k]); }});
  });
  MS.tables.modules = new MS.DataTable(sec, {
    id: "modules-table", label: "modules", rows: D.modules, pageSize: 10,
    emptyText: "No module map in this dump.",
    match: function (r, q) { return String(r.path || "").toLowerCase().indexOf(q) >= 0; },
    columns: cols
  });
};
})();

/* report_test.js — loads a memscope HTML report in headless chromium (playwright-core driving
 * Debian's /usr/bin/chromium) and checks it like a person would:
 *  - no console error, no page error, no network request of any kind (the file must be
 *    self-contained);
 *  - every view shows the data's real values, taken from the JSON embedded in the page (the peak,
 *    the biggest leak's function, a named variable, each error kind, a finding's message) plus
 *    any --expect TEXT@SECTION given on the command line;
 *  - the sites table filter and sort work, the flame graph zooms on click and from the keyboard,
 *    the theme toggle works; screenshots of both themes are written for people to look at.
 * Usage: node report_test.js HTML [--expect TEXT@SECTION]... [--screenshot PREFIX] [--max-load-ms N]
 *          [--json FILE --driver PATH]      make HTML from a JSON file first (html_from_json)
 *          [--msp DUMP --memscope PATH]     make HTML with `memscope convert DUMP -o HTML` first
 *          [--gen-sites N --driver PATH]    generate N synthetic sites as JSON first
 *          [--strip-dygraphs]               test a copy without the dygraphs library (fallback chart)
 *          [--expect-truncated]             the data must hold stacks cut at the depth limit
 *          [--screen-vs-json]               (with --msp) the figures on screen equal those of the JSON export
 *                                           (`memscope convert DUMP -o X.json`, read from the file, not the page)
 * Prints one "N passed, M failed" line; exit status 0 only when nothing failed. */
"use strict";
const fs = require("fs");
const path = require("path");
const { execFileSync } = require("child_process");
const { chromium } = require("playwright-core");

const args = process.argv.slice(2);
const opt = { html: null, expect: [], screenshot: null, maxLoadMs: 0, genSites: 0, driver: null };
for (let i = 0; i < args.length; i++) {
  const a = args[i];
  if (a === "--expect") opt.expect.push(args[++i]);
  else if (a === "--screenshot") opt.screenshot = args[++i];
  else if (a === "--max-load-ms") opt.maxLoadMs = Number(args[++i]);
  else if (a === "--gen-sites") opt.genSites = Number(args[++i]);
  else if (a === "--driver") opt.driver = args[++i];
  else if (a === "--json") opt.json = args[++i];
  else if (a === "--msp") opt.msp = args[++i];
  else if (a === "--memscope") opt.memscope = args[++i];
  else if (a === "--strip-dygraphs") opt.strip = true;
  else if (a === "--expect-truncated") opt.expectTruncated = true;
  else if (a === "--screen-vs-json") opt.screenVsJson = true;
  else opt.html = a;
}
if (!opt.html) { console.error("usage: report_test.js HTML [options]"); process.exit(2); }

let passed = 0, failed = 0;
const window_fmtCount = (n) => Math.round(n).toLocaleString("en-US");   /* MS.fmtCount, for the nav count */
function check(name, ok, detail) {
  if (ok) { passed++; console.log("ok   " + name); }
  else { failed++; console.log("FAIL " + name + (detail !== undefined ? ": " + detail : "")); }
}

/* A synthetic dump of N sites over a vocabulary of functions, with shared prefixes like a real
 * program's call tree: the scale test's data. */
function generate(n, jsonPath) {
  let seed = 12345;
  const rnd = () => { seed = (seed * 1103515245 + 12345) & 0x7fffffff; return seed / 0x7fffffff; };
  const fn = (i) => ({ function: "fn_" + i, file: "src/mod" + (i % 97) + ".c", line: 10 + (i % 500),
    module: "/usr/bin/big", address: "0x" + (0x400000 + i * 16).toString(16) });
  const vocab = Array.from({ length: 5000 }, (_, i) => fn(i));
  const main = { function: "main", file: "src/main.c", line: 5, module: "/usr/bin/big", address: "0x401000" };
  const sites = [];
  for (let s = 0; s < n; s++) {
    const depth = 3 + Math.floor(rnd() * 8), st = [];
    for (let d = depth - 1; d >= 0; d--) st.unshift(vocab[Math.floor(Math.pow(rnd(), 2 + d) * 5000)]);
    st.push(main);
    const live = Math.floor(rnd() * rnd() * 100000);
    sites.push({ id: s, bytes: live, count: 1 + (live >> 10), peak_bytes: live * 2, total_bytes: live * 5 + 64,
      total_count: 5 + (live >> 8), location: st[0].function + " (" + st[0].file + ":" + st[0].line + ")", stack: st });
  }
  const timeline = Array.from({ length: 5000 }, (_, i) => ({ time_ns: i * 1e7, live_bytes: Math.floor(1e8 * Math.sin(i / 1600) ** 2), rss_bytes: 2e8 }));
  const doc = { format_version: 1, process: { pid: 1, exe: "/usr/bin/big", cmdline: "big", reason: "snapshot", dump_time_ns: 5e10 },
    summary: { total_allocations: 1e9, total_frees: 1e9 - 1e6, total_bytes: 1e12, live_bytes: 1e8, live_allocations: 1e6,
      peak_live_bytes: 1e8, peak_time_ns: 2.5e10, sample_rate: 524288 },
    sites, leaks: [], variables: [], errors: [], timeline, size_classes: [], threads: [], modules: [], crossings: [], tags: [], findings: [] };
  fs.writeFileSync(jsonPath, JSON.stringify(doc));
}

(async () => {
  if (opt.genSites) {
    const json = opt.html.replace(/\.html$/, "") + ".json";
    const t0 = Date.now();
    generate(opt.genSites, json);
    execFileSync(opt.driver, [json, opt.html], { stdio: "inherit" });
    console.log("generated " + opt.genSites + " sites: " + (fs.statSync(opt.html).size / 1e6).toFixed(1) + " MB of HTML in " + (Date.now() - t0) + " ms");
  }
  if (opt.json) execFileSync(opt.driver, [opt.json, opt.html], { stdio: "inherit" });
  if (opt.msp) {
    const t0 = Date.now();
    execFileSync(opt.memscope, ["convert", opt.msp, "-o", opt.html], { stdio: "inherit" });
    console.log("memscope convert: " + (fs.statSync(opt.html).size / 1e6).toFixed(1) + " MB of HTML in " + (Date.now() - t0) + " ms");
  }
  if (opt.strip) {
    /* The page as built without libjs-dygraphs: its fallback timeline must work too. */
    const h = fs.readFileSync(opt.html, "utf8"), i = h.indexOf("/*! @license https://github.com/danvk/dygraphs");
    if (i < 0) { check("page embeds dygraphs", false); }
    else {
      const a = h.lastIndexOf("<script>", i), b = h.indexOf("</script>", i) + "</script>".length;
      opt.html = opt.html.replace(/\.html$/, "") + "-nodygraphs.html";
      fs.writeFileSync(opt.html, h.slice(0, a) + h.slice(b));
    }
  }
  const profile = fs.mkdtempSync(path.join(require("os").tmpdir(), "memscope-chromium-"));
  /* A fresh profile each run (playwright passes it as --user-data-dir). */
  const browser = await chromium.launchPersistentContext(profile, {
    executablePath: process.env.MEMSCOPE_CHROMIUM || "/usr/bin/chromium",
    headless: true,
    viewport: { width: 1366, height: 850 },
    args: ["--no-sandbox", "--headless", "--disable-gpu", "--no-first-run", "--disable-background-networking",
      "--disable-component-update", "--disable-sync"]
  });
  try {
    const page = browser.pages()[0] || await browser.newPage();
    const errors = [], requests = [];
    page.on("console", (m) => { if (m.type() === "error" || m.type() === "warning") errors.push(m.type() + ": " + m.text()); });
    page.on("pageerror", (e) => errors.push("pageerror: " + e.message));
    const url = "file://" + path.resolve(opt.html);
    page.on("request", (r) => { if (r.url() !== url && !r.url().startsWith("data:")) requests.push(r.url()); });

    const t0 = Date.now();
    await page.goto(url, { waitUntil: "load", timeout: 120000 });
    await page.waitForSelector("html[data-ready='1']", { timeout: 120000 });
    const loadMs = Date.now() - t0;
    const renderMs = await page.evaluate(() => window.memscope.renderMs);
    /* Where the time went: the HTML parser (until domInteractive), JSON.parse of the embedded
     * data, normalising it, then each view (main.js's D.timings). */
    const tim = await page.evaluate(() => {
      const n = performance.getEntriesByType("navigation")[0];
      return { html: n ? Math.round(n.domInteractive) : -1, steps: window.memscope.data.timings || {} };
    });
    console.log("load " + loadMs + " ms (render " + Math.round(renderMs) + " ms)");
    console.log("  html parsed at " + tim.html + " ms; JSON.parse " + tim.steps.parse + " ms; then " +
      Object.keys(tim.steps).filter((k) => k !== "parse").map((k) => k + " " + tim.steps[k]).join(", ") + " (ms)");
    if (opt.maxLoadMs) check("page ready within " + opt.maxLoadMs + " ms", loadMs <= opt.maxLoadMs, loadMs + " ms");

    /* Expectations from the embedded data itself. */
    const facts = await page.evaluate(() => {
      const d = JSON.parse(document.getElementById("ms-data").textContent);
      const fnOf = (o) => (o.location || "").replace(/ \(.*$/, "") || (o.stack && o.stack[0] && o.stack[0].function) || "";
      return {
        peak: window.MS.fmtBytes(d.summary.peak_live_bytes),
        leak: d.leaks && d.leaks.length ? fnOf(window.memscope.data.leaks[0]) : null,
        variable: d.variables && d.variables.length ? d.variables[0].name : null,
        errorKinds: (d.errors || []).slice(0, 3).map((e) => String(e.kind).replace(/_/g, " ")),
        finding: d.findings && d.findings.length ? d.findings[0].message : null,
        nSites: (d.sites || []).length,
        topSite: d.sites && d.sites.length ? fnOf(d.sites[0]) : null,
        empty: { leaks: !(d.leaks || []).length, variables: !(d.variables || []).length, errors: !(d.errors || []).length,
          findings: !(d.findings || []).length }
      };
    });
    if (opt.msp) {
      /* memscope convert embeds the compact form (docs/JSON.md); rows keep their stack ids. */
      const form = await page.evaluate(() => {
        const d = JSON.parse(document.getElementById("ms-data").textContent), D = window.memscope.data;
        return { compact: d.compact === true && Array.isArray(d.frames) && Array.isArray(d.stacks),
          inline: JSON.stringify(Object.keys(d)).includes('"stack"') || (d.sites || []).some((s) => "stack" in s) ||
            (d.leaks || []).some((s) => "stack" in s) || D.sites.some((s) => "stack" in s) };
      });
      check("page embeds the compact form, stacks not resolved up front", form.compact && !form.inline, JSON.stringify(form));
    }
    /* Controls scrolled under the sticky header cannot take a pointer click: press them through the DOM. */
    const press = (sel) => page.evaluate((sel) => { const e = document.querySelector(sel); e.scrollIntoView({ block: "center" }); e.click(); }, sel);
    const text = async (sel) => (await page.locator(sel).first().innerText()).replace(/\s+/g, " ");
    check("overview shows the peak " + facts.peak, (await text("#card-peak")).includes(facts.peak), await text("#card-peak"));
    check("timeline marks the peak", (await page.locator("#timeline").innerText()).includes(facts.peak));
    const timelineDrawn = await page.evaluate(() => !!document.querySelector("#timeline canvas, #timeline svg, #timeline p.empty"));
    check("timeline chart drawn", timelineDrawn);
    if (await page.locator("#timeline-peak-zoom").count()) {
      await page.click("#timeline-peak-zoom");
      const win = await page.evaluate(() => {
        const g = window.MS.timelineGraph, r = g.xAxisRange(), full = g.xAxisExtremes();
        return { zoomed: r[1] - r[0] < full[1] - full[0], peak: window.memscope.data.peakTimeNs / 1e9, r };
      });
      check("timeline zooms to the peak", win.zoomed && win.peak >= win.r[0] && win.peak <= win.r[1], JSON.stringify(win));
      await page.click("#timeline-reset");
      check("timeline reset zooms out", await page.evaluate(() => !window.MS.timelineGraph.isZoomed()));
    }
    if (facts.leak) check("leaks view shows " + facts.leak, (await text("#leaks")).includes(facts.leak));
    else check("leaks view says there are none", (await page.locator("#leaks p.empty").count()) === 1);
    if (facts.variable) check("variables view shows " + facts.variable, (await text("#variables")).includes(facts.variable));
    else check("variables view says there are none", (await text("#variables")).includes("No named variables"));
    if (facts.variable) check("lifecycle chart drawn", (await page.locator("#lifecycles svg rect").count()) > 0);
    for (const k of facts.errorKinds) check("errors view shows " + k, (await text("#errors")).includes(k));
    if (facts.errorKinds.length) {
      const es = await page.evaluate(() => {
        const e = window.memscope.data.errors[0], item = document.querySelector("#errors .item");
        const st = ["stack", "alloc_stack", "free_stack"].map((k) => window.MS.stackOf(e, k));
        const ols = Array.from(item.querySelectorAll(".stacks3 > div")).map((d) => d.querySelector("ol.stack"));
        return { want: st.map((s) => s.length ? window.MS.frameName(s[0]) : null),
          got: ols.map((ol) => ol ? ol.querySelector("li .fn").textContent : null) };
      });
      check("the first error shows its three stacks", JSON.stringify(es.want) === JSON.stringify(es.got), JSON.stringify(es));
    }
    if (facts.empty.errors) check("errors view says there are none", (await text("#errors")).includes("No memory errors"));
    if (facts.finding) check("findings view shows the first finding", (await text("#findings")).includes(facts.finding.replace(/\s+/g, " ")));
    else check("findings view says there are none", (await text("#findings")).includes("No findings"));
    for (const id of ["overview", "timeline", "leaks", "errors", "findings", "flame", "calltree", "sites", "variables", "memory", "threads"]) {
      const t = (await text("#" + id)).trim();
      check("section " + id + " has content", t.length > 20, JSON.stringify(t.slice(0, 80)));
    }
    for (const e of opt.expect) {
      const at = e.lastIndexOf("@"), want = e.slice(0, at), sec = e.slice(at + 1);
      check("section " + sec + " shows " + want, (await text("#" + sec)).includes(want));
    }
    check("no markup injected from the data", (await page.locator("#app b").count()) === 0);

    /* Issue 17: the figures on screen are the JSON's, and the views open on the peak. */
    const fig = await page.evaluate(() => {
      const d = JSON.parse(document.getElementById("ms-data").textContent), S = d.summary || {}, MS = window.MS;
      const F = d.fragmentation || {}, f = window.memscope.flame, D = window.memscope.data;
      const peakSites = (d.sites || []).reduce((a, s) => a + (Number(s.peak_bytes) || 0), 0);
      const txt = (sel) => { const e = document.querySelector(sel); return e ? e.textContent : null; };
      const ov = D.overhead;
      return {
        peakSites, peak: Number(S.peak_live_bytes) || 0,
        metric: f ? Number(document.querySelector("#flame-metric").value) : null,
        flameRoot: f ? f.tree().v[f.metric] : null,
        sortedBy: (document.querySelector("#sites-table th[aria-sort='descending'] button") || {}).textContent || null,
        firstPeakCell: document.querySelector("#sites-table tbody tr") ? document.querySelector("#sites-table tbody tr").children[3].textContent : null,
        maxPeak: MS.fmtBytes(Math.max(0, ...(d.sites || []).map((s) => Number(s.peak_bytes) || 0))),
        overheadCard: txt("#card-overhead .value"), overheadSub: txt("#card-overhead .sub"),
        overheadWant: ov ? MS.fmtBytes(F.overhead_bytes !== undefined ? F.overhead_bytes : ov.total) : null,
        roundingDd: txt("#fragmentation dd[data-key='rounding_bytes']"),
        roundingWant: F.rounding_bytes !== undefined ? MS.fmtBytes(F.rounding_bytes) : (ov ? MS.fmtBytes(ov.rounding) : null),
        metaDd: txt("#fragmentation dd[data-key='metadata_bytes']"),
        metaWant: F.metadata_bytes !== undefined ? MS.fmtBytes(F.metadata_bytes) : null,
        oldWords: /headers|class waste/i.test(txt("#memory") + txt("#overview")),
        truncated: (d.sites || []).some((s) => s.stack_truncated === true),
        truncRoot: f ? f.tree().children.some((c) => c.name === "[truncated]") : false,
        badPlural: /(^|[^\d,.])1 (threads|sites|blocks|events)\b/.test(document.getElementById("app").innerText),
        rawAddrInFlame: f ? (function walk(n) { return /^0x[0-9a-f]+ in /.test(n.name) || n.children.some(walk); })(f.tree()) : false,
        offsetFrames: D.sites.some((s) => MS.stackOf(s).some((fr) => fr && !fr.function && fr.module && fr.offset))
      };
    });
    if (facts.nSites && fig.peakSites > 0) {
      check("flame graph opens on bytes live at peak", fig.metric === 1, fig.metric);
      check("sites table opens sorted by At peak", fig.sortedBy && fig.sortedBy.startsWith("At peak"), fig.sortedBy);
      check("the first site row's At peak is the largest peak_bytes of the JSON", fig.firstPeakCell === fig.maxPeak, fig.firstPeakCell + " vs " + fig.maxPeak);
      if (fig.peakSites <= fig.peak) check("flame graph total under 'bytes live at peak' == the peak headline", fig.flameRoot === fig.peak,
        fig.flameRoot + " vs " + fig.peak);
    }
    if (fig.overheadWant) {
      check("overhead card shows the JSON's overhead_bytes", fig.overheadCard === fig.overheadWant, fig.overheadCard + " vs " + fig.overheadWant);
      check("overhead card says rounding and metadata, once each", /rounding .* \+ metadata /.test(fig.overheadSub || ""), fig.overheadSub);
      if (fig.roundingWant) check("memory view's rounding is the JSON's", fig.roundingDd === fig.roundingWant, fig.roundingDd + " vs " + fig.roundingWant);
      if (fig.metaWant) check("memory view's metadata is the JSON's", fig.metaDd === fig.metaWant, fig.metaDd + " vs " + fig.metaWant);
      check("no second word for the overhead (headers, class waste)", !fig.oldWords);
    }
    if (opt.expectTruncated) check("the data has truncated stacks (--expect-truncated)", fig.truncated);
    if (fig.truncated) check("truncated stacks get a [truncated] root in the flame graph", fig.truncRoot);
    check("plural forms: no '1 threads'", !fig.badPlural);
    check("flame graph names unnamed frames module+offset, never a raw address", !fig.rawAddrInFlame);
    if (fig.offsetFrames) {
      const named = await page.evaluate(() => { const F = [].concat(...window.memscope.data.sites.map((s) => window.MS.stackOf(s))).filter((fr) => fr && !fr.function && fr.module && fr.offset);
        const want = window.MS.basename(F[0].module) + "+" + F[0].offset, f = window.memscope.flame;
        return { want, inv: (function walk(n) { return n.name === want || n.children.some(walk); })(f.tree()) }; });
      check("a frame without a name reads module+offset in the flame graph", named.inv, JSON.stringify(named));
    }
    /* The timeline: the exact peak is a point of the curve, ticks are round, axes have titles. */
    if (await page.locator("#timeline-peak-zoom").count()) {
      const tl = await page.evaluate(() => {
        const data = window.MS.timelineData, D = window.memscope.data, pk = Number(D.summary.peak_live_bytes);
        const ys = Array.from(document.querySelectorAll("#timeline .dygraph-axis-label-y")).map((e) => e.textContent);
        const xs = Array.from(document.querySelectorAll("#timeline .dygraph-axis-label-x")).map((e) => e.textContent);
        return { onCurve: data.some((r) => Math.abs(r[0] - D.peakTimeNs / 1e9) < 1e-12 && r[1] === pk),
          max: Math.max(...data.map((r) => r[1])), pk, ys, xs,
          rawMax: Math.max(...D.timeline.map((p) => Number(p.live_bytes) || 0)),
          titles: !!document.querySelector("#timeline .dygraph-xlabel") && !!document.querySelector("#timeline .dygraph-ylabel") };
      });
      /* (max > peak only in inconsistent hand-made data, e.g. the extreme-values example) */
      check("timeline: the peak is a point of the curve, and its maximum", tl.onCurve && (tl.max === tl.pk || tl.rawMax > tl.pk), JSON.stringify(tl));
      check("timeline: axis titles", tl.titles);
      const round = (labels) => {
        const v = labels.filter((l) => l !== "0").map((l) => l.split(" ")), units = new Set(v.map((x) => x[1]));
        const n = v.map((x) => Number(x[0])), d = n.slice(1).map((x, i) => +(x - n[i]).toFixed(6));
        return labels.length >= 2 && units.size === 1 && new Set(d).size <= 1 && n.every((x) => /^\d+(\.\d{1,2})?$/.test(String(x)));
      };
      check("timeline: byte ticks are round, in one unit", round(tl.ys), JSON.stringify(tl.ys));
      check("timeline: time ticks are round, in one unit, no '0 ns'", round(tl.xs) && !tl.xs.includes("0 ns"), JSON.stringify(tl.xs));
    }
    /* "Who grew it" (issue 17): with per-site timeline figures the chart is stacked by site, every
     * stacked column adds up to the curve (the exact peak included), and dragging across the chart
     * selects a time range that the flame graph, call tree and sites table follow. */
    const stk = await page.evaluate(() => {
      const D = window.memscope.data, st = window.MS.timelineStack, data = window.MS.timelineData;
      if (!D.timelineSites || !st || !window.MS.timelineGraph) return null;
      /* a column is the N sites plus "other" = live - those sites, so it is the live bytes
       * unless the sites alone exceed them (sampled estimates) */
      const bad = st.rows.map((r, i) => ({ i, sites: r.slice(1, -1).reduce((a, x) => a + x, 0), sum: r.slice(1).reduce((a, x) => a + x, 0), live: data[i][1] }))
        .filter((x) => x.sum !== Math.max(x.live, x.sites));
      const pk = st.rows.findIndex((r) => Math.abs(r[0] - D.peakTimeNs / 1e9) < 1e-12);
      return { stacked: document.querySelector("#timeline-stacked").checked && window.MS.timelineGraph.getOption("stackedGraph"),
        rows: st.rows.length, points: data.length, bad: bad.slice(0, 3), series: st.labels.length,
        peakSum: pk >= 0 ? st.rows[pk].slice(1).reduce((a, x) => a + x, 0) : null, peak: Number(D.summary.peak_live_bytes) };
    });
    if (stk) {
      check("timeline: stacked by site, one row per point", stk.stacked && stk.rows === stk.points, JSON.stringify(stk));
      check("timeline: each stacked column adds up to the live bytes", stk.bad.length === 0, JSON.stringify(stk.bad));
      if (stk.peakSum !== null && stk.peak > 0 && fig.peakSites <= fig.peak) check("timeline: the stack at the peak adds up to the peak", stk.peakSum === stk.peak, stk.peakSum + " vs " + stk.peak);
      await page.locator("#timeline-chart").scrollIntoViewIfNeeded();
      const area = await page.evaluate(() => { const g = window.MS.timelineGraph, a = g.getArea(), c = document.querySelector("#timeline-chart canvas").getBoundingClientRect();
        return { x: c.left + a.x, y: c.top + a.y, w: a.w, h: a.h }; });
      await page.mouse.move(area.x + area.w * 0.05, area.y + area.h * 0.5);
      await page.mouse.down();
      await page.mouse.move(area.x + area.w * 0.95, area.y + area.h * 0.5, { steps: 6 });
      await page.mouse.up();
      const rg = await page.evaluate(() => {
        const D = window.memscope.data, r = D.range, f = window.memscope.flame, t = window.memscope.tables.sites, MS = window.MS;
        if (!r) return null;
        const listed = D.sites.filter((s) => r.listed(s)), grow = listed.map((s) => r.growthOf(s));
        const sumGrowth = grow.reduce((a, x) => a + x, 0), pos = grow.reduce((a, x) => a + Math.max(0, x), 0);
        const P = D.points, unclamped = [r.i0, r.i1].every((i) => { let s = 0; if (P[i].sites) P[i].sites.forEach((b) => { s += b; }); return s <= P[i].live; });
        const top = t.view[0], th = document.querySelector("#sites-table th[aria-sort='descending'] button");
        const cells = document.querySelector("#sites-table tbody tr") ? Array.from(document.querySelector("#sites-table tbody tr").children).map((c) => c.textContent) : [];
        return { i0: r.i0, i1: r.i1, note: document.querySelector("#timeline-range").textContent,
          metric: f.metric, flameTotal: f.tree().v[f.metric], wantTotal: pos + Math.max(0, r.otherGrowth),
          addsUp: !unclamped || sumGrowth + r.otherGrowth === r.growth, sumGrowth, other: r.otherGrowth, growth: r.growth,
          shown: t.view.length, want: listed.length, sortedBy: th ? th.textContent : null,
          topGrowth: top ? (r.growthOf(top) > 0 ? "+" : "") + MS.fmtBytes(r.growthOf(top)) : null,
          maxGrowth: listed.length ? Math.max(...grow) : null, topGrowthRaw: top ? r.growthOf(top) : null, cells,
          treeMetric: Number(document.querySelector("#tree-metric").value) };
      });
      check("timeline drag selects a time range", rg && /^Selected /.test(rg.note), JSON.stringify(rg));
      if (rg && rg.i1 > rg.i0) {
        check("range: the flame graph shows growth in the range, totalling what grew", rg.metric === 4 && rg.flameTotal === rg.wantTotal,
          JSON.stringify({ m: rg.metric, t: rg.flameTotal, w: rg.wantTotal }));
        check("range: the call tree follows", rg.treeMetric === 4, rg.treeMetric);
        check("range: the sites' growth and the other sites' add up to the live heap's growth", rg.addsUp,
          JSON.stringify({ s: rg.sumGrowth, o: rg.other, g: rg.growth }));
        check("range: the sites table lists the sites of the range, sorted by growth", rg.shown === rg.want &&
          (rg.sortedBy || "").startsWith("Growth in range") && rg.topGrowthRaw === rg.maxGrowth, JSON.stringify(rg));
        if (rg.topGrowth) check("range: the first row shows its growth", rg.cells.includes(rg.topGrowth), JSON.stringify(rg.cells));
      }
      if (rg && rg.i1 > rg.i0) {
        await press("#timeline-sel-zoom");
        const zs = await page.evaluate(() => { const g = window.MS.timelineGraph, r = window.memscope.data.range, x = g.xAxisRange();
          return { zoomed: g.isZoomed("x"), inside: x[0] <= r.t0 / 1e9 + 1e-12 && x[1] >= r.t1 / 1e9 - 1e-12 }; });
        check("range: Zoom to selection zooms onto it", zs.zoomed && zs.inside, JSON.stringify(zs));
        await press("#timeline-reset");
      }
      await press("#timeline-stacked");
      const flat = await page.evaluate(() => ({ stacked: window.MS.timelineGraph.getOption("stackedGraph"), labels: window.MS.timelineGraph.getLabels() }));
      check("timeline: 'Stack by site' off draws the single live-heap curve", !flat.stacked && flat.labels[1] === "Live heap", JSON.stringify(flat));
      await press("#timeline-stacked");
      await press("#timeline-sel-clear");
      const cleared = await page.evaluate(() => ({ r: window.memscope.data.range, m: window.memscope.flame.metric,
        cols: Array.from(document.querySelectorAll("#sites-table thead th")).filter((th) => th.style.display !== "none").map((th) => th.textContent) }));
      check("clearing the range goes back to the first measure and hides the range columns", !cleared.r && cleared.m === fig.metric &&
        !cleared.cols.some((c) => /range/.test(c)), JSON.stringify(cleared));
    }
    /* Named variables: every reference-count event is drawn, at least 3 px wide, events closer
     * than that sharing a tick; a click on the bar zooms the axis to the variable's events, where
     * close events get ticks of their own (issue 17: a 1->2->1 in 0.3 us on a 13 ms axis). */
    const refVar = await page.evaluate(() => {
      const rows = window.memscope.tables.variables ? window.memscope.tables.variables.view.slice(0, 25) : [];
      const withRefs = rows.filter((r) => r._refEvents.filter((e) => /^(retain|release|refset)$/.test(e._kind)).length >= 2);
      return withRefs.length ? withRefs[0].name : null;
    });
    if (refVar) {
      const ticks = () => page.evaluate((name) => {
        const g = Array.from(document.querySelectorAll("#lifecycles g.lc-var")).find((x) => x.getAttribute("data-name") === name);
        const r = window.memscope.tables.variables.view.find((v) => v.name === name);
        const t = g ? Array.from(g.querySelectorAll("rect.lc-event")) : [];
        return { n: t.length, events: t.reduce((a, x) => a + Number(x.getAttribute("data-events")), 0),
          want: r._refEvents.filter((e) => /^(retain|release|refset)$/.test(e._kind)).length,
          minPx: t.length ? Math.min(...t.map((x) => x.getBoundingClientRect().width)) : 0,
          axis: document.querySelector("#lifecycles-axis").textContent };
      }, refVar);
      const before = await ticks();
      check("variables: every reference-count event of " + refVar + " is drawn, at least 2 px wide", before.n > 0 &&
        before.events === before.want && before.minPx >= 2, JSON.stringify(before));
      const at = await page.evaluate((name) => { const g = Array.from(document.querySelectorAll("#lifecycles g.lc-var")).find((x) => x.getAttribute("data-name") === name);
        /* a tick shared by close events if there is one, else the bar (scrolled to itself: a
         * group's box can reach far outside the chart) */
        const shared = Array.from(g.querySelectorAll("rect.lc-event")).find((t) => Number(t.getAttribute("data-events")) > 1);
        const target = shared || g.querySelector("rect");
        target.scrollIntoView({ block: "center" });
        const b = target.getBoundingClientRect();
        return shared ? { x: b.left + b.width / 2, y: b.top + b.height / 2, shared: Number(shared.getAttribute("data-events")) }
          : { x: b.left + Math.min(b.width / 2, 40), y: b.top + b.height - 3, shared: 0 }; }, refVar);
      await page.mouse.click(at.x, at.y);   /* a real click on the bar, as a person would */
      const after = await ticks();
      check("variables: clicking zooms to the events, close events get their own ticks",
        /^Showing /.test(after.axis) && after.n > 0 && (!at.shared || (after.events >= at.shared && after.n === after.events)),
        JSON.stringify({ before, after, clickedTickOf: at.shared }));
      await press("#lifecycles-reset");
      check("variables: Reset zoom shows the whole run again", !/^Showing /.test((await ticks()).axis));
    }
    /* Screen vs JSON export (issue 17): the peak, the biggest site at the peak, the leak totals
     * and the growth to the peak as shown equal the figures of `memscope convert -o X.json`. */
    if (opt.screenVsJson && opt.msp) {
      const jsonPath = opt.html.replace(/\.html$/, "") + ".export.json";
      execFileSync(opt.memscope, ["convert", opt.msp, "-o", jsonPath], { stdio: "inherit" });
      const J = JSON.parse(fs.readFileSync(jsonPath, "utf8")), S = J.summary, sites = J.sites || [];
      const peak = S.peak_live_bytes;
      let top = null;
      for (const x of sites) if (!top || x.peak_bytes > top.peak_bytes) top = x;
      const leakBytes = (J.leaks || []).reduce((a, l) => a + l.bytes, 0), leakCount = (J.leaks || []).reduce((a, l) => a + l.count, 0);
      const want = await page.evaluate((w) => ({ peak: window.MS.fmtBytes(w.peak), top: w.top ? window.MS.fmtBytes(w.top.peak_bytes) : null,
        topPct: w.top ? window.MS.fmtPct(w.top.peak_bytes, w.peak) : null, leaks: window.MS.fmtBytes(w.leakBytes),
        leakBlocks: window.MS.plural(w.leakCount, "block"), leakSites: window.MS.plural(w.nLeaks, "site") }),
        { peak, top, leakBytes, leakCount, nLeaks: (J.leaks || []).length });
      const shown = await page.evaluate(() => {
        const txt = (sel) => { const e = document.querySelector(sel); return e ? e.textContent : ""; };
        const row = document.querySelector("#sites-table tbody tr"), cells = row ? Array.from(row.children).map((c) => c.textContent) : [];
        const nav = Array.from(document.querySelectorAll("nav.toc a")).find((a) => a.getAttribute("href") === "#leaks");
        return { card: txt("#card-peak .value"), tl: txt("#timeline-peak"), verdict: txt("#verdict"), cells,
          leakCard: txt("#card-leaks .value"), leakSub: txt("#card-leaks .sub"), leakNav: nav ? nav.textContent : "" };
      });
      console.log("screen vs JSON: peak " + want.peak + ", top site " + (top ? top.location : "-") + " " + want.top + ", leaks " + want.leaks + " in " + want.leakBlocks);
      check("screen = JSON: the peak card", shown.card === want.peak, shown.card + " vs " + want.peak);
      check("screen = JSON: the timeline's peak", shown.tl.includes("Peak: " + want.peak + " "), shown.tl);
      if (top && top.peak_bytes > 0) {
        const fn = top.location.replace(/ \(.*$/, "");
        check("screen = JSON: the sites table's first row is the biggest site at the peak, with its bytes and share",
          shown.cells[0].includes(fn) && shown.cells[3] === want.top && shown.cells[4] === want.topPct, JSON.stringify(shown.cells.slice(0, 5)) + " vs " + fn + " " + want.top + " " + want.topPct);
        check("screen = JSON: the overview names the biggest site at the peak with its bytes",
          shown.verdict.includes("Largest site at the peak: " + top.location + " with " + want.top + " (" + want.topPct + " of the peak)"), shown.verdict);
      }
      if (J.process.reason === "exit") {
        check("screen = JSON: the leak card", leakCount ? shown.leakCard === want.leaks && shown.leakSub.startsWith(want.leakBlocks + ", " + want.leakSites)
          : shown.leakCard === "none", JSON.stringify([shown.leakCard, shown.leakSub]) + " vs " + JSON.stringify(want));
        check("screen = JSON: the leak total is the summary's", leakBytes === S.leaked_bytes && leakCount === S.leaked_allocations,
          JSON.stringify([leakBytes, S.leaked_bytes, leakCount, S.leaked_allocations]));
        check("screen = JSON: the Leaks link counts the JSON's leak groups", shown.leakNav.endsWith(window_fmtCount((J.leaks || []).length)), shown.leakNav);
      }
      /* Growth to the peak: from the first timeline point to the peak, by site. */
      const tl = J.timeline || [];
      if (tl.length >= 2 && tl[0].sites && S.peak_time_ns > tl[0].time_ns && await page.locator("#timeline-sel-peak").count()) {
        await press("#timeline-sel-peak");
        const first = new Map(tl[0].sites.map((e) => [e.site, e.bytes]));
        const atPeak = new Map(sites.map((x, i) => [i, x]).filter(([, x]) => x.peak_bytes > 0)
          .sort((a, b) => b[1].peak_bytes - a[1].peak_bytes).slice(0, 12).map(([i, x]) => [i, x.peak_bytes]));
        const ids = new Set([...first.keys(), ...atPeak.keys()]);
        let best = null;
        for (const i of ids) { const g = (atPeak.get(i) || 0) - (first.get(i) || 0); if (best === null || g > best) best = g; }
        const got = await page.evaluate((w) => {
          const row = document.querySelector("#sites-table tbody tr"), cells = Array.from(row.children).map((c) => c.textContent);
          const heads = Array.from(document.querySelectorAll("#sites-table thead th")).filter((th) => th.style.display !== "none").map((th) => th.textContent);
          return { growthCell: cells[heads.findIndex((h) => h.startsWith("Growth in range"))], note: document.querySelector("#sites-range").textContent,
            wantGrowth: (w.best > 0 ? "+" : "") + window.MS.fmtBytes(w.best), wantHeap: window.MS.fmtBytes(w.heap) };
        }, { best, heap: peak - tl[0].live_bytes });
        check("screen = JSON: start -> peak, the live heap's growth", got.note.includes("the live heap grew by " + got.wantHeap + ";"), got.note + " vs " + got.wantHeap);
        check("screen = JSON: start -> peak, the site that grew most, with its growth", got.growthCell === got.wantGrowth, got.growthCell + " vs " + got.wantGrowth);
        await press("#timeline-sel-clear");
      }
    }
    /* Clicking a site's row selects that site in the flame graph. */
    if (facts.nSites && (await page.locator("#sites-table tbody tr").count())) {
      await page.locator("#sites-table tbody tr").first().locator("td").nth(1).click();
      const sel = await page.evaluate(() => {
        const t = window.memscope.tables.sites, r = t.selectedRow, f = window.memscope.flame;
        const st = r ? window.MS.stackOf(r) : [];
        return { want: st.length ? window.MS.frameName(st[0]) : null, got: f.selected ? f.selected.name : null,
          attr: document.querySelector("#flame-canvas").getAttribute("data-selected"),
          rowMarked: !!document.querySelector("#sites-table tbody tr.selected[aria-selected='true']") };
      });
      if (sel.want) check("clicking a site row selects its frame in the flame graph", sel.got === sel.want && sel.attr === sel.want, JSON.stringify(sel));
      check("the clicked row is marked selected", sel.rowMarked);
    }
    /* Call tree: merged by function, expandable (mouse and keyboard), self and total, a row
     * selects the same node in the flame graph; bottom-up starts at the allocating functions. */
    if (facts.nSites && (await page.locator("#calltree tbody tr[aria-level='1']").count())) {
      const t0 = await page.evaluate(() => {
        const f = window.memscope.flame, m = Number(document.querySelector("#tree-metric").value), root = f.treeOf(false);
        const kids = root.children.filter((c) => c.v[m] > 0).sort((a, b) => b.v[m] - a.v[m]);
        const row = document.querySelector("#calltree tbody tr[aria-level='1']");
        const ok = (function walk(n) { const s = n.children.reduce((a, c) => a + c.v[m], 0); return s <= n.v[m] + 1e-6 && n.children.every(walk); })(root);
        return { want: kids[0].name, wantTotal: window.MS.METRICS[m].fmt(kids[0].v[m]), got: row.children[0].textContent, total: row.children[2].textContent, ok };
      });
      check("call tree: first row is the biggest top-down function with its total", t0.got.includes(t0.want) && t0.total === t0.wantTotal, JSON.stringify(t0));
      check("call tree: children never exceed their parent's total (self >= 0)", t0.ok);
      const lv2 = () => page.locator("#calltree tbody tr[aria-level='2']").count();
      const before = await lv2();
      await page.focus("#calltree tbody tr[aria-level='1'] button.tog");
      await page.keyboard.press("Enter");
      const after = await lv2();
      check("call tree: Enter on a row's toggle expands it", before === 0 && after > 0, before + " -> " + after);
      await page.locator("#calltree tbody tr[aria-level='2']").first().locator("td").nth(2).click();
      const sel = await page.evaluate(() => {
        const row = document.querySelector("#calltree tbody tr.selected"), f = window.memscope.flame;
        return { row: row ? row.children[0].textContent.replace(/^\W+/, "").trim() : null, flame: f.selected ? f.selected.name : null,
          same: !!(window.MS.callTree.selected && f.selected === window.MS.callTree.selected) };
      });
      check("call tree: clicking a row selects the same node in the flame graph", sel.same && sel.row && sel.row.startsWith(sel.flame), JSON.stringify(sel));
      await press("#tree-bottomup");
      const bu = await page.evaluate(() => {
        const f = window.memscope.flame, m = Number(document.querySelector("#tree-metric").value), root = f.treeOf(true);
        const kids = root.children.filter((c) => c.v[m] > 0).sort((a, b) => b.v[m] - a.v[m]);
        const row = document.querySelector("#calltree tbody tr[aria-level='1']");
        return { want: kids[0].name, got: row.children[0].textContent, self: row.children[3].textContent, total: row.children[2].textContent };
      });
      check("call tree bottom-up: first row is the biggest allocating function, all of it self", bu.got.includes(bu.want) && bu.self === bu.total, JSON.stringify(bu));
      await press("#tree-byline");
      check("call tree by file:line draws", (await page.locator("#calltree tbody tr[aria-level='1']").count()) > 0);
      await press("#tree-byline");
      await press("#tree-topdown");
    }

    /* Noise filter: hiding frames by pattern takes them out of the flame graph. */
    if (facts.nSites) {
      const victim = await page.evaluate(() => {
        const f = window.memscope.flame, kids = f.tree().children.filter((c) => c.frame && c.frame.function);
        return kids.length ? kids[0].name : null;
      });
      if (victim) {
        await page.fill("#flame-hide-frames", "^" + victim.replace(/[.*+?^${}()|[\]\\]/g, "\\$&") + "$");
        await press("#flame-hide-import");
        const gone = await page.evaluate((v) => { const f = window.memscope.flame;
          return !(function walk(n) { return n.name === v || n.children.some(walk); })(f.tree()); }, victim);
        check("'hide frames matching' removes " + victim + " from the flame graph", gone);
        await press("#flame-hide-import");
        await page.fill("#flame-hide-frames", "");
      }
      await press("#flame-hide-premain");
      const pre = await page.evaluate(() => { const t = window.memscope.tables.sites, D = window.memscope.data;
        return { shown: t.view.length, want: D.sites.filter((s) => !window.MS.beforeMain(s)).length, all: D.sites.length,
          flameHasInit: (function walk(n) { return /^(_dl_init|call_init|_dl_start_user)$/.test(n.name) || n.children.some(walk); })(window.memscope.flame.tree()) }; });
      check("'hide allocations made before main' filters the sites table", pre.shown === pre.want, JSON.stringify(pre));
      if (pre.want < pre.all) check("'hide allocations made before main' hides the loader's stacks from the flame graph", !pre.flameHasInit, JSON.stringify(pre));
      await press("#flame-hide-premain");
    }

    /* Sites table: filter, then sort. */
    if (facts.topSite) {
      const q = facts.topSite;
      const t1 = Date.now();
      await page.fill("#sites-table-filter", q);
      await page.waitForFunction((q) => {
        const t = window.memscope.tables.sites;
        return t.lastQuery === q.toLowerCase();
      }, q, { timeout: 60000 });
      const filterMs = Date.now() - t1;
      const res = await page.evaluate((q) => {
        const t = window.memscope.tables.sites;
        return { n: t.view.length, all: t.rows.length, first: document.querySelector("#sites-table tbody tr").innerText,
          label: document.querySelector("#sites .help[aria-live]").textContent,
          /* a frame without a name matches by its location "module+offset" (the filter also reads it) */
          every: t.view.every((r) => (JSON.stringify(window.MS.stackOf(r)) + " " + (r.location || "")).toLowerCase().includes(q.toLowerCase())) };
      }, q);
      console.log("sites filter '" + q + "': " + res.label + " (" + filterMs + " ms incl. 150 ms debounce)");
      check("sites filter keeps only matching rows", res.n >= 1 && res.every && res.first.includes(q), JSON.stringify(res));
      check("sites filter reports the match count", /\d[\d,]* of [\d,]+ rows match/.test(res.label) || res.n === res.all, res.label);
      await page.fill("#sites-table-filter", "no-such-function-xyz");
      await page.waitForFunction(() => window.memscope.tables.sites.lastQuery === "no-such-function-xyz", null, { timeout: 60000 });
      check("sites filter with no match says so", (await text("#sites-table tbody")).includes("No row matches"));
      await page.fill("#sites-table-filter", "");
      await page.waitForFunction(() => { const t = window.memscope.tables.sites; return t.view.length === t.rows.length; }, null, { timeout: 60000 });
      await page.click("#sites-table thead button:has-text('Total bytes')");
      const sorted = await page.evaluate(() => {
        const t = window.memscope.tables.sites, v = t.view.map((r) => Number(r.total_bytes) || 0);
        return v.every((x, i) => i === 0 || v[i - 1] >= x);
      });
      check("sites table sorts by total bytes", sorted);
      await page.click("#sites-table tbody button[aria-expanded='false']");
      check("a site row opens its stack", (await page.locator("#sites-table ol.stack li").count()) > 0);
      /* The opened stack is the row's real one (resolved from its stack id in the compact form). */
      const opened = await page.evaluate(() => {
        const st = window.MS.stackOf(window.memscope.tables.sites.view[0]), li = document.querySelectorAll("#sites-table ol.stack li");
        const cut = window.MS.isTruncated(window.memscope.tables.sites.view[0]) ? 1 : 0;   /* the "[truncated]" line */
        return { want: Math.min(st.length, 64) + (st.length > 64 ? 1 : 0) + cut, got: li.length,
          fn: st.length ? window.MS.frameName(st[0]) : "", first: li.length ? li[0].innerText : "" };
      });
      check("the opened stack has the site's frames, innermost first", opened.got === opened.want && opened.first.includes(opened.fn), JSON.stringify(opened));
      const hasLifetimes = await page.evaluate(() => (window.memscope.tables.sites.view[0].lifetimes || []).some((x) => x > 0));
      if (hasLifetimes) check("the opened site shows its lifetime histogram", (await text("#sites-table")).includes("Lifetime of freed blocks"));
    }

    /* Flame graph: click the widest frame below the root, then reset; then the keyboard. */
    if (facts.nSites) {
      const target = await page.evaluate(() => {
        const f = window.memscope.flame, r = f.rects.filter((x) => !x.agg && x.depth >= 1 && x.w > 30 && x.node.children.length)
          .sort((a, b) => a.depth - b.depth || b.w - a.w)[0] || f.rects.filter((x) => !x.agg && x.depth >= 1)[0];
        return r ? { name: r.node.name, x: r.x + r.w / 2, y: r.depth * 20 + 10 } : null;
      });
      check("flame graph drew frames", !!target);
      if (target) {
        await page.locator("#flame-canvas").scrollIntoViewIfNeeded();
        const t1 = Date.now();
        await page.click("#flame-canvas", { position: { x: target.x, y: target.y } });
        const clickMs = Date.now() - t1;
        const focus = await page.getAttribute("#flame-canvas", "data-focus");
        console.log("flame click on " + target.name + ": " + clickMs + " ms");
        check("flame click zooms into " + target.name, focus === target.name, focus);
        check("flame breadcrumb shows the zoom", (await text("#flame .crumbs")).includes(target.name));
        await page.screenshot({ path: (opt.screenshot || "/tmp/memscope-report") + "-flame-zoomed.png",
          clip: await page.locator("#flame").boundingBox() }).catch(() => {});
        await page.click("#flame-reset");
        /* The tooltip stays inside the window, even at the bottom-right corner of a shallow graph. */
        const corner = await page.evaluate(() => { const c = document.querySelector("#flame-canvas").getBoundingClientRect(), f = window.memscope.flame;
          const r = f.rects.filter((x) => !x.agg && x.w > 8).sort((a, b) => b.depth - a.depth || (b.x + b.w) - (a.x + a.w))[0];
          return r ? { x: Math.floor(Math.min(r.x + r.w - 4, c.width - 4)), y: r.depth * 20 + 15 } : null; });
        if (corner) {
          await page.mouse.move(0, 0);
          await page.hover("#flame-canvas", { position: corner });
          const tipBox = await page.evaluate(() => { const el = document.querySelector("#flame .flame-tip"), t = el.getBoundingClientRect();
            /* Not clipped either: an ancestor that hides its overflow (the graph's frame) cuts a
             * tooltip that is not position: fixed. */
            let clipped = false;
            if (getComputedStyle(el).position !== "fixed")
              for (let a = el.parentElement; a; a = a.parentElement) {
                if (getComputedStyle(a).overflow === "visible") continue;
                const r = a.getBoundingClientRect();
                if (t.left < r.left || t.top < r.top || t.right > r.right || t.bottom > r.bottom) clipped = true;
              }
            return { l: t.left, t: t.top, r: t.right, b: t.bottom, vw: document.documentElement.clientWidth, vh: window.innerHeight, shown: t.width > 0, clipped }; });
          check("flame tooltip stays inside the window, unclipped", tipBox.shown && !tipBox.clipped && tipBox.l >= 0 && tipBox.t >= 0 &&
            tipBox.r <= tipBox.vw && tipBox.b <= tipBox.vh, JSON.stringify(tipBox));
        }
        check("flame reset zooms out", (await page.getAttribute("#flame-canvas", "data-focus")) === "all");
        await page.focus("#flame-canvas");
        await page.keyboard.press("ArrowDown");
        await page.keyboard.press("Enter");
        const kf = await page.getAttribute("#flame-canvas", "data-focus");
        check("flame keyboard: ArrowDown + Enter zooms", kf && kf !== "all", kf);
        await page.keyboard.press("Escape");
        await page.fill("#flame-search", target.name);
        await page.waitForFunction(() => /match/.test(document.querySelector("#flame .flame-status").textContent), null, { timeout: 30000 }).catch(() => {});
        check("flame search reports matches", /frames? match/.test(await text("#flame .flame-status")), await text("#flame .flame-status"));
        await page.fill("#flame-search", "");
        await page.selectOption("#flame-metric", "3");
        await page.click("#flame-invert");
        check("flame inverted view draws", await page.evaluate(() => window.memscope.flame.rects.length > 1));
        await page.click("#flame-invert");
      }
    }

    /* Themes: both render; screenshots for people. */
    const shot = opt.screenshot;
    if (shot) await page.screenshot({ path: shot + "-light.png", fullPage: true });
    const before = await page.getAttribute("html", "data-theme");
    await page.click("#theme-toggle");
    const after = await page.getAttribute("html", "data-theme");
    check("theme toggle switches light/dark", before !== after && ["light", "dark"].includes(after), before + " -> " + after);
    if (shot) await page.screenshot({ path: shot + "-dark.png", fullPage: true });

    check("no network requests", requests.length === 0, requests.slice(0, 5).join(", "));
    check("no console or page errors", errors.length === 0, errors.slice(0, 5).join(" | "));
  } catch (e) {
    check("test ran to the end", false, e.stack || String(e));
  } finally {
    await browser.close();
    fs.rmSync(profile, { recursive: true, force: true });
  }
  /* The scale test's page is hundreds of MB: keep it only when something failed. */
  if (!failed && fs.existsSync(opt.html) && fs.statSync(opt.html).size > 100e6) fs.rmSync(opt.html);
  console.log(passed + " passed, " + failed + " failed");
  process.exit(failed ? 1 : 0);
})();

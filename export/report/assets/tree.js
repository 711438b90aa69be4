/* tree.js — the "Call tree" view: the allocation sites merged by function into an expandable
 * tree with self and total columns, top-down (from main to the allocating functions) or
 * bottom-up (from the functions that called malloc to their callers), like heaptrack_gui's
 * trees. By function (and file) it is the flame graph's own tree, so a row and a frame are the
 * same node: clicking a row selects that frame in the flame graph. "By file:line" merges calls
 * only when they come from the same line (built on demand).
 *   total  the metric summed over every site below the node (its whole subtree)
 *   self   what the function allocated itself: top-down, the stacks that end at the row;
 *          bottom-up, the whole total of a first-level row (those functions called malloc),
 *          and nothing for the callers below it (shown as a dash)
 * Only expanded rows are in the DOM; children beyond the first 50 of a node are summarised. */
"use strict";
(function () {
var MS = window.MS, E = MS.el;
var MAX_KIDS = 50;

function CallTree(sec, D) {
  var self = this;
  this.flame = MS.flame;
  this.inverted = false;
  this.byLine = false;
  this.open = new Set();
  this.lineTrees = [null, null];
  this.selected = null;
  this.downBtn = E("button", {id: "tree-topdown", "aria-pressed": "true", text: "Top-down", onclick: function () { self.setInverted(false); }});
  this.upBtn = E("button", {id: "tree-bottomup", "aria-pressed": "false", text: "Bottom-up", onclick: function () { self.setInverted(true); }});
  this.metricSel = E("select", {id: "tree-metric", "aria-label": "call tree metric", onchange: function () { self.render(); }});
  MS.METRICS.forEach(function (m, i) {
    var o = E("option", {value: i, text: m.label}); if (i === self.flame.metric) o.selected = true; self.metricSel.appendChild(o);
  });
  /* The range measure follows the flame graph's: offered while a range is selected, shown
   * when one is chosen, left when it is cleared. */
  function syncRange() {
    var R = MS.RANGE_METRIC, o = self.metricSel.options[R], f = self.flame.metricSel.options[R];
    if (!o || !f) return;
    o.disabled = f.disabled; o.textContent = f.textContent;
    if (!f.disabled && self.flame.metric === R) self.metricSel.value = String(R);
    else if (f.disabled && Number(self.metricSel.value) === R) self.metricSel.value = String(self.flame.metric);
  }
  syncRange();
  this.lineBox = E("input", {type: "checkbox", id: "tree-byline", onchange: function () { self.byLine = this.checked; self.open.clear(); self.render(); }});
  this.tbody = E("tbody");
  this.table = E("table", {class: "data calltree", id: "calltree", role: "treegrid", "aria-label": "call tree"},
    E("thead", null, E("tr", null, E("th", {scope: "col", text: "Function"}), E("th", {scope: "col", text: "Location"}),
      E("th", {scope: "col", class: "num", text: "Total"}), E("th", {scope: "col", class: "num", text: "Self"}),
      E("th", {scope: "col", class: "num", text: "% of all"}))), this.tbody);
  sec.appendChild(E("div", {class: "toolbar"}, this.downBtn, this.upBtn, E("label", {for: "tree-metric", text: "Measure"}), this.metricSel,
    E("label", null, this.lineBox, " By file:line")));
  sec.appendChild(E("div", {class: "table-wrap"}, this.table));
  this.flame.listeners.push(function () { syncRange(); self.lineTrees = [null, null]; self.open.clear(); self.render(); });
  this.render();
}

CallTree.prototype.tree = function () {
  var i = this.inverted ? 1 : 0;
  if (!this.byLine) return this.flame.treeOf(this.inverted);
  if (!this.lineTrees[i]) this.lineTrees[i] = MS.buildTree(this.flame.sites, this.inverted, this.flame.filt, true);
  return this.lineTrees[i];
};

CallTree.prototype.setInverted = function (inv) {
  this.inverted = inv;
  this.downBtn.setAttribute("aria-pressed", String(!inv));
  this.upBtn.setAttribute("aria-pressed", String(inv));
  this.open.clear(); this.selected = null;
  this.render();
};

function selfOf(n, m) {
  var s = n.v[m];
  for (var i = 0; i < n.children.length; i++) s -= n.children[i].v[m];
  return Math.max(0, s);
}

CallTree.prototype.render = function () {
  var self = this, m = Number(this.metricSel.value), fmt = MS.METRICS[m].fmt, root = this.tree(), tb = this.tbody;
  tb.textContent = "";
  var kidsOf = function (n) {
    return n.children.filter(function (c) { return c.v[m] > 0; }).sort(function (a, b) { return b.v[m] - a.v[m]; });
  };
  (function rows(n, level) {
    var kids = kidsOf(n);
    kids.slice(0, MAX_KIDS).forEach(function (c) {
      var has = c.children.some(function (k) { return k.v[m] > 0; }), isOpen = self.open.has(c), f = c.frame;
      var where = f ? (f.file ? MS.basename(f.file) + (f.line && (self.byLine || !c.manyLines) ? ":" + f.line : "") : MS.basename(f.module || "")) : "";
      var tog = has ? E("button", {class: "tog", "aria-expanded": String(isOpen), "aria-label": (isOpen ? "collapse " : "expand ") + c.name,
        text: isOpen ? "\u25be" : "\u25b8", onclick: function (ev) {
          ev.stopPropagation();
          if (self.open.has(c)) self.open.delete(c); else self.open.add(c);
          self.render();
        }}) : E("span", {class: "tog"});
      var tr = E("tr", {class: c === self.selected ? "selected" : null, "aria-level": level, "aria-selected": String(c === self.selected)},
        E("td", {class: "fn mono", style: "padding-left:" + (0.3 + level * 1.1).toFixed(1) + "rem"}, tog, " ", c.name,
          f && f.inlined ? [" ", E("span", {class: "badge info inl", text: "inlined"})] : null),
        E("td", {class: "where", text: where}),
        E("td", {class: "num", text: fmt(c.v[m])}),
        E("td", {class: "num", text: self.inverted ? (level === 1 ? fmt(c.v[m]) : "\u2013") : fmt(selfOf(c, m))}),
        E("td", {class: "num", text: MS.fmtPct(c.v[m], root.v[m])}));
      tr.addEventListener("click", function () { self.select(c); });
      tb.appendChild(tr);
      if (isOpen) rows(c, level + 1);
    });
    if (kids.length > MAX_KIDS) tb.appendChild(E("tr", null, E("td", {colspan: 5, class: "help",
      style: "padding-left:" + (0.3 + level * 1.1 + 1.4).toFixed(1) + "rem", text: "\u2026 " + MS.plural(kids.length - MAX_KIDS, "more function") + " (smaller)"})));
  })(root, 1);
  if (!tb.children.length) tb.appendChild(E("tr", null, E("td", {colspan: 5, text: "Nothing to show for this measure."})));
};

/* A row selects its node here and, by function, in the flame graph (the same node object). */
CallTree.prototype.select = function (node) {
  this.selected = node;
  this.render();
  if (!this.byLine) this.flame.showNode(node, this.inverted);
};

MS.views.calltree = function (sec, D) {
  sec.appendChild(E("p", {class: "help", text: "The allocation sites merged by function. Top-down starts at main and goes to the " +
    "functions that allocate; bottom-up starts at the functions that called malloc and goes to their callers. Total: everything " +
    "below a row; self: what the row accounts for itself. Expand with \u25b8 (or Enter on it); click a row to select it in the flame graph."}));
  if (!D.sites.length || !MS.flame) { sec.appendChild(E("p", {class: "empty", text: "No allocation sites were recorded."})); return; }
  MS.callTree = new CallTree(sec, D);
};
})();

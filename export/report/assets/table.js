/* table.js — a sortable, filterable, paginated table for the report's lists (sites, leaks,
 * variables, threads...). Only the current page is in the DOM, so 100k rows stay responsive;
 * sorting and filtering work on the row objects. Column headers are buttons (keyboard
 * accessible, aria-sort set); each row can open a detail row (e.g. its full stack).
 *
 * new MS.DataTable(container, {
 *   id, columns: [{key, label, num, get(row), render(row) -> node|string, sortable, show() -> bool}],
 *   rows, pageSize, sortKey, sortDesc, filterPlaceholder, match(row, query) -> bool,
 *   detail(row) -> node, emptyText, onPage(rowsOnPage) }) */
"use strict";
(function () {
var MS = window.MS;

function DataTable(container, o) {
  var self = this, E = MS.el;
  this.o = o;
  this.rows = o.rows || [];
  this.view = this.rows.slice();
  this.page = 0;
  this.pageSize = o.pageSize || 25;
  this.open = new Set();
  this.sortCol = null;
  this.sortDesc = o.sortDesc !== false;
  o.columns.forEach(function (c) { if (c.key === o.sortKey) self.sortCol = c; });

  if (!this.rows.length) {
    container.appendChild(E("p", {class: "empty", text: o.emptyText || "Nothing to show."}));
    if (o.onPage) o.onPage([]);
    return;
  }
  var bar = E("div", {class: "toolbar"});
  if (o.match) {
    this.filter = E("input", {type: "search", id: o.id + "-filter", placeholder: o.filterPlaceholder || "Filter\u2026",
      "aria-label": "filter " + (o.label || "rows"), oninput: MS.debounce(function () { self.applyFilter(); }, 150)});
    bar.appendChild(this.filter);
  }
  this.countLabel = E("span", {class: "help", "aria-live": "polite"});
  bar.appendChild(this.countLabel);
  container.appendChild(bar);

  var headRow = E("tr");
  this.headers = [];
  o.columns.forEach(function (c) {
    var th = E("th", {class: c.num ? "num" : null, scope: "col"});
    if (c.sortable !== false && c.get) {
      th.appendChild(E("button", {text: c.label, title: "sort by " + c.label, onclick: function () { self.sortBy(c); }}));
    } else th.textContent = c.label;
    self.headers.push({th: th, col: c});
    if (c.show && !c.show()) th.style.display = "none";
    headRow.appendChild(th);
  });
  if (o.detail) headRow.appendChild(E("th", {scope: "col", text: ""}));
  this.tbody = E("tbody");
  this.table = E("table", {class: "data", id: o.id}, E("thead", null, headRow), this.tbody);
  /* Wide tables scroll sideways inside their section rather than widening the page. */
  container.appendChild(E("div", {class: "table-wrap"}, this.table));

  this.prevBtn = E("button", {text: "\u2190 Previous", onclick: function () { self.go(self.page - 1); }});
  this.nextBtn = E("button", {text: "Next \u2192", onclick: function () { self.go(self.page + 1); }});
  this.pageLabel = E("span");
  var sizeSel = E("select", {"aria-label": "rows per page", onchange: function () { self.pageSize = Number(this.value); self.go(0); }});
  [10, 25, 50, 100, 250].forEach(function (n) {
    var opt = E("option", {value: n, text: n + " per page"}); if (n === self.pageSize) opt.selected = true; sizeSel.appendChild(opt);
  });
  this.pager = E("div", {class: "pager"}, this.prevBtn, this.pageLabel, this.nextBtn, sizeSel);
  container.appendChild(this.pager);
  this.applySort();
  this.render();
}

DataTable.prototype.sortBy = function (c) {
  if (this.sortCol === c) this.sortDesc = !this.sortDesc;
  else { this.sortCol = c; this.sortDesc = !!c.num; }
  this.applySort(); this.go(0);
};

DataTable.prototype.applySort = function () {
  var c = this.sortCol, desc = this.sortDesc;
  this.headers.forEach(function (h) {
    h.th.setAttribute("aria-sort", h.col === c ? (desc ? "descending" : "ascending") : "none");
    var b = h.th.querySelector("button");
    if (b) b.textContent = h.col.label + (h.col === c ? (desc ? " \u25bc" : " \u25b2") : "");
  });
  if (!c) return;
  var get = c.get, num = !!c.num;
  var keyed = this.view.map(function (r, i) { return {r: r, k: get(r), i: i}; });
  keyed.sort(function (a, b) {
    var x = a.k, y = b.k, d;
    if (num) d = MS.num(x) - MS.num(y);
    else d = String(x === null || x === undefined ? "" : x).localeCompare(String(y === null || y === undefined ? "" : y));
    if (d === 0) return a.i - b.i;
    return desc ? -d : d;
  });
  this.view = keyed.map(function (k) { return k.r; });
};

DataTable.prototype.applyFilter = function () {
  var q = this.filter ? this.filter.value.trim().toLowerCase() : "", m = this.o.match, keep = this.keep;
  this.view = q || keep ? this.rows.filter(function (r) { return (!keep || keep(r)) && (!q || m(r, q)); }) : this.rows.slice();
  this.lastQuery = q;
  this.applySort(); this.go(0);
};

/* A filter from outside the table (the noise filters, a time range): keep(row) -> bool, or null. */
DataTable.prototype.setKeep = function (keep) { this.keep = keep || null; if (this.tbody) this.applyFilter(); };

/* Columns with a show() (e.g. the figures of a time range) appear and disappear with it. */
function shown(c) { return !c.show || c.show(); }
DataTable.prototype.updateColumns = function () {
  if (!this.tbody) return;
  this.headers.forEach(function (h) { h.th.style.display = shown(h.col) ? "" : "none"; });
  this.render();
};

/* Sort by the column with this key (desc: largest first), as a click on its header would. */
DataTable.prototype.sortByKey = function (key, desc) {
  var c = this.o.columns.filter(function (x) { return x.key === key; })[0];
  if (!c || !this.tbody) return;
  this.sortCol = c; this.sortDesc = desc !== false;
  this.applySort(); this.go(0);
};

/* Programmatic filter (used by "show in table" links). */
DataTable.prototype.setFilter = function (q) {
  if (!this.filter) return;
  this.filter.value = q; this.applyFilter();
};

DataTable.prototype.go = function (p) {
  var pages = Math.max(1, Math.ceil(this.view.length / this.pageSize));
  this.page = Math.min(Math.max(0, p), pages - 1);
  this.render();
};

DataTable.prototype.render = function () {
  var self = this, o = this.o, E = MS.el;
  var start = this.page * this.pageSize, rows = this.view.slice(start, start + this.pageSize);
  var pages = Math.max(1, Math.ceil(this.view.length / this.pageSize));
  this.tbody.textContent = "";
  if (!rows.length) {
    this.tbody.appendChild(E("tr", null, E("td", {colspan: o.columns.length + 1, text: "No row matches the filter."})));
  }
  rows.forEach(function (r, i) {
    var tr = E("tr", {class: (i % 2 ? "alt" : "") + (r === self.selectedRow ? " selected" : "") || null,
      "aria-selected": o.rowClick ? String(r === self.selectedRow) : null});
    /* Clicking a row (not one of its buttons) selects it here and, through rowClick, in the
     * other views (the flame graph). */
    if (o.rowClick) tr.addEventListener("click", function (ev) {
      if (ev.target.closest && ev.target.closest("button, a, input, select")) return;
      self.selectedRow = r; self.render(); o.rowClick(r);
    });
    o.columns.forEach(function (c) {
      if (!shown(c)) return;
      var v = c.render ? c.render(r) : (c.get ? c.get(r) : "");
      tr.appendChild(E("td", {class: c.num ? "num" : null}, v));
    });
    if (o.detail) {
      var isOpen = self.open.has(r);
      var btn = E("button", {"aria-expanded": String(isOpen), text: isOpen ? "Hide" : (o.detailLabel || "Stack"),
        title: o.detailTitle || "show the full call stack", onclick: function () {
          if (self.open.has(r)) self.open.delete(r); else self.open.add(r);
          self.render();
        }});
      tr.appendChild(E("td", null, btn));
    }
    self.tbody.appendChild(tr);
    if (o.detail) {
      var dt = E("tr", {class: "detail" + (i % 2 ? " alt" : "")});
      if (self.open.has(r)) dt.appendChild(E("td", {colspan: o.columns.length + 1}, o.detail(r)));
      else dt.style.display = "none";
      self.tbody.appendChild(dt);
    }
  });
  this.pageLabel.textContent = "Page " + (this.page + 1) + " of " + pages;
  this.prevBtn.disabled = this.page === 0;
  this.nextBtn.disabled = this.page >= pages - 1;
  this.pager.style.display = this.view.length > 10 ? "" : "none";
  this.countLabel.textContent = this.view.length === this.rows.length
    ? MS.fmtCount(this.rows.length) + " rows"
    : MS.fmtCount(this.view.length) + " of " + MS.fmtCount(this.rows.length) + " rows match";
  if (o.onPage) o.onPage(rows);
};

MS.DataTable = DataTable;
})();

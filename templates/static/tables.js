/* fitatlas tables: sort and filter, on pages that already show the whole table without them.
   <table data-sortable>: each column header becomes a button; numbers sort by the cell's
   data-sort value (rows without one go last either way), text alphabetically. The header's
   aria-sort and a status message tell screen readers the order.
   <div data-filters="tableId …" hidden>: filter controls for those tables, shown once this
   script runs. data-filter="text" matches a row's text; a select data-filter="x" keeps rows whose
   data-x equals its value (or all for ""); a checkbox data-filter="x" keeps rows with data-x="1". */
(() => {
  "use strict";
  const status = document.createElement("p");
  status.className = "visually-hidden";
  status.setAttribute("role", "status");
  document.body.append(status);

  const label = (th) => th.textContent.replace(/\s+/g, " ").trim();

  function sortBy(table, th, index) {
    const body = table.tBodies[0], rows = [...body.rows];
    const numeric = rows.some((r) => r.cells[index] && r.cells[index].dataset.sort != null);
    const up = th.getAttribute("aria-sort") !== "ascending";
    const value = (r) => {
      const c = r.cells[index];
      if (!c) return null;
      return numeric ? (c.dataset.sort == null ? null : +c.dataset.sort) : c.textContent.trim();
    };
    const keyed = rows.map((r, i) => [value(r), i, r]);
    keyed.sort(([a, i], [b, j]) => {
      if (a === b) return i - j;
      if (a == null || b == null) return a == null ? 1 : -1;
      const d = numeric ? a - b : a.localeCompare(b, undefined, { numeric: true });
      return (up ? d : -d) || i - j;
    });
    body.append(...keyed.map(([, , r]) => r));
    for (const h of table.tHead.rows[0].cells) h.removeAttribute("aria-sort");
    th.setAttribute("aria-sort", up ? "ascending" : "descending");
    status.textContent = `${table.caption ? label(table.caption) + ": s" : "S"}orted by ${label(th)}, ${up ? "ascending" : "descending"}.`;
  }

  for (const table of document.querySelectorAll("table[data-sortable]")) {
    [...table.tHead.rows[0].cells].forEach((th, index) => {
      const button = document.createElement("button");
      button.type = "button";
      button.className = "sort";
      button.append(...th.childNodes);
      const arrow = document.createElement("span");
      arrow.setAttribute("aria-hidden", "true");
      arrow.className = "arrow";
      button.append(" ", arrow); // the space lets a long header wrap before its arrow
      th.append(button);
      button.addEventListener("click", () => sortBy(table, th, index));
    });
  }

  for (const box of document.querySelectorAll("[data-filters]")) {
    const tables = box.dataset.filters.split(/\s+/).map((id) => document.getElementById(id));
    const controls = [...box.querySelectorAll("[data-filter]")];
    const count = box.querySelector(".filter-count");
    const apply = () => {
      let shown = 0, all = 0;
      for (const table of tables) {
        for (const row of table.tBodies[0].rows) {
          const keep = controls.every((c) => {
            const key = c.dataset.filter, v = c.type === "checkbox" ? (c.checked ? "1" : "") : c.value.trim().toLowerCase();
            if (!v) return true;
            return key === "text" ? row.textContent.toLowerCase().includes(v) : (row.dataset[key] || "").toLowerCase() === v;
          });
          row.hidden = !keep;
          all++;
          shown += keep;
        }
      }
      if (count) count.textContent = shown === all ? `Showing all ${all} rows.` : `Showing ${shown} of ${all} rows.`;
    };
    box.addEventListener("input", apply);
    box.addEventListener("submit", (e) => e.preventDefault());
    box.hidden = false;
    apply();
  }
})();

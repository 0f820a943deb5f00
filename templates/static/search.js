/* fitatlas site search: the header's search box over models, GPUs and guides.
   The index is built at build time by Pagefind (generator/search.py) and served with the site;
   its script loads from this site only, on first use. Without JavaScript the box stays hidden. */
(() => {
  "use strict";
  const form = document.getElementById("site-search");
  if (!form) return;
  const input = form.elements.q, panel = document.getElementById("site-search-results");
  const status = document.getElementById("site-search-status");
  const base = form.dataset.base;
  let pagefind = null, asked = 0;

  const load = () => pagefind || (pagefind = import(base + "pagefind/pagefind.js").then(async (pf) => {
    await pf.options({ basePath: base + "pagefind/", baseUrl: base });
    return pf;
  }));

  // Pagefind's excerpt is text with <mark> around matches: keep exactly that and nothing else.
  const excerpt = (html) => {
    const t = document.createElement("template"), p = document.createElement("p");
    t.innerHTML = html;
    for (const node of t.content.childNodes) {
      if (node.nodeName === "MARK") p.append(Object.assign(document.createElement("mark"), { textContent: node.textContent }));
      else p.append(node.textContent);
    }
    return p;
  };

  const close = () => {
    panel.hidden = true;
    status.textContent = "";
  };

  function show(query, items, total) {
    const head = document.createElement("p");
    head.className = "search-count";
    head.textContent = status.textContent =
      total ? `${total} result${total > 1 ? "s" : ""} for “${query}”` : `Nothing found for “${query}”.`;
    const list = document.createElement("ul");
    for (const item of items) {
      const li = document.createElement("li"), a = document.createElement("a");
      a.href = item.url;
      a.textContent = item.meta.title || item.url;
      const section = item.meta.section;
      if (section) li.append(Object.assign(document.createElement("span"), { className: "tag", textContent: section }), " ");
      li.append(a, excerpt(item.excerpt));
      list.append(li);
    }
    panel.replaceChildren(head, list);
    panel.hidden = false;
  }

  async function search() {
    const query = input.value.trim(), ticket = ++asked;
    if (!query) return close();
    try {
      const pf = await load(), found = await pf.debouncedSearch(query, {}, 120);
      if (!found || ticket !== asked) return; // a newer query is on its way
      const items = await Promise.all(found.results.slice(0, 8).map((r) => r.data()));
      if (ticket === asked) show(query, items, found.results.length);
    } catch (err) {
      pagefind = null;
      panel.replaceChildren(Object.assign(document.createElement("p"), { textContent: "Search is not available here." }));
      panel.hidden = false;
    }
  }

  form.hidden = false;
  input.addEventListener("focus", load, { once: true });
  input.addEventListener("input", search);
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    const first = panel.querySelector("a");
    if (first && !panel.hidden) location.href = first.href;
  });
  form.addEventListener("keydown", (e) => {
    if (e.key === "Escape" && !panel.hidden) {
      close();
      input.focus();
    }
  });
  document.addEventListener("click", (e) => { if (!form.contains(e.target)) close(); });
})();

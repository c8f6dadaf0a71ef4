// meshplane console: map search and focus, live proxies table. No network
// access beyond this origin (the page's Content-Security-Policy forbids it).
"use strict";

function el(tag, attrs, text) {
  const e = document.createElement(tag);
  for (const k in attrs || {}) e.setAttribute(k, attrs[k]);
  if (text !== undefined) e.textContent = text;
  return e;
}

// ---- Mesh map -------------------------------------------------------------

function mapSetup() {
  const search = document.getElementById("map-search");
  if (!search) return;
  const focus = document.getElementById("map-focus");
  const svgs = Array.from(document.querySelectorAll("svg.map"));

  function neighbourhood(svg, id) {
    const edges = Array.from(svg.querySelectorAll("path.edge")).map(p => ({
      from: p.dataset.from, to: p.dataset.to, backend: p.classList.contains("backend") }));
    const keep = new Set([id]);
    for (const dir of ["down", "up"]) {
      const todo = [id];
      const seen = new Set([id]);
      while (todo.length) {
        const cur = todo.pop();
        for (const e of edges) {
          if (e.backend) continue;
          const next = dir === "down" ? (e.from === cur ? e.to : null) : (e.to === cur ? e.from : null);
          if (next && !seen.has(next)) { seen.add(next); keep.add(next); todo.push(next); }
        }
      }
    }
    for (const e of edges) {
      if (e.backend && (e.from === id || e.to === id)) { keep.add(e.from); keep.add(e.to); }
    }
    return keep;
  }

  function apply() {
    const q = search.value.trim().toLowerCase();
    const f = focus.value.trim();
    for (const svg of svgs) {
      const keep = f && svg.querySelector('g.v[data-id="' + CSS.escape(f) + '"]') ? neighbourhood(svg, f) : null;
      for (const g of svg.querySelectorAll("g.v")) {
        const id = g.dataset.id;
        const inFocus = !keep || keep.has(id);
        const hit = q && (g.dataset.name.includes(q) || id.toLowerCase().includes(q));
        g.classList.toggle("hidden", !inFocus);
        g.classList.toggle("hit", !!hit);
        g.classList.toggle("sel", id === f);
        g.classList.toggle("dim", !!q && !hit);
      }
      for (const e of svg.querySelectorAll("[data-from]")) {
        const inFocus = !keep || (keep.has(e.dataset.from) && keep.has(e.dataset.to));
        e.classList.toggle("hidden", !inFocus);
        e.classList.toggle("dim", !!q);
      }
      const sel = svg.querySelector("g.v.sel");
      if (sel) sel.scrollIntoView({ block: "center", inline: "center" });
    }
  }

  for (const svg of svgs) {
    svg.addEventListener("click", ev => {
      const g = ev.target.closest("g.v");
      if (!g || ev.target.closest("a")) return;
      focus.value = focus.value === g.dataset.id ? "" : g.dataset.id;
      apply();
    });
    svg.addEventListener("keydown", ev => {
      const g = ev.target.closest("g.v");
      if (g && (ev.key === "Enter" || ev.key === " ")) {
        ev.preventDefault();
        focus.value = focus.value === g.dataset.id ? "" : g.dataset.id;
        apply();
      }
    });
  }
  search.addEventListener("input", apply);
  focus.addEventListener("input", apply);
  document.getElementById("map-filters").addEventListener("submit", ev => ev.preventDefault());
  document.getElementById("map-clear").addEventListener("click", () => {
    search.value = ""; focus.value = ""; apply();
  });
  const params = new URLSearchParams(location.search);
  if (params.get("focus")) focus.value = params.get("focus");
  if (params.get("q")) search.value = params.get("q");
  apply();
}

// ---- Proxies --------------------------------------------------------------

const STATUS_ORDER = { nacked: 0, disconnected: 1, pending: 2, synced: 3 };

function ago(seconds) {
  const s = Math.max(0, Math.round(Date.now() / 1000 - seconds));
  if (s < 90) return s + " s";
  if (s < 5400) return Math.round(s / 60) + " min";
  return Math.round(s / 3600) + " h";
}

function proxiesSetup() {
  const body = document.getElementById("proxy-rows");
  if (!body) return;
  const live = document.getElementById("proxy-live");
  const filter = document.getElementById("proxy-filter");
  const sort = document.getElementById("proxy-sort");
  const gone = new Map(); // identity -> last row data, for proxies that left
  let current = [];

  function row(p) {
    const tr = el("tr", { "data-identity": p.identity, "data-status": p.status });
    const st = el("td");
    st.appendChild(el("span", { class: "badge " + p.status }, p.status));
    tr.appendChild(st);
    const short = p.identity.replace(/^arn:[^:]*:appmesh:[^:]*:[^:]*:/, "");
    tr.appendChild(el("td", { title: p.identity }, short));
    const pr = p.principal ? p.principal.id + " (" + p.principal.source + ")" : "—";
    tr.appendChild(el("td", {}, pr));
    tr.appendChild(el("td", {}, "stream " + p.stream + (p.remote_addr ? " from " + p.remote_addr : "")));
    tr.appendChild(el("td", {}, p.variant || "—"));
    const types = el("td");
    const ul = el("ul", { class: "types" });
    for (const t of Object.keys(p.types || {}).sort()) {
      const s = p.types[t];
      const behind = s.last_sent_version !== s.last_acked_version;
      ul.appendChild(el("li", behind ? { class: "behind" } : {},
        t + ": " + (s.last_sent_version || "—") + " / " + (s.last_acked_version || "—")));
    }
    types.appendChild(ul);
    tr.appendChild(types);
    tr.appendChild(el("td", {}, p.status === "disconnected" ? "gone" : ago(p.connected_since)));
    const nack = el("td");
    for (const t of Object.keys(p.types || {}).sort()) {
      const n = p.types[t].last_nack;
      if (!n || p.status !== "nacked") continue;
      nack.appendChild(el("div", { class: "bad" }, t + ": " + (n.message || "")));
    }
    for (const f of p.nack_fields || []) {
      const where = f.file ? " (" + f.file + (f.line ? ":" + f.line : "") + ")" : "";
      nack.appendChild(el("div", { class: "field" }, "spec field " + f.path + " of " + (f.arn || "") + where));
    }
    if (!nack.childNodes.length) nack.textContent = "—";
    tr.appendChild(nack);
    return tr;
  }

  function render() {
    const q = filter.value.trim().toLowerCase();
    const all = current.concat(Array.from(gone.values()));
    const key = sort.value;
    all.sort((a, b) => {
      if (key === "status") return (STATUS_ORDER[a.status] - STATUS_ORDER[b.status]) || a.identity.localeCompare(b.identity);
      if (key === "since") return a.connected_since - b.connected_since;
      return a.identity.localeCompare(b.identity) || a.stream - b.stream;
    });
    body.replaceChildren();
    for (const p of all) {
      const text = (p.identity + " " + p.status + " " + (p.principal ? p.principal.id : "")).toLowerCase();
      if (q && !text.includes(q)) continue;
      body.appendChild(row(p));
    }
    if (!body.childNodes.length) {
      const tr = el("tr");
      tr.appendChild(el("td", { colspan: "8" }, all.length ? "No proxy matches the filter." : "No proxy is connected."));
      body.appendChild(tr);
    }
  }

  const es = new EventSource("/ui/events");
  es.addEventListener("proxies", ev => {
    const next = JSON.parse(ev.data).proxies || [];
    const ids = new Set(next.map(p => p.identity));
    for (const p of current) {
      if (!ids.has(p.identity)) gone.set(p.identity, Object.assign({}, p, { status: "disconnected" }));
    }
    for (const id of ids) gone.delete(id);
    current = next;
    live.textContent = "Live · " + next.length + " connected · updated " + new Date().toLocaleTimeString();
    render();
  });
  es.onerror = () => { live.textContent = "Live updates interrupted; reconnecting…"; };
  filter.addEventListener("input", render);
  sort.addEventListener("change", render);
  document.getElementById("proxy-filters").addEventListener("submit", ev => ev.preventDefault());
  setInterval(render, 10000);
}

// ---- Problems -------------------------------------------------------------

function timesSetup() {
  for (const td of document.querySelectorAll("td.when[data-unix]")) {
    td.textContent = new Date(parseFloat(td.dataset.unix) * 1000).toLocaleString();
  }
}

document.addEventListener("DOMContentLoaded", () => {
  mapSetup();
  proxiesSetup();
  timesSetup();
});

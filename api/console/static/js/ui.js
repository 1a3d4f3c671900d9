// Small DOM helpers and formatters shared by the pages.

/** h("div", {class: "x", onclick: f}, child, "text") -> an element. */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith("on")) el.addEventListener(name.slice(2), value);
    else if (name === "dataset") Object.assign(el.dataset, value);
    else el.setAttribute(name, value === true ? "" : value);
  }
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue;
    el.append(child instanceof Node ? child : String(child));
  }
  return el;
}

export function clear(el, ...children) {
  el.replaceChildren(...children.flat().filter((c) => c !== null && c !== undefined));
  return el;
}

export function fmtNum(value, digits = 3) {
  if (value === null || value === undefined || Number.isNaN(value)) return "–";
  if (typeof value !== "number") return String(value);
  const abs = Math.abs(value);
  if (abs !== 0 && (abs >= 1e6 || abs < 1e-3)) return value.toExponential(2);
  return value.toLocaleString("en-US", { maximumFractionDigits: digits });
}

export function fmtPct(value) {
  return value === null || value === undefined ? "–" : `${(value * 100).toFixed(1)}%`;
}

export function fmtDate(value) {
  if (!value) return "–";
  const d = new Date(value);
  return Number.isNaN(d.getTime()) ? String(value) : d.toISOString().replace("T", " ").replace(/(:00)?\.000Z$/, "Z");
}

export function fmtSeconds(value) {
  if (value === null || value === undefined) return "–";
  if (value < 60) return `${value.toFixed(1)} s`;
  const m = Math.floor(value / 60);
  return m < 60 ? `${m} min ${Math.round(value % 60)} s` : `${Math.floor(m / 60)} h ${m % 60} min`;
}

/** A table: columns are [title, row => cell] pairs. */
export function table(columns, rows, attrs = {}) {
  return h("table", attrs,
    h("thead", {}, h("tr", {}, columns.map(([title]) => h("th", {}, title)))),
    h("tbody", {}, rows.map((row) => h("tr", {}, columns.map(([, cell]) => h("td", {}, cell(row)))))));
}

/** Key/value pairs as a definition list. */
export function facts(pairs) {
  return h("dl", { class: "facts" }, pairs.flatMap(([k, v]) => [h("dt", {}, k), h("dd", {}, v)]));
}

/** An error as words: the problem's detail and each field with its reason. */
export function problemView(error) {
  const box = h("div", { class: "problem", role: "alert" },
    h("strong", {}, error.title || "Error"), " ", error.message || String(error));
  if (error.errors && error.errors.length) {
    box.append(table([["field", (e) => h("code", {}, e.field)], ["reason", (e) => e.reason]], error.errors,
      { class: "field-errors" }));
  }
  return box;
}

export function notAvailable(what) {
  return h("p", { class: "muted not-available" }, `${what}: not available on this server.`);
}

export function card(title, ...children) {
  return h("section", { class: "card" }, title ? h("h2", {}, title) : null, ...children);
}

export function badge(text, kind = "") {
  return h("span", { class: `badge ${kind || text}` }, text);
}

/** Run an async action from a button, showing its error beside it. */
export function action(label, run, attrs = {}) {
  const out = h("span", { class: "action-result" });
  const button = h("button", { ...attrs, onclick: async () => {
    button.disabled = true;
    clear(out);
    try {
      const message = await run();
      if (message) out.append(h("span", { class: "ok" }, message));
    } catch (error) {
      out.append(problemView(error));
    } finally {
      button.disabled = false;
    }
  } }, label);
  return h("span", { class: "action" }, button, out);
}

export function download(filename, text, type = "text/csv") {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const link = h("a", { href: url, download: filename });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

/** Route params of "#/page?x=1" as an object. */
export function params() {
  const query = location.hash.split("?")[1] || "";
  return Object.fromEntries(new URLSearchParams(query));
}

export function link(page, query, text) {
  return h("a", { href: `#/${page}?${new URLSearchParams(query)}` }, text);
}

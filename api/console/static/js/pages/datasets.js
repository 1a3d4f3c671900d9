// Datasets: what is stored (series, points, frequency, time span) and a file upload.
import { api, allPages, enc } from "../api.js";
import { h, clear, table, card, fmtNum, fmtDate, problemView, link } from "../ui.js";

const MEDIA = { csv: "text/csv", parquet: "application/vnd.apache.parquet" };

export async function render(ctx) {
  const listBox = h("div", { id: "dataset-list" }, h("p", { class: "muted" }, "Loading…"));
  clear(ctx.view, h("h1", {}, "Datasets"), card("Upload observations", uploadForm(() => refresh(listBox))),
    card("Stored datasets", listBox));
  await refresh(listBox);
}

async function refresh(box) {
  const datasets = await allPages("/v1/datasets");
  if (!datasets.length) {
    clear(box, h("p", { class: "muted" }, "No dataset yet: upload a CSV above."));
    return;
  }
  const freq = new Map(datasets.map((d) => [d.name, h("span", { class: "muted" }, "…")]));
  clear(box, table([
    ["name", (d) => link("series", { dataset: d.name }, d.name)],
    ["series", (d) => fmtNum(d.series)],
    ["points", (d) => fmtNum(d.points)],
    ["frequency", (d) => freq.get(d.name)],
    ["first", (d) => fmtDate(d.first_ds)],
    ["last", (d) => fmtDate(d.last_ds)],
    ["created", (d) => fmtDate(d.created_at)],
  ], datasets, { class: "datasets" }));
  // The list leaves the frequency out (it samples the data); ask each dataset for it.
  await Promise.all(datasets.slice(0, 100).map(async (d) => {
    const full = await api(`/v1/datasets/${enc(d.name)}`);
    freq.get(d.name).replaceWith(full.freq || "–");
  }));
}

function uploadForm(onDone) {
  const name = h("input", { name: "dataset", required: true, placeholder: "dataset name", pattern: "[A-Za-z0-9][A-Za-z0-9._\\-]{0,199}" });
  const file = h("input", { name: "file", type: "file", accept: ".csv,.parquet,text/csv", required: true });
  const out = h("div", { class: "upload-result" });
  const form = h("form", { class: "inline", onsubmit: async (event) => {
    event.preventDefault();
    const chosen = file.files[0];
    const ext = chosen.name.split(".").pop().toLowerCase();
    clear(out, h("p", { class: "muted" }, `Uploading ${chosen.name}…`));
    try {
      const result = await api(`/v1/datasets/${enc(name.value)}/observations`, {
        method: "PUT", body: chosen, headers: { "Content-Type": MEDIA[ext] || "text/csv" },
      });
      clear(out, h("p", { class: "ok" },
        `Stored ${fmtNum(result.rows)} rows of ${fmtNum(result.series)} series in ${result.dataset} `
        + `(${fmtNum(result.new_series)} new series, ${fmtNum(result.written)} rows written).`));
      await onDone();
    } catch (error) {
      clear(out, problemView(error));
    }
  } },
  h("label", {}, "Dataset ", name), h("label", {}, "File (CSV or Parquet: unique_id, ds, y) ", file),
  h("button", { type: "submit", class: "primary" }, "Upload"));
  return h("div", {}, form, out);
}

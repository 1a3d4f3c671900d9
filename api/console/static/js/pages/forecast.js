// Start a forecast: series of a dataset with a stored model, or a posted file for an instant
// forecast (no model: the service trains on it); show the fan chart and download the CSV.
import { api, allPages, enc } from "../api.js";
import { h, clear, card, table, fmtNum, fmtDate, problemView, download } from "../ui.js";
import { fanChart } from "../charts.js";
import { forecastCsv, modelRefs } from "./shared.js";

export async function render(ctx) {
  const [datasets, refs] = await Promise.all([allPages("/v1/datasets"), modelRefs()]);
  const out = h("div", { id: "forecast-result" });
  clear(ctx.view, h("h1", {}, "Start a forecast"),
    h("div", { class: "grid" }, card("From a stored model", storedForm(datasets, refs, out)),
      card("From a file (instant forecast)", fileForm(refs, out))), out);
}

function storedForm(datasets, refs, out) {
  const dataset = h("select", { id: "fc-dataset" }, datasets.map((d) => h("option", { value: d.name }, d.name)));
  const ids = h("input", { id: "fc-ids", placeholder: "unique_ids, comma separated (empty: all)", size: 36 });
  const model = h("select", { id: "fc-model" }, refs.map((r) => h("option", { value: r.ref }, r.label)));
  const horizon = h("input", { id: "fc-horizon", type: "number", min: 1, placeholder: "model's", style: "width:6em" });
  return h("form", { class: "stack", onsubmit: async (event) => {
    event.preventDefault();
    const ref = refs.find((r) => r.ref === model.value);
    const body = { model: model.value, dataset: dataset.value, horizon: Number(horizon.value) || (ref && ref.horizon) || 24 };
    const chosen = ids.value.split(",").map((s) => s.trim()).filter(Boolean);
    if (chosen.length) body.unique_ids = chosen;
    await run(out, body, dataset.value);
  } }, h("label", {}, "Dataset ", dataset), h("label", {}, "Series ", ids), h("label", {}, "Model ", model),
  h("label", {}, "Horizon ", horizon), h("button", { type: "submit", class: "primary", id: "fc-run" }, "Forecast"));
}

function fileForm(refs, out) {
  const file = h("input", { id: "fc-file", type: "file", accept: ".csv,text/csv", required: true });
  const model = h("select", { id: "fc-file-model" }, h("option", { value: "" }, "none: train on the file (instant)"),
    refs.map((r) => h("option", { value: r.ref }, r.label)));
  const horizon = h("input", { id: "fc-file-horizon", type: "number", min: 1, value: 24, style: "width:6em" });
  return h("form", { class: "stack", onsubmit: async (event) => {
    event.preventDefault();
    try {
      const series = parseCsv(await file.files[0].text());
      const body = { series, horizon: Number(horizon.value) };
      if (model.value) body.model = model.value;
      await run(out, body, null, series);
    } catch (error) {
      clear(out, problemView(error));
    }
  } }, h("label", {}, "CSV (unique_id, ds, y) ", file), h("label", {}, "Model ", model),
  h("label", {}, "Horizon ", horizon), h("button", { type: "submit", class: "primary" }, "Forecast"));
}

/** A long CSV (unique_id,ds,y, or ds,y for one series) as the posted `series` of a request. */
export function parseCsv(text) {
  const lines = text.split(/\r?\n/).filter((l) => l.trim());
  const header = lines.shift().split(",").map((c) => c.trim().replace(/^"|"$/g, ""));
  const col = (name) => header.indexOf(name);
  if (col("ds") < 0 || col("y") < 0) throw Object.assign(new Error("the CSV needs ds and y columns (and unique_id for several series)"), { title: "csv" });
  const bySeries = new Map();
  for (const line of lines) {
    const cells = line.split(",").map((c) => c.trim().replace(/^"|"$/g, ""));
    const id = col("unique_id") >= 0 ? cells[col("unique_id")] : "series";
    if (!bySeries.has(id)) bySeries.set(id, { unique_id: id, ds: [], y: [] });
    const s = bySeries.get(id);
    s.ds.push(cells[col("ds")]);
    s.y.push(Number(cells[col("y")]));
  }
  return [...bySeries.values()];
}

async function run(out, body, dataset, posted) {
  clear(out, h("p", { class: "muted" }, "Forecasting…"));
  try {
    let answer = await api("/v1/forecast", { method: "POST", body: { ...body, ...(body.model ? {} : { wait_seconds: 30 }) } });
    if (answer.status && answer.id) answer = await waitForJob(out, answer.id);
    await show(out, answer, dataset, posted);
  } catch (error) {
    clear(out, problemView(error));
  }
}

/** A 202 answer is a job: follow it until its result holds the forecast. */
async function waitForJob(out, id) {
  for (;;) {
    const job = await api(`/v1/jobs/${id}`);
    if (job.status === "succeeded") return { ...job.result, job_id: id };
    if (job.status === "failed" || job.status === "cancelled") {
      throw Object.assign(new Error(job.error || job.status), { title: `job ${id} ${job.status}` });
    }
    const p = job.progress || {};
    clear(out, h("p", { class: "muted" }, `Training on the posted series (job #${id}, ${job.status}${p.epoch ? `, epoch ${p.epoch}/${p.epochs}` : ""})…`));
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
}

async function show(out, answer, dataset, posted) {
  const forecasts = answer.forecasts || [];
  const first = forecasts[0];
  const chartBox = h("div", { class: "chart", id: "fc-chart" });
  const source = answer.model ? `${answer.model.name} v${answer.model.version}` : `an instant network (job #${answer.job_id ?? "–"})`;
  const method = answer.method ? ` Method: ${answer.method}.` : "";
  const fallback = answer.fallback ? ` The ${answer.fallback.method} baseline answered (${answer.fallback.reason.replace(/_/g, " ")}).` : "";
  clear(out, card(`Forecast of ${fmtNum(forecasts.length)} series by ${source}`,
    h("p", {}, h("button", { id: "fc-download", onclick: () => download("forecast.csv", forecastCsv(forecasts)) }, "Download CSV"), method, fallback),
    first ? h("h3", {}, first.unique_id) : null, chartBox,
    table([["unique_id", (r) => r.unique_id], ["ds", (r) => fmtDate(r.ds)], ["mean", (r) => fmtNum(r.mean)],
      ["80% low", (r) => fmtNum(r.lo)], ["80% high", (r) => fmtNum(r.hi)]],
    forecasts.slice(0, 20).flatMap((f) => f.ds.map((ds, i) => ({ unique_id: f.unique_id, ds, mean: f.mean[i],
      lo: (f.quantiles["0.1"] || [])[i], hi: (f.quantiles["0.9"] || [])[i] }))), { class: "forecast-table" })));
  if (!first) return;
  const history = posted ? posted.find((s) => s.unique_id === first.unique_id)
    : await api(`/v1/datasets/${enc(dataset)}/series/${enc(first.unique_id)}`);
  fanChart(chartBox, { history, forecast: first, name: "forecast_page" });
}

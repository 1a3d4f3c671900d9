// Series: search thousands of series, the history chart, and a forecast as a fan chart beside
// the actuals (plus the newest logged forecast of the chosen model, where the server logs them).
import { api, allPages, enc, hasRoute } from "../api.js";
import { h, clear, table, card, fmtNum, fmtDate, problemView, params, download } from "../ui.js";
import { fanChart } from "../charts.js";
import { forecastCsv, modelRefs } from "./shared.js";

export async function render(ctx) {
  const p = params();
  // Everything the page needs is asked for at once; the history is drawn as soon as it arrives.
  const wanted = p.dataset && p.id ? {
    series: api(`/v1/datasets/${enc(p.dataset)}/series/${enc(p.id)}`),
    refs: modelRefs(),
  } : null;
  const datasets = await allPages("/v1/datasets");
  const dataset = p.dataset || (datasets[0] && datasets[0].name);
  if (!dataset) {
    clear(ctx.view, h("h1", {}, "Series"), h("p", { class: "muted" }, "No dataset yet."));
    return;
  }
  const picker = h("select", { id: "dataset-select", onchange: () => go({ dataset: picker.value }) },
    datasets.map((d) => h("option", { value: d.name, selected: d.name === dataset }, d.name)));
  const finder = h("aside", { class: "finder" });
  const main = h("div", { class: "series-main" });
  clear(ctx.view, h("h1", {}, "Series ", picker), h("div", { class: "split" }, finder, main));
  searchBox(finder, dataset, p.id);
  if (wanted) await seriesView(main, dataset, p.id, p.model, wanted);
  else clear(main, h("p", { class: "muted" }, "Pick a series on the left."));
}

function go(query) {
  location.hash = `#/series?${new URLSearchParams(query)}`;
}

function searchBox(box, dataset, selected) {
  const input = h("input", { type: "search", id: "series-search", placeholder: "search unique_id", "aria-label": "search series" });
  const list = h("ul", { class: "series-list" });
  const more = h("button", { class: "link", hidden: true }, "more…");
  let cursor = null;
  let timer = null;
  const load = async (append) => {
    const q = input.value.trim();
    const url = `/v1/datasets/${enc(dataset)}/series?limit=50${q ? `&q=${enc(q)}` : ""}`
      + (append && cursor ? `&cursor=${enc(cursor)}` : "");
    const page = await api(url);
    if (!append) list.replaceChildren();
    for (const s of page.items) {
      list.append(h("li", { class: s.unique_id === selected ? "selected" : "" },
        h("a", { href: `#/series?${new URLSearchParams({ dataset, id: s.unique_id })}` }, s.unique_id),
        h("span", { class: "muted" }, ` ${fmtNum(s.points)}`)));
    }
    if (!list.children.length) list.append(h("li", { class: "muted" }, "no series matches"));
    cursor = page.next_cursor;
    more.hidden = !cursor;
  };
  input.addEventListener("input", () => { clearTimeout(timer); timer = setTimeout(() => load(false), 200); });
  more.addEventListener("click", () => load(true));
  box.append(input, list, more);
  load(false);
}

async function seriesView(main, dataset, id, chosenModel, wanted) {
  const series = await wanted.series;
  const chartBox = h("div", { class: "chart", id: "fan-chart" });
  const side = h("div", { class: "forecast-side" });
  const model = h("select", { id: "model-select" }, h("option", { value: "" }, "— no forecast —"));
  const horizon = h("input", { id: "horizon", type: "number", min: 1, max: 10000, placeholder: "model's", style: "width:6em" });
  const run = h("button", { class: "primary", id: "run-forecast" }, "Forecast");
  clear(main,
    h("h2", {}, id, h("span", { class: "muted" }, ` ${fmtNum(series.y.length)} points, ${fmtDate(series.ds[0])} – ${fmtDate(series.ds[series.ds.length - 1])}`)),
    h("div", { class: "controls" }, h("label", {}, "Model ", model), h("label", {}, "Horizon ", horizon), run,
      h("span", { class: "muted hint" }, "Drag to zoom, wheel to zoom, shift+drag to pan, double-click to reset.")),
    chartBox, side);
  fanChart(chartBox, { history: series });
  const refs = await wanted.refs;
  model.append(...refs.map((r) => h("option", { value: r.ref, selected: r.ref === chosenModel }, r.label)));
  const draw = async () => {
    clear(side);
    if (!model.value) { fanChart(chartBox, { history: series }); return; }
    try {
      const ref = refs.find((r) => r.ref === model.value);
      const steps = Number(horizon.value) || ref.horizon || 24;
      const answer = await api("/v1/forecast", { method: "POST", body: { model: model.value, horizon: steps, dataset, unique_ids: [id] } });
      const forecast = answer.forecasts[0];
      const logged = await loggedForecast(ref.name, id, series);
      fanChart(chartBox, { history: series, forecast, logged: logged.forecast });
      side.append(forecastTable(answer, forecast), logged.note);
    } catch (error) {
      side.append(problemView(error));
    }
  };
  run.addEventListener("click", draw);
  model.addEventListener("change", draw);
  if (chosenModel) await draw();
}

function forecastTable(answer, forecast) {
  const q = forecast.quantiles;
  const col = (key) => (row) => fmtNum((q[key] || [])[row]);
  const rows = forecast.ds.map((_, i) => i);
  const source = answer.model ? `${answer.model.name} v${answer.model.version}` : "instant";
  return card(`Forecast from ${source}`,
    h("button", { onclick: () => download(`forecast-${forecast.unique_id}.csv`, forecastCsv(answer.forecasts)) }, "Download CSV"),
    table([
      ["ds", (i) => fmtDate(forecast.ds[i])],
      ["95% low", col("0.025")], ["80% low", col("0.1")],
      ["median", (i) => fmtNum((q["0.5"] || forecast.mean)[i])],
      ["80% high", col("0.9")], ["95% high", col("0.975")],
    ], rows, { class: "forecast-table", id: "forecast-table" }));
}

/**
 * The newest logged forecast of MODEL for this series made before the last observation, so the
 * actuals that arrived since are drawn over it (GET /v1/forecasts, where the server has it).
 */
async function loggedForecast(model, id, series) {
  if (!(await hasRoute("get", "/v1/forecasts"))) {
    return { forecast: null, note: h("p", { class: "muted not-available" }, "Logged forecasts: not available on this server.") };
  }
  const lastSeen = Date.parse(series.ds[series.ds.length - 1]);
  const page = await api(`/v1/forecasts?model=${enc(model)}&limit=50`);
  for (const item of page.items || []) {
    const full = item.forecasts || item.response ? item : await api(`/v1/forecasts/${enc(item.forecast_id || item.id)}`);
    const answers = full.forecasts || (full.response && full.response.forecasts) || [];
    const mine = answers.find((f) => f.unique_id === id);
    if (mine && Date.parse(mine.ds[0]) <= lastSeen) {
      const version = (full.model && full.model.version) || "?";
      const label = `v${version}, ${fmtDate(full.created_at)}`;
      return { forecast: { ...mine, label }, note: h("p", { class: "muted" }, `Logged forecast drawn: ${label}.`) };
    }
  }
  return { forecast: null, note: h("p", { class: "muted" }, "No logged forecast of this series has actuals yet.") };
}

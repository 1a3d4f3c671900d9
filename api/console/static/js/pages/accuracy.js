// Accuracy: live accuracy of a model's forecasts against the backtest's promise, day by day,
// with drift marked (GET /v1/models/{m}/accuracy, where the server scores logged forecasts).
import { api, allPages, enc, hasRoute } from "../api.js";
import { h, clear, card, facts, fmtNum, fmtPct, badge, notAvailable, params, problemView, table, fmtDate } from "../ui.js";
import { lineChart, COLORS } from "../charts.js";

export async function render(ctx) {
  clear(ctx.view, h("h1", {}, "Accuracy"));
  if (!(await hasRoute("get", "/v1/models/{model}/accuracy"))) {
    ctx.view.append(notAvailable("Live accuracy (the forecast log and its scoring)"));
    return;
  }
  const p = params();
  const models = await allPages("/v1/models");
  const picker = h("select", { id: "accuracy-model", onchange: () => { location.hash = `#/accuracy?model=${enc(picker.value)}`; } },
    models.map((m) => h("option", { value: m.name, selected: m.name === p.model }, m.name)));
  const body = h("div");
  ctx.view.append(h("p", {}, h("label", {}, "Model ", picker)), body);
  if (!models.length) return;
  try {
    const query = new URLSearchParams(p.alias ? { alias: p.alias } : {});
    const acc = await api(`/v1/models/${enc(picker.value)}/accuracy?${query}`);
    clear(body, accuracyView(acc));
  } catch (error) {
    clear(body, problemView(error));
  }
}

function accuracyView(acc) {
  const live = acc.live || {};
  const bt = acc.backtest || {};
  const days = acc.by_day || [];
  const chartBox = h("div", { class: "chart", id: "accuracy-chart" });
  const view = h("div", {},
    h("p", {}, acc.drift ? badge("drift", "failed") : badge("no drift", "ok"), ` ${acc.model} v${acc.version}: ${fmtNum(acc.points)} points scored`),
    card("Live against the backtest", facts([
      ["MASE", `${fmtNum(live.mase)} live, ${fmtNum(bt.mase)} backtest`],
      ["sMAPE", `${fmtNum(live.smape)} live, ${fmtNum(bt.smape)} backtest`],
      ["coverage 80%", `${fmtPct((live.coverage || {})["0.8"])} live, ${fmtPct((bt.coverage || {})["0.8"])} backtest`],
      ["coverage 95%", `${fmtPct((live.coverage || {})["0.95"])} live, ${fmtPct((bt.coverage || {})["0.95"])} backtest`],
    ])),
    card("Live MASE by day", chartBox, table([
      ["day", (d) => fmtDate(d.day)], ["points", (d) => fmtNum(d.points)], ["MASE", (d) => fmtNum(d.mase)],
      ["", (d) => (bt.mase && d.mase > bt.mase ? badge("above backtest", "failed") : "")],
    ], days, { class: "by-day" })));
  if (days.length) {
    requestAnimationFrame(() => lineChart(chartBox, {
      x: days.map((d) => Date.parse(d.day) / 1000), height: 240, name: "accuracy",
      series: [
        { label: "live MASE", values: days.map((d) => d.mase), color: COLORS.median, points: true },
        { label: "backtest MASE", values: days.map(() => bt.mase ?? null), color: COLORS.baseline, dash: [6, 4] },
        { label: "above backtest", values: days.map((d) => (bt.mase && d.mase > bt.mase ? d.mase : null)), color: COLORS.drift, width: 0, points: true },
      ],
    }));
  }
  return view;
}

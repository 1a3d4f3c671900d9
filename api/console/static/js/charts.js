// Charts on the vendored uPlot (window.uPlot): time series, fan charts and small line charts.
/* global uPlot */

export const COLORS = {
  history: "#1f2937",
  median: "#2563eb",
  band80: "rgba(37, 99, 235, 0.28)",
  band95: "rgba(37, 99, 235, 0.12)",
  logged: "#c2410c",
  loggedBand: "rgba(234, 88, 12, 0.18)",
  train: "#2563eb",
  val: "#c2410c",
  baseline: "#6b7280",
  drift: "#dc2626",
};
const HIDDEN = "rgba(0, 0, 0, 0)";

/** Wheel zooms the x axis around the cursor; shift+drag pans; drag selects; double-click resets. */
function zoomPanPlugin() {
  return {
    hooks: {
      ready(u) {
        const over = u.over;
        over.addEventListener("wheel", (event) => {
          event.preventDefault();
          const { min, max } = u.scales.x;
          const at = u.posToVal(event.offsetX, "x");
          const factor = event.deltaY < 0 ? 0.75 : 1 / 0.75;
          const lo = at - (at - min) * factor;
          const hi = at + (max - at) * factor;
          const [first, last] = [u.data[0][0], u.data[0][u.data[0].length - 1]];
          u.setScale("x", { min: Math.max(first, lo), max: Math.min(last, hi) });
        }, { passive: false });
        over.addEventListener("mousedown", (event) => {
          if (!event.shiftKey) return;
          event.preventDefault();
          event.stopPropagation();
          const start = event.clientX;
          const { min, max } = u.scales.x;
          const perPx = (max - min) / u.bbox.width * devicePixelRatio;
          const move = (e) => {
            const shift = (start - e.clientX) * perPx;
            u.setScale("x", { min: min + shift, max: max + shift });
          };
          const up = () => {
            document.removeEventListener("mousemove", move);
            document.removeEventListener("mouseup", up);
          };
          document.addEventListener("mousemove", move);
          document.addEventListener("mouseup", up);
        }, true);
      },
    },
  };
}

function fitWidth(el, chart) {
  const observer = new ResizeObserver(() => {
    const width = el.clientWidth;
    if (width > 0 && Math.abs(width - chart.width) > 2) chart.setSize({ width, height: chart.height });
  });
  observer.observe(el);
}

/** Record the first time NAME happened, in ms since navigation start (bench/console.py). */
function mark(name) {
  window.__consoleTimings = window.__consoleTimings || {};
  if (!(name in window.__consoleTimings)) window.__consoleTimings[name] = performance.now();
}

/** Mark the container when drawn (tests and the timing figures read it). */
function drawnHook(el, name) {
  return (u) => {
    el.dataset.drawn = String(u.data[0].length);
    mark(name);
  };
}

/**
 * A chart on EL. x: numbers (epoch seconds when time is true); series: [{label, values,
 * color, width, dash, points, fill}]; bands: [{upper, lower, fill}] as indexes into series.
 */
export function lineChart(el, { x, series, bands = [], time = true, height = 260, name = "chart", yLabel, from }) {
  const opts = {
    width: Math.max(el.clientWidth, 320),
    height,
    cursor: { drag: { x: true, y: false }, points: { size: 6 } },
    scales: { x: { time } },
    tzDate: (ts) => uPlot.tzDate(new Date(ts * 1000), "Etc/UTC"), // axes in UTC, as the tables
    axes: [time ? {} : { incrs: [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000] }, { label: yLabel, size: 64 }],
    series: [{ label: time ? "time" : "step" }, ...series.map((s) => ({
      label: s.label,
      stroke: s.color || HIDDEN,
      width: s.width ?? 1.5,
      dash: s.dash,
      fill: s.fill,
      spanGaps: s.spanGaps ?? false,
      points: { show: s.points ?? false, size: 5, fill: s.color },
      value: (u, v) => (v === null || v === undefined ? "–" : v.toLocaleString("en-US", { maximumFractionDigits: 3 })),
    }))],
    bands: bands.map((b) => ({ series: [b.upper + 1, b.lower + 1], fill: b.fill })),
    plugins: [zoomPanPlugin()],
    hooks: { draw: [drawnHook(el, name)] },
  };
  el.replaceChildren();
  const chart = new uPlot(opts, [x, ...series.map((s) => s.values)], el);
  el._uplot = chart;
  if (from !== undefined && from > x[0]) chart.setScale("x", { min: from, max: x[x.length - 1] });
  chart.over.addEventListener("dblclick", () => chart.setScale("x", { min: x[0], max: x[x.length - 1] }));
  fitWidth(el, chart);
  return chart;
}

const toSeconds = (stamp) => Date.parse(stamp) / 1000;

/**
 * History with a fan chart: median, 80% and 95% bands of FORECAST (from quantiles 0.1/0.9 and
 * 0.025/0.975), and optionally a LOGGED earlier forecast with the actuals drawn over it.
 */
export function fanChart(el, { history, forecast, logged, name = forecast ? "fan_forecast" : "fan_history" }) {
  mark(`${name}_start`);
  const stamps = history.ds.map(toSeconds);
  const extra = [forecast, logged].filter(Boolean).flatMap((f) => f.ds.map(toSeconds));
  const x = mergeSorted(stamps, extra);
  const index = new Map(x.map((t, i) => [t, i]));
  const column = (ds, values) => {
    const out = new Array(x.length).fill(null);
    if (values) ds.forEach((t, i) => { out[index.get(toSeconds(t))] = values[i]; });
    return out;
  };
  const series = [];
  const bands = [];
  if (forecast) {
    const q = forecast.quantiles;
    series.push(
      { label: "95% low", values: column(forecast.ds, q["0.025"]), color: HIDDEN, width: 0 },
      { label: "95% high", values: column(forecast.ds, q["0.975"]), color: HIDDEN, width: 0 },
      { label: "80% low", values: column(forecast.ds, q["0.1"]), color: HIDDEN, width: 0 },
      { label: "80% high", values: column(forecast.ds, q["0.9"]), color: HIDDEN, width: 0 },
      { label: "median", values: column(forecast.ds, q["0.5"] || forecast.mean), color: COLORS.median, width: 2 },
    );
    if (q["0.025"] && q["0.975"]) bands.push({ upper: 1, lower: 0, fill: COLORS.band95 });
    if (q["0.1"] && q["0.9"]) bands.push({ upper: 3, lower: 2, fill: COLORS.band80 });
  }
  if (logged) {
    const q = logged.quantiles || {};
    const base = series.length;
    series.push(
      { label: "logged 80% low", values: column(logged.ds, q["0.1"]), color: HIDDEN, width: 0 },
      { label: "logged 80% high", values: column(logged.ds, q["0.9"]), color: HIDDEN, width: 0 },
      { label: `logged median (${logged.label})`, values: column(logged.ds, q["0.5"] || logged.mean), color: COLORS.logged, width: 2, dash: [6, 4] },
    );
    if (q["0.1"] && q["0.9"]) bands.push({ upper: base + 1, lower: base, fill: COLORS.loggedBand });
  }
  series.push({ label: "actual", values: column(history.ds, history.y), color: COLORS.history, width: 1.25 });
  // With a forecast, open on its neighbourhood (eight horizons of history); double-click shows all.
  const steps = forecast ? forecast.ds.length : 0;
  const from = steps ? x[Math.max(0, x.length - 9 * steps - (logged ? logged.ds.length : 0))] : undefined;
  return lineChart(el, { x, series, bands, name, height: 340, from });
}

function mergeSorted(a, b) {
  if (!b.length) return a;
  const all = new Set(a);
  for (const t of b) all.add(t);
  return Array.from(all).sort((p, q) => p - q);
}

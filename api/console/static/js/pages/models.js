// Models and versions: aliases, each version's backtest against seasonal naive, its covariates, config, data,
// training, and promotion decision; promote, roll back and archive from the page.
import { api, allPages, enc } from "../api.js";
import { h, clear, table, card, facts, fmtNum, fmtPct, fmtDate, fmtSeconds, badge, action, notAvailable, params, link } from "../ui.js";
import { lineChart, COLORS } from "../charts.js";

export async function render(ctx) {
  const p = params();
  if (p.name) await modelPage(ctx, p.name, p.version ? Number(p.version) : null);
  else await modelList(ctx);
}

async function modelList(ctx) {
  const models = await allPages("/v1/models");
  clear(ctx.view, h("h1", {}, "Models"), models.length ? table([
    ["name", (m) => link("models", { name: m.name }, m.name)],
    ["latest version", (m) => (m.latest_version ? `v${m.latest_version}` : "–")],
    ["aliases", (m) => Object.entries(m.aliases).map(([a, v]) => badge(`${a} → v${v}`, "alias"))],
    ["created", (m) => fmtDate(m.created_at)],
  ], models, { class: "models" }) : h("p", { class: "muted" }, "No model yet: train one from the Jobs page or the API."));
}

async function modelPage(ctx, name, selected) {
  const [model, versions] = await Promise.all([
    api(`/v1/models/${enc(name)}`), allPages(`/v1/models/${enc(name)}/versions`, 500),
  ]);
  const version = versions.find((v) => v.version === (selected || model.latest_version)) || versions[0];
  const refresh = () => modelPage(ctx, name, version && version.version);
  clear(ctx.view,
    h("h1", {}, link("models", {}, "Models"), ` / ${name}`),
    card("Aliases", aliasesView(name, model.aliases, versions, refresh)),
    card("Versions", versionsTable(name, versions, version)),
    version ? versionView(name, version, refresh) : null);
}

function aliasesView(name, aliases, versions, refresh) {
  const entries = Object.entries(aliases);
  if (!entries.length) return h("p", { class: "muted" }, "No alias yet: promote a version below.");
  return table([
    ["alias", ([alias]) => h("strong", {}, alias)],
    ["version", ([, v]) => link("models", { name, version: v }, `v${v}`)],
    ["", ([alias, v]) => {
      const previous = versions.find((x) => x.version < v && x.status === "ready");
      return h("span", {},
        previous ? action(`Roll back to v${previous.version}`, async () => {
          await api(`/v1/models/${enc(name)}/aliases/${enc(alias)}`, { method: "PUT", body: { version: previous.version } });
          await refresh();
        }, { class: "rollback" }) : null,
        action("Remove", async () => {
          await api(`/v1/models/${enc(name)}/aliases/${enc(alias)}`, { method: "DELETE" });
          await refresh();
        }));
    }],
  ], entries, { class: "aliases" });
}

function versionsTable(name, versions, current) {
  return table([
    ["version", (v) => h("a", { href: `#/models?${new URLSearchParams({ name, version: v.version })}`, class: v === current ? "current" : "" }, `v${v.version}`)],
    ["status", (v) => badge(v.status)],
    ["aliases", (v) => v.aliases.map((a) => badge(a, "alias"))],
    ["created", (v) => fmtDate(v.created_at)],
    ["horizon", (v) => v.horizon],
    ["MASE", (v) => fmtNum(summary(v).mase)],
    ["skill vs seasonal naive", (v) => fmtNum(summary(v).skill)],
    ["training", (v) => fmtSeconds(v.train_seconds)],
    ["device", (v) => v.device || "–"],
  ], versions, { class: "versions" });
}

/** MASE and skill from the held-out backtest when the server computes one, else from metrics. */
function summary(v) {
  const bt = v.backtest;
  if (bt && bt.metrics) return { mase: bt.metrics.mase, skill: bt.skill ? bt.skill.mase : null };
  const ours = (v.metrics && (v.metrics.model || v.metrics)) || {};
  const naive = (v.metrics && v.metrics.seasonal_naive) || {};
  const skill = ours.mase !== undefined && naive.mase ? 1 - ours.mase / naive.mase : null;
  return { mase: ours.mase, skill };
}

function versionView(name, v, refresh) {
  const alias = h("input", { value: "production", id: "promote-alias", size: 12, "aria-label": "alias" });
  const buttons = h("div", { class: "controls" },
    h("label", {}, "Alias ", alias),
    action(`Promote v${v.version}`, async () => {
      await api(`/v1/models/${enc(name)}/aliases/${enc(alias.value)}`, { method: "PUT", body: { version: v.version } });
      await refresh();
    }, { class: "primary", id: "promote" }),
    v.status === "ready" ? action("Archive", async () => {
      await api(`/v1/models/${enc(name)}/versions/${v.version}/archive`, { method: "POST" });
      await refresh();
    }, { id: "archive" }) : null,
    link("series", { model: `${name}@${v.version}` }, "Forecast a series with it →"));
  return h("div", { class: "version" },
    h("h2", {}, `Version ${v.version}`, " ", badge(v.status), ...v.aliases.map((a) => badge(a, "alias"))),
    buttons,
    h("div", { class: "grid" },
      card("Backtest against seasonal naive", backtestView(v)),
      card("Promotion decision", promotionView(v.promotion)),
      card("Training", facts([
        ["created", fmtDate(v.created_at)], ["training time", fmtSeconds(v.train_seconds)],
        ["device", v.device || "–"], ["horizon", v.horizon], ["frequency", v.freq],
        ["job", v.job_id ? link("jobs", { id: v.job_id }, `#${v.job_id}`) : "–"],
        ["artifact", h("code", {}, `${v.artifact_sha256.slice(0, 12)}… (${fmtNum(v.artifact_size / 1024, 1)} KiB)`)],
        ["libraries", Object.entries(v.library_versions || {}).map(([k, x]) => `${k} ${x}`).join(", ")],
      ])),
      card("Covariates", covariatesView(v.covariates)),
      card("Data summary", valueFacts(v.data_summary)),
      card("Config", valueFacts(v.config))));
}

/** The columns a version reads besides y, by role; a version without any says so. */
function covariatesView(covariates) {
  const roles = Object.entries(covariates || {}).filter(([, names]) => names && names.length);
  if (!roles.length) return h("p", { class: "muted" }, "none: it reads y alone");
  return facts(roles.map(([role, names]) => [role, names.join(", ")]));
}

function backtestView(v) {
  const bt = v.backtest;
  if (!bt || !bt.metrics) {
    return h("div", {}, notAvailable("Held-out backtest"),
      h("p", { class: "muted" }, "Metrics stored with the version (seasonal naive beside them):"),
      metricsTable(v.metrics));
  }
  const naive = (bt.baselines && bt.baselines.seasonal_naive) || {};
  const cov = bt.metrics.coverage || {};
  const stepBox = h("div", { class: "chart small", id: "mase-by-step" });
  const body = h("div", {},
    facts([
      ["skill (1 − MASE / seasonal naive)", fmtNum(bt.skill && bt.skill.mase)],
      ["MASE", `${fmtNum(bt.metrics.mase)} (seasonal naive ${fmtNum(naive.mase)})`],
      ["coverage 80%", fmtPct(cov["0.8"])], ["coverage 95%", fmtPct(cov["0.95"])],
      ["windows", (bt.windows || []).map((w) => fmtDate(w.cutoff)).join(", ") || "–"],
    ]),
    metricsTable({ model: bt.metrics, ...(bt.baselines || {}) }),
    h("h3", {}, "MASE by horizon step"), stepBox);
  const steps = (bt.by_step && bt.by_step.mase) || [];
  if (steps.length) {
    requestAnimationFrame(() => lineChart(stepBox, {
      x: steps.map((_, i) => i + 1), time: false, height: 180, name: "mase_by_step",
      series: [{ label: "MASE", values: steps, color: COLORS.median, points: true }],
    }));
  }
  return body;
}

/** {model: {mae, ...}, seasonal_naive: {...}} or a flat {mae, ...} as a table of numbers. */
function metricsTable(metrics) {
  if (!metrics || !Object.keys(metrics).length) return h("p", { class: "muted" }, "No metrics stored.");
  // Top-level numbers are the model's; nested objects (seasonal_naive, naive...) are baselines.
  const own = Object.fromEntries(Object.entries(metrics).filter(([, x]) => typeof x === "number"));
  const others = Object.entries(metrics).filter(([, x]) => x && typeof x === "object" && !Array.isArray(x));
  const groups = { ...(Object.keys(own).length ? { model: own } : {}), ...Object.fromEntries(others) };
  const names = [...new Set(Object.values(groups).flatMap((g) => Object.keys(g)))]
    .filter((k) => Object.values(groups).some((g) => typeof g[k] === "number"));
  return table([["metric", (k) => k], ...Object.keys(groups).map((g) => [g.replace("_", " "), (k) => fmtNum(groups[g][k])])],
    names, { class: "metrics" });
}

function promotionView(record) {
  if (!record) return h("p", { class: "muted" }, "No promotion was asked for.");
  const moved = record.promoted ? badge("promoted", "ok") : badge("not promoted", "no");
  return h("div", {}, h("p", {}, moved, " ", h("strong", {}, record.decision || record.reason || "")), valueFacts(record));
}

function valueFacts(obj) {
  if (!obj || !Object.keys(obj).length) return h("p", { class: "muted" }, "–");
  return facts(Object.entries(obj).map(([k, x]) => [k, render1(x)]));
}

function render1(value) {
  if (value === null || value === undefined) return "–";
  if (typeof value === "number") return fmtNum(value, 6);
  if (typeof value === "object") return h("code", { class: "json" }, JSON.stringify(value));
  return String(value);
}

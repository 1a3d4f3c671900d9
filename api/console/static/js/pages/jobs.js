// Jobs: the queue with live progress; one job's epochs, loss curves and ETA updating without a
// reload; cancel; a failed job's error in words; and a form to start training.
import { api, allPages, enc } from "../api.js";
import { h, clear, table, card, facts, fmtNum, fmtDate, fmtSeconds, badge, action, problemView, params, link } from "../ui.js";
import { lineChart, COLORS } from "../charts.js";

const FINISHED = new Set(["succeeded", "failed", "cancelled"]);

export async function render(ctx) {
  const p = params();
  if (p.id) await jobPage(ctx, Number(p.id));
  else await jobList(ctx, p.status || "");
}

async function jobList(ctx, status) {
  const filter = h("select", { id: "status-filter", onchange: () => { location.hash = `#/jobs?status=${filter.value}`; } },
    ["", "queued", "running", "succeeded", "failed", "cancelled"].map((s) => h("option", { value: s, selected: s === status }, s || "all")));
  const box = h("div", { id: "job-list" });
  clear(ctx.view, h("h1", {}, "Jobs ", filter), card("Train a model", await trainForm()), card("Queue", box));
  const refresh = async () => {
    const jobs = (await api(`/v1/jobs?limit=50${status ? `&status=${status}` : ""}`)).items;
    if (!ctx.current()) return;
    clear(box, jobs.length ? table([
      ["job", (j) => link("jobs", { id: j.id }, `#${j.id}`)],
      ["kind", (j) => j.kind], ["model", (j) => j.model || "–"],
      ["status", (j) => badge(j.status)],
      ["progress", (j) => progressBar(j)],
      ["ETA", (j) => (j.status === "running" && j.progress ? fmtSeconds(j.progress.eta_s) : "–")],
      ["created", (j) => fmtDate(j.created_at)],
      ["version", (j) => (j.result_version ? link("models", { name: j.model, version: j.result_version }, `v${j.result_version}`) : "–")],
    ], jobs, { class: "jobs" }) : h("p", { class: "muted" }, "No job."));
  };
  await refresh();
  ctx.every(2000, refresh);
}

function progressBar(job) {
  const p = job.progress;
  if (!p || !p.epochs) return job.status === "succeeded" ? "done" : "–";
  const done = ((p.member || 0) * p.epochs + p.epoch) / ((p.members || 1) * p.epochs);
  return h("span", { class: "progress" }, h("progress", { max: 1, value: done }),
    ` epoch ${p.epoch}/${p.epochs}${p.members > 1 ? `, member ${p.member + 1}/${p.members}` : ""}`);
}

async function trainForm() {
  const datasets = await allPages("/v1/datasets");
  const field = (label, input) => h("label", {}, `${label} `, input);
  const model = h("input", { id: "train-model", required: true, placeholder: "model name" });
  const dataset = h("select", { id: "train-dataset" }, datasets.map((d) => h("option", { value: d.name }, d.name)));
  const horizon = h("input", { id: "train-horizon", type: "number", min: 1, value: 24, style: "width:6em" });
  const config = h("textarea", { id: "train-config", rows: 2, cols: 50, placeholder: '{"epochs": 15, "ensemble": 1}' });
  const promote = h("select", { id: "train-promote" },
    ["if_better", "always", "never"].map((p) => h("option", { value: p }, `promote to production: ${p}`)));
  const out = h("div");
  const form = h("form", { class: "inline", onsubmit: async (event) => {
    event.preventDefault();
    clear(out);
    try {
      const body = { dataset: dataset.value, horizon: Number(horizon.value),
        promote: { alias: "production", policy: promote.value } };
      if (config.value.trim()) body.config = JSON.parse(config.value);
      const job = await api(`/v1/models/${enc(model.value)}/train`, { method: "POST", body });
      location.hash = `#/jobs?id=${job.id}`;
    } catch (error) {
      clear(out, problemView(error instanceof SyntaxError ? { title: "config", message: `not JSON: ${error.message}` } : error));
    }
  } }, field("Model", model), field("Dataset", dataset), field("Horizon", horizon), field("Config (JSON)", config), promote,
  h("button", { type: "submit", class: "primary", id: "train-submit" }, "Train"));
  return h("div", {}, form, out);
}

async function jobPage(ctx, id) {
  const head = h("div");
  const curve = h("div", { class: "chart", id: "loss-chart" });
  const detail = h("div");
  // Built once (not with each refresh), so a click never lands on a replaced button.
  const cancel = action("Cancel", async () => {
    await api(`/v1/jobs/${id}/cancel`, { method: "POST" });
    return "cancel requested: a queued job stops at once, a running one at its next epoch";
  }, { id: "cancel-job" });
  clear(ctx.view, h("h1", {}, link("jobs", {}, "Jobs"), ` / #${id} `, cancel), head,
    card("Loss curves", curve), detail);
  const seen = new Map(); // "member:epoch" -> [train_loss, val_score], from every poll
  let drawnPoints = -1;
  const refresh = async () => {
    const job = await api(`/v1/jobs/${id}`);
    if (!ctx.current()) return;
    collect(seen, job.progress);
    cancel.hidden = FINISHED.has(job.status);
    clear(head, summaryView(job));
    if (seen.size !== drawnPoints) {
      drawnPoints = seen.size;
      drawCurves(curve, seen);
    }
    clear(detail, outcomeView(job));
    return job;
  };
  const job = await refresh();
  if (!FINISHED.has(job.status)) {
    const stop = ctx.every(1000, async () => {
      const latest = await refresh();
      if (latest && FINISHED.has(latest.status)) stop();
    });
  }
}

/** Points of the loss curves: the progress history the worker keeps, plus each polled epoch. */
function collect(seen, progress) {
  if (!progress) return;
  for (const [member, epoch, loss, val] of progress.history || []) seen.set(`${member}:${epoch}`, [member, epoch, loss, val]);
  if (progress.epoch) seen.set(`${progress.member || 0}:${progress.epoch}`, [progress.member || 0, progress.epoch, progress.train_loss, progress.val_score]);
}

function drawCurves(box, seen) {
  const points = [...seen.values()].sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  if (!points.length) {
    clear(box, h("p", { class: "muted" }, "No epoch finished yet."));
    return;
  }
  lineChart(box, {
    x: points.map((_, i) => i + 1), time: false, height: 220, name: "loss",
    series: [
      { label: "train loss", values: points.map((p) => p[2]), color: COLORS.train, points: true },
      { label: "validation score", values: points.map((p) => p[3]), color: COLORS.val, points: true },
    ],
  });
}

function summaryView(job) {
  const p = job.progress || {};
  return card(null, h("p", {}, badge(job.status), " ", job.kind, job.model ? ` of ${job.model}` : "",
    job.cancel_requested && !FINISHED.has(job.status) ? h("span", { class: "muted" }, " (cancel requested)") : null),
  facts([
    ["progress", progressBar(job)],
    ["epoch", h("span", { id: "job-epoch" }, p.epoch ? `${p.epoch} of ${p.epochs}` : "–")],
    ["ensemble member", p.members ? `${(p.member || 0) + 1} of ${p.members}` : "–"],
    ["train loss", fmtNum(p.train_loss, 5)], ["validation score", fmtNum(p.val_score, 5)],
    ["elapsed", fmtSeconds(p.elapsed_s)], ["ETA", h("span", { id: "job-eta" }, job.status === "running" ? fmtSeconds(p.eta_s) : "–")],
    ["attempts", `${job.attempts} of ${job.max_attempts}`],
    ["created", fmtDate(job.created_at)], ["started", fmtDate(job.started_at)], ["finished", fmtDate(job.finished_at)],
  ]));
}

function outcomeView(job) {
  const parts = [];
  if (job.status === "failed") parts.push(card("Why it failed", h("p", { class: "problem", id: "job-error" }, job.error || "no error recorded")));
  if (job.result_version) {
    parts.push(card("Result", h("p", {}, "Registered ", link("models", { name: job.model, version: job.result_version }, `${job.model} v${job.result_version}`), ".")));
  }
  if (job.promotion) {
    parts.push(card("Promotion decision", h("p", {}, badge(job.promotion.promoted ? "promoted" : "not promoted", job.promotion.promoted ? "ok" : "no"), " ", job.promotion.decision || "")));
  }
  parts.push(card("Spec", h("pre", { class: "json" }, JSON.stringify(job.spec, null, 2).slice(0, 4000))));
  return parts;
}

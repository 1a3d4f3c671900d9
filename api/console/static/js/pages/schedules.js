// Schedules: cron, time zone and next runs; enable, disable, delete, create.
import { api, allPages } from "../api.js";
import { h, clear, table, card, fmtDate, badge, action, problemView, link } from "../ui.js";

export async function render(ctx) {
  const box = h("div", { id: "schedule-list" });
  const refresh = async () => {
    const schedules = await allPages("/v1/schedules");
    clear(box, schedules.length ? table([
      ["id", (s) => `#${s.id}`],
      ["model", (s) => link("models", { name: s.model }, s.model)],
      ["cron", (s) => h("code", {}, s.cron)], ["time zone", (s) => s.timezone],
      ["trains on", (s) => `${s.train.dataset}, horizon ${s.train.horizon}`],
      ["state", (s) => badge(s.enabled ? "enabled" : "disabled")],
      ["next runs (UTC)", (s) => (s.enabled ? h("ul", { class: "plain" }, s.next_runs.map((t) => h("li", {}, fmtDate(t)))) : "–")],
      ["last run", (s) => fmtDate(s.last_run_at)],
      ["", (s) => h("span", {},
        action(s.enabled ? "Disable" : "Enable", async () => {
          await api(`/v1/schedules/${s.id}`, { method: "PATCH", body: { enabled: !s.enabled } });
          await refresh();
        }, { class: "toggle" }),
        action("Delete", async () => {
          await api(`/v1/schedules/${s.id}`, { method: "DELETE" });
          await refresh();
        }))],
    ], schedules, { class: "schedules" }) : h("p", { class: "muted" }, "No schedule yet."));
  };
  clear(ctx.view, h("h1", {}, "Schedules"), card("New schedule", await createForm(refresh)), card("Schedules", box));
  await refresh();
}

async function createForm(onDone) {
  const datasets = await allPages("/v1/datasets");
  const zone = Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";
  const model = h("input", { id: "schedule-model", required: true, placeholder: "model name" });
  const cron = h("input", { id: "schedule-cron", required: true, value: "0 3 * * *", size: 14 });
  const tz = h("input", { id: "schedule-tz", required: true, value: zone, size: 16 });
  const dataset = h("select", { id: "schedule-dataset" }, datasets.map((d) => h("option", { value: d.name }, d.name)));
  const horizon = h("input", { type: "number", min: 1, value: 24, style: "width:6em" });
  const policy = h("select", {}, ["if_better", "always", "never"].map((p) => h("option", { value: p }, `promote: ${p}`)));
  const out = h("div");
  const form = h("form", { class: "inline", onsubmit: async (event) => {
    event.preventDefault();
    clear(out);
    try {
      await api("/v1/schedules", { method: "POST", body: {
        model: model.value, cron: cron.value, timezone: tz.value, enabled: true,
        train: { dataset: dataset.value, horizon: Number(horizon.value), promote: { alias: "production", policy: policy.value } },
      } });
      await onDone();
    } catch (error) {
      clear(out, problemView(error));
    }
  } }, h("label", {}, "Model ", model), h("label", {}, "Cron ", cron), h("label", {}, "Time zone ", tz),
  h("label", {}, "Dataset ", dataset), h("label", {}, "Horizon ", horizon), policy,
  h("button", { type: "submit", class: "primary", id: "schedule-submit" }, "Create"));
  return h("div", {}, form, out);
}

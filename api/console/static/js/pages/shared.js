// Pieces several pages share: model references to choose from, forecasts as CSV.
import { allPages, api, enc } from "../api.js";

/** "name", "name@alias" and recent "name@N" choices, with the horizon each was trained for. */
export async function modelRefs() {
  const models = await allPages("/v1/models", 200);
  const refs = [];
  await Promise.all(models.map(async (m) => {
    if (!m.latest_version) return;
    const versions = (await api(`/v1/models/${enc(m.name)}/versions?limit=20`)).items;
    const horizon = new Map(versions.map((v) => [v.version, v.horizon]));
    refs.push({ ref: m.name, name: m.name, label: `${m.name} (latest: v${m.latest_version})`, horizon: horizon.get(m.latest_version) });
    for (const [alias, version] of Object.entries(m.aliases || {})) {
      refs.push({ ref: `${m.name}@${alias}`, name: m.name, label: `${m.name}@${alias} (v${version})`, horizon: horizon.get(version) });
    }
    for (const v of versions.filter((x) => x.status === "ready")) {
      refs.push({ ref: `${m.name}@${v.version}`, name: m.name, label: `${m.name}@${v.version}`, horizon: v.horizon });
    }
  }));
  return refs.sort((a, b) => a.ref.localeCompare(b.ref));
}

const csvCell = (value) => (/[",\n]/.test(String(value)) ? `"${String(value).replace(/"/g, '""')}"` : String(value));

/** Forecasts of POST /v1/forecast as CSV: unique_id, ds, mean, then one column per quantile. */
export function forecastCsv(forecasts) {
  const keys = forecasts.length ? Object.keys(forecasts[0].quantiles).sort((a, b) => a - b) : [];
  const lines = [["unique_id", "ds", "mean", ...keys.map((k) => `q${k}`)].join(",")];
  for (const f of forecasts) {
    f.ds.forEach((ds, i) => {
      lines.push([f.unique_id, ds, f.mean[i], ...keys.map((k) => f.quantiles[k][i])].map(csvCell).join(","));
    });
  }
  return `${lines.join("\n")}\n`;
}

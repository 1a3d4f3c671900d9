// The console's router: "#/page?query" picks a page module; each page renders into #view.
import { forgetKey } from "./api.js";
import { h, clear, problemView } from "./ui.js";

const PAGES = {
  datasets: () => import("./pages/datasets.js"),
  series: () => import("./pages/series.js"),
  models: () => import("./pages/models.js"),
  jobs: () => import("./pages/jobs.js"),
  schedules: () => import("./pages/schedules.js"),
  accuracy: () => import("./pages/accuracy.js"),
  forecast: () => import("./pages/forecast.js"),
};
let cleanup = [];
let generation = 0;

/** What a page receives: where to draw, and how to register timers stopped on leaving it. */
function context(view, mine) {
  return {
    view,
    current: () => mine === generation,
    every(ms, fn) {
      const id = setInterval(() => { if (mine === generation) fn(); }, ms);
      cleanup.push(() => clearInterval(id));
      return () => clearInterval(id);
    },
    onLeave(fn) { cleanup.push(fn); },
  };
}

async function route() {
  generation += 1;
  const mine = generation;
  cleanup.forEach((fn) => fn());
  cleanup = [];
  const name = (location.hash.replace(/^#\/?/, "").split("?")[0] || "datasets").split("/")[0];
  const load = PAGES[name] || PAGES.datasets;
  document.querySelectorAll("#nav a").forEach((a) => {
    a.classList.toggle("active", a.getAttribute("href") === `#/${name}`);
  });
  const view = document.getElementById("view");
  clear(view, h("p", { class: "muted" }, "Loading…"));
  try {
    const page = await load();
    if (mine !== generation) return;
    await page.render(context(view, mine));
  } catch (error) {
    if (mine === generation) clear(view, problemView(error));
  }
}

document.getElementById("forget-key").addEventListener("click", () => {
  forgetKey();
  location.reload();
});
window.addEventListener("hashchange", route);
route();

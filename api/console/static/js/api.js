// The console's only way to the service: the public /v1 API, with the API key when one is needed.

const KEY_STORE = "forecaster.apiKey";
let waitingForKey = null;
let capabilities = null;

/** An answer that was not 2xx, with the RFC 9457 problem document's fields. */
export class ApiError extends Error {
  constructor(status, problem) {
    super(problem.detail || problem.title || `HTTP ${status}`);
    this.status = status;
    this.title = problem.title || `HTTP ${status}`;
    this.errors = Array.isArray(problem.errors) ? problem.errors : [];
  }
}

export function storedKey() {
  return sessionStorage.getItem(KEY_STORE);
}

export function forgetKey() {
  sessionStorage.removeItem(KEY_STORE);
}

/** Ask for a key once; every request that hit 401 meanwhile waits for the same answer. */
function askForKey(refused) {
  if (!waitingForKey) {
    const dialog = document.getElementById("key-dialog");
    const input = document.getElementById("key-input");
    document.getElementById("key-error").hidden = !refused;
    waitingForKey = new Promise((resolve) => {
      dialog.addEventListener("close", () => {
        const key = input.value.trim();
        input.value = "";
        waitingForKey = null;
        if (key) sessionStorage.setItem(KEY_STORE, key);
        resolve();
      }, { once: true });
    });
    dialog.addEventListener("cancel", (event) => event.preventDefault(), { once: true });
    dialog.showModal();
    input.focus();
  }
  return waitingForKey;
}

/** Call PATH; JSON in and out by default. Throws ApiError for 4xx/5xx (after a key prompt on 401). */
export async function api(path, options = {}) {
  const { method = "GET", body, headers = {}, raw = false } = options;
  for (;;) {
    const sent = { ...headers };
    const key = storedKey();
    if (key) sent.Authorization = `Bearer ${key}`;
    let payload = body;
    if (body !== undefined && !(body instanceof Blob) && typeof body !== "string") {
      sent["Content-Type"] = "application/json";
      payload = JSON.stringify(body);
    }
    const response = await fetch(path, { method, headers: sent, body: payload });
    if (response.status === 401) {
      if (key) forgetKey();
      await askForKey(Boolean(key));
      continue;
    }
    document.getElementById("forget-key").hidden = !storedKey();
    if (!response.ok) throw new ApiError(response.status, await problemOf(response));
    if (raw) return response;
    return response.status === 204 ? null : response.json();
  }
}

async function problemOf(response) {
  try {
    return await response.json();
  } catch {
    return { title: response.statusText, detail: `HTTP ${response.status}` };
  }
}

/**
 * The routes this service offers, read from its OpenAPI document (open, no key): routes added
 * by later releases are used when present and shown as "not available" otherwise, without
 * probing them with requests that would fail.
 */
export async function hasRoute(method, path) {
  if (!capabilities) {
    capabilities = fetch("/openapi.json").then((r) => (r.ok ? r.json() : { paths: {} }));
  }
  const doc = await capabilities;
  const entry = (doc.paths || {})[path];
  return Boolean(entry && entry[method.toLowerCase()]);
}

/** Every item of a paginated list (up to MAX items). */
export async function allPages(path, max = 2000) {
  const items = [];
  let cursor = null;
  do {
    const sep = path.includes("?") ? "&" : "?";
    const url = cursor ? `${path}${sep}limit=500&cursor=${encodeURIComponent(cursor)}` : `${path}${sep}limit=500`;
    const page = await api(url);
    items.push(...page.items);
    cursor = page.next_cursor;
  } while (cursor && items.length < max);
  return items;
}

export const enc = encodeURIComponent;

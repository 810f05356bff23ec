// JSON API client: every state-changing request carries X-CSRF-Token (the agility_csrf
// cookie's value, docs/CONSOLE-API.md); answers that are not 2xx become ApiError. Error
// answers are problems (RFC 9457, docs/ARCHITECTURE.md "Errors"): {type, title, status,
// detail, errors: [{field, detail}]}.

const SAFE = new Set(["GET", "HEAD", "OPTIONS"]);

export class ApiError extends Error {
  constructor(status, body, retryAfter) {
    const detail = (body && (body.detail || body.message)) || `the server answered ${status}`;
    super(detail);
    this.status = status;
    this.body = body || {};
    this.detail = detail;
    // A problem's {field, detail} each, or a roster import's rows ({line, field, message}).
    this.errors = Array.isArray(this.body.errors) ? this.body.errors : [];
    this.retryAfter = retryAfter;
  }
}

/** One listed problem as a line a page shows: "field: message", "line 3, name: message". */
export function problemLine(e) {
  if (typeof e === "string") return e;
  const where = [e.line != null ? `line ${e.line}` : null, e.field].filter(Boolean).join(", ");
  const text = e.detail ?? e.message ?? JSON.stringify(e);
  return where ? `${where}: ${text}` : String(text);
}

export function csrfToken() {
  for (const part of document.cookie.split(";")) {
    const [name, ...rest] = part.trim().split("=");
    if (name === "agility_csrf") return decodeURIComponent(rest.join("="));
  }
  return "";
}

/**
 * fetch() with the API's failures as ApiError: no answer at all is status 0, an answer that
 * is not 2xx carries the server's body (a 401 also tells the page the login ran out).
 */
async function send(url, init) {
  let res;
  try {
    res = await fetch(url, init);
  } catch (err) {
    throw new ApiError(0, { detail: "cannot reach the server (" + err.message + ")" });
  }
  if (!res.ok) {
    const type = res.headers.get("content-type") || "";
    const data = type.includes("json") ? await res.json() : await res.text();
    const error = new ApiError(res.status, typeof data === "object" ? data : { detail: data },
                               res.headers.get("Retry-After"));
    if (res.status === 401) window.dispatchEvent(new CustomEvent("agility:unauthorized"));
    throw error;
  }
  return res;
}

export async function api(method, url, body) {
  const headers = { Accept: "application/json" };
  const init = { method, headers, credentials: "same-origin" };
  if (!SAFE.has(method)) {
    // Any GET sets the cookie; a page opened from the cache may not have it yet.
    if (!csrfToken()) await fetch("/api/auth/me", { credentials: "same-origin" });
    headers["X-CSRF-Token"] = csrfToken();
  }
  if (body instanceof FormData) init.body = body;
  else if (body !== undefined) {
    headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  const res = await send(url, init);
  if (res.status === 204) return null;
  const type = res.headers.get("content-type") || "";
  return type.includes("json") ? res.json() : res.text();
}

/** A file to save (an export): the response itself, or an ApiError with the server's sentence. */
export const fetchFile = (url) => send(url, { credentials: "same-origin" });

export const get = (url) => api("GET", url);
export const post = (url, body) => api("POST", url, body === undefined ? {} : body);
export const put = (url, body) => api("PUT", url, body);
export const patch = (url, body) => api("PATCH", url, body);
export const del = (url) => api("DELETE", url);

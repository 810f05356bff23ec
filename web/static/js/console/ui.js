// How the console tells the coach what happened: API errors by status (401, 403, 409, 422
// with its list, 429), short notices, and a tiny event bus between the console's parts.
import { ApiError, problemLine } from "../api.js";
import { $, clear, h } from "../dom.js";

const TITLES = {
  0: "Cannot reach the server",
  401: "Signed out",
  403: "Refused",
  404: "Not found",
  409: "Conflict",
  422: "Not accepted",
  429: "Too many attempts",
};

/** Nodes describing an error: a title with the server's detail, then every listed problem. */
export function errorNodes(err) {
  if (!(err instanceof ApiError)) return [h("strong", {}, "Error: "), String(err.message || err)];
  const title = TITLES[err.status] || `Error ${err.status}`;
  const nodes = [h("strong", {}, title + ": "), err.detail];
  if (err.status === 401) nodes.push(" — sign in to carry on.");
  if (err.status === 429 && err.retryAfter) nodes.push(` Try again in ${err.retryAfter} s.`);
  if (err.errors.length) nodes.push(h("ul", {}, err.errors.map((e) => h("li", {}, problemLine(e)))));
  return nodes;
}

/** Shows `err` in `box` (the page's alert by default) until closed or replaced. */
export function showError(err, box = $("#alert")) {
  const close = h("button", { type: "button", class: "small close", "aria-label": "Close" }, "✕");
  close.addEventListener("click", () => { box.hidden = true; });
  clear(box, ...(box.id === "alert" ? [close] : []), ...errorNodes(err));
  box.dataset.status = err instanceof ApiError ? String(err.status) : "";
  box.hidden = false;
  if (box.id === "alert") box.scrollIntoView({ block: "nearest" });
}

export function clearError(box = $("#alert")) {
  box.hidden = true;
}

let noticeTimer = null;
export function notify(text) {
  const box = $("#notice");
  box.textContent = text;
  box.hidden = false;
  clearTimeout(noticeTimer);
  noticeTimer = setTimeout(() => { box.hidden = true; }, 6000);
}

/** Runs `action`, shows its error if it throws; returns its result or undefined. */
export async function guarded(action, box) {
  try {
    return await action();
  } catch (err) {
    showError(err, box);
    return undefined;
  }
}

const listeners = {};
export function on(event, fn) {
  (listeners[event] ||= []).push(fn);
}
export function emit(event, data) {
  for (const fn of listeners[event] || []) {
    try {
      fn(data);
    } catch (err) {
      console.error(event, err);
    }
  }
}

/** Options for a <select>: items [{value, label}], keeping the current choice if it still exists. */
export function fillSelect(select, items, { blank = null } = {}) {
  const keep = select.value;
  clear(select, ...(blank != null ? [h("option", { value: "" }, blank)] : []),
        ...items.map((i) => h("option", { value: i.value }, i.label)));
  if ([...select.options].some((o) => o.value === keep)) select.value = keep;
}

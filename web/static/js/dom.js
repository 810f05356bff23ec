// Small DOM and formatting helpers shared by every page (text only: no HTML strings).

export const $ = (selector, root = document) => root.querySelector(selector);
export const $$ = (selector, root = document) => [...root.querySelectorAll(selector)];

/**
 * The lookup of one panel's own elements by their `data-part`, inside `root` only, so two
 * panels may use the same name and a reader of the markup sees which panel owns what:
 * `const part = parts($("#tab-run")); part("splits-body")`.
 */
export function parts(root) {
  return (name) => root.querySelector(`[data-part="${name}"]`);
}

/** h("td", {class: "num", dataset: {id: 3}, onclick: fn}, "text", childNode, ...) */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value == null || value === false) continue;
    if (key === "class") el.className = value;
    else if (key === "dataset") Object.assign(el.dataset, value);
    else if (key.startsWith("on") && typeof value === "function") {
      el.addEventListener(key.slice(2), value);
    } else if (key in el && typeof value !== "string") el[key] = value;
    else el.setAttribute(key, value === true ? "" : value);
  }
  for (const child of children.flat()) {
    if (child == null || child === false) continue;
    el.append(child instanceof Node ? child : String(child));
  }
  return el;
}

export function clear(el, ...children) {
  el.replaceChildren(...children.filter((c) => c != null));
  return el;
}

/** Seconds with milliseconds: 3.459 s; a dash for nothing. */
export function fmtS(seconds, places = 3) {
  return seconds == null ? "–" : Number(seconds).toFixed(places) + " s";
}

/** A difference to a personal best: "PB" at 0, else "+0.123". */
export function fmtDiff(seconds) {
  if (seconds == null) return "–";
  if (Math.abs(seconds) < 0.0005) return "PB";
  return (seconds > 0 ? "+" : "−") + Math.abs(seconds).toFixed(3);
}

export function fmtState(state) {
  return String(state || "").replace(/_/g, " ");
}

export function fmtClock(iso) {
  if (!iso) return "–";
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : d.toLocaleTimeString([], { hour12: false });
}

/** "1 rep", "2 reps". */
export const plural = (n, word) => `${n} ${word}${n === 1 ? "" : "s"}`;

/** Query string from an object, leaving out empty values. */
export function query(params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v != null && v !== "") q.set(k, v);
  const s = q.toString();
  return s ? "?" + s : "";
}

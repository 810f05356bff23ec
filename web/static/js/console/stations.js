// Console, Devices tab: the stations of a testing day (GET /api/stations) and, for each, a
// link for its assistant (POST /api/stations/{name}/links), shown as its URL and QR code; or
// every link of a station revoked at once. Loaded beside main.js, it waits for the sign-in.
// The Stations tab (overview.js) offers the same link on each station's card.
import { del, get, post } from "../api.js";
import { $, clear, fmtClock, h, parts } from "../dom.js";
import { guarded, notify } from "./ui.js";

const path = (name) => "/api/stations/" + encodeURIComponent(name);
const part = parts($("#tab-devices")); // a module runs once the page is parsed

async function load() {
  const stations = await get("/api/stations");
  clear(part("stations-body"), ...stations.map((s) => h("tr", { dataset: { station: s.name } },
    h("td", {}, s.name),
    h("td", { class: "num" }, String(Object.keys(s.bindings || {}).length)),
    h("td", {}, s.on_course ? `${s.on_course.athlete} · ${s.on_course.drill}` : "–"),
    h("td", { class: "row-actions" },
      h("button", { type: "button", class: "small", onclick: () => guarded(() => makeLink(s.name)) },
        "Link for assistant"),
      h("button", { type: "button", class: "small", onclick: () => guarded(() => revokeLinks(s.name)) },
        "Revoke links")))));
}

/** A new link for the station's assistant, shown in `box`: its URL and QR code, parts named
 * after the box's (station-link-box holds station-link-url and station-link-qr). */
export async function makeLink(name, box = part("station-link-box")) {
  const link = await post(path(name) + "/links", {});
  const prefix = box.dataset.part.replace(/-box$/, "");
  // An <img> of the server's SVG: an image never runs scripts, and data: is what the CSP allows.
  const qr = h("img", { src: "data:image/svg+xml;charset=utf-8," + encodeURIComponent(link.qr_svg),
                        alt: `QR code of the link for station ${name}` });
  clear(box,
    h("p", {}, h("strong", {}, `Station ${name}`), ": its assistant scans this, or opens ",
      h("a", { href: link.url, dataset: { part: prefix + "-url" }, target: "_blank", rel: "noreferrer" },
        link.url)),
    h("div", { class: "qr", dataset: { part: prefix + "-qr" } }, qr),
    h("p", { class: "muted small-print" }, `Works until ${fmtClock(link.expires_wall)}, for station `
      + `${name} only. Anyone holding it runs this station: revoke its links if a phone goes missing.`),
    link.lan ? null : h("p", { class: "alert" }, "This server listens on this laptop only, so phones "
      + "cannot open the link: start it with ", h("code", {}, "agility serve --lan"), "."));
  box.hidden = false;
}

/** Every link of the station stops working at once (a lost phone, the day is over). */
export async function revokeLinks(name, box = part("station-link-box")) {
  if (!window.confirm(`Revoke every link of station ${name}? Its assistants' phones stop working.`)) return;
  const done = await del(path(name) + "/links");
  box.hidden = true;
  notify(`Station ${name}: ${done.revoked} link(s) revoked.`);
}

function start() {
  const show = () => { if (location.hash === "#devices") guarded(load); };
  window.addEventListener("hashchange", show);
  $("#tab-button-devices").addEventListener("click", () => guarded(load));
  part("stations-refresh").addEventListener("click", () => guarded(load));
  show();
}

/** Runs `fn` once main.js has signed the coach in and built the console (body[data-ready]):
 * for the modules loaded beside it (this one, overview.js). */
export function whenConsoleReady(fn) {
  if (document.body.dataset.ready === "true") {
    fn();
    return;
  }
  new MutationObserver((_, observer) => {
    if (document.body.dataset.ready !== "true") return;
    observer.disconnect();
    fn();
  }).observe(document.body, { attributes: true, attributeFilter: ["data-ready"] });
}

whenConsoleReady(start);

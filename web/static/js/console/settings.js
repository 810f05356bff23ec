// Settings: how public pages show names (full, display, initials), the theme, and the
// address with a QR code that athletes' phones use on the local network (GET /api/lan).
import { get, put } from "../api.js";
import { $, $$, clear, h, parts } from "../dom.js";
import { currentTheme, setTheme } from "../theme.js";
import { guarded, notify } from "./ui.js";

/** The server's QR code is SVG text: parse it as SVG (no scripts run) and keep only the <svg>. */
function svgNode(text) {
  const doc = new DOMParser().parseFromString(text, "image/svg+xml");
  const svg = doc.documentElement;
  if (!svg || svg.nodeName.toLowerCase() !== "svg") return null;
  for (const bad of svg.querySelectorAll("script, foreignObject")) bad.remove();
  svg.setAttribute("role", "img");
  svg.setAttribute("aria-label", "QR code of the leaderboard address");
  return document.importNode(svg, true);
}

export function createSettings() {
  const panel = $("#tab-settings");
  const part = parts(panel);
  async function loadPrivacy() {
    const settings = await get("/api/settings");
    for (const radio of $$('input[name="public_names"]', part("privacy-form"))) {
      radio.checked = radio.value === settings.public_names;
    }
  }

  async function loadLan() {
    const box = part("lan-box");
    let lan;
    try {
      lan = await get("/api/lan");
    } catch (err) {
      clear(box, h("p", { class: "muted" }, `The LAN address is not available (${err.status || ""} ${err.detail}).`));
      return;
    }
    if (!lan || !lan.url || lan.lan === false) {
      clear(box, h("p", { dataset: { part: "lan-off" } }, "This server listens on this laptop only, so phones cannot reach it. ",
                   "Start it with ", h("code", {}, "agility serve --lan"), " and phones on the same Wi-Fi open ",
                   lan && lan.url ? h("strong", {}, lan.url) : "the address it prints", "."));
      return;
    }
    const qr = lan.qr_svg ? svgNode(lan.qr_svg) : null;
    clear(box, h("p", {}, "Athletes open ", h("a", { href: lan.url, dataset: { part: "lan-url" } }, lan.url),
                 " on their phones (same Wi-Fi), or scan:"),
          qr ? h("div", { class: "qr", dataset: { part: "lan-qr" } }, qr) : null);
  }

  part("privacy-form").addEventListener("change", async (ev) => {
    const value = ev.target.value;
    if (await guarded(() => put("/api/settings", { public_names: value })) !== undefined) {
      notify("Public pages now show names as: " + value + ".");
    } else {
      await guarded(loadPrivacy);
    }
  });
  for (const radio of $$('input[name="theme"]', panel)) {
    radio.addEventListener("change", () => setTheme(radio.value));
  }
  const showTheme = () => {
    for (const radio of $$('input[name="theme"]', panel)) radio.checked = radio.value === currentTheme();
  };
  window.addEventListener("agility:theme", showTheme);
  showTheme();

  return {
    show: () => Promise.all([loadPrivacy(), loadLan()]),
  };
}

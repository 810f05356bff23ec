// Devices: kind, state, battery, beam alignment, clock-sync quality and last event of every
// device (refreshed while the tab is open); test mode, where each beam break flashes its
// row (`device` messages); layouts that bind drill roles to a device channel.
import { del, get, post, put } from "../api.js";
import { $, $$, clear, h, parts } from "../dom.js";
import { LIVE } from "../live-types.js";
import { replay } from "../motion.js";
import { fillSelect, guarded, notify, showError } from "./ui.js";

const POLL_MS = 2000;
const WEAK_BEAM = 50; // % of the received light below which a beam is worth re-aiming

function syncText(d) {
  const us = d.sync_error_us ?? (typeof d.sync === "number" ? d.sync : null);
  if (us == null) return { text: d.sync && typeof d.sync === "string" ? d.sync : "not synced", cls: "quality-poor" };
  const quality = us < 1000 ? "good" : us < 5000 ? "fair" : "poor";
  return { text: `±${(us / 1000).toFixed(1)} ms (${quality})`, cls: "quality-" + quality };
}

function ago(d) {
  const s = d.last_event_s_ago ?? d.last_event_age_s;
  return s == null ? "never" : s < 60 ? `${Math.round(s)} s ago` : `${Math.round(s / 60)} min ago`;
}

// A Chronopic's debounce, a Timy's impulse counts, and what either could not read.
function adapterNote(d) {
  if (!d.adapter) return null;
  const facts = Object.entries(d.adapter_details || {})
    .filter(([, v]) => v != null)
    .map(([k, v]) => `${k.replaceAll("_", " ")} ${v}`);
  const stats = d.port_stats || {};
  const skipped = ["skipped_bytes", "bad_state", "unknown_lines", "bad_checksum", "too_long_lines", "non_ascii_bytes"]
    .filter((k) => stats[k]).map((k) => `${stats[k]} ${k.replaceAll("_", " ")}`);
  return h("div", { class: "muted small-print" },
    facts.join(" · "), skipped.length ? h("div", {}, "skipped: " + skipped.join(", ")) : null);
}

function normaliseLayouts(answer) {
  if (Array.isArray(answer)) return answer.map((l) => ({ name: l.name, bindings: l.bindings || {}, active: l.active }));
  return Object.entries(answer || {}).map(([name, l]) => ({ name, bindings: (l && l.bindings) || l || {} }));
}

export function createDevices(ctx) {
  const part = parts($("#tab-devices"));
  let devices = [];
  let timer = null;

  async function loadDevices() {
    devices = await get("/api/devices");
    renderDevices();
    fillBindingSelects();
    part("devices-updated").textContent = "updated " + new Date().toLocaleTimeString([], { hour12: false });
  }

  function renderDevices() {
    const body = part("devices-body");
    if (!devices.length) {
      clear(body, h("tr", {}, h("td", { colspan: 7, class: "empty" },
        "No devices. Plug in a hub or gate (USB), or start the server with --device.")));
      return;
    }
    clear(body, ...devices.map((d) => {
      const key = d.key || d.device || d.id;
      const sync = syncText(d);
      const beams = (d.beams || []).map((b, i) => h("span", {
        class: "beam" + (b != null && b < WEAK_BEAM ? " weak" : ""), title: `channel ${i}` },
        `${i}: ${b == null ? "–" : b + "%"}`));
      return h("tr", { dataset: { device: key }, class: d.problem ? "port-problem" : null },
        h("td", {}, key, h("br"), h("span", { class: "muted small-print" }, d.port || "")),
        h("td", {}, d.kind || "–"),
        h("td", {}, d.state || "–", d.message ? h("span", { class: "muted" }, ` (${d.message})`) : null,
          adapterNote(d)),
        // A port nobody can use (held by another program, no permission) is no device.
        h("td", { class: "num" }, d.problem ? "–" : d.battery == null ? "mains" : `${d.battery}%`),
        h("td", {}, beams.length ? beams : "–"),
        h("td", { class: d.problem ? "" : sync.cls }, d.problem ? "–" : sync.text),
        h("td", { class: "num last-event" }, ago(d)));
    }));
  }

  function poll() {
    clearTimeout(timer);
    if (document.body.dataset.tab !== "devices") return;
    timer = setTimeout(() => guarded(loadDevices).finally(poll), POLL_MS);
  }

  // -- test mode ------------------------------------------------------------------------
  part("test-mode").addEventListener("change", async (ev) => {
    const on = ev.target.checked;
    try {
      await post("/api/devices/test", { on });
      notify(on ? "Test mode on: break a beam and watch its row." : "Test mode off.");
    } catch (err) {
      ev.target.checked = !on;
      showError(err);
    }
  });

  function onDeviceMessage(msg) {
    const row = $$("tr", part("devices-body")).find((tr) => tr.dataset.device === msg.device);
    if (row) {
      replay(row, "hit");
      const cell = row.querySelector(".last-event");
      if (cell) cell.textContent = "now";
    }
    const log = part("test-log");
    log.prepend(h("li", {}, `${new Date().toLocaleTimeString([], { hour12: false })} ${msg.device} · channel ${msg.channel} · ${msg.kind || "event"}`));
    while (log.children.length > 8) log.lastChild.remove();
  }

  // -- a Chronopic, a Timy or any port by hand ------------------------------------------------
  part("add-port-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const port = part("add-port").value.trim();
    const answer = await guarded(() => post("/api/devices/ports", { port }));
    if (answer !== undefined) {
      devices = answer;
      renderDevices();
      fillBindingSelects();
      notify(`Opened ${port}.`);
      part("add-port").value = "";
    }
  });

  // -- layouts --------------------------------------------------------------------------
  async function loadLayouts() {
    let layouts;
    try {
      layouts = normaliseLayouts(await get("/api/layouts"));
    } catch (err) {
      clear(part("layouts-body"), h("tr", {}, h("td", { colspan: 3, class: "empty" },
        `Layouts are not available (${err.status || ""} ${err.detail || err.message}).`)));
      return;
    }
    clear(part("layouts-body"), ...(layouts.length ? layouts.map((l) => h("tr", { dataset: { layout: l.name } },
      h("td", {}, l.name, l.active ? h("span", { class: "badge running" }, " in use") : null),
      h("td", {}, Object.entries(l.bindings).map(([role, b]) => `${role} → ${b.device} ch ${b.channel}`).join(", ")),
      h("td", {}, h("div", { class: "row-actions" },
        h("button", { type: "button", class: "small primary", onclick: () => apply(l.name) }, "Apply"),
        h("button", { type: "button", class: "small", onclick: () => editLayout(l) }, "Edit"),
        h("button", { type: "button", class: "small danger", onclick: () => remove(l.name) }, "Delete")))))
      : [h("tr", {}, h("td", { colspan: 3, class: "empty" }, "No layouts saved yet."))]));
  }

  async function apply(name) {
    if (await guarded(() => post(`/api/layouts/${encodeURIComponent(name)}/apply`)) !== undefined) notify(`Layout ${name} applied.`);
  }

  async function remove(name) {
    if (await guarded(() => del(`/api/layouts/${encodeURIComponent(name)}`)) !== undefined) {
      notify(`Layout ${name} deleted.`);
      await loadLayouts();
    }
  }

  function drillRoles(slug) {
    const drill = ctx.store.drills.find((d) => d.slug === slug) || {};
    const roles = drill.device_roles || drill.roles;
    if (Array.isArray(roles)) return roles.map((r) => (typeof r === "string" ? r : r.name));
    if (roles && typeof roles === "object") return Object.keys(roles);
    return ["start", "finish"]; // the drills API does not list roles: edit the names
  }

  function bindingRow(role = "", binding = {}) {
    const device = h("select", { name: "device", class: "binding-device" });
    const channel = h("select", { name: "channel", class: "binding-channel" });
    const row = h("tr", {},
      h("td", {}, h("input", { name: "role", value: role, required: true, "aria-label": "Role" })),
      h("td", {}, device), h("td", {}, channel),
      h("td", {}, h("button", { type: "button", class: "small danger", onclick: () => row.remove() }, "✕")));
    row.dataset.device = binding.device || "";
    row.dataset.channel = binding.channel ?? "";
    device.addEventListener("change", () => fillChannels(row));
    return row;
  }

  function fillChannels(row) {
    const select = row.querySelector(".binding-channel");
    const dev = devices.find((d) => (d.key || d.device) === row.querySelector(".binding-device").value);
    const n = (dev && dev.channels) || 4;
    fillSelect(select, Array.from({ length: n }, (_, i) => ({ value: String(i), label: `channel ${i}` })));
    if (row.dataset.channel !== "") select.value = row.dataset.channel;
  }

  function fillBindingSelects() {
    for (const row of $$("tr", part("binding-rows"))) {
      const select = row.querySelector(".binding-device");
      const usable = devices.filter((d) => !d.problem);
      fillSelect(select, usable.map((d) => ({ value: d.key || d.device, label: `${d.key || d.device} (${d.kind})` })));
      if (row.dataset.device) select.value = row.dataset.device;
      fillChannels(row);
    }
  }

  function setRoles(roles, bindings = {}) {
    // By default in running order on channels 0, 1, 2... as `agility run` binds them.
    const usable = devices.filter((d) => !d.problem);
    const device = usable.length ? usable[0].key || usable[0].device : "";
    clear(part("binding-rows"), ...roles.map((r, i) => bindingRow(r, bindings[r] || { device, channel: i })));
    fillBindingSelects();
  }

  function editLayout(layout) {
    part("layout-name").value = layout.name;
    setRoles(Object.keys(layout.bindings), layout.bindings);
  }

  part("layout-drill").addEventListener("change", (ev) => setRoles(drillRoles(ev.target.value)));
  part("add-role").addEventListener("click", () => {
    part("binding-rows").append(bindingRow());
    fillBindingSelects();
  });
  part("layout-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const bindings = {};
    for (const row of $$("tr", part("binding-rows"))) {
      const role = row.querySelector('[name="role"]').value.trim();
      if (role) bindings[role] = { device: row.querySelector(".binding-device").value,
                                   channel: Number(row.querySelector(".binding-channel").value) };
    }
    const name = part("layout-name").value.trim();
    if (await guarded(() => put(`/api/layouts/${encodeURIComponent(name)}`, { bindings })) !== undefined) {
      notify(`Layout ${name} saved.`);
      await loadLayouts();
    }
  });

  fillSelect(part("layout-drill"), ctx.store.drills.map((d) => ({ value: d.slug, label: d.name })));
  setRoles(drillRoles(part("layout-drill").value));

  return {
    async show() {
      const mode = await get("/api/devices/test").catch(() => null);
      if (mode) part("test-mode").checked = Boolean(mode.on);
      await Promise.all([loadDevices(), loadLayouts()]);
      poll();
    },
    onLive(msg) {
      if (msg.type === LIVE.DEVICE) onDeviceMessage(msg);
    },
  };
}

// Leaderboard page: a view of server state. Loads the board over HTTP, then follows the
// live feed (/ws/live); after a reconnect it reloads the board so nothing missed is lost.
"use strict";

const state = { drill: null, socket: null, retryMs: 1000, lastRunId: null };

const $ = (id) => document.getElementById(id);

function fmt(seconds) {
  return seconds == null ? "–" : seconds.toFixed(3) + " s";
}

async function getJSON(url) {
  const res = await fetch(url, { headers: { Accept: "application/json" } });
  if (!res.ok) throw new Error(url + " answered " + res.status);
  return res.json();
}

async function loadDrills() {
  const drills = await getJSON("/api/drills");
  const select = $("drill-select");
  select.innerHTML = "";
  for (const d of drills) {
    const opt = document.createElement("option");
    opt.value = d.slug;
    opt.textContent = d.name;
    select.appendChild(opt);
  }
  const wanted = new URLSearchParams(location.search).get("drill");
  const fallback = drills.find((d) => d.slug === "backward-sprint-10m") || drills[0];
  state.drill = (drills.find((d) => d.slug === wanted) || fallback || {}).slug || null;
  select.value = state.drill || "";
  select.addEventListener("change", () => {
    state.drill = select.value;
    history.replaceState(null, "", "?drill=" + encodeURIComponent(state.drill));
    loadBoard();
  });
}

async function loadBoard(flashAthlete) {
  if (!state.drill) return;
  const board = await getJSON("/api/leaderboards/" + encodeURIComponent(state.drill));
  $("drill-name").textContent = board.name;
  document.title = board.name + " · Agility";
  const body = $("board-body");
  body.innerHTML = "";
  if (board.entries.length === 0) {
    body.innerHTML = '<tr><td colspan="5" class="empty">No runs yet.</td></tr>';
    return;
  }
  for (const e of board.entries) {
    const tr = document.createElement("tr");
    tr.dataset.athlete = e.athlete;
    if (e.athlete === flashAthlete) tr.className = "flash";
    for (const [text, cls] of [[e.rank, ""], [e.athlete, ""], [fmt(e.best_s), "num best"],
                               [fmt(e.last_s), "num last"], [e.runs, "num"]]) {
      const td = document.createElement("td");
      td.textContent = text;
      if (cls) td.className = cls;
      tr.appendChild(td);
    }
    body.appendChild(tr);
  }
}

function showLatest(msg) {
  const line = $("latest");
  if (msg.type === "split") {
    line.textContent = `${msg.athlete}: ${msg.split} ${fmt(msg.elapsed_s)}`;
  } else if (msg.type === "run") {
    const what = msg.state === "finished" ? fmt(msg.total_s) : msg.state.replace("_", " ");
    line.textContent = `${msg.athlete} · rep ${msg.rep}: ${what}`;
  }
}

function setStatus(on) {
  const el = $("live-status");
  el.textContent = on ? "live" : "reconnecting…";
  el.className = "status " + (on ? "status-on" : "status-off");
}

function connect() {
  const proto = location.protocol === "https:" ? "wss:" : "ws:";
  const socket = new WebSocket(`${proto}//${location.host}/ws/live`);
  state.socket = socket;
  socket.addEventListener("open", () => {
    setStatus(true);
    state.retryMs = 1000;
    loadBoard().catch(console.error); // catch up on anything missed while away
  });
  socket.addEventListener("message", (ev) => {
    const msg = JSON.parse(ev.data);
    if (msg.type === "hello") return;
    if (msg.drill !== state.drill) return;
    showLatest(msg);
    if (msg.type === "run" && msg.state === "finished") loadBoard(msg.athlete).catch(console.error);
  });
  socket.addEventListener("close", () => {
    setStatus(false);
    setTimeout(connect, state.retryMs);
    state.retryMs = Math.min(state.retryMs * 2, 10000);
  });
}

window.addEventListener("DOMContentLoaded", async () => {
  try {
    await loadDrills();
    await loadBoard();
  } catch (err) {
    $("latest").textContent = "Cannot reach the server: " + err.message;
  }
  connect();
});

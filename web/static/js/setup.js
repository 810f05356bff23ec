// Sign-in page (/setup): first-run setup while no coach exists, otherwise the login form;
// afterwards it goes back to `?next=` (a path on this server) or the console.
import { $ } from "./dom.js";
import { logout, me, mountAuthForm } from "./auth.js";
import { mountThemeToggle } from "./theme.js";

function nextPage() {
  const next = new URLSearchParams(location.search).get("next") || "";
  return next.startsWith("/") && !next.startsWith("//") ? next : "/console";
}

function showOnly(id) {
  for (const s of ["setup-section", "login-section", "signed-in-section"]) {
    $("#" + s).hidden = s !== id;
  }
}

async function start() {
  mountThemeToggle($("#theme-toggle"));
  const done = () => location.assign(nextPage());
  let who;
  try {
    who = await me();
  } catch (err) {
    $("#page-alert").textContent = "Cannot reach the server: " + err.message;
    $("#page-alert").hidden = false;
    return;
  }
  if (who.coach) {
    $("#signed-in-name").textContent = who.coach.name;
    showOnly("signed-in-section");
  } else if (who.setup_needed) {
    mountAuthForm($("#setup-form"), "setup", done);
    showOnly("setup-section");
  } else {
    mountAuthForm($("#login-form"), "login", done);
    showOnly("login-section");
  }
  $("#logout").addEventListener("click", async () => {
    await logout().catch(() => {});
    location.reload();
  });
}

window.addEventListener("DOMContentLoaded", start);

// Applies the saved theme before the page paints (a classic script in <head>, so no flash).
"use strict";
(function () {
  try {
    var saved = localStorage.getItem("agility-theme");
    if (saved === "light" || saved === "dark") document.documentElement.dataset.theme = saved;
  } catch (e) {
    /* storage blocked: follow the system */
  }
})();

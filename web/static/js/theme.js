// Theme choice: "auto" follows prefers-color-scheme; "light" and "dark" are saved per browser.
const KEY = "agility-theme";
const ORDER = ["auto", "dark", "light"];
const LABEL = { auto: "Theme: auto", dark: "Theme: dark", light: "Theme: light" };

export function currentTheme() {
  const saved = localStorage.getItem(KEY);
  return saved === "light" || saved === "dark" ? saved : "auto";
}

export function setTheme(theme) {
  if (theme === "light" || theme === "dark") {
    localStorage.setItem(KEY, theme);
    document.documentElement.dataset.theme = theme;
  } else {
    localStorage.removeItem(KEY);
    delete document.documentElement.dataset.theme;
  }
  window.dispatchEvent(new CustomEvent("agility:theme", { detail: currentTheme() }));
}

/** A button that cycles auto, dark, light and shows the current choice. */
export function mountThemeToggle(button) {
  const show = () => {
    button.textContent = LABEL[currentTheme()];
  };
  button.addEventListener("click", () => {
    const next = ORDER[(ORDER.indexOf(currentTheme()) + 1) % ORDER.length];
    setTheme(next);
  });
  window.addEventListener("agility:theme", show);
  show();
}

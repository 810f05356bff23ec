// Motion on the pages, off for those who asked the system for less of it
// (prefers-reduced-motion): the CSS stops every animation and transition (style.css), and
// scripts ask here before they start one of their own.

const QUERY = window.matchMedia ? window.matchMedia("(prefers-reduced-motion: reduce)") : null;

/** True while the reader's system asks for reduced motion (it may change while the page is open). */
export function reducedMotion() {
  return Boolean(QUERY && QUERY.matches);
}

/**
 * Puts `className` on `el` again, so its CSS animation (a highlight) starts over: the class
 * comes off, a reflow forgets the running animation, the class goes back on. Under reduced
 * motion the class is still set (it marks the element) and the CSS gives it no animation.
 */
export function replay(el, className) {
  el.classList.remove(className);
  if (!reducedMotion()) void el.offsetWidth;
  el.classList.add(className);
}

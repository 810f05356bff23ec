// Countdown beeps through WebAudio (no sound files). Browsers only start audio after a
// click or key press, so the console calls unlock() from its first user gesture.
const KEY = "agility-muted";

export class Beeper {
  constructor() {
    this.muted = localStorage.getItem(KEY) === "1";
    this.ctx = null;
  }

  unlock() {
    const Ctx = window.AudioContext || window.webkitAudioContext;
    if (!Ctx) return;
    if (!this.ctx) this.ctx = new Ctx();
    if (this.ctx.state === "suspended") this.ctx.resume().catch(() => {});
  }

  setMuted(muted) {
    this.muted = muted;
    localStorage.setItem(KEY, muted ? "1" : "0");
  }

  /** A short tone: the countdown ticks at 880 Hz, the start at 1320 Hz and longer. */
  beep(freq = 880, ms = 120) {
    if (this.muted || !this.ctx || this.ctx.state !== "running") return;
    const t = this.ctx.currentTime;
    const osc = this.ctx.createOscillator();
    const gain = this.ctx.createGain();
    osc.type = "square";
    osc.frequency.value = freq;
    // A fast attack and release, so the beep clicks neither on nor off.
    gain.gain.setValueAtTime(0.0001, t);
    gain.gain.exponentialRampToValueAtTime(0.25, t + 0.01);
    gain.gain.exponentialRampToValueAtTime(0.0001, t + ms / 1000);
    osc.connect(gain).connect(this.ctx.destination);
    osc.start(t);
    osc.stop(t + ms / 1000 + 0.02);
  }

  tick() {
    this.beep(880, 120);
  }

  go() {
    this.beep(1320, 400);
  }
}

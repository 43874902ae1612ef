// Countdowns to a chain time: the server renders the seconds left at its read; this counts them down on
// the browser's clock (no chain read, no dependency) and writes the same text as keeper/console/pages.py.
"use strict";

function timeLeft(seconds) {
  const s = Math.max(0, Math.floor(seconds));
  const hours = Math.floor(s / 3600);
  const minutes = Math.floor((s % 3600) / 60);
  const secs = s % 60;
  const pad = (n) => String(n).padStart(2, "0");
  if (hours) return `${hours}h ${pad(minutes)}m ${pad(secs)}s`;
  if (minutes) return `${minutes}m ${pad(secs)}s`;
  return `${secs}s`;
}

function startCountdowns() {
  const loaded = Date.now();
  const items = Array.from(document.querySelectorAll(".countdown[data-seconds-left]"));
  if (!items.length) return;
  const tick = () => {
    const elapsed = (Date.now() - loaded) / 1000;
    for (const item of items) {
      const left = Number(item.dataset.secondsLeft) - elapsed;
      item.textContent = left > 0 ? timeLeft(left) : "window closed: reload";
    }
  };
  setInterval(tick, 1000);
}

// Auto-refresh: off unless the reader turns it on; the choice is kept in this browser (localStorage) so that
// an operator's wall screen stays on it across reloads. Every page is read afresh from the chain on reload.
const REFRESH_KEY = "lg-console-refresh";

function startRefresh() {
  const toggle = document.getElementById("auto-refresh");
  if (!toggle) return;
  const seconds = Number(document.body.dataset.refreshSeconds) || 15;
  let timer = null;
  const arm = () => {
    if (timer !== null) clearTimeout(timer);
    timer = toggle.checked ? setTimeout(() => window.location.reload(), seconds * 1000) : null;
  };
  toggle.checked = window.localStorage.getItem(REFRESH_KEY) === "on";
  toggle.addEventListener("change", () => {
    window.localStorage.setItem(REFRESH_KEY, toggle.checked ? "on" : "off");
    arm();
  });
  arm();
}

document.addEventListener("DOMContentLoaded", () => {
  startCountdowns();
  startRefresh();
});

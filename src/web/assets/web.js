// Optional touches on the server-rendered pages; every page works without this script.
// 1. Times written in UTC are rewritten in the reader's time zone.
// 2. "Send a new code" stays disabled, with a countdown, until the service accepts it.
"use strict";

const TIME_STYLES = {
  time: { hour: "2-digit", minute: "2-digit" },
  date: { day: "numeric", month: "short", year: "numeric" },
  datetime: { day: "numeric", month: "short", year: "numeric", hour: "2-digit", minute: "2-digit" },
};

function localizeTimes() {
  for (const element of document.querySelectorAll("time[data-style]")) {
    const style = TIME_STYLES[element.dataset.style];
    const date = new Date(element.getAttribute("datetime"));
    if (!style || Number.isNaN(date.getTime())) continue;
    element.textContent = date.toLocaleString(undefined, style);
  }
}

function formatWait(seconds) {
  const minutes = Math.floor(seconds / 60);
  const rest = String(seconds % 60).padStart(2, "0");
  return `${minutes}:${rest}`;
}

// The wait comes from the server's clock as a number of seconds, so a wrong clock in the
// browser does not shift it.
function holdResendButtons() {
  for (const button of document.querySelectorAll("button[data-wait-seconds]")) {
    let remaining = Number(button.dataset.waitSeconds);
    if (!(remaining > 0)) continue;
    const countdown = button.form?.querySelector("[data-countdown]");
    button.disabled = true;
    const tick = () => {
      if (remaining <= 0) {
        button.disabled = false;
        if (countdown) countdown.textContent = "";
        return;
      }
      if (countdown) countdown.textContent = `, in ${formatWait(remaining)}`;
      remaining -= 1;
      setTimeout(tick, 1000);
    };
    tick();
  }
}

localizeTimes();
holdResendButtons();

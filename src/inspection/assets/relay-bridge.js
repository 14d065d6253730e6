// The relay's page: forwards the inspection messages that arrive over the relay's WebSocket to
// the Stately inspector in the frame, as postMessage calls, once the inspector reports that it is
// ready.
"use strict";

const frame = document.getElementById("inspector");
const status = document.getElementById("status");
const inspectorOrigin = new URL(frame.src).origin;
// Messages that arrive before the inspector is ready; the oldest go first past this bound.
const MAX_PENDING = 1000;
const pending = [];
let ready = false;

function forward(message) {
  frame.contentWindow.postMessage(message, inspectorOrigin);
}

window.addEventListener("message", (event) => {
  if (event.origin !== inspectorOrigin || event.data?.type !== "@statelyai.connected") return;
  ready = true;
  status.textContent = "Inspector ready.";
  for (const message of pending.splice(0)) forward(message);
});

const socket = new WebSocket(`ws://${location.host}/`);
socket.addEventListener("open", () => {
  status.textContent = ready ? "Inspector ready." : "Connected to the relay; waiting for the inspector.";
});
socket.addEventListener("close", () => {
  status.textContent = "The relay closed the connection. Start it again and reload this page.";
});
socket.addEventListener("message", (event) => {
  const message = JSON.parse(event.data);
  if (ready) {
    forward(message);
    return;
  }
  pending.push(message);
  if (pending.length > MAX_PENDING) pending.shift();
});

// One live connection to /api/events for the whole page; views subscribe to it.
// Event data is {id, type, jobId, subject, payload, createdAt}; job payloads carry
// jobId, kind, status, step, total and groupId.

import { authEvents, authHeaders } from "./api.js";
import { EventStreamClient } from "./sse.js";

const listeners = new Set();
const stateListeners = new Set();
let client = null;
let lastState = { state: "connecting" };

/** Call `listener(event)` for every event; returns the unsubscribe function. */
export function subscribe(listener) {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

/** Call `listener({state, ...})` now and on every connection change. */
export function onLiveState(listener) {
  stateListeners.add(listener);
  listener(lastState);
  return () => stateListeners.delete(listener);
}

function deliver(raw) {
  let event;
  try {
    event = JSON.parse(raw.data);
  } catch {
    return; // not one of ours
  }
  for (const listener of listeners) {
    try {
      listener(event);
    } catch (error) {
      console.error("live event listener failed", error);
    }
  }
}

function changeState(state) {
  lastState = state;
  for (const listener of stateListeners) listener(state);
}

/** Open the stream (once); a new API key reconnects it. */
export function startLive() {
  if (client) return;
  client = new EventStreamClient("/api/events", {
    headers: authHeaders,
    onEvent: deliver,
    onState: changeState,
  });
  client.start();
  authEvents.addEventListener("key-changed", () => client.restart());
}

/** True for the job events that end a job. */
export function isTerminal(event) {
  return ["JOB_SUCCEEDED", "JOB_FAILED", "JOB_CANCELLED"].includes(event.type);
}

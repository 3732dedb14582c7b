// Entry point: the hash router, the header (live state, key button, queue count)
// and start-up. Each view is a function render(main, ...params) → cleanup().

import { api, authEvents, refreshSession, session } from "./api.js";
import { debounce } from "./dom.js";
import { describeSession, openKeyDialog } from "./keyform.js";
import { onLiveState, startLive, subscribe } from "./live.js";
import { noticeEvents, showError } from "./notices.js";
import { closeViewer } from "./viewer.js";
import { renderAssistant } from "./views/assistant.js";
import { renderBatch } from "./views/batch.js";
import { renderGallery } from "./views/gallery.js";
import { renderGateway } from "./views/gateway.js";
import { renderGenerate } from "./views/generate.js";
import { renderQueue } from "./views/queue.js";
import { renderSettings } from "./views/settings.js";
import { renderStudio } from "./views/studio.js";
import { renderTraining } from "./views/training.js";
import { renderVariations } from "./views/variations.js";

// [pattern, nav entry, view, page title]
const ROUTES = [
  [/^\/?$/, "gallery", renderGallery, "Gallery"],
  [/^\/batch\/([^/]+)$/, "gallery", renderBatch, "Batch"],
  [/^\/studio$/, "studio", renderStudio, "Studio"],
  [/^\/generate$/, "generate", renderGenerate, "Generate"],
  [/^\/variations$/, "variations", renderVariations, "Variations"],
  [/^\/variations\/([^/]+)$/, "variations", renderVariations, "Variation"],
  [/^\/assistant$/, "assistant", renderAssistant, "Assistant"],
  [/^\/gateway$/, "gateway", renderGateway, "Gateway"],
  [/^\/training$/, "training", renderTraining, "Training"],
  [/^\/queue$/, "queue", renderQueue, "Queue"],
  [/^\/settings$/, "settings", renderSettings, "Settings"],
];

let cleanup = null;
let firstRoute = true;

/** The route for a hash path; an unknown path shows the gallery. */
function match(path) {
  for (const [pattern, nav, view, title] of ROUTES) {
    const found = path.match(pattern);
    if (found) return { nav, view, title, params: found.slice(1).map(decodeURIComponent) };
  }
  const [, nav, view, title] = ROUTES[0];
  return { nav, view, title, params: [] };
}

function route() {
  const { nav, view, title, params } = match(window.location.hash.replace(/^#/, "") || "/");
  cleanup?.();
  closeViewer();
  const main = document.getElementById("main");
  main.replaceChildren();
  document.title = `${title} · imajin`;
  for (const link of document.querySelectorAll("[data-nav]")) {
    if (link.dataset.nav === nav) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
  cleanup = view(main, ...params) ?? null;
  // After navigating, start reading (and tabbing) at the new page's heading.
  if (!firstRoute && !main.contains(document.activeElement)) main.focus({ preventScroll: true });
  firstRoute = false;
}

function showLiveState({ state, delayMs, status }) {
  const badge = document.getElementById("live-state");
  const text = {
    connecting: "Connecting…",
    open: "Live",
    retrying: `Reconnecting in ${Math.round((delayMs ?? 0) / 1000)} s`,
    refused: status === 401 ? "Key needed" : "Live updates unavailable",
  }[state];
  badge.dataset.state = state;
  badge.textContent = text;
}

function showKeyButton() {
  const button = document.getElementById("key-button");
  button.hidden = session.authEnabled === false;
  button.dataset.needed = session.authEnabled && !session.keyId ? "1" : "0";
  button.textContent = session.authEnabled && !session.keyId ? "Enter API key" : "API key";
  button.title = describeSession();
}

// The header's queue count: refreshed when jobs start or end.
async function refreshQueueCount() {
  const badge = document.getElementById("queue-count");
  try {
    const [running, queued] = await Promise.all([
      api("/api/jobs", { query: { status: "running", limit: 1 } }),
      api("/api/jobs", { query: { status: "queued", limit: 1 } }),
    ]);
    const active = running.total + queued.total;
    badge.hidden = active === 0;
    badge.textContent = String(active);
    badge.setAttribute("aria-label", `${active} active jobs`);
  } catch {
    badge.hidden = true; // the count is a convenience; errors show where the data is used
  }
}

async function start() {
  document.getElementById("key-button").addEventListener("click", openKeyDialog);
  noticeEvents.addEventListener("open-key-dialog", openKeyDialog);
  let known = "";
  authEvents.addEventListener("session", () => {
    showKeyButton();
    // Re-render once the key (or lack of one) changes what the server lets us see.
    const now = `${session.authEnabled}|${session.keyId}`;
    if (known && now !== known) route();
    known = now;
    refreshQueueCount();
  });
  // Any 401: one page-wide notice with an "Enter API key" button (repeats are merged).
  authEvents.addEventListener("unauthorized", (event) => {
    showError(event.detail);
    if (session.keyId || session.authEnabled === null) refreshSession().catch(() => {});
  });
  onLiveState(showLiveState);
  const updateCount = debounce(refreshQueueCount, 500);
  subscribe((event) => {
    if (event.type.startsWith("JOB_") && event.type !== "JOB_PROGRESS") updateCount();
  });
  try {
    await refreshSession();
  } catch (error) {
    showError(error, { context: "Connecting to the server" });
  }
  startLive();
  window.addEventListener("hashchange", route);
  route();
}

start();

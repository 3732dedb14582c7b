// Messages to the person using the page. Errors stay until dismissed (role="alert"),
// confirmations fade (role="status"). The same message is shown once, not stacked.

import { h } from "./dom.js";

export const noticeEvents = new EventTarget(); // "open-key-dialog" from a notice's button

const INFO_MS = 5000;

function region() {
  return document.getElementById("notices");
}

/** Title, text and an optional action for an error from api() or elsewhere. */
export function describeError(error) {
  const message = error?.message || String(error);
  switch (error?.status) {
    case 0:
      return { title: "Network problem", message };
    case 401:
      return { title: "API key needed", message, action: "key" };
    case 403:
      return { title: "Not allowed", message };
    case 404:
      return { title: "Not found", message };
    case 429:
      return { title: "Queue is full", message, retryAfter: error.retryAfter };
    case 422:
      return { title: "Please check the input", message };
    default:
      if (error?.status >= 500) {
        const ref = error.requestId ? ` (request ${error.requestId})` : "";
        return { title: "Server error", message: `${message}${ref}` };
      }
      return { title: "Something went wrong", message };
  }
}

/** A button that opens the API-key dialog (main.js listens for the event). */
function keyButton() {
  const open = () => noticeEvents.dispatchEvent(new Event("open-key-dialog"));
  return h("button", { type: "button", class: "btn btn-small", onclick: open }, "Enter API key");
}

/** Show an error; returns the notice element. */
export function showError(error, { context = "" } = {}) {
  const { title, message, action, retryAfter } = describeError(error);
  const heading = context ? `${context}: ${title}` : title;
  const notice = show({ kind: "error", title: heading, message });
  if (action === "key") {
    notice.querySelector(".notice-actions").prepend(keyButton());
  }
  if (retryAfter !== null && retryAfter !== undefined) countdown(notice, retryAfter);
  return notice;
}

/** Show a short confirmation that fades by itself. */
export function showInfo(message) {
  const notice = show({ kind: "info", title: "", message });
  setTimeout(() => notice.remove(), INFO_MS);
  return notice;
}

function show({ kind, title, message }) {
  const key = `${kind}|${title}|${message}`;
  for (const existing of region().children) {
    if (existing.dataset.key === key) existing.remove(); // re-added below, at the end
  }
  const notice = h(
    "div",
    {
      class: `notice notice-${kind}`,
      role: kind === "error" ? "alert" : "status",
      dataset: { key },
    },
    h(
      "div",
      { class: "notice-text" },
      title ? h("strong", {}, title) : null,
      h("span", {}, message),
    ),
    h(
      "div",
      { class: "notice-actions" },
      h(
        "button",
        {
          type: "button",
          class: "btn btn-small btn-quiet",
          "aria-label": "Dismiss message",
          onclick: () => notice.remove(),
        },
        "Dismiss",
      ),
    ),
  );
  region().append(notice);
  return notice;
}

/** 429: count the Retry-After seconds down in the notice. */
function countdown(notice, seconds) {
  const line = h("span", { class: "retry-after" });
  notice.querySelector(".notice-text").append(line);
  let left = seconds;
  const tick = () => {
    line.textContent = left > 0 ? `Try again in ${left} s.` : "You can try again now.";
    left -= 1;
    if (left >= 0 && notice.isConnected) setTimeout(tick, 1000);
  };
  tick();
}

/**
 * An error shown where the data would have been: title, message, and buttons to enter
 * a key (401) or try again. A 401 is announced once by the page-wide notice instead.
 */
export function inlineError(error, { retry = null, tag = "p" } = {}) {
  const { title, message, action } = describeError(error);
  if (action === "key") {
    return h(tag, { class: "inline-error" }, "An API key is needed to show this. ", keyButton());
  }
  return h(
    tag,
    { class: "inline-error", role: "alert" },
    `${title}: ${message} `,
    retry ? h("button", { type: "button", class: "btn btn-small", onclick: retry }, "Retry") : null,
  );
}

/** Remove every notice (e.g. once a key works, the old 401 messages are stale). */
export function clearErrors() {
  for (const notice of [...region().querySelectorAll(".notice-error")]) notice.remove();
}

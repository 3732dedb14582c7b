// The API-key field: kept in this browser's localStorage, sent as a Bearer token.
// Used in the key dialog (header button, "Enter API key" on a 401) and on Settings.

import { getApiKey, refreshSession, session, setApiKey } from "./api.js";
import { h } from "./dom.js";
import { clearErrors, showError, showInfo } from "./notices.js";

let counter = 0;

/** A form to enter, check and forget the key; `onDone()` runs after a successful save. */
export function keyForm({ onDone = () => {} } = {}) {
  counter += 1;
  const inputId = `api-key-${counter}`;
  const input = h("input", {
    id: inputId,
    name: "api_key",
    type: "password",
    autocomplete: "off",
    spellcheck: "false",
    placeholder: "imj_…",
    value: getApiKey(),
    "aria-describedby": `${inputId}-hint`,
  });
  const result = h(
    "p",
    { class: "hint", id: `${inputId}-hint`, "aria-live": "polite" },
    describeSession(),
  );
  const form = h(
    "form",
    { class: "key-form", novalidate: true },
    h("label", { for: inputId }, "API key"),
    h(
      "div",
      { class: "row" },
      input,
      h("button", { type: "submit", class: "btn btn-primary" }, "Save key"),
    ),
    result,
    h(
      "button",
      { type: "button", class: "btn btn-quiet btn-small", onclick: forget },
      "Forget key",
    ),
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    setApiKey(input.value);
    await check(result, onDone);
  });

  async function forget() {
    input.value = "";
    setApiKey("");
    await check(result, () => {});
  }
  return form;
}

async function check(result, onDone) {
  try {
    await refreshSession();
  } catch (error) {
    showError(error, { context: "Checking the key" });
    return;
  }
  result.textContent = describeSession();
  if (!session.authEnabled || session.keyId) {
    clearErrors();
    showInfo(session.keyId ? "API key saved." : "Key forgotten.");
    onDone();
  }
}

/** One line about the current key, for people and for screen readers. */
export function describeSession() {
  if (session.authEnabled === false) return "This server does not require an API key.";
  if (session.authEnabled && session.keyId) {
    return `Using key ${session.keyId} (scopes: ${session.scopes.join(", ")}). Stored in this browser only.`;
  }
  if (session.authEnabled) {
    return getApiKey()
      ? "That key was refused: check it and try again."
      : "This server requires an API key.";
  }
  return "Checking whether this server requires a key…";
}

let dialog = null;

/** Open the key dialog (focus goes to the field). */
export function openKeyDialog() {
  if (!dialog) {
    dialog = h("dialog", { class: "key-dialog", "aria-labelledby": "key-dialog-title" });
    dialog.addEventListener("close", () => dialog.replaceChildren()); // one key form at a time
    document.body.append(dialog);
  }
  dialog.replaceChildren(
    h(
      "div",
      { class: "viewer-head" },
      h("h2", { id: "key-dialog-title" }, "API key"),
      h(
        "button",
        { type: "button", class: "btn btn-quiet", onclick: () => dialog.close() },
        "Close",
      ),
    ),
    h(
      "p",
      { class: "muted" },
      "Ask your administrator for a key (`imajin keys create --scope generate`).",
    ),
    keyForm({ onDone: () => dialog.close() }),
  );
  if (!dialog.open) dialog.showModal();
  dialog.querySelector("input").focus();
}

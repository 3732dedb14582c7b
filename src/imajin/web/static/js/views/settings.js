// Settings: the API key, and the studio configuration (admin: GET/PUT /api/config).
// The configuration form is built from whatever GET returns, so a new setting on the
// server shows up here without a UI change; each value keeps its JSON type.

import { api, isAbort, session } from "../api.js";
import { h, humanize, setChildren } from "../dom.js";
import { clearFieldErrors, showFieldErrors } from "../forms.js";
import { keyForm } from "../keyform.js";
import { inlineError, showError, showInfo } from "../notices.js";

function isPlainObject(value) {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

/** One control per leaf of `config`; nested objects become fieldsets. */
function configFields(config, prefix = "") {
  return Object.entries(config).map(([key, value]) => {
    const path = prefix ? `${prefix}.${key}` : key;
    if (isPlainObject(value)) {
      return h(
        "fieldset",
        { class: "config-group" },
        h("legend", {}, humanize(key)),
        configFields(value, path),
      );
    }
    const id = `config-${path.replace(/[^a-zA-Z0-9_-]/g, "-")}`;
    const kind = value === null ? "nullable" : Array.isArray(value) ? "json" : typeof value;
    const attrs = { id, name: path, "data-field": path, "data-kind": kind };
    let control;
    if (kind === "boolean") control = h("input", { ...attrs, type: "checkbox", checked: value });
    else if (kind === "number")
      control = h("input", { ...attrs, type: "number", step: "any", value: String(value) });
    else if (kind === "json")
      control = h("input", { ...attrs, type: "text", value: JSON.stringify(value) });
    else
      control = h("input", {
        ...attrs,
        type: "text",
        value: value ?? "",
        placeholder: value === null ? "default" : "",
      });
    return h(
      "div",
      { class: kind === "boolean" ? "field field-check" : "field" },
      h("label", { for: id }, humanize(key)),
      control,
    );
  });
}

/** Read the form back into an object of the same shape and types. */
function configFrom(form) {
  const config = {};
  for (const control of form.querySelectorAll("[data-kind]")) {
    const path = control.dataset.field.split(".");
    const last = path.pop();
    let target = config;
    for (const part of path) target = target[part] ??= {};
    const raw = control.value.trim();
    switch (control.dataset.kind) {
      case "boolean":
        target[last] = control.checked;
        break;
      case "number":
        target[last] = raw === "" ? null : Number(raw);
        break;
      case "json":
        target[last] = raw === "" ? [] : JSON.parse(raw);
        break;
      case "nullable":
        target[last] = raw === "" ? null : /^-?\d+(\.\d+)?$/.test(raw) ? Number(raw) : raw;
        break;
      default:
        target[last] = control.value;
    }
  }
  return config;
}

function configSection(signal) {
  const body = h("div", {}, h("p", { class: "muted" }, "Loading configuration…"));
  const section = h(
    "section",
    { class: "panel", "aria-labelledby": "config-title" },
    h("h2", { id: "config-title" }, "Configuration"),
    body,
  );

  function showForm(config) {
    const save = h("button", { type: "submit", class: "btn btn-primary" }, "Save configuration");
    const form = h(
      "form",
      { class: "config-form", novalidate: true },
      configFields(config),
      h("div", { class: "actions" }, save),
    );
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      clearFieldErrors(form);
      let payload;
      try {
        payload = configFrom(form);
      } catch {
        showError(new Error("A list value is not valid JSON."));
        return;
      }
      save.disabled = true;
      try {
        showForm(await api("/api/config", { method: "PUT", body: payload }));
        showInfo("Configuration saved.");
      } catch (error) {
        // Nothing was applied (the server rejects a bad value whole): say which field.
        if (!showFieldErrors(form, error)) showError(error, { context: "Saving configuration" });
      } finally {
        save.disabled = false;
      }
    });
    setChildren(
      body,
      h(
        "p",
        { class: "muted" },
        "Defaults for batches and single images. Changes apply to new jobs.",
      ),
      form,
    );
  }

  api("/api/config", { signal }).then(showForm, (error) => {
    if (isAbort(error)) return;
    setChildren(body, inlineError(error));
  });
  return section;
}

export function renderSettings(main) {
  const scope = new AbortController();
  const keySection = h(
    "section",
    { class: "panel", "aria-labelledby": "key-title" },
    h("h2", { id: "key-title" }, "API key"),
  );
  if (session.authEnabled === false)
    keySection.append(h("p", { class: "muted" }, "This server does not require an API key."));
  else keySection.append(keyForm());
  setChildren(main, h("h1", {}, "Settings"), keySection, configSection(scope.signal));
  return () => scope.abort();
}

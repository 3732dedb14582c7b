// Form helpers: validation errors from the API shown next to the field they name.

import { h } from "./dom.js";

/** Remove every field error in `form`. */
export function clearFieldErrors(form) {
  for (const message of [...form.querySelectorAll(".field-error")]) message.remove();
  for (const input of [...form.querySelectorAll("[aria-invalid]")]) {
    input.removeAttribute("aria-invalid");
    const describedBy = (input.getAttribute("aria-describedby") ?? "")
      .split(" ")
      .filter((id) => id && !id.endsWith("-error"));
    if (describedBy.length) input.setAttribute("aria-describedby", describedBy.join(" "));
    else input.removeAttribute("aria-describedby");
  }
}

/** The control for an API field name ("defaults.steps", "user_theme"), if the form has it. */
export function controlFor(form, field) {
  if (!field) return null;
  const controls = [...form.querySelectorAll("[data-field], [name]")];
  const nameOf = (control) => control.dataset.field ?? control.name;
  return (
    controls.find((control) => nameOf(control) === field) ??
    // The API may name a field with a prefix the form does not use (e.g. "body.").
    controls.find((control) => field.endsWith(`.${nameOf(control)}`)) ??
    null
  );
}

/**
 * Show `error` (an ApiError) next to the field(s) it names.
 * Returns true when at least one message was placed next to a field.
 */
export function showFieldErrors(form, error) {
  const problems = error.details?.length
    ? error.details
    : [{ field: error.field, message: error.message }];
  let placed = false;
  for (const problem of problems) {
    const control = controlFor(form, problem.field);
    if (!control || control.getAttribute("aria-invalid") === "true") continue;
    const id = `${control.id || control.name}-error`;
    const message = h("p", { class: "field-error", id }, problem.message);
    control.setAttribute("aria-invalid", "true");
    const describedBy = control.getAttribute("aria-describedby");
    control.setAttribute("aria-describedby", describedBy ? `${describedBy} ${id}` : id);
    (control.closest(".field") ?? control.parentElement).append(message);
    if (!placed) control.focus();
    placed = true;
  }
  return placed;
}

/** A labelled control: <div class="field"><label/>control<p hint/></div>. */
export function field({ label, control, hint }) {
  const hintId = hint ? `${control.id}-hint` : null;
  if (hintId) control.setAttribute("aria-describedby", hintId);
  return h(
    "div",
    { class: "field" },
    h("label", { for: control.id }, label),
    control,
    hint ? h("p", { class: "hint", id: hintId }, hint) : null,
  );
}

// The gateway (SPEC §6): a chat message to one of the chat endpoints (or a prompt to
// imagegen) → the image, its caption, the prompt used and the content policy applied.
// A request that outlives the endpoint's timeout answers 202 {job_id}; the job is followed.
// Below it, the selfie → avatar half (gateway-profile.js).

import { api, isAbort } from "../api.js";
import { h, placeholder, setChildren, shortId } from "../dom.js";
import { clearFieldErrors, field, showFieldErrors } from "../forms.js";
import { showError } from "../notices.js";
import { renderProfile } from "./gateway-profile.js";
import { followJob } from "./gateway-jobs.js";

// [value, label, path, what the text box holds]
const ENDPOINTS = [
  ["1to1", "Chat 1-to-1", "/v1/chat/1to1/imagegen", "message"],
  ["shorts", "Shorts", "/v1/chat/shorts/generate", "message"],
  ["scenes", "Scenes", "/v1/chat/scenes/generate", "message"],
  ["imagegen", "Image generation (a prompt, no chat)", "/v1/imagegen", "prompt"],
];

export function renderGateway(main) {
  const scope = new AbortController();
  let stopFollowing = () => {};
  const endpoint = h(
    "select",
    { id: "gw-endpoint", name: "endpoint" },
    ENDPOINTS.map(([value, label]) => h("option", { value }, label)),
  );
  const message = h("textarea", {
    id: "gw-message",
    name: "message",
    rows: 4,
    required: true,
    maxlength: 20000,
  });
  const messageLabel = h("label", { for: "gw-message" }, "Message");
  const number = (name, attrs) =>
    h("input", { id: `gw-${name}`, name, type: "number", inputmode: "numeric", ...attrs });
  const seed = number("seed", { min: 0, step: 1 });
  const width = number("width", { min: 64, max: 2048, step: 8 });
  const height = number("height", { min: 64, max: 2048, step: 8 });
  const submit = h("button", { type: "submit", class: "btn btn-primary" }, "Send");
  const result = h("section", {
    class: "panel gateway-result",
    "aria-live": "polite",
    "aria-label": "Gateway answer",
    hidden: true,
  });
  const form = h(
    "form",
    { class: "panel", novalidate: true, "aria-labelledby": "chat-title" },
    h("h2", { id: "chat-title" }, "Chat image"),
    field({
      label: "Endpoint",
      control: endpoint,
      hint: "Each endpoint has its own content policy.",
    }),
    h("div", { class: "field" }, messageLabel, message),
    h(
      "div",
      { class: "row gateway-numbers" },
      field({ label: "Seed", control: seed, hint: "Empty: random." }),
      field({ label: "Width", control: width, hint: "Empty: the model's." }),
      field({ label: "Height", control: height, hint: "Empty: the model's." }),
    ),
    h("div", { class: "actions" }, submit),
  );
  endpoint.addEventListener("change", () => {
    messageLabel.textContent = chosen()[3] === "prompt" ? "Prompt" : "Message";
  });
  const chosen = () => ENDPOINTS.find(([value]) => value === endpoint.value);

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearFieldErrors(form);
    stopFollowing();
    const [, label, path, textField] = chosen();
    message.name = textField; // so a field error ("prompt" or "message") lands here
    const body = { [textField]: message.value };
    for (const [name, control] of [["seed", seed], ["width", width], ["height", height]]) {
      if (control.value.trim() !== "") body[name] = Number(control.value);
    }
    result.hidden = false;
    setChildren(result, placeholder(`Waiting for ${label}…`, "hint"));
    submit.disabled = true;
    try {
      const answer = await api(path, { method: "POST", body, signal: scope.signal });
      if (answer.image_base64) showAnswer(result, answer);
      else stopFollowing = followJob(answer.job_id, result, (done) => showAnswer(result, done));
    } catch (error) {
      if (isAbort(error)) return;
      result.hidden = true;
      if (!showFieldErrors(form, error) || error.status !== 422)
        showError(error, { context: label });
    } finally {
      submit.disabled = false;
    }
  });

  const profile = renderProfile();
  setChildren(main, h("h1", {}, "Gateway"), form, result, profile.element);
  return () => {
    scope.abort();
    stopFollowing();
    profile.close();
  };
}

function showAnswer(box, answer) {
  const policy = answer.policy;
  const check = policy.output_check;
  setChildren(
    box,
    h(
      "figure",
      { class: "gateway-figure" },
      h("img", {
        src: `data:image/png;base64,${answer.image_base64}`,
        alt: answer.caption ?? answer.prompt_used,
      }),
      answer.caption ? h("figcaption", { class: "gateway-caption" }, answer.caption) : null,
    ),
    h(
      "dl",
      { class: "params" },
      param("Prompt used", answer.prompt_used, "prompt"),
      param("Model", answer.model, "model"),
      param("Seed", String(answer.seed), "seed"),
      param("Policy", policy.endpoint_policy, "policy"),
      param(
        "Constraints",
        policy.constraints_applied.length ? policy.constraints_applied.join(", ") : "none",
        "constraints",
      ),
      param("Negative prompt", policy.negative_prompt_used ? "used" : "not used", "negative"),
      param("Output check", checkText(check), "output-check"),
      param("Job", h("a", { href: "#/queue" }, shortId(answer.job_id)), "job"),
    ),
  );
}

function checkText(check) {
  if (!check) return "none (unrestricted endpoint)";
  const verdict = check.passed ? "passed" : "refused";
  return `${verdict}: ${check.model} scored ${check.score.toFixed(3)} (threshold ${check.threshold})`;
}

function param(label, value, key) {
  return h(
    "div",
    { class: "param", dataset: { param: key } },
    h("dt", {}, label),
    h("dd", {}, value),
  );
}

// One image from a prompt (POST /api/generate). "Use these settings" in the image
// view lands here with the form filled in; the job's progress shows live below.

import { api } from "../api.js";
import { h, progressBar, setChildren, shortId, statusBadge } from "../dom.js";
import { clearFieldErrors, field, showFieldErrors } from "../forms.js";
import { enableGridNavigation, refreshGridTabStops } from "../gridnav.js";
import { lazyImage } from "../images.js";
import { isTerminal, subscribe } from "../live.js";
import { showError } from "../notices.js";
import { parseLoras, takeDraft } from "../params.js";
import { openViewer } from "../viewer.js";
import { errorText } from "./cards.js";

// [name, label, attributes, hint]; names are the API's fields.
const FIELDS = [
  ["prompt", "Prompt", { tag: "textarea", rows: 4, required: true, maxlength: 2000 }],
  [
    "negative_prompt",
    "Negative prompt",
    { tag: "textarea", rows: 2, maxlength: 2000 },
    "Empty: the platform's negative prompt for the model. Legal safety terms are always added.",
  ],
  [
    "model",
    "Model",
    { type: "text", autocomplete: "off" },
    "A style (photorealistic, anime), a model id or a path. Empty: the studio default.",
  ],
  ["width", "Width", { type: "number", min: 64, step: 8, inputmode: "numeric" }],
  ["height", "Height", { type: "number", min: 64, step: 8, inputmode: "numeric" }],
  ["steps", "Steps", { type: "number", min: 1, max: 100, step: 1, inputmode: "numeric" }],
  ["guidance", "Guidance", { type: "number", min: 1, max: 20, step: 0.5, inputmode: "decimal" }],
  ["seed", "Seed", { type: "number", min: 0, step: 1, inputmode: "numeric" }, "Empty: random."],
  ["scheduler", "Scheduler", { type: "text", autocomplete: "off" }],
  [
    "loras",
    "LoRAs",
    { tag: "textarea", rows: 2, "data-field": "loras" },
    "One per line: id-or-path:weight",
  ],
];
const NUMBERS = new Set(["width", "height", "steps", "guidance", "seed"]);

function control(name, { tag = "input", ...attrs }) {
  return h(tag, { id: `gen-${name}`, name, ...attrs });
}

/** The request body: empty fields are left out so the server's defaults apply. */
function bodyFrom(form) {
  const body = {};
  for (const [name] of FIELDS) {
    const value = form.elements[name].value.trim();
    if (value === "") continue;
    if (name === "loras") body.loras = parseLoras(value);
    else body[name] = NUMBERS.has(name) ? Number(value) : value;
  }
  return body;
}

export function renderGenerate(main) {
  const submit = h("button", { type: "submit", class: "btn btn-primary" }, "Generate");
  const form = h(
    "form",
    { class: "panel generate-form", novalidate: true, "aria-labelledby": "generate-title" },
    h("h2", { id: "generate-title" }, "One image"),
    h(
      "div",
      { class: "field-grid" },
      FIELDS.map(([name, label, attrs, hint]) =>
        h(
          "div",
          { class: `cell cell-${name}` },
          field({ label, control: control(name, attrs), hint }),
        ),
      ),
    ),
    h(
      "div",
      { class: "actions" },
      submit,
      h("button", { type: "reset", class: "btn btn-quiet" }, "Clear"),
    ),
  );
  const result = h("section", {
    class: "panel job-result",
    "aria-live": "polite",
    "aria-label": "Generation progress",
    hidden: true,
  });
  setChildren(main, h("h1", {}, "Generate"), form, result);

  const draft = takeDraft();
  if (draft) {
    for (const [name, value] of Object.entries(draft)) {
      if (form.elements[name]) form.elements[name].value = value ?? "";
    }
    form.elements.prompt.focus();
  }

  let unsubscribe = () => {};
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearFieldErrors(form);
    submit.disabled = true;
    try {
      const job = await api("/api/generate", { method: "POST", body: bodyFrom(form) });
      unsubscribe();
      unsubscribe = follow(job.job_id, result);
    } catch (error) {
      if (!showFieldErrors(form, error) || error.status !== 422)
        showError(error, { context: "Generating" });
    } finally {
      submit.disabled = false;
    }
  });
  return () => unsubscribe();
}

/** Show a job's progress live, then its image when it succeeds. */
function follow(jobId, box) {
  box.hidden = false;
  const show = (status, detail) =>
    setChildren(
      box,
      h("h2", {}, `Job ${shortId(jobId)}`),
      h("p", {}, statusBadge(status)),
      detail ?? null,
      h("p", {}, h("a", { href: "#/queue" }, "See the queue")),
    );
  show("queued");
  const stop = subscribe(async (event) => {
    if (event.jobId !== jobId) return;
    const { status, step, total } = event.payload ?? {};
    if (event.type === "JOB_PROGRESS")
      show("running", progressBar({ value: step, max: total, label: `Step ${step} of ${total}` }));
    else if (!isTerminal(event)) show(status);
    else {
      stop();
      const job = await api(`/api/jobs/${encodeURIComponent(jobId)}`).catch(() => null);
      show(status, outcome(job));
    }
  });
  return stop;
}

// A finished job's images: result.images[] = {imageUrl, thumbnailUrl, sidecarUrl, seed}.
function outcome(job) {
  if (!job) return null;
  if (job.error) return h("p", { class: "inline-error" }, errorText(job.error));
  const images = job.result?.images ?? [];
  if (images.length === 0) return null;
  const list = h("ul", { class: "grid", "aria-label": "Generated images" });
  images.forEach((image, i) => {
    const title = `Image ${i + 1} (seed ${image.seed})`;
    const open = () =>
      openViewer({
        title,
        imageUrl: image.imageUrl,
        params: image.sidecarUrl ? api(image.sidecarUrl) : Promise.resolve(null),
      });
    const card = h(
      "button",
      { type: "button", class: "card", "data-card": true, "aria-label": title, onclick: open },
      h("div", { class: "thumb" }, lazyImage(image.thumbnailUrl ?? image.imageUrl, { alt: title })),
      h("div", { class: "card-body" }, h("strong", { class: "card-title" }, title)),
    );
    list.append(h("li", {}, card));
  });
  enableGridNavigation(list);
  refreshGridTabStops(list);
  return list;
}

// One image from a prompt (POST /api/generate). Model, sampler, size and LoRAs are
// picked from what the server has, so a typo cannot reach a job. "Use these settings"
// in the image view lands here with the form filled in; the job runs in place below,
// with its live preview and then its images and their parameters.

import { api, isAbort } from "../api.js";
import { h, setChildren } from "../dom.js";
import { modelDownloads } from "../downloads.js";
import { clearFieldErrors, field, showFieldErrors } from "../forms.js";
import { showError } from "../notices.js";
import { parseLoras, takeDraft } from "../params.js";
import {
  chosenLoras,
  modelFacts,
  modelOptions,
  samplerOptions,
  showLoras,
  sizeOptions,
} from "../pickers.js";
import { followJob } from "./generate-job.js";

const NUMBERS = ["width", "height", "steps", "guidance", "seed"];
const TEXTS = ["prompt", "negative_prompt", "model", "scheduler"];

const input = (name, attrs) => h("input", { id: `gen-${name}`, name, ...attrs });
const text = (name, attrs) =>
  h("textarea", { id: `gen-${name}`, name, maxlength: 2000, ...attrs });
const cell = (name, label, control, hint) =>
  h("div", { class: `cell cell-${name}` }, field({ label, control, hint }));

/** The request body: empty fields are left out so the server's defaults apply. */
function bodyFrom(form, loraBox) {
  const body = {};
  for (const name of [...TEXTS, ...NUMBERS]) {
    const value = form.elements[name].value.trim();
    if (value !== "") body[name] = NUMBERS.includes(name) ? Number(value) : value;
  }
  const loras = chosenLoras(loraBox);
  if (loras.length) body.loras = loras;
  return body;
}

function buildForm() {
  const controls = {
    prompt: text("prompt", { rows: 4, required: true }),
    negative: text("negative_prompt", { rows: 2 }),
    model: h("select", { id: "gen-model", name: "model" }, h("option", {}, "Loading models…")),
    size: h("select", { id: "gen-size" }),
    width: input("width", { type: "number", min: 64, step: 8, inputmode: "numeric" }),
    height: input("height", { type: "number", min: 64, step: 8, inputmode: "numeric" }),
    steps: input("steps", { type: "number", min: 1, max: 100, step: 1, inputmode: "numeric" }),
    guidance: input("guidance", {
      type: "number",
      min: 1,
      max: 20,
      step: 0.5,
      inputmode: "decimal",
    }),
    seed: input("seed", { type: "number", min: 0, step: 1, inputmode: "numeric" }),
    scheduler: h("select", { id: "gen-scheduler", name: "scheduler" }),
  };
  const facts = h("p", { class: "model-facts", id: "gen-model-facts", "aria-live": "polite" });
  // renderGenerate refreshes the model list on "models-changed".
  const downloads = modelDownloads({
    onDone: () => form.dispatchEvent(new Event("models-changed")),
  });
  controls.model.setAttribute("aria-describedby", "gen-model-facts");
  const loraBox = h("div", { class: "lora-picker", "data-field": "loras" });
  const submit = h("button", { type: "submit", class: "btn btn-primary" }, "Generate");
  const form = h(
    "form",
    { class: "panel generate-form", novalidate: true, "aria-labelledby": "generate-title" },
    h("h2", { id: "generate-title" }, "One image"),
    h(
      "div",
      { class: "field-grid" },
      cell("prompt", "Prompt", controls.prompt),
      cell(
        "negative_prompt",
        "Negative prompt",
        controls.negative,
        "Empty: the platform's negative prompt for the model. Legal safety terms are always added.",
      ),
      h(
        "div",
        { class: "cell cell-model" },
        field({ label: "Model", control: controls.model }),
        facts,
        downloads.element,
      ),
      cell("size", "Size", controls.size),
      cell("width", "Width", controls.width),
      cell("height", "Height", controls.height),
      cell("scheduler", "Sampler", controls.scheduler),
      cell("steps", "Steps", controls.steps),
      cell("guidance", "Guidance", controls.guidance),
      cell("seed", "Seed", controls.seed, "Empty: random."),
      h("fieldset", { class: "cell cell-loras config-group" }, h("legend", {}, "LoRAs"), loraBox),
    ),
    h(
      "div",
      { class: "actions" },
      submit,
      h("button", { type: "reset", class: "btn btn-quiet" }, "Clear"),
    ),
  );
  return { form, controls, facts, loraBox, submit, downloads };
}

export function renderGenerate(main) {
  const { form, controls, facts, loraBox, submit, downloads } = buildForm();
  const result = h("section", {
    class: "panel job-result",
    "aria-live": "polite",
    "aria-label": "Generation progress",
    hidden: true,
  });
  setChildren(main, h("h1", {}, "Generate"), form, result);

  const draft = takeDraft();
  // An image's parameters name a LoRA by its file path; the picker by its file stem.
  const stem = (path) => path.split(/[\\/]/).pop().replace(/\.safetensors$/, "");
  const chosen = new Map(
    parseLoras(draft?.loras ?? "").map((lora) => [lora.id ?? stem(lora.path), lora.weight]),
  );
  // Model, sampler and LoRAs are picked once the lists arrive; the rest is filled now.
  for (const name of ["prompt", "negative_prompt", ...NUMBERS]) {
    if (draft?.[name] !== undefined) form.elements[name].value = draft[name] ?? "";
  }
  if (draft) controls.prompt.focus();

  const aborter = new AbortController();
  let models = [];
  let loraLoad = null;

  // A new model: its facts, samplers, native sizes and the LoRAs that fit it.
  const modelChanged = ({ keepSize = false, scheduler = controls.scheduler.value } = {}) => {
    const model = models.find((one) => one.model_id === controls.model.value);
    setChildren(facts, modelFacts(model));
    setChildren(controls.scheduler, samplerOptions(model, scheduler));
    setChildren(controls.size, sizeOptions(model));
    if (keepSize) sizeFromFields();
    else applySize();
    loraLoad?.abort();
    loraLoad = new AbortController();
    showLoras(loraBox, { modelId: model?.model_id, chosen, signal: loraLoad.signal });
  };
  const applySize = () => {
    const [width, height] = controls.size.value.split("x");
    if (!width) return;
    controls.width.value = width;
    controls.height.value = height;
  };
  // Fields filled from a draft pick their preset, or "Custom".
  const sizeFromFields = () => {
    const value = `${controls.width.value}x${controls.height.value}`;
    const found = [...controls.size.options].some((option) => option.value === value);
    controls.size.value = found ? value : "";
    if (!controls.width.value) applySize();
  };
  controls.model.addEventListener("change", () => modelChanged());
  controls.size.addEventListener("change", applySize);
  for (const side of [controls.width, controls.height])
    side.addEventListener("input", sizeFromFields);

  // Remember what is ticked, so a model change keeps the user's LoRA choices.
  loraBox.addEventListener("change", () => {
    chosen.clear();
    for (const lora of chosenLoras(loraBox)) chosen.set(lora.id, lora.weight);
  });

  // After a job the model may be warm now: its facts say so.
  const refreshModels = () =>
    api("/api/images/models", { signal: aborter.signal }).then(
      (found) => {
        models = found;
        const value = controls.model.value;
        const known = models.some((model) => model.model_id === value);
        const extra = known ? null : value;
        setChildren(controls.model, modelOptions(models, { selected: value, extra }));
        setChildren(facts, modelFacts(models.find((model) => model.model_id === value)));
        downloads.update(models);
      },
      () => {}, // the facts stay as they were; the form still works
    );

  Promise.all([
    api("/api/images/models", { signal: aborter.signal }),
    api("/api/config", { signal: aborter.signal }).catch(() => null),
  ]).then(
    ([found, config]) => {
      models = found;
      const wanted = draft?.model || config?.model || "";
      const byId = models.find((model) => model.model_id === wanted);
      const byStyle = models.find((model) => model.type === wanted && model.downloaded !== false);
      const selected = byId?.model_id ?? byStyle?.model_id;
      const extra = !selected && wanted ? wanted : null;
      setChildren(controls.model, modelOptions(models, { selected, extra }));
      downloads.update(models);
      modelChanged({ keepSize: Boolean(draft?.width), scheduler: draft?.scheduler ?? "" });
    },
    (error) => {
      if (!isAbort(error)) showError(error, { context: "Loading the models" });
    },
  );

  // A finished download: the model can be picked now.
  form.addEventListener("models-changed", refreshModels);

  let unsubscribe = () => {};
  form.addEventListener("reset", () => {
    chosen.clear();
    // After the browser has reset the fields, fill the model's defaults back in.
    setTimeout(() => modelChanged(), 0);
  });
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearFieldErrors(form);
    submit.disabled = true;
    try {
      const job = await api("/api/generate", { method: "POST", body: bodyFrom(form, loraBox) });
      unsubscribe();
      unsubscribe = followJob(job.job_id, result, { onEnd: refreshModels });
    } catch (error) {
      if (!showFieldErrors(form, error) || error.status !== 422)
        showError(error, { context: "Generating" });
    } finally {
      submit.disabled = false;
    }
  });
  return () => {
    aborter.abort();
    loraLoad?.abort();
    unsubscribe();
    downloads.stop();
  };
}

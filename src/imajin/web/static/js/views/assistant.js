// The prompt assistant (SPEC §4.1): prompts from a pipeline, and analyze-context with its
// reasoning chain shown stage by stage. "Use in Generate / Variations" hands a prompt on.

import { api, isAbort } from "../api.js";
import { h, humanize, placeholder, setChildren } from "../dom.js";
import { clearFieldErrors, field, showFieldErrors } from "../forms.js";
import { usePrompt } from "../handoff.js";
import { inlineError, showError } from "../notices.js";

// The 7-level scale (SPEC §1.3), lowest first; "" leaves the level to the instance policy.
const LEVELS = [
  ["sfw", "Safe for work"],
  ["suggestive", "Suggestive"],
  ["mature", "Mature"],
  ["explicit_soft", "Explicit (soft)"],
  ["explicit_nude", "Explicit (nude)"],
  ["explicit_sexual", "Explicit (sexual)"],
  ["extreme", "Extreme"],
];

export function renderAssistant(main) {
  const scope = new AbortController();
  const signal = scope.signal;
  setChildren(
    main,
    h("h1", {}, "Assistant"),
    h("div", { class: "screen-columns" }, analyzeSection(signal), pipelineSection(signal)),
  );
  return () => scope.abort();
}

/** Show `error` next to its field, else as a notice. */
function reportError(form, error, context) {
  if (isAbort(error)) return;
  // "instanceYaml.factorWeights.x" belongs to the YAML box even though it names a key inside.
  const field = error.field?.startsWith("instanceYaml.") ? "instanceYaml" : error.field;
  const placed = showFieldErrors(form, { field, message: error.message, details: error.details });
  if (!placed || error.status !== 422) showError(error, { context });
}

async function submitting(button, work) {
  button.disabled = true;
  try {
    await work();
  } finally {
    button.disabled = false;
  }
}

// -- analyze-context ------------------------------------------------------------------

function analyzeSection(signal) {
  const category = h("input", {
    id: "ctx-category",
    name: "category",
    required: true,
    maxlength: 200,
  });
  const city = h("input", { id: "ctx-city", name: "city", maxlength: 200 });
  const filters = h("input", { id: "ctx-filters", name: "filters", autocomplete: "off" });
  const level = (name) =>
    h(
      "select",
      { id: `ctx-${name}`, name, "data-field": `maturity.${name}` },
      h("option", { value: "" }, "Instance default"),
      LEVELS.map(([value, label]) => h("option", { value }, label)),
    );
  const minimum = level("minimumRating");
  const expected = level("expectedRating");
  const maximum = level("maximumRating");
  const instance = h("input", { id: "ctx-instance", name: "instance", autocomplete: "off" });
  const yaml = h("textarea", {
    id: "ctx-instance-yaml",
    name: "instanceYaml",
    rows: 6,
    spellcheck: "false",
    class: "code-input",
  });
  const cache = h("input", { id: "ctx-cache", name: "cache", type: "checkbox", checked: true });
  const submit = h("button", { type: "submit", class: "btn btn-primary" }, "Analyze");
  const result = h("div", { class: "analysis", "aria-live": "polite" });
  const form = h(
    "form",
    { novalidate: true },
    field({ label: "Category", control: category, hint: "What the page is about." }),
    field({ label: "City", control: city, hint: "Where, if the page is local." }),
    field({ label: "Filters", control: filters, hint: "Comma-separated terms." }),
    h(
      "fieldset",
      { class: "field maturity-band" },
      h("legend", {}, "Maturity band"),
      h(
        "div",
        { class: "row" },
        field({ label: "Minimum", control: minimum }),
        field({ label: "Expected", control: expected }),
        field({ label: "Maximum", control: maximum }),
      ),
    ),
    field({
      label: "Instance name",
      control: instance,
      hint: "One of the deployer's assistant.instances; empty: the default one.",
    }),
    field({
      label: "Or paste an instance (YAML)",
      control: yaml,
      hint: "instanceName, factorWeights, extractionGoals, maturityPolicy (SPEC §4.3).",
    }),
    h(
      "div",
      { class: "field field-check" },
      h("label", { for: "ctx-cache" }, "Use cached answers"),
      cache,
    ),
    h("div", { class: "actions" }, submit),
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    clearFieldErrors(form);
    const body = { category: category.value.trim(), cache: cache.checked };
    if (city.value.trim()) body.city = city.value.trim();
    body.filters = filters.value
      .split(",")
      .map((term) => term.trim())
      .filter(Boolean);
    const maturity = {};
    const band = [
      ["minimumRating", minimum],
      ["expectedRating", expected],
      ["maximumRating", maximum],
    ];
    for (const [key, select] of band) {
      if (select.value) maturity[key] = select.value;
    }
    if (Object.keys(maturity).length) body.maturity = maturity;
    if (instance.value.trim()) body.instance = instance.value.trim();
    if (yaml.value.trim()) body.instanceYaml = yaml.value;
    setChildren(result, placeholder("Asking the model, stage by stage…", "hint"));
    submitting(submit, async () => {
      try {
        showAnalysis(result, await api("/analyze-context", { method: "POST", body, signal }));
      } catch (error) {
        setChildren(result);
        reportError(form, error, "Analyzing the context");
      }
    });
  });
  return h(
    "section",
    { class: "panel", "aria-labelledby": "analyze-title" },
    h("h2", { id: "analyze-title" }, "Analyze a page's context"),
    form,
    result,
  );
}

function showAnalysis(box, config) {
  setChildren(
    box,
    h("h3", {}, "Generation config"),
    h(
      "dl",
      { class: "params analysis-summary" },
      param("Instance", config.instanceName),
      param("Model style", config.model),
      param(
        "Maturity",
        config.maturityClamped
          ? `${config.maturityLevel} (moved into the band)`
          : config.maturityLevel,
      ),
      param("Reasoning", config.reasoning),
    ),
    h("ul", { class: "plain prompt-results" }, config.prompts.map(promptResult)),
    h("h3", {}, "Extracted"),
    h(
      "dl",
      { class: "params extracted" },
      Object.entries(config.extracted).map(([name, value]) => param(humanize(name), text(value))),
    ),
    h("h3", { id: "chain-title" }, `Reasoning chain (${config.reasoningChain.length} stages)`),
    h(
      "ol",
      { class: "chain", "aria-labelledby": "chain-title" },
      config.reasoningChain.map(chainStep),
    ),
  );
}

function chainStep(step) {
  const timing = `${step.cached ? "cached" : "asked"} · ${Math.round(step.durationMs)} ms`;
  return h(
    "li",
    { class: "chain-step", dataset: { stage: step.stage, cached: String(step.cached) } },
    h(
      "details",
      {},
      h(
        "summary",
        {},
        h("strong", { class: "chain-stage" }, step.stage),
        " ",
        h("span", { class: "chain-model" }, step.llmModel),
        " ",
        h("span", { class: "chain-timing muted" }, timing),
      ),
      h("h4", {}, "Question"),
      h("pre", { class: "chain-question" }, step.question),
      h("h4", {}, "Answer"),
      h("pre", { class: "chain-answer" }, JSON.stringify(step.response, null, 2)),
    ),
  );
}

function param(label, value) {
  return h("div", { class: "param" }, h("dt", {}, label), h("dd", {}, value));
}

function text(value) {
  if (value === null || value === undefined || value === "") return "—";
  return typeof value === "object" ? JSON.stringify(value) : String(value);
}

/** One prompt with what it was made for and the buttons that hand it on. */
function promptResult(prompt, index) {
  const size = prompt.width && prompt.height ? ` · ${prompt.width}×${prompt.height}` : "";
  return h(
    "li",
    { class: "prompt-result" },
    h("p", { class: "prompt" }, prompt.prompt),
    h("p", { class: "hint" }, `Model style ${prompt.model}${size}`),
    h(
      "details",
      {},
      h("summary", {}, "Negative prompt"),
      h("p", { class: "prompt negative" }, prompt.negativePrompt),
    ),
    h(
      "div",
      { class: "actions" },
      handOn(prompt, index, "generate", "Generate"),
      handOn(prompt, index, "variations", "Variations"),
    ),
  );
}

function handOn(prompt, index, screen, label) {
  return h(
    "button",
    {
      type: "button",
      class: "btn btn-small",
      onclick: () => usePrompt(screen, prompt),
      "aria-label": `Use prompt ${index + 1} in ${label}`,
    },
    `Use in ${label}`,
  );
}

// -- generate-prompts from a pipeline --------------------------------------------------

function pipelineSection(signal) {
  const pipeline = h("select", { id: "pipe-id", name: "pipelineId", required: true });
  const about = h("p", { class: "hint", id: "pipe-about", "aria-live": "polite" });
  pipeline.setAttribute("aria-describedby", "pipe-about");
  const inputs = h("div", { class: "pipeline-inputs" });
  const number = (name, attrs) =>
    h("input", { id: `pipe-${name}`, name, type: "number", inputmode: "numeric", ...attrs });
  const count = number("count", { min: 1, value: 3 });
  const seed = number("seed", { min: 0 });
  const submit = h("button", { type: "submit", class: "btn btn-primary" }, "Generate prompts");
  const result = h("div", { "aria-live": "polite" });
  const form = h(
    "form",
    { novalidate: true },
    h("div", { class: "field" }, h("label", { for: "pipe-id" }, "Pipeline"), pipeline, about),
    inputs,
    h(
      "div",
      { class: "row" },
      field({ label: "Count", control: count }),
      field({ label: "Seed", control: seed, hint: "Same seed, same permutations." }),
    ),
    h("div", { class: "actions" }, submit),
  );
  let pipelines = [];

  function describe() {
    const chosen = pipelines.find((p) => p.id === pipeline.value);
    about.textContent = chosen?.description ?? "";
    setChildren(
      inputs,
      Object.entries(chosen?.inputs ?? {}).map(([name, spec]) =>
        field({
          label: `${humanize(name)}${spec.required ? " (required)" : ""}`,
          control: h("input", {
            id: `pipe-input-${name}`,
            name: `inputs.${name}`,
            "data-input": name,
            required: spec.required,
            placeholder: spec.default ?? "",
            autocomplete: "off",
          }),
          hint: spec.description,
        }),
      ),
    );
  }
  pipeline.addEventListener("change", describe);

  (async () => {
    try {
      pipelines = (await api("/pipelines", { signal })).pipelines;
      setChildren(
        pipeline,
        pipelines.map((p) => h("option", { value: p.id }, p.name)),
      );
      describe();
    } catch (error) {
      if (!isAbort(error)) setChildren(inputs, inlineError(error));
    }
  })();

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    clearFieldErrors(form);
    const values = {};
    for (const control of inputs.querySelectorAll("[data-input]")) {
      if (control.value.trim()) values[control.dataset.input] = control.value.trim();
    }
    const body = { pipelineId: pipeline.value, inputs: values, count: Number(count.value || 1) };
    if (seed.value.trim()) body.seed = Number(seed.value);
    setChildren(result, placeholder("Writing prompts…", "hint"));
    submitting(submit, async () => {
      try {
        const answer = await api("/generate-prompts", { method: "POST", body, signal });
        setChildren(
          result,
          h("h3", {}, `${answer.prompts.length} prompts`),
          h("ul", { class: "plain prompt-results" }, answer.prompts.map(promptResult)),
        );
      } catch (error) {
        setChildren(result);
        reportError(form, error, "Generating prompts");
      }
    });
  });
  return h(
    "section",
    { class: "panel", "aria-labelledby": "pipelines-title" },
    h("h2", { id: "pipelines-title" }, "Prompts from a pipeline"),
    form,
    result,
  );
}

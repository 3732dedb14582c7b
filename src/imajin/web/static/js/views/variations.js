// Variations (SPEC §3): create one (name, category, prompt, model, seed, families),
// watch its families finish live, copy each derivative's URL, regenerate or delete it.
// #/variations lists them with the form; #/variations/<id> shows one.

import { api, isAbort } from "../api.js";
import {
  debounce,
  h,
  placeholder,
  progressBar,
  setChildren,
  statusBadge,
  timeElement,
} from "../dom.js";
import { clearFieldErrors, field, showFieldErrors } from "../forms.js";
import { takeVariationDraft } from "../handoff.js";
import { lazyImage } from "../images.js";
import { subscribe } from "../live.js";
import { inlineError, showError, showInfo } from "../notices.js";
import { thumbnailDerivative } from "./cards.js";

const ACTIVE = new Set(["queued", "generating"]);

export function renderVariations(main, variationId) {
  const scope = new AbortController();
  const stop = variationId
    ? renderOne(main, variationId, scope.signal)
    : renderList(main, scope.signal);
  return () => {
    scope.abort();
    stop();
  };
}

// -- the list and the form ------------------------------------------------------------

function renderList(main, signal) {
  const form = createForm(signal);
  const recent = h("ul", { class: "grid", id: "variations-grid", "aria-label": "Variations" });
  const recentBox = h(
    "section",
    { class: "panel", "aria-labelledby": "recent-variations-title" },
    h("h2", { id: "recent-variations-title" }, "Recent variations"),
    recent,
  );
  setChildren(
    main,
    h("h1", {}, "Variations"),
    h("div", { class: "screen-columns" }, form, recentBox),
  );

  async function load() {
    try {
      const page = await api("/api/images/variations", { query: { limit: 24 }, signal });
      setChildren(
        recent,
        page.items.length
          ? page.items.map(variationLink)
          : h("li", {}, placeholder("No variations yet: create the first one.")),
      );
    } catch (error) {
      if (!isAbort(error)) setChildren(recent, h("li", {}, inlineError(error, { retry: load })));
    }
  }
  load();
  const reload = debounce(load, 300);
  const unsubscribe = subscribe((event) => {
    if (event.type.startsWith("IMAGE_")) reload();
  });
  return () => {
    reload.cancel();
    unsubscribe();
  };
}

function variationLink(variation) {
  const thumb = thumbnailDerivative(variation);
  return h(
    "li",
    {},
    h(
      "a",
      {
        class: "card",
        href: `#/variations/${encodeURIComponent(variation.id)}`,
        "aria-label": `Variation ${variation.name}, ${variation.status}`,
      },
      h(
        "div",
        { class: "thumb" },
        thumb
          ? lazyImage(thumb.publicUrl, { alt: "" })
          : h("span", { class: "thumb-empty" }, variation.name),
      ),
      h(
        "div",
        { class: "card-body" },
        h("strong", { class: "card-title" }, variation.name),
        h("span", { class: "card-sub" }, variation.category),
        h("span", { class: "card-meta" }, statusBadge(variation.status)),
      ),
    ),
  );
}

function smallButton(label, onclick) {
  return h("button", { type: "button", class: "btn btn-small", onclick }, label);
}

function input(name, attrs = {}) {
  return h("input", { id: `var-${name}`, name, type: "text", autocomplete: "off", ...attrs });
}

function createForm(signal) {
  const name = input("name", {
    required: true,
    maxlength: 100,
    pattern: "[A-Za-z0-9_][A-Za-z0-9_\\-]*",
    spellcheck: "false",
  });
  const category = input("category", { value: "general", maxlength: 100 });
  const textarea = (id, name, rows, attrs = {}) =>
    h("textarea", { id, name, rows, maxlength: 2000, ...attrs });
  const prompt = textarea("var-prompt", "prompt", 3, { required: true });
  const negative = textarea("var-negative", "negative_prompt", 2);
  const model = h("select", { id: "var-model", name: "model" });
  const seed = input("seed", { type: "number", min: 0, step: 1, inputmode: "numeric" });
  const steps = input("steps", {
    name: "inference_steps",
    type: "number",
    min: 1,
    max: 100,
    step: 1,
    inputmode: "numeric",
  });
  const guidance = input("guidance", {
    name: "guidance_scale",
    type: "number",
    min: 1,
    max: 20,
    step: 0.5,
    inputmode: "decimal",
  });
  const families = h("div", { class: "family-list", id: "var-families" });
  const familyBox = h(
    "fieldset",
    { class: "field family-picker", "data-field": "families" },
    h("legend", {}, "Families"),
    h(
      "div",
      { class: "row" },
      smallButton("All", () => checkAll(true)),
      smallButton("None", () => checkAll(false)),
    ),
    families,
  );
  const submit = h("button", { type: "submit", class: "btn btn-primary" }, "Create variation");
  const form = h(
    "form",
    { class: "panel variation-form", novalidate: true, "aria-labelledby": "variation-form-title" },
    h("h2", { id: "variation-form-title" }, "New variation"),
    field({
      label: "Name",
      control: name,
      hint: "Letters, digits, _ and -: it is part of every URL.",
    }),
    field({ label: "Category", control: category }),
    field({ label: "Prompt", control: prompt }),
    field({
      label: "Negative prompt",
      control: negative,
      hint:
        "Empty: the platform's negative prompt for the model. Legal safety terms are always added.",
    }),
    field({ label: "Model", control: model }),
    field({ label: "Seed", control: seed, hint: "Empty: random." }),
    h(
      "details",
      { class: "advanced" },
      h("summary", {}, "Steps and guidance"),
      field({ label: "Steps", control: steps, hint: "Empty: the model's default." }),
      field({ label: "Guidance", control: guidance, hint: "Empty: the model's default." }),
    ),
    familyBox,
    h("div", { class: "actions" }, submit),
  );

  function checkAll(checked) {
    for (const box of families.querySelectorAll("input[type=checkbox]")) box.checked = checked;
  }

  const draft = takeVariationDraft();
  if (draft) {
    prompt.value = draft.prompt;
    negative.value = draft.negative_prompt;
    seed.value = draft.seed;
  }
  loadChoices(model, families, draft?.model ?? "", signal);

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearFieldErrors(form);
    const generation = { prompt: prompt.value.trim(), model: model.value };
    if (negative.value.trim()) generation.negativePrompt = negative.value.trim();
    const numbers = [
      [seed, "seed"],
      [steps, "inferenceSteps"],
      [guidance, "guidanceScale"],
    ];
    for (const [control, key] of numbers) {
      if (control.value.trim() !== "") generation[key] = Number(control.value);
    }
    const body = {
      name: name.value.trim(),
      category: category.value.trim() || "general",
      generation,
      families: [...families.querySelectorAll("input:checked")].map((box) => box.value),
    };
    submit.disabled = true;
    try {
      const created = await api("/api/images/variations", { method: "POST", body, signal });
      window.location.hash = `#/variations/${encodeURIComponent(created.id)}`;
    } catch (error) {
      if (isAbort(error)) return;
      if (!showFieldErrors(form, error) || error.status !== 422)
        showError(error, { context: "Creating the variation" });
    } finally {
      submit.disabled = false;
    }
  });
  return form;
}

/** Fill the model picker and the family checkboxes from the server. */
async function loadChoices(model, families, wanted, signal) {
  try {
    const [models, sizes] = await Promise.all([
      api("/api/images/models", { signal }),
      api("/api/images/families", { signal }),
    ]);
    const options = models.map((m) =>
      h("option", { value: m.model_id }, `${m.model_id} (${modelState(m)})`),
    );
    // A style from the assistant ("anime") is a valid model too: the style's default model.
    if (wanted && !models.some((m) => m.model_id === wanted))
      options.unshift(h("option", { value: wanted }, `${wanted} (style default)`));
    setChildren(model, options);
    // A model that can run now: loaded, else on disk (when the server says so), else the first.
    const ready = models.find((m) => m.loaded) ?? models.find((m) => m.downloaded === true);
    model.value = wanted || ready?.model_id || models[0]?.model_id || "";
    setChildren(families, sizes.map(familyCheckbox));
  } catch (error) {
    if (!isAbort(error)) setChildren(families, inlineError(error));
  }
}

function modelState(model) {
  if (model.loaded) return `${model.type}, loaded`;
  return model.downloaded === false ? `${model.type}, not downloaded` : model.type;
}

function familyCheckbox(family) {
  const id = `var-family-${family.name}`;
  const sizes = family.derivatives.map((d) => `${d.name} ${d.width}×${d.height}`).join(", ");
  return h(
    "div",
    { class: "family-option" },
    h("input", {
      type: "checkbox",
      id,
      value: family.name,
      checked: true,
      "aria-describedby": `${id}-sizes`,
    }),
    h("label", { for: id }, h("strong", {}, family.name), ` ${family.ratio}`),
    h("p", { class: "hint", id: `${id}-sizes` }, sizes),
  );
}

// -- one variation --------------------------------------------------------------------

function renderOne(main, variationId, signal) {
  const path = `/api/images/variations/${encodeURIComponent(variationId)}`;
  const heading = h("h1", {}, "Variation");
  const summary = h("section", { class: "panel variation-summary", "aria-live": "polite" });
  const progress = h("section", { class: "panel", "aria-labelledby": "family-progress-title" });
  const sizes = h("section", { class: "variation-sizes", "aria-labelledby": "derivatives-title" });
  setChildren(
    main,
    h("p", {}, h("a", { href: "#/variations" }, "← All variations")),
    heading,
    summary,
    progress,
    sizes,
  );
  const familyTimes = new Map(); // family → ms, from IMAGE_FAMILY_COMPLETED events
  let current = null;
  let shownUrls = "";
  let step = null;

  async function load() {
    try {
      show(await api(path, { signal }));
    } catch (error) {
      if (!isAbort(error)) setChildren(summary, inlineError(error, { retry: load }));
    }
  }

  function show(variation) {
    current = variation;
    heading.textContent = `Variation ${variation.name}`;
    document.title = `${variation.name} · Variations · imajin`;
    renderSummary(summary, variation, { act, busy: ACTIVE.has(variation.status) });
    renderProgress(progress, variation, familyTimes, step);
    const urls = variation.derivatives.map((d) => d.publicUrl).join(" ");
    if (urls !== shownUrls) {
      shownUrls = urls;
      renderDerivatives(sizes, variation);
    }
  }

  async function act(action) {
    try {
      if (action === "delete") {
        if (!window.confirm(`Delete variation ${current.name} and all its images?`)) return;
        await api(path, { method: "DELETE", signal });
        showInfo(`Variation ${current.name} deleted.`);
        window.location.hash = "#/variations";
        return;
      }
      familyTimes.clear();
      step = null;
      const again = await api(`${path}/regenerate`, {
        method: "POST",
        body: { newSeed: action === "new-seed" },
        signal,
      });
      show(again);
    } catch (error) {
      if (!isAbort(error)) showError(error, { context: "Variation" });
    }
  }

  load();
  const reload = debounce(load, 150);
  const unsubscribe = subscribe((event) => {
    const payload = event.payload ?? {};
    if (event.type === "JOB_PROGRESS" && current && event.jobId === current.jobId) {
      step = { value: payload.step, max: payload.total };
      renderProgress(progress, current, familyTimes, step);
      return;
    }
    if (!event.type.startsWith("IMAGE_")) return;
    if (event.subject !== variationId && payload.variationId !== variationId) return;
    if (event.type === "IMAGE_FAMILY_COMPLETED" && event.jobId === current?.jobId)
      familyTimes.set(payload.familyName, payload.generationTimeMs);
    reload();
  });
  return () => {
    reload.cancel();
    unsubscribe();
  };
}

function renderSummary(box, variation, { act, busy }) {
  const params = variation.generationParams;
  const button = (label, action, className = "btn") =>
    h(
      "button",
      {
        type: "button",
        class: className,
        disabled: busy && action !== "delete", // 409 while it runs; delete cancels it
        onclick: () => act(action),
      },
      label,
    );
  setChildren(
    box,
    h(
      "dl",
      { class: "params" },
      row("Status", statusBadge(variation.status)),
      row("Category", variation.category),
      row("Prompt", params.prompt),
      row("Model", params.model),
      row("Seed", String(params.seed)),
      row("Steps", String(params.inferenceSteps)),
      row("Created", timeElement(variation.createdAt)),
      variation.error ? row("Error", h("span", { class: "inline-error" }, variation.error)) : null,
    ),
    h(
      "div",
      { class: "actions" },
      button("Regenerate (same seed)", "same-seed"),
      button("Regenerate with a new seed", "new-seed"),
      button("Delete", "delete", "btn btn-danger"),
    ),
    busy ? h("p", { class: "hint" }, "Regenerating is possible once it has finished.") : null,
  );
}

function row(label, value) {
  return h("div", { class: "param" }, h("dt", {}, label), h("dd", {}, value));
}

/**
 * Each family: waiting, done (with its time) or failed; a bar for the whole variation.
 * While it runs, "done" means this run's IMAGE_FAMILY_COMPLETED arrived: a regenerated
 * variation keeps serving its previous images until each family is replaced.
 */
function renderProgress(box, variation, familyTimes, step) {
  const active = ACTIVE.has(variation.status);
  const done = active
    ? new Set(familyTimes.keys())
    : new Set(variation.derivatives.map((d) => d.family));
  const failed = (name) => !active && !done.has(name);
  const items = variation.families.map((name) => {
    const ms = familyTimes.get(name);
    let state = "waiting";
    if (done.has(name)) state = ms === undefined ? "done" : `done in ${(ms / 1000).toFixed(1)} s`;
    else if (failed(name)) state = "failed";
    return h(
      "li",
      { class: "family-state", dataset: { family: name, state: state.split(" ")[0] } },
      h("strong", {}, name),
      " ",
      h("span", {}, state),
    );
  });
  const count = variation.families.filter((name) => done.has(name)).length;
  setChildren(
    box,
    h("h2", { id: "family-progress-title" }, "Families"),
    h(
      "p",
      { class: "family-count" },
      `${count} of ${variation.families.length} families done`,
      active && step ? ` · step ${step.value} of ${step.max}` : "",
    ),
    progressBar({ value: count, max: variation.families.length, label: "Families done" }),
    h("ul", { class: "plain family-states" }, items),
  );
}

/** Every derivative at its own size (scaled down only to fit), with its URL to copy. */
function renderDerivatives(box, variation) {
  const byFamily = new Map();
  for (const derivative of variation.derivatives) {
    if (!byFamily.has(derivative.family)) byFamily.set(derivative.family, []);
    byFamily.get(derivative.family).push(derivative);
  }
  setChildren(
    box,
    h("h2", { id: "derivatives-title" }, `Sizes (${variation.derivatives.length})`),
    byFamily.size === 0 ? placeholder("No sizes yet: they appear as each family finishes.") : null,
    [...byFamily].map(([family, derivatives]) =>
      h(
        "section",
        { class: "panel derivative-family", dataset: { family } },
        h("h3", {}, family),
        h("ul", { class: "plain derivative-list" }, derivatives.map(derivativeItem)),
      ),
    ),
  );
}

function derivativeItem(derivative) {
  const url = new URL(derivative.publicUrl, window.location.href).href;
  const urlBox = h("input", {
    type: "text",
    readonly: true,
    value: url,
    class: "derivative-url",
    "aria-label": `URL of ${derivative.derivativeName}`,
  });
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(url);
      showInfo(`Copied the URL of ${derivative.derivativeName}.`);
    } catch {
      // No clipboard access (an insecure page, a denied permission): select it to copy by hand.
      urlBox.select();
      showInfo("Press Ctrl+C (⌘C) to copy the selected URL.");
    }
  };
  return h(
    "li",
    { class: "derivative", dataset: { derivative: derivative.derivativeName } },
    h(
      "figure",
      {},
      lazyImage(derivative.publicUrl, {
        alt: `${derivative.derivativeName}, ${derivative.width}×${derivative.height}`,
        width: derivative.width,
        height: derivative.height,
      }),
      h(
        "figcaption",
        {},
        h("strong", {}, derivative.derivativeName),
        ` ${derivative.width}×${derivative.height} · ${formatBytes(derivative.fileSize)}`,
      ),
    ),
    h(
      "div",
      { class: "row" },
      urlBox,
      h(
        "button",
        {
          type: "button",
          class: "btn btn-small",
          onclick: copy,
          "aria-label": `Copy URL of ${derivative.derivativeName}`,
        },
        "Copy URL",
      ),
    ),
  );
}

function formatBytes(bytes) {
  if (bytes < 1024) return `${bytes} B`;
  return `${(bytes / 1024).toFixed(bytes < 10_240 ? 1 : 0)} KB`;
}

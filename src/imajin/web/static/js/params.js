// Generation parameters: shown in the image view, handed to the generate form.
// Batch items bring the engine's sidecar JSON (snake_case); variations bring
// `generationParams` (camelCase). Both are read here so views need not care.

import { h, humanize } from "./dom.js";

// Shown first, in this order; any other key follows alphabetically.
const ORDER = [
  "prompt",
  "negative_prompt",
  "model",
  "model_name",
  "seed",
  "steps",
  "guidance",
  "scheduler",
  "width",
  "height",
  "loras",
];

function canonical(key) {
  const snake = key.replace(/([a-z0-9])([A-Z])/g, "$1_$2").toLowerCase();
  return { inference_steps: "steps", guidance_scale: "guidance" }[snake] ?? snake;
}

/** [key, value] pairs, the important ones first. */
export function orderedEntries(params) {
  const rank = (key) => {
    const at = ORDER.indexOf(canonical(key));
    return at === -1 ? ORDER.length : at;
  };
  return Object.entries(params ?? {}).sort(([a], [b]) => rank(a) - rank(b) || a.localeCompare(b));
}

/** A definition list of every parameter; nested values as readable text. */
export function parameterList(params) {
  const list = h("dl", { class: "params" });
  for (const [key, value] of orderedEntries(params)) {
    list.append(
      h(
        "div",
        { class: "param", dataset: { param: canonical(key) } },
        h("dt", {}, humanize(key)),
        h("dd", {}, formatValue(value)),
      ),
    );
  }
  return list;
}

function formatValue(value) {
  if (value === null || value === undefined || value === "")
    return h("span", { class: "muted" }, "—");
  if (Array.isArray(value)) {
    if (value.length === 0) return h("span", { class: "muted" }, "none");
    return h(
      "ul",
      { class: "plain" },
      value.map((one) => h("li", {}, loraText(one))),
    );
  }
  if (typeof value === "object") return h("code", {}, JSON.stringify(value));
  return String(value);
}

function loraText(lora) {
  if (typeof lora !== "object" || lora === null) return String(lora);
  const name = lora.name ?? lora.id ?? lora.path ?? JSON.stringify(lora);
  return lora.weight === undefined ? name : `${name} (weight ${lora.weight})`;
}

/** The generate form's values for `params` ("use these settings"). */
export function toFormValues(params) {
  const values = {};
  for (const [key, value] of Object.entries(params ?? {})) values[canonical(key)] = value;
  return {
    prompt: values.prompt ?? "",
    negative_prompt: values.negative_prompt ?? "",
    model: values.model ?? "",
    width: values.width ?? "",
    height: values.height ?? "",
    steps: values.steps ?? "",
    guidance: values.guidance ?? "",
    seed: values.seed ?? "",
    scheduler: values.scheduler ?? "",
    loras: (values.loras ?? [])
      .map((lora) => `${lora.path ?? lora.id ?? lora.name}:${lora.weight ?? 1}`)
      .join("\n"),
  };
}

/** "ref:weight" lines → [{path|id, weight}]; a reference with / or .safetensors is a path. */
export function parseLoras(text) {
  return String(text ?? "")
    .split("\n")
    .map((line) => line.trim())
    .filter(Boolean)
    .map((line) => {
      const colon = line.lastIndexOf(":");
      const weight = colon > 0 ? Number(line.slice(colon + 1)) : Number.NaN;
      const ref = Number.isFinite(weight) ? line.slice(0, colon).trim() : line;
      const isPath = ref.includes("/") || ref.includes("\\") || ref.endsWith(".safetensors");
      return { [isPath ? "path" : "id"]: ref, weight: Number.isFinite(weight) ? weight : 1 };
    });
}

// Settings handed from the image view to the generate form, which takes them once.
let draft = null;

export function setDraft(params) {
  draft = toFormValues(params);
}

export function takeDraft() {
  const taken = draft;
  draft = null;
  return taken;
}

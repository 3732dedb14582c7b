// The generate form's pickers, filled from what the server has: models
// (GET /api/images/models), the chosen model's samplers and native sizes, and the
// LoRA files with whether each fits that model (GET /api/loras?model=<id>).

import { api, isAbort } from "./api.js";
import { h, setChildren } from "./dom.js";
import { inlineError } from "./notices.js";

const FAMILY_LABELS = { sd15: "SD 1.5", sdxl: "SDXL", sd3: "SD3", zimage: "Z-Image" };
// Width:height ratios offered for every model, each at about the model's native area.
const RATIOS = [
  [1, 1],
  [4, 3],
  [3, 4],
  [3, 2],
  [2, 3],
  [16, 9],
  [9, 16],
];

export function familyLabel(family) {
  return FAMILY_LABELS[family] ?? family ?? "unknown";
}

/** Sizes near `native`² in pixels, each side a multiple of 64 (8 for tiny models). */
export function sizePresets(native) {
  const step = native >= 512 ? 64 : 8;
  const seen = new Set();
  const presets = [];
  for (const [w, h] of RATIOS) {
    const scale = Math.sqrt(w / h);
    const width = Math.max(step, Math.round((native * scale) / step) * step);
    const height = Math.max(step, Math.round(native / scale / step) * step);
    const key = `${width}x${height}`;
    if (seen.has(key)) continue;
    seen.add(key);
    presets.push({ width, height, label: `${width} × ${height} (${w}:${h})` });
  }
  return presets;
}

/** A model's option text: name, family, style, and what stands in its way. */
function modelLabel(model) {
  const parts = [model.name ?? model.model_id, familyLabel(model.family), model.type];
  if (model.loaded) parts.push("loaded");
  if (model.downloaded === false) parts.push("not downloaded");
  return parts.filter(Boolean).join(" · ");
}

/** Options for the model <select>; a model whose weights are missing cannot be picked. */
export function modelOptions(models, { selected, extra }) {
  const options = models.map((model) =>
    h(
      "option",
      {
        value: model.model_id,
        disabled: model.downloaded === false,
        selected: model.model_id === selected,
      },
      modelLabel(model),
    ),
  );
  if (extra) options.unshift(h("option", { value: extra, selected: true }, `${extra} (as given)`));
  return options;
}

/** The chosen model's facts as badges: style, family, loaded, downloaded. */
export function modelFacts(model) {
  if (!model) return h("span", { class: "muted" }, "A style, id or path the server resolves.");
  const fact = (name, text) => h("span", { class: "badge", dataset: { fact: name } }, text);
  return [
    fact("style", model.type),
    fact("family", familyLabel(model.family)),
    fact("loaded", model.loaded ? "loaded" : "not loaded"),
    fact("downloaded", model.downloaded === false ? "not downloaded" : "downloaded"),
    model.downloaded === false
      ? h("span", { class: "hint" }, `Get it with: imajin models pull ${model.model_id}`)
      : null,
  ];
}

/** Options for the sampler <select>: the model's default first (value ""), then the others. */
export function samplerOptions(model, selected) {
  const fallback = model?.scheduler ? `Model default (${model.scheduler})` : "Model default";
  const names = model?.samplers ?? [];
  const options = [h("option", { value: "" }, fallback)];
  for (const name of names)
    options.push(h("option", { value: name, selected: name === selected }, name));
  if (selected && !names.includes(selected))
    options.push(h("option", { value: selected, selected: true }, `${selected} (as given)`));
  return options;
}

/** Options for the size preset <select> ("" = custom: the width and height fields). */
export function sizeOptions(model) {
  const presets = model?.native ? sizePresets(model.native) : [];
  return [
    ...presets.map((preset, i) =>
      h(
        "option",
        { value: `${preset.width}x${preset.height}` },
        i === 0 ? `${preset.label}, native` : preset.label,
      ),
    ),
    h("option", { value: "" }, "Custom"),
  ];
}

/**
 * Fill `box` with the LoRA files, checked against `modelId`; `chosen` maps id → weight
 * for the ones to tick. A LoRA made for another architecture is disabled with the reason.
 */
export async function showLoras(box, { modelId, chosen, signal }) {
  setChildren(box, h("p", { class: "muted" }, "Loading LoRAs…"));
  let loras;
  try {
    loras = await api("/api/loras", { query: modelId ? { model: modelId } : {}, signal });
  } catch (error) {
    if (!isAbort(error)) setChildren(box, inlineError(error));
    return;
  }
  if (loras.length === 0) {
    setChildren(box, h("p", { class: "muted" }, "No LoRA files in the LoRA folders."));
    return;
  }
  setChildren(
    box,
    h("ul", { class: "lora-list plain" }, loras.map((lora) => loraRow(lora, chosen))),
  );
}

function loraRow(lora, chosen) {
  const id = `lora-${lora.id}`;
  const unfit = lora.compatible === false;
  const weight = chosen.get(lora.id);
  const reasonId = `${id}-reason`;
  const box = h("input", {
    type: "checkbox",
    id,
    value: lora.id,
    disabled: unfit,
    checked: !unfit && weight !== undefined,
    "aria-describedby": unfit ? reasonId : null,
    dataset: { lora: lora.id },
  });
  const strength = h("input", {
    type: "number",
    class: "lora-weight",
    min: -5,
    max: 5,
    step: 0.05,
    value: String(weight ?? 1),
    disabled: unfit,
    inputmode: "decimal",
    "aria-label": `Weight of ${lora.id}`,
  });
  return h(
    "li",
    { class: "lora-row", dataset: { fits: unfit ? "no" : "yes" } },
    box,
    h(
      "label",
      { for: id },
      lora.id,
      " ",
      h("span", { class: "badge" }, lora.architectureLabel ?? "any architecture"),
    ),
    strength,
    unfit
      ? h("p", { class: "hint lora-reason", id: reasonId }, `Does not fit: ${lora.reason}`)
      : null,
  );
}

/** The ticked LoRAs as the request's `loras`. */
export function chosenLoras(box) {
  return [...box.querySelectorAll("input[data-lora]:checked")].map((input) => ({
    id: input.value,
    weight: Number(input.closest(".lora-row").querySelector(".lora-weight").value || 1),
  }));
}

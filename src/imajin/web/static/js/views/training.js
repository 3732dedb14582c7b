// Training: a LoRA from a folder of the training area (GET /api/training/folders) or
// from uploaded images with captions; settings start from the server's defaults with
// their descriptions. Runs under way when the screen opens (started here before a
// reload, or by another client) are listed and one is followed, a running one first;
// its loss is drawn from its progress events (training-run.js), and the finished LoRA
// is one click from Generate's LoRA picker.

import { api, isAbort } from "../api.js";
import { h, humanize, setChildren } from "../dom.js";
import { clearFieldErrors, field, showFieldErrors } from "../forms.js";
import { inlineError, showError } from "../notices.js";
import { modelOptions } from "../pickers.js";
import { findRuns, followRun, runList } from "./training-run.js";
import { captionRows, readUploads } from "./training-uploads.js";

// Shown up front; the other settings wait under "More settings".
const MAIN_SETTINGS = ["max_steps", "learning_rate", "rank", "alpha", "resolution"];
// Settings with a fixed set of values (contracts/training.py TrainingOverrides).
const CHOICES = { mixed_precision: ["auto", "no", "fp16", "bf16"] };

export function renderTraining(main) {
  const scope = new AbortController();
  const form = h(
    "form",
    { class: "panel training-form", novalidate: true, "aria-labelledby": "training-title" },
    h("h2", { id: "training-title" }, "New LoRA"),
  );
  const run = h("section", {
    class: "panel training-run",
    "aria-label": "Training run",
    hidden: true,
  });
  let stopRun = () => {};
  let dropUploads = () => {};
  const runs = runList({ onPick: (job) => show(job) });
  const show = (job, options) => {
    stopRun();
    stopRun = followRun(job, run, options);
    runs.mark(job.id);
  };
  setChildren(
    main,
    h("h1", {}, "Training"),
    h(
      "div",
      { class: "screen-columns" },
      form,
      h("div", { class: "training-side" }, run, runs.element),
    ),
  );

  const waiting = h("p", { class: "muted" }, "Loading the training settings…");
  form.append(waiting);
  const load = () =>
    Promise.all([
      api("/api/training/defaults", { signal: scope.signal }),
      api("/api/training/folders", { signal: scope.signal }),
      // For the base picker's labels and which bases are downloaded; optional.
      api("/api/images/models", { signal: scope.signal }).catch(() => []),
    ]).then(
      ([defaults, folders, models]) => {
        const built = fillForm(form, { defaults, folders, models });
        dropUploads = built.dropUploads;
        form.addEventListener("submit", async (event) => {
          event.preventDefault();
          const started = await launch(form, { defaults, files: built.files });
          if (!started) return;
          runs.add([started.job], { atTop: true });
          show(started.job, { total: started.total });
          // On a phone the run is below the long form: bring it into view.
          run.scrollIntoView({ block: "nearest" });
        });
      },
      (error) => {
        if (isAbort(error)) return;
        const retry = () => {
          shown.replaceWith(waiting);
          load();
        };
        const shown = inlineError(error, { retry });
        waiting.replaceWith(shown);
      },
    );
  load();
  // Independent of the form: a run under way shows even when the settings cannot load.
  findRuns({ signal: scope.signal }).then(
    (found) => {
      // A run launched from the form meanwhile is already followed: leave it be.
      if (found.length === 0 || !run.hidden) return;
      runs.add(found);
      show(found[0]);
    },
    (error) => {
      // Without a key the form already asks for one; anything else is worth a notice.
      if (!isAbort(error) && error.status !== 401) {
        showError(error, { context: "Finding training runs" });
      }
    },
  );
  return () => {
    scope.abort();
    stopRun();
    runs.stop();
    dropUploads();
  };
}

// -- the form ---------------------------------------------------------------------------

function fillForm(form, { defaults, folders, models }) {
  const base = h("select", { id: "train-base", name: "base" }, baseOptions(defaults, models));
  const output = h("input", {
    id: "train-output",
    name: "output",
    type: "text",
    required: true,
    maxlength: 100,
    pattern: "[A-Za-z0-9][A-Za-z0-9._\\-]*",
    autocomplete: "off",
    spellcheck: "false",
  });
  const { box: uploadBox, files, dropUploads } = captionRows();
  const folderBox = folderPicker(folders);
  const source = sourcePicker({ folderBox, uploadBox, hasFolders: folders.some((f) => f.ready) });
  const resume = h("input", { id: "train-resume", name: "resume", type: "checkbox", checked: true });
  setChildren(
    form,
    form.firstElementChild,
    field({
      label: "Base model",
      control: base,
      hint: defaults.bases.length
        ? "The SD 1.5 or SDXL model the LoRA is trained for."
        : "No SD 1.5 or SDXL model in the manifest: training needs one.",
    }),
    field({
      label: "LoRA name",
      control: output,
      hint: "Its id and file name: letters, digits, dot, dash, underscore.",
    }),
    source,
    settingsGroup(defaults),
    h(
      "div",
      { class: "field field-check" },
      h("label", { for: "train-resume" }, "Resume from this name's newest checkpoint"),
      resume,
    ),
    h(
      "div",
      { class: "actions" },
      h("button", { type: "submit", class: "btn btn-primary" }, "Start training"),
    ),
  );
  return { files, dropUploads };
}

// The trainable bases; one whose weights are not downloaded is shown but cannot be picked,
// and the configured default gives way to a downloaded base when it is missing.
function baseOptions({ bases, defaultBase }, models) {
  const known = new Map(models.map((model) => [model.model_id, model]));
  const listed = bases.map((id) => known.get(id) ?? { model_id: id, name: id });
  const usable = (model) => model?.downloaded !== false;
  const selected = usable(known.get(defaultBase))
    ? defaultBase
    : (listed.find(usable)?.model_id ?? defaultBase);
  return modelOptions(listed, { selected });
}

function sourcePicker({ folderBox, uploadBox, hasFolders }) {
  const choice = (value, label, checked) =>
    h(
      "label",
      { class: "source-choice" },
      h("input", { type: "radio", name: "source", value, checked }),
      ` ${label}`,
    );
  const group = h(
    "fieldset",
    { class: "config-group training-source" },
    h("legend", {}, "Images"),
    h(
      "div",
      { class: "row" },
      choice("folder", "A folder in the training area", hasFolders),
      choice("upload", "Upload images", !hasFolders),
    ),
    folderBox,
    uploadBox,
  );
  const show = () => {
    const upload = group.querySelector('input[name="source"]:checked').value === "upload";
    folderBox.hidden = upload;
    uploadBox.hidden = !upload;
  };
  group.addEventListener("change", (event) => {
    if (event.target.name === "source") show();
  });
  show();
  return group;
}

// A folder is offered only when every image has its caption; the others say why not.
function folderPicker(folders) {
  if (folders.length === 0) {
    return h(
      "p",
      { class: "muted" },
      "No folders with images in the training area yet (training/ in the data directory): " +
        "put images with a .txt caption beside each there, or upload them here.",
    );
  }
  const firstReady = folders.find((folder) => folder.ready);
  const rows = folders.map((folder, i) => {
    const id = `train-folder-${i}`;
    const reasonId = `${id}-reason`;
    const missing = folder.images - folder.captioned;
    return h(
      "li",
      { class: "folder-row", dataset: { ready: folder.ready ? "yes" : "no" } },
      h("input", {
        type: "radio",
        id,
        name: "folder",
        value: folder.path,
        disabled: !folder.ready,
        checked: folder === firstReady,
        "aria-describedby": folder.ready ? null : reasonId,
      }),
      h(
        "label",
        { for: id },
        folder.path,
        " ",
        h("span", { class: "badge" }, `${folder.images} images · ${folder.captioned} captioned`),
      ),
      folder.ready
        ? null
        : h(
            "p",
            { class: "hint folder-reason", id: reasonId },
            `Not ready: ${missing} of ${folder.images} images have no caption (a .txt file ` +
              "of the same name beside the image).",
          ),
    );
  });
  return h("ul", { class: "folder-list plain", "aria-label": "Training folders" }, rows);
}

function settingControl(name, value) {
  const attrs = { id: `train-${name}`, dataset: { field: `overrides.${name}`, setting: name } };
  if (typeof value === "boolean") return h("input", { ...attrs, type: "checkbox", checked: value });
  if (CHOICES[name]) {
    return h(
      "select",
      attrs,
      CHOICES[name].map((one) => h("option", { value: one, selected: one === value }, one)),
    );
  }
  if (typeof value === "number" || value === null) {
    const number = h("input", { ...attrs, type: "number", step: "any", inputmode: "decimal" });
    number.value = value === null ? "" : String(value);
    return number;
  }
  return h("input", { ...attrs, type: "text", value: String(value ?? ""), autocomplete: "off" });
}

function settingField(name, value, description) {
  const control = settingControl(name, value);
  const hint = description || null;
  if (control.type !== "checkbox") return field({ label: humanize(name), control, hint });
  if (hint) control.setAttribute("aria-describedby", `${control.id}-hint`);
  return h(
    "div",
    { class: "field field-check" },
    h("label", { for: control.id }, humanize(name)),
    control,
    hint ? h("p", { class: "hint", id: `${control.id}-hint` }, hint) : null,
  );
}

function settingsGroup({ settings, descriptions }) {
  const names = Object.keys(settings);
  const first = MAIN_SETTINGS.filter((name) => name in settings);
  const rest = names.filter((name) => !first.includes(name));
  const fieldOf = (name) => settingField(name, settings[name], descriptions[name]);
  return h(
    "fieldset",
    { class: "config-group training-settings" },
    h("legend", {}, "Settings"),
    h("p", { class: "hint" }, "Prefilled from the server's training settings."),
    first.map(fieldOf),
    h(
      "details",
      { class: "advanced" },
      h("summary", {}, "More settings"),
      rest.map(fieldOf),
    ),
  );
}

/** The settings that differ from the defaults: a run's `overrides`. */
function overridesFrom(form, settings) {
  const overrides = {};
  for (const control of form.querySelectorAll("[data-setting]")) {
    const name = control.dataset.setting;
    const fallback = settings[name];
    let value;
    if (control.type === "checkbox") value = control.checked;
    else if (typeof fallback === "number" || fallback === null) {
      if (control.value.trim() === "") continue; // empty: keep the configured value
      value = Number(control.value);
    } else value = control.value;
    if (value !== fallback) overrides[name] = value;
  }
  return overrides;
}

// -- launching a run -------------------------------------------------------------------

/** Send the form; returns the new job and its step count, or null when nothing started. */
async function launch(form, { defaults, files }) {
  clearFieldErrors(form);
  const submit = form.querySelector('button[type="submit"]');
  const body = {
    base: form.elements.base.value,
    output: form.elements.output.value.trim(),
    resume: form.elements.resume.checked,
    overrides: overridesFrom(form, defaults.settings),
  };
  submit.disabled = true;
  try {
    const upload = form.querySelector('input[name="source"]:checked').value === "upload";
    if (upload) body.images = await readUploads(form, files);
    else body.folder = form.querySelector('input[name="folder"]:checked')?.value;
    if (!upload && !body.folder) {
      throw { field: "folder", message: "Pick a folder whose images all have captions." };
    }
    const job = await api("/api/training", { method: "POST", body });
    const total = body.overrides.max_steps ?? defaults.settings.max_steps;
    return { job, total };
  } catch (error) {
    // A problem with a field the form has is shown beside it; anything else as a notice.
    if (!showFieldErrors(form, error)) showError(error, { context: "Starting the training" });
    // A setting under "More settings" cannot take the focus while folded away.
    const invalid = form.querySelector('[aria-invalid="true"]');
    const folded = invalid?.closest("details");
    if (folded && !folded.open) {
      folded.open = true;
      invalid.focus();
    }
    return null;
  } finally {
    submit.disabled = false;
  }
}

// The studio: pick a set, type a theme (or draw a random one), preview every prompt
// the batch will generate, and launch it.

import { api, isAbort } from "../api.js";
import { debounce, h, placeholder, setChildren } from "../dom.js";
import { clearFieldErrors, field, showFieldErrors } from "../forms.js";
import { inlineError, showError, showInfo } from "../notices.js";

export function renderStudio(main) {
  const scope = new AbortController();
  let sets = [];
  let previewRequest = null;
  let suggestedTheme = ""; // the example theme we filled in, replaced when the set changes

  const setSelect = h("select", { id: "set-name", name: "set_name", required: true });
  const setInfo = h("p", { class: "hint", id: "set-name-info", "aria-live": "polite" });
  setSelect.setAttribute("aria-describedby", "set-name-info");
  const theme = h("input", {
    id: "user-theme",
    name: "user_theme",
    type: "text",
    maxlength: 500,
    autocomplete: "off",
  });
  const randomButton = h("button", { type: "button", class: "btn" }, "Random theme");
  const seed = h("input", {
    id: "batch-seed",
    name: "seed",
    type: "number",
    min: 0,
    step: 1,
    inputmode: "numeric",
  });
  const priority = h("input", {
    id: "batch-priority",
    name: "priority",
    type: "number",
    step: 1,
    inputmode: "numeric",
  });
  const launch = h("button", { type: "submit", class: "btn btn-primary" }, "Launch batch");
  const previewCount = h("p", { class: "hint", "aria-live": "polite" });
  const previewList = h("ol", { class: "prompt-list" });

  const form = h(
    "form",
    { class: "panel studio-form", novalidate: true, "aria-labelledby": "studio-form-title" },
    h("h2", { id: "studio-form-title" }, "New batch"),
    h("div", { class: "field" }, h("label", { for: "set-name" }, "Set"), setSelect, setInfo),
    h(
      "div",
      { class: "field" },
      h("label", { for: "user-theme" }, "Theme"),
      h("div", { class: "row" }, theme, randomButton),
    ),
    h(
      "details",
      { class: "advanced" },
      h("summary", {}, "Seed and priority"),
      field({ label: "Seed", control: seed, hint: "Empty: a random seed. Item i uses seed + i." }),
      field({ label: "Priority", control: priority, hint: "Higher runs first; empty: normal." }),
    ),
    h("div", { class: "actions" }, launch),
  );
  const preview = h(
    "section",
    { class: "panel preview", "aria-labelledby": "preview-title" },
    h("h2", { id: "preview-title" }, "Prompt preview"),
    previewCount,
    previewList,
  );
  setChildren(main, h("h1", {}, "Studio"), h("div", { class: "studio" }, form, preview));

  const currentSet = () => sets.find((set) => set.name === setSelect.value);

  function describeSet() {
    const set = currentSet();
    if (!set) return;
    setInfo.textContent = `${set.description ? `${set.description} · ` : ""}${set.item_count} images, ${set.width}×${set.height}`;
    theme.placeholder = set.example_theme ? `e.g. ${set.example_theme}` : "Your theme";
    // Start from the set's example theme, unless the person has typed their own.
    if (theme.value === "" || theme.value === suggestedTheme) {
      theme.value = set.example_theme ?? "";
      suggestedTheme = theme.value;
    }
    launch.textContent = `Launch batch (${set.item_count} image${set.item_count === 1 ? "" : "s"})`;
  }

  async function loadPreview() {
    const set = currentSet();
    if (!set) return;
    previewRequest?.abort();
    previewRequest = new AbortController();
    previewCount.textContent = "Loading…";
    try {
      const info = await api(`/api/sets/${encodeURIComponent(set.name)}/info`, {
        query: { theme: theme.value.trim() },
        signal: previewRequest.signal,
      });
      setChildren(
        previewList,
        info.items.map((item) =>
          h("li", {}, h("strong", {}, item.item), h("p", { class: "prompt" }, item.prompt)),
        ),
      );
      previewCount.textContent = `${info.items.length} prompt${info.items.length === 1 ? "" : "s"} will be generated.`;
    } catch (error) {
      if (isAbort(error)) return;
      previewCount.textContent = "";
      setChildren(previewList, inlineError(error, { tag: "li" }));
    }
  }
  const schedulePreview = debounce(loadPreview, 300);

  async function loadSets() {
    try {
      sets = await api("/api/sets", { signal: scope.signal });
    } catch (error) {
      if (isAbort(error)) return;
      setChildren(setInfo, inlineError(error, { retry: loadSets, tag: "span" }));
      return;
    }
    if (sets.length === 0) {
      setChildren(
        previewList,
        placeholder("No sets found. Add YAML + CSV sets under <data_dir>/sets/."),
      );
      launch.disabled = true;
      return;
    }
    setChildren(
      setSelect,
      sets.map((set) => h("option", { value: set.name }, `${set.name} (${set.item_count})`)),
    );
    describeSet();
    loadPreview();
  }

  setSelect.addEventListener("change", () => {
    describeSet();
    loadPreview();
  });
  theme.addEventListener("input", schedulePreview);
  randomButton.addEventListener("click", async () => {
    try {
      theme.value = (await api("/api/themes/random", { signal: scope.signal })).theme;
      loadPreview();
    } catch (error) {
      if (!isAbort(error)) showError(error, { context: "Random theme" });
    }
  });

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearFieldErrors(form);
    const body = { set_name: setSelect.value, user_theme: theme.value.trim() };
    if (seed.value !== "") body.seed = Number(seed.value);
    if (priority.value !== "") body.priority = Number(priority.value);
    launch.disabled = true;
    try {
      const created = await api("/api/generate/batch", { method: "POST", body });
      showInfo(`Batch launched: ${created.total} image${created.total === 1 ? "" : "s"} queued.`);
      window.location.hash = `#/batch/${encodeURIComponent(created.batch_id)}`;
    } catch (error) {
      if (!showFieldErrors(form, error) || error.status !== 422)
        showError(error, { context: "Launching the batch" });
    } finally {
      launch.disabled = false;
    }
  });

  loadSets();
  return () => {
    scope.abort();
    previewRequest?.abort();
    schedulePreview.cancel();
  };
}

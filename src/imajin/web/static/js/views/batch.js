// One batch: its items as a grid that fills in live (SSE), overall progress, cancel.

import { api, isAbort } from "../api.js";
import {
  debounce,
  h,
  placeholder,
  progressBar,
  reconcile,
  setChildren,
  statusBadge,
  timeElement,
} from "../dom.js";
import { enableGridNavigation, refreshGridTabStops } from "../gridnav.js";
import { isTerminal, subscribe } from "../live.js";
import { inlineError, showError, showInfo } from "../notices.js";
import { openViewer } from "../viewer.js";
import { batchItemCard, errorText, updateBatchItemCard } from "./cards.js";

const ACTIVE = new Set(["queued", "running"]);

export function renderBatch(main, batchId) {
  const scope = new AbortController();
  let batch = null;
  const heading = h("h1", {}, "Batch");
  const summary = h("div", { class: "batch-summary", "aria-live": "polite" });
  const cancelAll = h(
    "button",
    { type: "button", class: "btn btn-danger", hidden: true },
    "Cancel remaining",
  );
  const list = h("ul", { class: "grid", "aria-label": "Images in this batch" });
  const status = h("div", { class: "grid-status" });
  enableGridNavigation(list);
  setChildren(
    main,
    h("p", {}, h("a", { href: "#/" }, "← Gallery")),
    heading,
    summary,
    h("div", { class: "actions" }, cancelAll),
    list,
    status,
  );

  const openItem = (item) =>
    openViewer({
      title: `${item.index + 1}. ${item.item}`,
      subtitle: batch ? `${batch.set_name} · “${batch.user_theme}”` : "",
      status: item.status,
      error: item.status === "failed" ? errorText(item.error) : `This image is ${item.status}.`,
      imageUrl: item.image_url,
      params: item.sidecar_url ? api(item.sidecar_url) : Promise.resolve(null),
    });

  function render() {
    heading.textContent = `${batch.set_name} — “${batch.user_theme}”`;
    document.title = `${batch.set_name} · imajin`;
    const done = (batch.succeeded ?? 0) + (batch.failed ?? 0) + (batch.cancelled ?? 0);
    setChildren(
      summary,
      h(
        "p",
        { class: "card-meta" },
        statusBadge(batch.status),
        ` ${batch.succeeded ?? 0} of ${batch.total} done`,
        batch.failed ? ` · ${batch.failed} failed` : "",
        batch.cancelled ? ` · ${batch.cancelled} cancelled` : "",
        " · started ",
        timeElement(batch.created_at),
      ),
      progressBar({
        value: done,
        max: batch.total,
        label: `Batch progress: ${done} of ${batch.total} finished`,
      }),
      batch.output_dir
        ? h("p", { class: "muted small" }, "Output folder: ", h("code", {}, batch.output_dir))
        : null,
    );
    cancelAll.hidden = !batch.items.some((item) => ACTIVE.has(item.status));
    reconcile(list, batch.items, {
      key: (item) => item.job_id,
      create: (item) => batchItemCard(item, openItem),
      update: updateBatchItemCard,
    });
    refreshGridTabStops(list);
  }

  let loads = 0;
  async function load() {
    const mine = ++loads; // only the newest answer is shown, whatever order they arrive in
    let loaded;
    try {
      loaded = await api(`/api/batches/${encodeURIComponent(batchId)}`, { signal: scope.signal });
    } catch (error) {
      if (isAbort(error) || mine !== loads) return;
      setChildren(status, inlineError(error, { retry: load }));
      return;
    }
    if (mine !== loads) return;
    batch = loaded;
    setChildren(status, batch.items.length ? null : placeholder("This batch has no items."));
    render();
  }

  cancelAll.addEventListener("click", async () => {
    cancelAll.disabled = true;
    const active = batch.items.filter((item) => ACTIVE.has(item.status));
    const results = await Promise.allSettled(
      active.map((item) =>
        api(`/api/jobs/${encodeURIComponent(item.job_id)}`, { method: "DELETE" }),
      ),
    );
    const failed = results.find((result) => result.status === "rejected");
    if (failed) showError(failed.reason, { context: "Cancelling" });
    else showInfo(`Cancelling ${active.length} image${active.length === 1 ? "" : "s"}.`);
    cancelAll.disabled = false;
    load();
  });

  // Live: progress moves bars at once; a finished item reloads the batch for its image.
  const reload = debounce(load, 250);
  const unsubscribe = subscribe((event) => {
    const index = batch?.items.findIndex((one) => one.job_id === event.jobId) ?? -1;
    if (index === -1) {
      if (event.payload?.groupId === batchId) reload();
      return;
    }
    // A new object, not a mutation: the card compares it with the one it shows.
    const item = batch.items[index];
    const { status: jobStatus, step, total } = event.payload ?? {};
    const updated = {
      ...item,
      status: jobStatus ?? item.status,
      progress: event.type === "JOB_PROGRESS" ? { step, total } : item.progress,
    };
    batch.items[index] = updated;
    const card = list.querySelector(`[data-key="${CSS.escape(item.job_id)}"]`);
    if (card) updateBatchItemCard(card, updated);
    if (isTerminal(event) || event.type === "JOB_STARTED") reload();
  });

  load();
  return () => {
    scope.abort();
    unsubscribe();
    reload.cancel();
  };
}

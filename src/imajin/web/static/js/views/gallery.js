// The gallery: batches (newest first) and variations, as grids of thumbnails that
// load lazily and update live. Arrow keys move between cards, Enter opens one.

import { api, isAbort } from "../api.js";
import { debounce, h, placeholder, reconcile, setChildren } from "../dom.js";
import { enableGridNavigation, refreshGridTabStops } from "../gridnav.js";
import { subscribe } from "../live.js";
import { inlineError } from "../notices.js";
import { openViewer } from "../viewer.js";
import {
  batchCard,
  updateBatchCard,
  updateVariationCard,
  variationCard,
  viewerDerivative,
} from "./cards.js";

const PAGE = 24;
const MAX_LIMIT = 200; // the list endpoints' largest page

/** A grid section that pages through `load(limit, offset)` → {items, total}. */
function pagedGrid({ title, id, load, key, create, update, emptyText, signal }) {
  const list = h("ul", { class: "grid", id: `${id}-grid`, "aria-labelledby": `${id}-title` });
  const status = h("div", { class: "grid-status", "aria-live": "polite" });
  const more = h("button", { type: "button", class: "btn", hidden: true }, "Load more");
  const section = h(
    "section",
    { class: "gallery-section", "aria-labelledby": `${id}-title` },
    h("h2", { id: `${id}-title` }, title),
    list,
    status,
    more,
  );
  enableGridNavigation(list);
  let items = [];
  let total = 0;

  async function fetchPage({ append }) {
    const offset = append ? items.length : 0;
    // A refresh re-reads everything shown so far, so "Load more" pages stay in place.
    const limit = append ? PAGE : Math.min(MAX_LIMIT, Math.max(PAGE, items.length));
    try {
      const page = await load(limit, offset, signal);
      items = append ? [...items, ...page.items] : page.items;
      total = page.total;
      setChildren(status, items.length === 0 ? placeholder(emptyText) : null);
    } catch (error) {
      if (isAbort(error)) return;
      setChildren(status, inlineError(error, { retry: () => fetchPage({ append }) }));
      return;
    }
    reconcile(list, items, { key, create, update });
    refreshGridTabStops(list);
    more.hidden = items.length >= total;
  }

  more.addEventListener("click", () => fetchPage({ append: true }));
  return { section, refresh: () => fetchPage({ append: false }) };
}

export function renderGallery(main) {
  const scope = new AbortController();
  const openVariation = (variation) => {
    const large = viewerDerivative(variation);
    const sizes = h(
      "details",
      { class: "derivatives" },
      h("summary", {}, `${variation.derivatives?.length ?? 0} sizes`),
      h(
        "ul",
        { class: "plain" },
        (variation.derivatives ?? []).map((d) =>
          h(
            "li",
            {},
            h("a", { href: d.publicUrl, target: "_blank", rel: "noopener" }, d.derivativeName),
            ` ${d.width}×${d.height}`,
          ),
        ),
      ),
    );
    openViewer({
      title: variation.name,
      subtitle: `${variation.category} · ${variation.status}`,
      status: variation.status,
      error: variation.error,
      imageUrl: large?.publicUrl,
      params: variation.generationParams,
      extra: sizes,
    });
  };

  const batches = pagedGrid({
    title: "Batches",
    id: "batches",
    load: (limit, offset, signal) => api("/api/batches", { query: { limit, offset }, signal }),
    key: (batch) => batch.batch_id,
    create: batchCard,
    update: updateBatchCard,
    emptyText: "No batches yet. Launch one from the Studio.",
    signal: scope.signal,
  });
  const variations = pagedGrid({
    title: "Variations",
    id: "variations",
    load: (limit, offset, signal) =>
      api("/api/images/variations", { query: { limit, offset }, signal }),
    key: (variation) => variation.id,
    create: (variation) => variationCard(variation, openVariation),
    update: updateVariationCard,
    emptyText: "No variations yet.",
    signal: scope.signal,
  });

  setChildren(main, h("h1", {}, "Gallery"), batches.section, variations.section);
  batches.refresh();
  variations.refresh();

  // Live: job events change batch counts, variation events change variations.
  const refreshBatches = debounce(batches.refresh, 400);
  const refreshVariations = debounce(variations.refresh, 400);
  const unsubscribe = subscribe((event) => {
    if (event.type.startsWith("JOB_") && event.type !== "JOB_PROGRESS" && event.payload?.groupId)
      refreshBatches();
    if (event.type.startsWith("IMAGE_VARIATION_")) refreshVariations();
  });
  return () => {
    scope.abort();
    unsubscribe();
    refreshBatches.cancel();
    refreshVariations.cancel();
  };
}

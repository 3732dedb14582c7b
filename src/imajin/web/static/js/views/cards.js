// Gallery cards for batches, batch items and variations. Each card is a link or a
// button (so Enter opens it) marked data-card for the grid's arrow-key navigation.

import { h, progressBar, setChildren, statusBadge, timeElement } from "../dom.js";
import { lazyImage } from "../images.js";

// Smallest useful derivative first: a gallery thumbnail never loads a full-size master.
const THUMBNAIL_DERIVATIVES = [
  "thumbnail",
  "square-sm",
  "square-xs",
  "icon",
  "twitter-small",
  "portrait-sm",
  "hero-sm",
];

/** The derivative to show in a grid: a named small one, else the smallest. */
export function thumbnailDerivative(variation) {
  const derivatives = variation.derivatives ?? [];
  for (const name of THUMBNAIL_DERIVATIVES) {
    const found = derivatives.find((d) => d.derivativeName === name);
    if (found) return found;
  }
  return [...derivatives].sort((a, b) => a.width * a.height - b.width * b.height)[0] ?? null;
}

/** The derivative to show in the image view: the largest up to 1280 px wide. */
export function viewerDerivative(variation) {
  const derivatives = [...(variation.derivatives ?? [])].sort(
    (a, b) => b.width * b.height - a.width * a.height,
  );
  return derivatives.find((d) => d.width <= 1280) ?? derivatives.at(-1) ?? null;
}

function thumb(url, alt, fallback) {
  return h(
    "div",
    { class: "thumb" },
    url ? lazyImage(url, { alt }) : h("span", { class: "thumb-empty" }, fallback),
  );
}

function finishedCount(batch) {
  return (batch.succeeded ?? 0) + (batch.failed ?? 0) + (batch.cancelled ?? 0);
}

/** A batch in the gallery: a link to its page. */
export function batchCard(batch) {
  const card = h("a", {
    class: "card",
    href: `#/batch/${encodeURIComponent(batch.batch_id)}`,
    "data-card": true,
  });
  updateBatchCard(card, batch);
  return h("li", {}, card);
}

export function updateBatchCard(item, batch) {
  const card = item.matches("a") ? item : item.querySelector("a");
  const theme = batch.user_theme ? `“${batch.user_theme}”` : "no theme";
  card.setAttribute(
    "aria-label",
    `Batch ${batch.set_name}, ${theme}, ${batch.status}, ${batch.succeeded ?? 0} of ${batch.total} images`,
  );
  setChildren(
    card,
    thumb(batch.thumbnail_url, `First image of ${batch.set_name}`, batch.set_name),
    h(
      "div",
      { class: "card-body" },
      h("strong", { class: "card-title" }, batch.set_name),
      h("span", { class: "card-sub" }, theme),
      h(
        "span",
        { class: "card-meta" },
        statusBadge(batch.status),
        ` ${finishedCount(batch)}/${batch.total}`,
      ),
      h("span", { class: "card-meta muted" }, timeElement(batch.created_at)),
    ),
  );
}

/** A variation in the gallery: a button that opens the image view. */
export function variationCard(variation, onOpen) {
  const card = h("button", {
    type: "button",
    class: "card",
    "data-card": true,
    onclick: () => onOpen(card.variation),
  });
  updateVariationCard(card, variation);
  return h("li", {}, card);
}

export function updateVariationCard(item, variation) {
  const card = item.matches("button") ? item : item.querySelector("button");
  card.variation = variation;
  const small = thumbnailDerivative(variation);
  card.setAttribute(
    "aria-label",
    `Variation ${variation.name}, ${variation.category}, ${variation.status}`,
  );
  setChildren(
    card,
    thumb(small?.publicUrl, variation.name, variation.status),
    h(
      "div",
      { class: "card-body" },
      h("strong", { class: "card-title" }, variation.name),
      h("span", { class: "card-sub" }, variation.category),
      h(
        "span",
        { class: "card-meta" },
        statusBadge(variation.status),
        ` ${variation.derivatives?.length ?? 0} sizes`,
      ),
    ),
  );
}

/** One item of a batch: a button that opens the image view, with live progress. */
export function batchItemCard(item, onOpen) {
  const card = h("button", {
    type: "button",
    class: "card",
    "data-card": true,
    onclick: () => onOpen(card.item),
  });
  const listItem = h("li", {}, card);
  updateBatchItemCard(listItem, item);
  return listItem;
}

export function updateBatchItemCard(listItem, item) {
  const card = listItem.querySelector("button.card");
  const previous = card.item;
  card.item = item;
  const label = `${item.index + 1}. ${item.item}`;
  card.setAttribute("aria-label", `${label}, ${item.status}`);
  const imageUrl = item.thumbnail_url ?? item.image_url;
  // Rebuild only what changed: an image that is already shown is not reloaded.
  if (
    !previous ||
    (previous.thumbnail_url ?? previous.image_url) !== imageUrl ||
    previous.status !== item.status
  ) {
    setChildren(
      card,
      thumb(imageUrl, label, item.status),
      h(
        "div",
        { class: "card-body" },
        h("strong", { class: "card-title" }, label),
        h("span", { class: "card-meta" }, statusBadge(item.status)),
        h("div", { class: "card-progress" }),
      ),
    );
  }
  const progress = card.querySelector(".card-progress");
  const { step = 0, total = 0 } = item.progress ?? {};
  if (item.status === "running" && total > 0) {
    setChildren(
      progress,
      progressBar({ value: step, max: total, label: `${label}: step ${step} of ${total}` }),
    );
  } else if (item.status === "failed" && item.error) {
    setChildren(progress, h("span", { class: "card-error" }, errorText(item.error)));
  } else {
    setChildren(progress);
  }
}

export function errorText(error) {
  if (!error) return "";
  return typeof error === "string" ? error : (error.message ?? JSON.stringify(error));
}

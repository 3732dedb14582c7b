// The image view: a modal dialog with the picture, every generation parameter and
// "use these settings". Escape (native to <dialog>) or the Close button closes it,
// and focus goes back to the card that opened it.

import { h, setChildren, statusBadge } from "./dom.js";
import { lazyImage, openableUrl } from "./images.js";
import { inlineError } from "./notices.js";
import { parameterList, setDraft } from "./params.js";

let dialog = null;
let opener = null;

function ensureDialog() {
  if (dialog) return dialog;
  dialog = h("dialog", { class: "viewer", "aria-labelledby": "viewer-title" });
  dialog.addEventListener("close", () => {
    setChildren(dialog);
    opener?.focus();
    opener = null;
  });
  // A click on the backdrop (outside the dialog's box) closes it too.
  dialog.addEventListener("click", (event) => {
    if (event.target === dialog) dialog.close();
  });
  document.body.append(dialog);
  return dialog;
}

/**
 * Open the view.
 *   title, subtitle: headings; status, error: shown when the image is not there (yet)
 *   imageUrl: the picture; fullUrl: what "Open full size" opens (default imageUrl)
 *   params: an object, or a promise of one (the sidecar is fetched while the dialog shows)
 *   extra: optional node placed under the parameters (e.g. a list of derivatives)
 */
export function openViewer({
  title,
  subtitle = "",
  status = null,
  error = null,
  imageUrl,
  fullUrl,
  params,
  extra = null,
}) {
  const view = ensureDialog();
  opener = document.activeElement;
  const paramsBox = h(
    "div",
    { class: "viewer-params-body", "aria-live": "polite" },
    h("p", { class: "muted" }, "Loading parameters…"),
  );
  const useButton = h(
    "button",
    { type: "button", class: "btn btn-primary", disabled: true },
    "Use these settings",
  );
  const fullLink = h(
    "a",
    { class: "btn", target: "_blank", rel: "noopener", hidden: true },
    "Open full size",
  );
  setChildren(
    view,
    h(
      "div",
      { class: "viewer-head" },
      h(
        "div",
        {},
        h("h2", { id: "viewer-title" }, title),
        subtitle ? h("p", { class: "muted" }, subtitle) : null,
      ),
      h(
        "button",
        {
          type: "button",
          class: "btn btn-quiet viewer-close",
          "aria-label": "Close image view",
          onclick: () => view.close(),
        },
        "Close",
      ),
    ),
    h(
      "div",
      { class: "viewer-body" },
      h(
        "figure",
        { class: "viewer-figure" },
        imageUrl
          ? lazyImage(imageUrl, { alt: title })
          : h(
              "div",
              { class: "viewer-missing" },
              status ? statusBadge(status) : null,
              h("p", {}, error ?? "No image yet."),
            ),
      ),
      h(
        "section",
        { class: "viewer-params", "aria-labelledby": "viewer-params-title" },
        h("h3", { id: "viewer-params-title" }, "Parameters"),
        paramsBox,
        h("div", { class: "actions" }, useButton, fullLink),
        extra,
      ),
    ),
  );
  view.showModal();
  fillParams(paramsBox, useButton, params);
  if (imageUrl) {
    openableUrl(fullUrl ?? imageUrl).then(
      (url) => {
        fullLink.href = url;
        fullLink.hidden = false;
      },
      () => {},
    );
  }
}

async function fillParams(box, useButton, params) {
  let values;
  try {
    values = await params;
  } catch (error) {
    setChildren(box, inlineError(error));
    return;
  }
  if (!box.isConnected) return; // closed meanwhile
  if (!values || Object.keys(values).length === 0) {
    setChildren(box, h("p", { class: "muted" }, "No parameters recorded."));
    return;
  }
  setChildren(box, parameterList(values));
  useButton.disabled = false;
  useButton.addEventListener("click", () => {
    setDraft(values);
    opener = null; // focus goes to the form, not back to the card
    dialog.close();
    if (window.location.hash === "#/generate")
      window.dispatchEvent(new HashChangeEvent("hashchange"));
    else window.location.hash = "#/generate";
  });
}

export function closeViewer() {
  dialog?.open && dialog.close();
}

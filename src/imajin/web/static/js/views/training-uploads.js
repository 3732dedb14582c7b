// The Training screen's upload path: chosen image files, a caption for each, and the
// request's `images` ([{name, imageBase64, caption}]) read from them.

import { h, setChildren } from "../dom.js";

const ACCEPT = "image/png,image/jpeg,image/webp";
// The server's rule for an uploaded file name (contracts/training.py IMAGE_NAME).
const SUFFIX = /\.(png|jpe?g|webp)$/i;

/**
 * The file input and one caption box per chosen image. `files` is kept in step with
 * the rows; dropUploads() frees the thumbnails' object URLs.
 */
export function captionRows() {
  const files = [];
  let urls = [];
  const dropUploads = () => {
    for (const url of urls) URL.revokeObjectURL(url);
    urls = [];
  };
  const picker = h("input", {
    id: "train-files",
    type: "file",
    accept: ACCEPT,
    multiple: true,
    dataset: { field: "images" },
  });
  const list = h("ol", { class: "caption-list plain", "aria-label": "Images and captions" });
  picker.addEventListener("change", () => {
    dropUploads();
    files.splice(0, files.length, ...picker.files);
    setChildren(
      list,
      files.map((file, i) => {
        const url = URL.createObjectURL(file);
        urls.push(url);
        return captionRow(file, i, url);
      }),
    );
  });
  const box = h(
    "div",
    { class: "training-upload" },
    h(
      "div",
      { class: "field" },
      h("label", { for: "train-files" }, "Image files"),
      picker,
      h("p", { class: "hint" }, "PNG, JPEG or WebP; give each one a caption below."),
    ),
    list,
  );
  return { box, files, dropUploads };
}

function captionRow(file, index, url) {
  const id = `train-caption-${index}`;
  return h(
    "li",
    { class: "caption-row" },
    h("img", { src: url, alt: "", width: 64, height: 64, class: "caption-thumb" }),
    h(
      "div",
      { class: "field" },
      h("label", { for: id }, `Caption for ${file.name}`),
      h("textarea", {
        id,
        rows: 2,
        maxlength: 2000,
        required: true,
        dataset: { field: `images[${index}]` },
      }),
    ),
  );
}

/** A name the server takes: a plain stem (letters, digits, - and _) and the suffix. */
function uploadName(file, index, taken) {
  const suffix = (file.name.match(SUFFIX)?.[0] ?? ".png").toLowerCase();
  let stem = file.name
    .replace(SUFFIX, "")
    .replace(/[^A-Za-z0-9_-]+/g, "-")
    .replace(/^[-_]+/, "")
    .slice(0, 80);
  if (!stem || taken.has(stem.toLowerCase())) stem = `${stem || "image"}-${index + 1}`;
  taken.add(stem.toLowerCase());
  return `${stem}${suffix}`;
}

function base64Of(file) {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(String(reader.result).split(",", 2)[1] ?? "");
    reader.onerror = () => reject(reader.error);
    reader.readAsDataURL(file);
  });
}

/**
 * The request's `images`; throws {field, message} (or {details}) when a file or a
 * caption is missing, so the form shows it beside the control.
 */
export async function readUploads(form, files) {
  if (files.length === 0) throw { field: "images", message: "Choose at least one image." };
  const captions = files.map((_, i) => form.querySelector(`#train-caption-${i}`).value.trim());
  const missing = captions
    .map((caption, i) => (caption ? null : { field: `images[${i}]`, message: "Write a caption." }))
    .filter(Boolean);
  if (missing.length) throw { details: missing, message: missing[0].message };
  const taken = new Set();
  return Promise.all(
    files.map(async (file, i) => ({
      name: uploadName(file, i, taken),
      imageBase64: await base64Of(file),
      caption: captions[i],
    })),
  );
}

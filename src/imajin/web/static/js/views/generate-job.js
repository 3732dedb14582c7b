// A generate job followed in place: status and progress, the live preview while it
// denoises (PREVIEW events: payload.dataUrl is a small WebP), then the finished
// images with the parameters that made them.

import { api } from "../api.js";
import { h, progressBar, setChildren, shortId, statusBadge } from "../dom.js";
import { lazyImage } from "../images.js";
import { isTerminal, subscribe } from "../live.js";
import { parameterList } from "../params.js";
import { openViewer } from "../viewer.js";
import { errorText } from "./cards.js";

/**
 * Show job `jobId` in `box` until it ends, then call `onEnd()`; returns the unsubscribe
 * function.
 */
export function followJob(jobId, box, { onEnd = () => {} } = {}) {
  box.hidden = false;
  const badge = h("p", {}, statusBadge("queued"));
  const progress = h("div", { class: "job-progress" });
  const preview = h("img", {
    class: "live-preview",
    alt: "Live preview",
    width: 256,
    height: 256,
    hidden: true,
  });
  const figure = h("figure", { class: "live-preview-box", hidden: true }, preview);
  const outcome = h("div", { class: "job-outcome" });
  setChildren(
    box,
    h("h2", {}, `Job ${shortId(jobId)}`),
    badge,
    progress,
    figure,
    outcome,
    h("p", {}, h("a", { href: "#/queue" }, "See the queue")),
  );
  let ended = false;
  const stop = subscribe(async (event) => {
    if (event.jobId !== jobId || ended) return;
    const payload = event.payload ?? {};
    if (event.type === "PREVIEW") {
      preview.src = payload.dataUrl;
      preview.width = payload.width;
      preview.height = payload.height;
      preview.alt = `Live preview at step ${payload.step} of ${payload.total}`;
      preview.hidden = false;
      figure.hidden = false;
      return;
    }
    if (event.type === "JOB_PROGRESS") {
      const { step, total } = payload;
      setChildren(badge, statusBadge("running"));
      const label = `Step ${step} of ${total}`;
      setChildren(progress, progressBar({ value: step, max: total, label }));
      return;
    }
    setChildren(badge, statusBadge(payload.status));
    if (!isTerminal(event)) return;
    ended = true;
    stop();
    setChildren(progress);
    const job = await api(`/api/jobs/${encodeURIComponent(jobId)}`).catch(() => null);
    figure.hidden = true; // the finished image takes the preview's place
    setChildren(outcome, resultView(job));
    onEnd();
  });
  return stop;
}

// A finished job's images: result.images[] = {imageUrl, thumbnailUrl, sidecarUrl, seed}.
function resultView(job) {
  if (!job) return null;
  if (job.error) return h("p", { class: "inline-error" }, errorText(job.error));
  const images = job.result?.images ?? [];
  return h(
    "ul",
    { class: "results plain", "aria-label": "Generated images" },
    images.map((image, i) => h("li", {}, resultItem(image, i))),
  );
}

function resultItem(image, index) {
  const title = `Image ${index + 1} (seed ${image.seed})`;
  const params = image.sidecarUrl ? api(image.sidecarUrl) : Promise.resolve(null);
  const loading = h("p", { class: "muted" }, "Loading parameters…");
  const paramsBox = h("div", { class: "result-params" }, loading);
  params.then(
    (values) => setChildren(paramsBox, values ? parameterList(values) : null),
    () => setChildren(paramsBox, h("p", { class: "muted" }, "No parameters stored.")),
  );
  const open = () => openViewer({ title, imageUrl: image.imageUrl, params });
  return h(
    "article",
    { class: "result" },
    h(
      "button",
      { type: "button", class: "result-open", "aria-label": title, onclick: open },
      lazyImage(image.imageUrl, { alt: title, className: "result-image" }),
    ),
    h("div", { class: "result-body" }, h("h3", {}, title), paramsBox),
  );
}

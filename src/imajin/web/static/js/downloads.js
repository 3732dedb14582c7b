// Models whose weights are not in the Hugging Face cache, under the model picker. An
// admin gets a Download button: POST /api/images/models/{id}/pull starts a pull_model
// job whose JOB_PROGRESS events carry file, doneBytes, totalBytes, filesDone, filesTotal.
// Other sessions are told the command that fetches the model.

import { api, session } from "./api.js";
import { h, progressBar, setChildren } from "./dom.js";
import { isTerminal, subscribe } from "./live.js";
import { showError, showInfo } from "./notices.js";
import { errorText } from "./views/cards.js";

const MB = 1024 * 1024;
const megabytes = (bytes) => `${(bytes / MB).toFixed(bytes < 10 * MB ? 1 : 0)} MB`;

/**
 * The list of missing models. update(models) redraws it (a download in progress keeps
 * its row); onDone() runs after a download ends, to refresh the model list; stop()
 * stops following every download.
 */
export function modelDownloads({ onDone }) {
  // Folded: a new install lists every manifest model here, which would bury the form.
  const summary = h("summary", {});
  const list = h("ul", { class: "plain", "aria-live": "polite" });
  const element = h("details", { class: "model-downloads", hidden: true }, summary, list);
  const rows = new Map(); // model id → {row, stop}, kept while a download runs

  const update = (models) => {
    const missing = models.filter((model) => model.downloaded === false);
    const admin = session.scopes.includes("admin");
    const shown = missing.map((model) => rows.get(model.model_id)?.row ?? rowFor(model, admin));
    for (const [id, entry] of rows) {
      if (!missing.some((model) => model.model_id === id)) {
        entry.stop();
        rows.delete(id);
      }
    }
    setChildren(list, shown);
    element.hidden = shown.length === 0;
    const count = shown.length === 1 ? "1 model is" : `${shown.length} models are`;
    summary.textContent = `${count} not downloaded yet`;
  };

  const rowFor = (model, admin) => {
    const name = model.name ?? model.model_id;
    const label = h("span", {}, name === model.model_id ? name : `${name} (${model.model_id})`);
    if (!admin) {
      return h(
        "li",
        { class: "model-download hint", dataset: { model: model.model_id } },
        label,
        `: an admin can download it here, or run imajin models pull ${model.model_id}`,
      );
    }
    const status = h("span", { class: "download-status" });
    const button = h(
      "button",
      { type: "button", class: "btn btn-small", "aria-label": `Download ${name}` },
      "Download",
    );
    const row = h(
      "li",
      { class: "model-download", dataset: { model: model.model_id } },
      label,
      button,
      status,
    );
    button.addEventListener("click", () => start(model, { row, button, status }));
    return row;
  };

  const start = async (model, { row, button, status }) => {
    button.disabled = true;
    setChildren(status, "Starting…");
    let job;
    try {
      job = await api(`/api/images/models/${encodeURIComponent(model.model_id)}/pull`, {
        method: "POST",
      });
    } catch (error) {
      button.disabled = false;
      setChildren(status);
      showError(error, { context: `Downloading ${model.model_id}` });
      return;
    }
    const stop = follow(job.id, {
      onProgress: (p) => {
        const label = `${megabytes(p.doneBytes ?? 0)} of ${megabytes(p.totalBytes ?? 0)}`;
        const files = p.filesTotal ? ` · file ${p.filesDone ?? 0} of ${p.filesTotal}` : "";
        setChildren(
          status,
          progressBar({ value: p.doneBytes, max: p.totalBytes, label: `Downloaded ${label}` }),
          ` ${label}${files}`,
        );
      },
      onEnd: (done) => {
        rows.delete(model.model_id);
        if (done?.status === "succeeded") {
          showInfo(`${model.model_id} is downloaded and can be picked now.`);
        } else {
          button.disabled = false;
          const why = errorText(done?.error) || `The download ${done?.status ?? "failed"}.`;
          setChildren(status, h("span", { class: "inline-error" }, why));
        }
        onDone();
      },
    });
    rows.set(model.model_id, { row, stop });
  };

  const stop = () => {
    for (const entry of rows.values()) entry.stop();
    rows.clear();
  };
  return { element, update, stop };
}

/** Follow job `jobId`'s progress until it ends; returns the unsubscribe function. */
function follow(jobId, { onProgress, onEnd }) {
  let ended = false;
  const stop = subscribe(async (event) => {
    if (event.jobId !== jobId || ended) return;
    if (event.type === "JOB_PROGRESS") onProgress(event.payload ?? {});
    if (!isTerminal(event)) return;
    ended = true;
    stop();
    onEnd(await api(`/api/jobs/${encodeURIComponent(jobId)}`).catch(() => null));
  });
  return stop;
}

// Training runs on the Training screen: the ones under way (or just finished) when the
// screen opens, and one run followed in place with its phase, step, loss chart and
// outcome. A run is followed on its own event stream (GET /api/jobs/{id}/events): the
// server first replays everything the run has reported, so a run started elsewhere or
// before a reload is drawn from its first step, then goes on live until the run ends.

import { api, authHeaders } from "../api.js";
import { h, humanize, progressBar, setChildren, statusBadge, timeElement } from "../dom.js";
import { isTerminal, subscribe } from "../live.js";
import { lossChart } from "../losschart.js";
import { setDraft } from "../params.js";
import { EventStreamClient } from "../sse.js";
import { errorText } from "./cards.js";

const KIND = "train_lora";
const PHASES = { preparing: "Encoding the images", training: "Training" };
// More runs than anyone keeps going at once; the list stays short.
const ACTIVE_LIMIT = 10;

/**
 * The runs worth showing when the screen opens: running ones, then queued ones (each
 * newest first), then the newest run of all when it is neither, i.e. the last finished.
 */
export async function findRuns({ signal }) {
  const runs = (query) =>
    api("/api/jobs", { query: { kind: KIND, ...query }, signal }).then((page) => page.items);
  const [running, queued, newest] = await Promise.all([
    runs({ status: "running", limit: ACTIVE_LIMIT }),
    runs({ status: "queued", limit: ACTIVE_LIMIT }),
    runs({ limit: 1 }),
  ]);
  const seen = new Set();
  return [...running, ...queued, ...newest].filter((job) => {
    if (seen.has(job.id)) return false;
    seen.add(job.id);
    return true;
  });
}

/**
 * The runs as a list; picking one calls `onPick(job)`. Shown once it holds two runs
 * (a single run is already in the run panel). Badges follow the page's live stream.
 */
export function runList({ onPick }) {
  const list = h("ul", { class: "training-run-list plain" });
  const element = h(
    "section",
    { class: "panel training-runs", "aria-labelledby": "training-runs-title", hidden: true },
    h("h2", { id: "training-runs-title" }, "Recent runs"),
    list,
  );
  const rows = new Map(); // job id → its <li>

  const rowOf = (job) => {
    const badge = h("span", { class: "run-status" }, statusBadge(job.status));
    const pick = h(
      "button",
      { type: "button", class: "btn btn-quiet btn-small", onclick: () => onPick(job) },
      job.params?.output ?? job.id,
    );
    return h(
      "li",
      { class: "training-run-row", dataset: { job: job.id } },
      pick,
      badge,
      h("span", { class: "muted small" }, timeElement(job.createdAt)),
    );
  };

  const stopLive = subscribe((event) => {
    const row = rows.get(event.jobId);
    const status = event.payload?.status;
    if (row && status) setChildren(row.querySelector(".run-status"), statusBadge(status));
  });

  return {
    element,
    /** Add runs (newest first), or move one already listed to its new place. */
    add(jobs, { atTop = false } = {}) {
      const fresh = jobs.map((job) => {
        rows.get(job.id)?.remove();
        const row = rowOf(job);
        rows.set(job.id, row);
        return row;
      });
      if (atTop) list.prepend(...fresh);
      else list.append(...fresh);
      element.hidden = rows.size < 2;
    },
    /** Mark the run the panel shows. */
    mark(jobId) {
      for (const [id, row] of rows) {
        row.querySelector("button").setAttribute("aria-current", String(id === jobId));
      }
    },
    stop: stopLive,
  };
}

/**
 * Show run `job` in `panel` until it ends; `total` is its step count when the job does
 * not say yet (a queued run). Returns the function that stops following it.
 */
export function followRun(job, panel, { total = 0 } = {}) {
  const { base, output = job.id, overrides = {} } = job.params ?? {};
  panel.hidden = false;
  panel.dataset.job = job.id;
  const badge = h("p", {}, statusBadge(job.status ?? "queued"));
  const phase = h("p", { class: "training-phase", "aria-live": "polite" }, "Waiting to start…");
  const progress = h("div", { class: "job-progress" });
  let steps = job.progress?.total || overrides.max_steps || total;
  const chart = lossChart({ total: steps });
  const latest = h("p", { class: "training-loss muted" }, "No loss yet.");
  const outcome = h("div", { class: "job-outcome" });
  setChildren(
    panel,
    h("h2", {}, `Training ${output}`),
    badge,
    phase,
    progress,
    h("figure", { class: "loss-figure" }, chart.element, h("figcaption", {}, latest)),
    outcome,
    h("p", {}, h("a", { href: "#/queue" }, "See the queue")),
  );

  let ended = false;
  const showProgress = (payload) => {
    setChildren(badge, statusBadge("running"));
    if (payload.total) {
      steps = payload.total;
      chart.setTotal(steps);
    }
    const where = payload.phase === "training" ? ` · step ${payload.step} of ${steps}` : "";
    phase.textContent = `${PHASES[payload.phase] ?? humanize(payload.phase ?? "running")}${where}`;
    setChildren(progress, progressBar({ value: payload.step, max: steps, label: phase.textContent }));
    if (typeof payload.loss === "number") {
      chart.add(payload.step, payload.loss);
      latest.textContent = `Loss ${payload.loss.toPrecision(4)} at step ${payload.step}`;
    }
  };
  const finish = async () => {
    ended = true;
    stream.stop();
    setChildren(progress);
    const done = await api(`/api/jobs/${encodeURIComponent(job.id)}`).catch(() => null);
    setChildren(outcome, outcomeView(done, { base, output }));
    phase.textContent =
      done?.status === "succeeded" ? "Finished" : humanize(done?.status ?? "ended");
  };
  const onEvent = (raw) => {
    if (ended) return;
    let event;
    try {
      event = JSON.parse(raw.data);
    } catch {
      return; // not one of ours
    }
    const payload = event.payload ?? {};
    if (event.type === "JOB_PROGRESS") showProgress(payload);
    else if (payload.status) setChildren(badge, statusBadge(payload.status));
    if (isTerminal(event)) finish();
  };
  const onState = ({ state, status }) => {
    // 404: the job is gone; 401/403: the key may not read it. Either way nothing more comes.
    if (state === "refused" && !ended) {
      phase.textContent = `Cannot follow this run: the server answered ${status}.`;
    }
  };
  const stream = new EventStreamClient(`/api/jobs/${encodeURIComponent(job.id)}/events`, {
    headers: authHeaders,
    onEvent,
    onState,
  });
  stream.start();
  return () => {
    ended = true;
    stream.stop();
  };
}

function outcomeView(job, { base, output }) {
  if (!job) return null;
  if (job.status !== "succeeded") {
    return h("p", { class: "inline-error" }, errorText(job.error) || `The run ${job.status}.`);
  }
  const result = job.result ?? {};
  const name = result.name ?? output;
  const use = () => {
    setDraft({ model: result.base ?? base, loras: [{ id: name, weight: 1 }] });
    window.location.hash = "#/generate";
  };
  return [
    h(
      "p",
      { class: "training-done" },
      `LoRA ${name} is ready: ${result.steps} steps on ${result.images} images`,
      typeof result.final_loss === "number"
        ? `, final loss ${result.final_loss.toPrecision(4)}.`
        : ".",
    ),
    h(
      "div",
      { class: "actions" },
      h("button", { type: "button", class: "btn btn-primary", onclick: use }, "Use it in Generate"),
      h("a", { class: "btn btn-quiet", href: "#/generate" }, "Open Generate"),
    ),
  ];
}

// The live queue: running and queued jobs with progress and cancel buttons, then
// recent history. Loaded once, then kept current from the event stream.

import { api, isAbort } from "../api.js";
import {
  debounce,
  h,
  placeholder,
  progressBar,
  reconcile,
  setChildren,
  shortId,
  statusBadge,
  timeElement,
} from "../dom.js";
import { subscribe } from "../live.js";
import { inlineError, showError } from "../notices.js";
import { errorText } from "./cards.js";

const ACTIVE = new Set(["queued", "running"]);
const RECENT = 20;

/** What a job is about, in a few words: its prompt, its item, or its kind. */
function jobLabel(job) {
  const params = job.params ?? {};
  const text =
    params.item ??
    params.request?.prompt ??
    params.prompt ??
    params.name ??
    params.generation?.prompt ??
    "";
  return text ? String(text).slice(0, 120) : job.kind;
}

function jobRow(job, onCancel) {
  const row = h(
    "li",
    { class: "job" },
    h("div", { class: "job-main" }),
    h("div", { class: "job-state" }),
    h("div", { class: "job-actions" }),
  );
  updateJobRow(row, job, onCancel);
  return row;
}

// Updates in place; the Cancel button is kept (not rebuilt) so it keeps keyboard focus
// while progress events stream in.
function updateJobRow(row, job, onCancel) {
  const [mainBox, stateBox, actions] = row.children;
  const { step = 0, total = 0 } = job.progress ?? {};
  const label = jobLabel(job);
  const cancelling = job.cancelRequested && ACTIVE.has(job.status);
  setChildren(
    mainBox,
    h("strong", { class: "job-label" }, label),
    h(
      "span",
      { class: "muted small" },
      `${job.kind} · ${shortId(job.id)} · `,
      timeElement(job.createdAt),
    ),
  );
  setChildren(
    stateBox,
    statusBadge(cancelling ? "cancelling" : job.status),
    job.status === "running" && total > 0
      ? progressBar({ value: step, max: total, label: `${label}: step ${step} of ${total}` })
      : null,
    job.error ? h("span", { class: "card-error" }, errorText(job.error)) : null,
  );
  let button = actions.querySelector("button");
  const canCancel = ACTIVE.has(job.status) && !job.cancelRequested;
  if (canCancel && !button) {
    button = h(
      "button",
      { type: "button", class: "btn btn-small btn-danger", onclick: () => onCancel(button.job) },
      "Cancel",
    );
    actions.append(button);
  } else if (!canCancel && button) {
    button.remove();
    button = null;
  }
  if (button) {
    button.job = job;
    button.setAttribute("aria-label", `Cancel ${label}`);
  }
}

export function renderQueue(main) {
  const scope = new AbortController();
  const jobs = new Map();
  const activeList = h("ul", { class: "jobs", "aria-labelledby": "active-title" });
  const recentList = h("ul", { class: "jobs", "aria-labelledby": "recent-title" });
  const activeEmpty = h("div", {});
  const status = h("div", {});
  setChildren(
    main,
    h("h1", {}, "Queue"),
    status,
    h(
      "section",
      { class: "panel" },
      h("h2", { id: "active-title" }, "Running and queued"),
      activeList,
      activeEmpty,
    ),
    h("section", { class: "panel" }, h("h2", { id: "recent-title" }, "Recent"), recentList),
  );

  async function cancel(job) {
    try {
      const updated = await api(`/api/jobs/${encodeURIComponent(job.id)}`, { method: "DELETE" });
      jobs.set(updated.id, updated);
      render();
    } catch (error) {
      showError(error, { context: "Cancelling" });
    }
  }

  function render() {
    const all = [...jobs.values()];
    const byAge = (a, b) => String(a.createdAt).localeCompare(String(b.createdAt));
    // Running first, then queued by priority and age: the order workers take them.
    const active = all
      .filter((job) => ACTIVE.has(job.status))
      .sort((a, b) =>
        a.status === b.status
          ? b.priority - a.priority || byAge(a, b)
          : a.status === "running"
            ? -1
            : 1,
      );
    const recent = all
      .filter((job) => !ACTIVE.has(job.status))
      .sort((a, b) => byAge(b, a))
      .slice(0, RECENT);
    const options = {
      key: (job) => job.id,
      create: (job) => jobRow(job, cancel),
      update: (row, job) => updateJobRow(row, job, cancel),
    };
    reconcile(activeList, active, options);
    reconcile(recentList, recent, options);
    setChildren(activeEmpty, active.length ? null : placeholder("Nothing is queued."));
  }

  let loads = 0;
  async function load() {
    const mine = ++loads; // only the newest answer is shown, whatever order they arrive in
    try {
      const pages = await Promise.all([
        api("/api/jobs", { query: { status: "running", limit: 200 }, signal: scope.signal }),
        api("/api/jobs", { query: { status: "queued", limit: 200 }, signal: scope.signal }),
        api("/api/jobs", { query: { limit: RECENT }, signal: scope.signal }),
      ]);
      if (mine !== loads) return;
      jobs.clear();
      for (const job of pages.flatMap((page) => page.items)) jobs.set(job.id, job);
      setChildren(status);
    } catch (error) {
      if (isAbort(error)) return;
      setChildren(status, inlineError(error, { retry: load }));
      return;
    }
    render();
  }

  const reload = debounce(load, 300);
  const unsubscribe = subscribe((event) => {
    if (!event.type.startsWith("JOB_")) return;
    const job = jobs.get(event.jobId);
    if (!job) {
      reload(); // a job this page has not seen: fetch it with its parameters
      return;
    }
    const { status, step, total } = event.payload ?? {};
    const progress =
      event.type === "JOB_PROGRESS" ? { ...job.progress, step, total } : job.progress;
    jobs.set(job.id, { ...job, status: status ?? job.status, progress });
    render();
    if (event.type !== "JOB_PROGRESS" && !ACTIVE.has(status)) reload(); // fetch result/error
  });

  load();
  return () => {
    scope.abort();
    unsubscribe();
    reload.cancel();
  };
}

// A gateway request that outlives its endpoint's timeout answers 202 {job_id}; the job
// runs on, and these helpers show its result when it ends (chat and profile alike).

import { api } from "../api.js";
import { h, setChildren, shortId, statusBadge } from "../dom.js";
import { isTerminal, subscribe } from "../live.js";

const ENDED = ["succeeded", "failed", "cancelled"];

/**
 * Follow job `jobId` in `box`: `show(result)` once it succeeds (the result carries
 * `job_id`), its error otherwise. Returns a function that stops following.
 */
export function followJob(jobId, box, show) {
  setChildren(box, h("p", {}, `Still running as job ${shortId(jobId)}: `, statusBadge("running")));
  const path = `/api/jobs/${encodeURIComponent(jobId)}`;
  let done = false;
  const settle = (job) => {
    if (done || !job || !ENDED.includes(job.status)) return;
    done = true;
    stop();
    if (job.status === "succeeded" && job.result) show({ ...job.result, job_id: jobId });
    else {
      const why = job.error?.message ? `: ${job.error.message}` : ".";
      const text = `Job ${shortId(jobId)} ${job.status}${why}`;
      setChildren(box, h("p", { class: "inline-error" }, text));
    }
  };
  const stop = subscribe(async (event) => {
    if (event.jobId === jobId && isTerminal(event)) settle(await api(path).catch(() => null));
  });
  // It may have ended between the 202 and the subscription.
  api(path).then(settle, () => {});
  return stop;
}

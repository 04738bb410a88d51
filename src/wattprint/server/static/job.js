// One job: its facts, runs, log and spec, polled until the job reaches a final state.
import { api, el, fill, guard, post, runLink, time } from "./app.js";

const { job: jobId, final } = document.getElementById("page").dataset;
const finalStates = final.split(" ");
const cancelButton = document.getElementById("cancel");
const POLL_MS = 2000;

async function load() {
  const { job, log_tail: log } = await api(`/api/jobs/${jobId}`);
  const facts = [
    ["State", el("span", { class: `status ${job.state}`, "data-testid": "job-state" }, job.state)],
    ["Kind", job.kind],
    ["Project", job.project],
    ["Executor", job.executor],
    ["Created", time(job.created_at)],
    ["Started", time(job.started_at)],
    ["Ended", time(job.ended_at)],
    ["Error", job.error],
  ];
  fill("facts", ...facts.filter(([, value]) => value != null)
    .flatMap(([label, value]) => [el("dt", {}, label), el("dd", {}, value)]));
  fill("runs", ...(job.run_ids.length ? job.run_ids.map((id) => el("li", {}, runLink(id)))
    : [el("li", { class: "empty" }, "No run yet.")]));
  fill("log", printed(log) || "(empty)");
  fill("spec", JSON.stringify(job.spec, null, 2));
  cancelButton.hidden = finalStates.includes(job.state);
  return cancelButton.hidden;
}

// The log as a terminal shows it: of a line redrawn with "\r" (progress bars), the last.
function printed(log) {
  return log.split("\n").map((line) => line.split("\r").filter(Boolean).at(-1) ?? "").join("\n");
}

// Reload until the job is final (or the API answers an error, shown in the page).
async function poll() {
  if ((await guard(load)) === false) setTimeout(poll, POLL_MS);
}

cancelButton.addEventListener("click", () => guard(async () => {
  await post(`/api/jobs/${jobId}/cancel`, {});
  await load();
}));
poll();

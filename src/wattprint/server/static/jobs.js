// The job queue (refreshed every few seconds) and the launch form: the fields of the
// chosen kind and executor become a job spec, or the raw JSON spec is sent as it is.
import { api, el, fill, formValues, guard, post, runLink, table, time } from "./app.js";

const filter = document.getElementById("job-filter");
const form = document.getElementById("launch");
const result = document.getElementById("launch-result");
const REFRESH_MS = 3000;

function jobLink(job, text = `#${job.id}`) {
  return el("a", { href: `/jobs/${job.id}`, "data-testid": "job-link" }, text);
}

async function load() {
  const query = new URLSearchParams([...new FormData(filter)].filter(([, value]) => value));
  const { jobs } = await api(`/api/jobs?${query}`);
  fill("jobs", jobs.length ? table([
    ["Job", (j) => jobLink(j)],
    ["Kind", (j) => j.kind],
    ["Project", (j) => j.project],
    ["Executor", (j) => j.executor],
    ["State", (j) => el("span", { class: `status ${j.state}` }, j.state)],
    ["Created", (j) => time(j.created_at)],
    ["Ended", (j) => time(j.ended_at)],
    ["Runs", (j) => j.run_ids.map((id) => runLink(id))],
    ["Error", (j) => j.error],
  ], jobs, "jobs-table") : el("p", { class: "empty" }, "No jobs."));
}

// Show the fieldsets of the chosen kind and executor only (hidden ones are not sent).
function showSections() {
  const chosen = { kind: form.elements.kind.value, executor: form.elements.executor.value };
  for (const set of form.querySelectorAll("fieldset[data-kind], fieldset[data-executor]")) {
    const [key, value] = Object.entries(set.dataset)[0];
    set.hidden = chosen[key] !== value;
  }
}

// The spec the visible fields describe.
function specFromFields() {
  return formValues(form.querySelectorAll("fieldset:not([hidden]) [name]"));
}

async function launch() {
  const raw = form.elements.raw.value.trim();
  let spec;
  try {
    spec = raw ? JSON.parse(raw) : specFromFields();
  } catch (error) {
    throw new Error(`the raw JSON spec is not valid JSON: ${error.message}`);
  }
  const { job } = await post("/api/jobs", spec);
  const follow = jobLink(job, "follow it");
  follow.dataset.testid = "launched-job";
  result.replaceChildren(`Job #${job.id} is ${job.state}: `, follow);
  guard(load);
}

form.addEventListener("change", showSections);
form.addEventListener("submit", (event) => {
  event.preventDefault();
  result.className = "";
  result.textContent = "Launching…";
  launch().catch((error) => {
    result.className = "error";
    result.textContent = `Not launched: ${error.message}`;
  });
});
document.getElementById("to-json").addEventListener("click", () => {
  form.elements.raw.value = JSON.stringify(specFromFields(), null, 2);
});
filter.addEventListener("change", () => guard(load));
showSections();
guard(load);
setInterval(() => document.hidden || guard(load), REFRESH_MS);

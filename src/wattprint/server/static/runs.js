// The runs page: filters and sorting kept in the address bar, pagination, and picking
// runs to compare (the choice survives paging).
import { RUN_COLUMNS, addOptions, api, el, fill, guard, table } from "./app.js";

const form = document.getElementById("filters");
const compareButton = document.getElementById("compare-selected");
const selected = new Set();
const SORT_LABELS = { started: "start time", energy: "energy", co2e: "CO2e", duration: "duration" };
let page = 1;
let latest = 0; // the last load asked for: an older answer arriving late is dropped

async function init() {
  const meta = await api("/api/meta");
  addOptions(form.elements.project, meta.projects);
  addOptions(form.elements.status, meta.statuses);
  addOptions(form.elements.host, meta.hosts);
  addOptions(form.elements.sort, meta.sorts, (s) => SORT_LABELS[s] || s);
  const query = new URLSearchParams(location.search);
  for (const field of form.elements) {
    if (query.has(field.name)) field.value = query.get(field.name);
  }
  page = Number(query.get("page")) || 1;
  form.addEventListener("change", () => {
    page = 1;
    guard(load);
  });
  document.getElementById("prev").addEventListener("click", () => turn(-1));
  document.getElementById("next").addEventListener("click", () => turn(1));
  compareButton.addEventListener("click", () => {
    location.href = `/compare?runs=${[...selected].map(encodeURIComponent).join(",")}`;
  });
  await load();
}

function turn(step) {
  page += step;
  guard(load);
}

async function load() {
  const query = new URLSearchParams();
  for (const [name, value] of new FormData(form)) if (value) query.set(name, value);
  query.set("page", page);
  history.replaceState(null, "", `?${query}`);
  const ticket = ++latest;
  const answer = await api(`/api/runs?${query}`);
  if (ticket !== latest) return;
  const pages = Math.max(1, Math.ceil(answer.total / answer.per_page));
  fill("runs", answer.runs.length ? table([["", pick], ...RUN_COLUMNS], answer.runs, "runs-table")
    : el("p", { class: "empty" }, "No run matches these filters."));
  fill("runs-count", `${answer.total} runs`);
  fill("page-info", `page ${answer.page} of ${pages}`);
  document.getElementById("prev").disabled = answer.page <= 1;
  document.getElementById("next").disabled = answer.page >= pages;
}

function pick(run) {
  const box = el("input", {
    type: "checkbox",
    "aria-label": `compare ${run.name}`,
    "data-testid": "pick",
    checked: selected.has(run.run_id),
  });
  box.addEventListener("change", () => {
    if (box.checked) selected.add(run.run_id);
    else selected.delete(run.run_id);
    compareButton.disabled = selected.size < 2;
    compareButton.textContent = `Compare selected (${selected.size})`;
  });
  return box;
}

guard(init);

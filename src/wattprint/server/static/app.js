// Shared helpers of the dashboard pages: API calls, DOM building, unit formatting, plots.
// Data is only ever written with textContent (el, table), never as HTML.

/** The JSON (or text) answer of the API; an Error carrying the API's `detail` otherwise. */
export async function api(path, options = {}) {
  const response = await fetch(path, { credentials: "same-origin", ...options });
  const json = (response.headers.get("content-type") || "").includes("json");
  const body = json ? await response.json() : await response.text();
  if (!response.ok) {
    const detail = json ? describe(body.detail) : body;
    throw new Error(detail || `${response.status} ${response.statusText}`);
  }
  return body;
}

/** POST `data` as JSON to the API. */
export function post(path, data) {
  return api(path, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(data),
  });
}

// FastAPI's validation errors are a list of {loc, msg}; the API's own are one string.
function describe(detail) {
  if (!Array.isArray(detail)) return detail;
  return detail.map((d) => `${(d.loc || []).join(".")}: ${d.msg}`).join("; ");
}

/** Show an error in the page's alert line (several errors: one line each, no repeats). */
export function showError(error) {
  const box = document.getElementById("error");
  const message = error.message || String(error);
  if ([...box.children].some((line) => line.textContent === message)) return;
  box.hidden = false;
  box.append(el("span", {}, message));
}

/** Run an async page section; its error lands in the alert line instead of the console. */
export function guard(section) {
  return Promise.resolve()
    .then(section)
    .catch(showError);
}

/** A new element: `attrs` are attributes (`dataset` too), children are nodes or text. */
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (key === "dataset") Object.assign(node.dataset, value);
    else if (value === true) node.setAttribute(key, "");
    else if (value !== false && value != null) node.setAttribute(key, value);
  }
  for (const child of children.flat()) {
    if (child != null) node.append(child instanceof Node ? child : String(child));
  }
  return node;
}

/** A table (scrolling sideways when wide): `columns` are [label, cell(row) → text or
 * node, classes: "num" right-aligns on one line, "num wrap" lets it wrap]. */
export function table(columns, rows, testid) {
  const head = el("tr", {}, columns.map(([label, , kind]) => el("th", { class: kind }, label)));
  const body = rows.map((row) =>
    el("tr", {}, columns.map(([, cell, kind]) => el("td", { class: kind }, cell(row) ?? "–"))),
  );
  const grid = el("table", { "data-testid": testid }, el("thead", {}, head), el("tbody", {}, body));
  return el("div", { class: "table-wrap" }, grid);
}

/** A summary card: a label, a value (text or nodes) and notes under it. */
export function card(label, value, ...notes) {
  return el("div", { class: "card", "data-testid": `card-${label.toLowerCase()}` },
    el("h3", {}, label),
    el("p", { class: "value" }, value),
    notes.filter(Boolean).map((note) => el("p", { class: "note" }, note)));
}

/** Replace the children of the element with id `id`. */
export function fill(id, ...children) {
  document.getElementById(id).replaceChildren(...children);
}

/** Options of a <select>, after the ones the page wrote (such as "all"). */
export function addOptions(select, values, label = (v) => v) {
  select.append(...values.map((v) => el("option", { value: v }, label(v))));
}

/** The values of form `inputs` as JSON: numbers for number inputs, booleans for
 * checkboxes, "a.b" names nested; empty (and unchecked) fields left out. */
export function formValues(inputs) {
  const values = {};
  for (const input of inputs) {
    const value = input.type === "checkbox" ? input.checked
      : input.type === "number" ? input.valueAsNumber : input.value.trim();
    if (!input.name || value === "" || value === false || Number.isNaN(value)) continue;
    const path = input.name.split(".");
    const section = path.slice(0, -1).reduce((node, key) => (node[key] ??= {}), values);
    section[path.at(-1)] = value;
  }
  return values;
}

/** A link to a run's page. */
export function runLink(runId, text = runId) {
  const href = `/runs/${encodeURIComponent(runId)}`;
  return el("a", { href, class: "run-link", "data-testid": "run-link" }, text);
}

/** "measured" / "estimated" / "mixed" as a badge. */
export function badge(quality) {
  return el("span", { class: `badge ${quality}`, title: QUALITY_TITLES[quality] }, quality);
}

const QUALITY_TITLES = {
  measured: "read from an energy counter",
  estimated: "computed from a power model or reference table",
  mixed: "some components measured, some estimated",
};

/** The columns of a run in the runs list and the comparison. */
export const RUN_COLUMNS = [
  ["Run", (r) => runLink(r.run_id, r.name || r.run_id)],
  ["Project", (r) => r.project],
  ["Status", (r) => el("span", { class: `status ${r.status}` }, r.status)],
  ["Host", (r) => r.host],
  ["Started", (r) => time(r.started_at)],
  ["Duration", (r) => duration(r.duration_s), "num"],
  ["Energy", (r) => energy(r.energy_j, r.energy_low_j, r.energy_high_j), "num"],
  ["CO2e", (r) => runCo2e(r), "num"],
  ["Figures", (r) => badge(r.quality)],
];

// A run's CO2e; hovering it names the grid intensity it was priced at.
function runCo2e(run) {
  const text = co2e(run.co2e_kg, run.co2e_low_kg, run.co2e_high_kg);
  return el("span", { title: run.intensity.source }, text);
}

// --- units -----------------------------------------------------------------------------

const ENERGY_UNITS = [ // [unit, joules per unit, from how many joules it is used]
  ["GWh", 3.6e12, 3.6e12],
  ["MWh", 3.6e9, 3.6e9],
  ["kWh", 3.6e6, 3.6e6],
  ["Wh", 3600, 3.6e4],
  ["kJ", 1e3, 1e3],
  ["J", 1, 1],
  ["mJ", 1e-3, 0],
];
const MASS_UNITS = [
  ["t", 1e3],
  ["kg", 1],
  ["g", 1e-3],
  ["mg", 1e-6],
  ["µg", 1e-9],
];

/** Three significant digits, grouped thousands; from ten million on, as 4.2e+22. */
export function num(x) {
  if (x == null || !Number.isFinite(x)) return "–";
  if (Math.abs(x) >= 1e7) return Number(x.toPrecision(3)).toExponential();
  return x.toLocaleString("en-US", { maximumSignificantDigits: 3 });
}

/** The unit [name, joules per unit] to show energies of about `joules` in. */
export function energyUnit(joules) {
  const size = Math.abs(joules || 0);
  if (size === 0) return ["J", 1];
  const [name, factor] = ENERGY_UNITS.find(([, , from]) => size >= from);
  return [name, factor];
}

function massUnit(kg) {
  const size = Math.abs(kg || 0);
  if (size === 0) return ["kg", 1];
  return MASS_UNITS.find(([, factor]) => size >= factor) || MASS_UNITS.at(-1);
}

// "12.3 kJ" and, when low/high are given and differ, " (10.1–14.2 kJ)" in one unit.
function withRange(value, low, high, [name, factor]) {
  if (value == null) return "–";
  const text = `${num(value / factor)} ${name}`;
  if (low == null || high == null || low === high) return text;
  return `${text} (${num(low / factor)}–${num(high / factor)} ${name})`;
}

/** An energy in joules, with its range. */
export function energy(joules, low, high) {
  return withRange(joules, low, high, energyUnit(joules));
}

/** A mass of CO2e in kg, with its range. */
export function co2e(kg, low, high) {
  return withRange(kg, low, high, massUnit(kg)) + (kg == null ? "" : " CO2e");
}

/** A duration in seconds: "42 s", "12.5 min", "3.2 h", "421 d". */
export function duration(seconds) {
  if (seconds == null) return "–";
  if (seconds < 120) return `${num(seconds)} s`;
  if (seconds < 7200) return `${num(seconds / 60)} min`;
  if (seconds < 172800) return `${num(seconds / 3600)} h`;
  return `${num(seconds / 86400)} d`;
}

/** The unit [seconds per unit, axis title] of a time axis running to `lastSeconds`. */
export function timeAxis(lastSeconds) {
  if (lastSeconds >= 7200) return [3600, "Time since start (h)"];
  if (lastSeconds >= 300) return [60, "Time since start (min)"];
  return [1, "Time since start (s)"];
}

/** A unix time as local "YYYY-MM-DD HH:MM:SS". */
export function time(unixSeconds) {
  if (unixSeconds == null) return "–";
  return new Date(unixSeconds * 1000).toLocaleString("sv-SE");
}

// --- plots -----------------------------------------------------------------------------

const LAYOUT = {
  height: 340,
  margin: { t: 36, r: 16, b: 48, l: 64 },
  font: { family: "system-ui, sans-serif", size: 12 },
  legend: { orientation: "h", y: -0.22 },
  paper_bgcolor: "rgba(0,0,0,0)",
};

/** An x axis of epochs up to `last`: whole numbers only, a dozen ticks at most. */
export function epochAxis(last) {
  return { title: { text: "Epoch" }, dtick: Math.max(1, Math.ceil(last / 12)), automargin: true };
}

/** A Plotly plot in the element with id `id`, titled, with axis titles. */
export function plot(id, traces, title, xTitle, yTitle, layout = {}) {
  return Plotly.newPlot(
    document.getElementById(id),
    traces,
    {
      ...LAYOUT,
      title: { text: title, font: { size: 14 } },
      xaxis: { title: { text: xTitle }, automargin: true },
      yaxis: { title: { text: yTitle }, automargin: true, rangemode: "tozero" },
      ...layout,
    },
    { responsive: true, displaylogo: false },
  );
}

/** Offer `metrics` in the page's metric chooser (#metric) and draw(metric) now and on
 * every change. */
export function chooseMetric(metrics, chosen, draw) {
  const select = document.getElementById("metric");
  select.replaceChildren(...metrics.map((m) => el("option", { value: m }, m)));
  select.value = chosen;
  select.addEventListener("change", () => draw(select.value));
  document.getElementById("metric-choice").hidden = false;
  draw(select.value);
}

/** A trace name saying whether its figures were measured or estimated. */
export function legend(name, quality) {
  return quality ? `${name} (${quality})` : name;
}

/** Plotly error bars from low/high arrays around `values` (nulls: no bar). */
export function errorBars(values, lows, highs) {
  return {
    type: "data",
    symmetric: false,
    array: values.map((v, i) => (highs[i] == null ? 0 : highs[i] - v)),
    arrayminus: values.map((v, i) => (lows[i] == null ? 0 : v - lows[i])),
  };
}

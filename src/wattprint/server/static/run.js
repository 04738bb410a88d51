// One run: summary cards, components, plots over time and per epoch, windows, what-if
// regions. Each section loads on its own, so one failing endpoint leaves the others.
import {
  api, badge, card, chooseMetric, co2e, duration, el, energy, energyUnit, errorBars, fill, guard,
  epochAxis, legend, num, plot, table, time, timeAxis,
} from "./app.js";

const ref = document.getElementById("page").dataset.ref;
const base = `/api/runs/${encodeURIComponent(ref)}`;

function empty(text) {
  return el("p", { class: "empty" }, text);
}

async function summary() {
  const { run, footprint, warnings, recommendations, events } = await api(base);
  const { pue, embodied, location: place } = footprint;
  const status = el("span", { class: `status ${run.status}` }, run.status);
  fill("title", run.name || run.run_id, " ", status);
  fill("summary",
    card("Energy", energy(run.energy_j, run.energy_low_j, run.energy_high_j), badge(run.quality),
      "IT energy: the sum of the components below"),
    card("CO2e", co2e(footprint.co2e_kg, footprint.low_kg, footprint.high_kg),
      badge(footprint.quality),
      `operational: energy × PUE ${num(pue.value)} (${pue.source}) × grid intensity`,
      `grid: ${footprint.intensity.source}`),
    card("Location", `${place.name} (${place.code})`, `from ${footprint.location_from}`),
    card("Embodied", co2e(embodied.kg, embodied.low_kg, embodied.high_kg), badge("estimated"),
      "hardware manufacture, amortised over its lifetime"),
    card("Run", duration(run.duration_s), `${run.project} on ${run.host}`,
      `started ${time(run.started_at)}`));
  fill("components", table([
    ["Component", (c) => c.name],
    ["Kind", (c) => c.kind],
    ["Figures", (c) => badge(c.quality)],
    ["Energy", (c) => energy(c.energy_j, c.low_j, c.high_j), "num"],
    ["Source", (c) => c.source],
    ["How", (c) => [c.description, c.basis].filter(Boolean).join(" — ")],
  ], run.components, "components-table"));
  fill("notes",
    run.error ? el("p", { class: "error" }, `Error: ${run.error}`) : "",
    el("ul", { class: "warnings" }, warnings.map((w) => el("li", {}, w))),
    ...(recommendations.length ? [el("h2", {}, "Recommendations"),
      el("ul", {}, recommendations.map((r) => el("li", {}, r.text)))] : []));
  fill("events", events.length ? table([
    ["Time", (e) => time(e.t)],
    ["Source", (e) => e.source],
    ["Message", (e) => e.message],
  ], events, "events-table") : empty("No events."));
}

async function timeline() {
  const { times_s: times, components } = await api(`${base}/timeline`);
  if (!times.length) return fill("timeline", empty("No samples were stored for this run."));
  const [perUnit, timeTitle] = timeAxis(times.at(-1));
  const x = times.map((t) => t / perUnit);
  const [unit, factor] = energyUnit(Math.max(...components.map((c) => c.cumulative_j.at(-1))));
  const line = (c, y) => ({ x, y, name: legend(c.name, c.quality), mode: "lines" });
  const powered = components.filter((c) => c.power_w.some((w) => w != null));
  plot("plot-power", powered.map((c) => line(c, c.power_w)),
    "Power by component", timeTitle, "Power (W)");
  plot("plot-cumulative", components.map((c) => line(c, c.cumulative_j.map((j) => j / factor))),
    "Cumulative energy by component", timeTitle, `Energy (${unit})`);
}

async function epochs() {
  const doc = await api(`${base}/epochs`);
  if (!doc.epochs.length) return fill("epochs", empty("No epochs were logged for this run."));
  const [unit, factor] = energyUnit(Math.max(...doc.epochs.map((e) => e.energy_j)));
  const scaled = (key) => doc.epochs.map((e) => (e[key] == null ? null : e[key] / factor));
  plot("plot-epochs", [{
    type: "bar",
    x: doc.epochs.map((e) => e.epoch),
    y: scaled("energy_j"),
    error_y: errorBars(scaled("energy_j"), scaled("low_j"), scaled("high_j")),
    name: legend("energy", doc.quality),
  }], "Energy per epoch (bars: low–high)", "Epoch", `Energy (${unit})`,
  { showlegend: true, xaxis: epochAxis(doc.epochs.at(-1).epoch) });
  if (!doc.metrics.length) return;
  fill("returns", doc.returns ? doc.returns.sentence : "");
  chooseMetric(doc.metrics, doc.metric, (metric) => metricPlot(doc, metric));
}

// The metric against the energy spent so far, with the diminishing-returns mark: the
// epoch from which the metric stayed near its final value.
function metricPlot(doc, metric) {
  const [unit, factor] = energyUnit(doc.epochs.at(-1).cumulative_j);
  const valueAt = (epoch) => doc.epochs.find((e) => e.epoch === epoch).metrics[metric] ?? null;
  const traces = [{
    x: doc.epochs.map((e) => e.cumulative_j / factor),
    y: doc.epochs.map((e) => valueAt(e.epoch)),
    text: doc.epochs.map((e) => `epoch ${e.epoch}`),
    mode: "lines+markers",
    name: legend(metric, doc.quality),
  }];
  const marks = doc.returns && doc.returns.metric === metric ? doc.returns.marks : [];
  if (marks.length) {
    traces.push({
      x: marks.map((m) => m.cumulative_j / factor),
      y: marks.map((m) => valueAt(m.epoch)),
      text: marks.map((m) => `${num(100 * m.share_after)}% of the energy after epoch ${m.epoch}`),
      textposition: "bottom center",
      cliponaxis: false,
      mode: "markers+text",
      marker: { size: 13, symbol: "diamond", color: "#c2410c" },
      name: "diminishing returns",
    });
  }
  plot("plot-metric", traces, `${metric} against energy`, `Cumulative energy (${unit})`, metric,
    { yaxis: { title: { text: metric }, automargin: true } });
}

async function windows() {
  const { windows: rows } = await api(`${base}/windows`);
  const parts = (w) => Object.entries(w.components_energy_j).map(([c, j]) => `${c} ${energy(j)}`);
  fill("windows", rows.length ? table([
    ["#", (w) => w.seq, "num"],
    ["Window", (w) => w.name],
    ["Inside", (w) => w.parent],
    ["Started", (w) => time(w.started_at)],
    ["Duration", (w) => duration(w.duration_s), "num"],
    ["Energy", (w) => energy(w.energy_j), "num"],
    ["By component", (w) => parts(w).join(", ")],
  ], rows, "windows-table") : empty("No windows were recorded in this run."));
}

async function whatif(regions = "") {
  const query = regions ? `?regions=${encodeURIComponent(regions)}` : "";
  const doc = await api(`${base}/whatif${query}`);
  const region = (o) => (o.code === doc.own
    ? el("strong", {}, `${o.name} (${o.code}), where it ran`) : `${o.name} (${o.code})`);
  fill("whatif", table([
    ["Region", region],
    ["Grid intensity", (o) => `${num(o.g_per_kwh)} gCO2e/kWh`, "num"],
    ["CO2e", (o) => co2e(o.kg, o.low_kg, o.high_kg), "num"],
    ["Source", (o) => [o.source, o.year].filter(Boolean).join(", ")],
  ], doc.options, "whatif-table"));
}

document.getElementById("whatif-form").addEventListener("submit", (event) => {
  event.preventDefault();
  guard(() => whatif(event.target.elements.regions.value.trim()));
});

for (const section of [summary, timeline, epochs, windows, whatif]) guard(section);

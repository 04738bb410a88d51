// Several runs side by side: their table (with each metric's final value) and overlaid
// plots of energy over time, energy per epoch and each metric against energy.
import {
  RUN_COLUMNS, api, chooseMetric, energyUnit, epochAxis, fill, guard, legend, num, plot, table,
  timeAxis,
} from "./app.js";

const runs = document.getElementById("page").dataset.runs;

// The last value of `metric` logged in the epochs `points`.
function final(points, metric) {
  return points.findLast((e) => e.metrics[metric] != null)?.metrics[metric];
}

// The run's energy (all components) over time.
function total({ times_s: times, components }) {
  return times.map((_, i) => components.reduce((sum, c) => sum + c.cumulative_j[i], 0));
}

async function compare() {
  const doc = await api(`/api/compare?runs=${encodeURIComponent(runs)}`);
  const points = (run) => doc.epochs[run.run_id].epochs;
  const metrics = [...new Set(doc.runs.flatMap((run) => doc.epochs[run.run_id].metrics))];
  const finals = metrics.map((m) => [`Final ${m}`, (run) => num(final(points(run), m)), "num"]);
  fill("compare", table([...RUN_COLUMNS, ...finals], doc.runs, "compare-table"));

  const name = (run) => legend(run.name || run.run_id, run.quality);
  const largest = (values) => Math.max(0, ...values.filter((v) => v != null));
  const timelines = doc.runs.map((run) => doc.timelines[run.run_id]);
  const totals = timelines.map(total);
  const [perUnit, timeTitle] = timeAxis(largest(timelines.map((t) => t.times_s.at(-1))));
  const [unit, factor] = energyUnit(largest(totals.map((joules) => joules.at(-1))));
  plot("plot-cumulative", doc.runs.map((run, i) => ({
    x: timelines[i].times_s.map((t) => t / perUnit),
    y: totals[i].map((j) => j / factor),
    mode: "lines",
    name: name(run),
  })), "Cumulative energy", timeTitle, `Energy (${unit})`);

  const [epochUnit, epochFactor] = energyUnit(
    largest(doc.runs.flatMap((run) => points(run).map((e) => e.energy_j))));
  plot("plot-epochs", doc.runs.map((run) => ({
    type: "bar",
    x: points(run).map((e) => e.epoch),
    y: points(run).map((e) => e.energy_j / epochFactor),
    name: name(run),
  })), "Energy per epoch", "Epoch", `Energy (${epochUnit})`,
  { barmode: "group", xaxis: epochAxis(largest(doc.runs.map((run) => points(run).length))) });

  if (!metrics.length) return;
  const spent = largest(doc.runs.map((run) => points(run).at(-1)?.cumulative_j));
  const [spentUnit, spentFactor] = energyUnit(spent);
  chooseMetric(metrics, metrics[0], (metric) => plot("plot-metric", doc.runs.map((run) => ({
    x: points(run).map((e) => e.cumulative_j / spentFactor),
    y: points(run).map((e) => e.metrics[metric] ?? null),
    mode: "lines+markers",
    name: name(run),
  })), `${metric} against energy`, `Cumulative energy (${spentUnit})`, metric));
}

if (runs) guard(compare);

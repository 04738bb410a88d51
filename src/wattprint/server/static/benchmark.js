// One benchmark: the suite's table as the report prints it, and plots of each model's
// training energy (with its range), energy per epoch, quality against energy and
// inference energy.
import {
  api, energyUnit, epochAxis, errorBars, fill, guard, legend, plot, runLink, table,
} from "./app.js";

const ref = document.getElementById("page").dataset.ref;

async function load() {
  const doc = await api(`/api/benchmarks/${encodeURIComponent(ref)}`);
  const quality = doc.benchmark.quality;
  fill("title", `Benchmark ${doc.benchmark.benchmark}`);
  fill("caption", doc.caption);
  const runOf = Object.fromEntries(doc.models.map((m) => [m.model, m.run_id]));
  const columns = doc.table.columns.map((label, i) => (i === 0
    ? [label, (row) => runLink(runOf[row[0]], row[0])]
    : [label, (row) => row[i], "num wrap"]));
  fill("table", table(columns, doc.table.rows, "benchmark-table"));

  const trained = doc.models.filter((m) => m.train_energy);
  energyBars("plot-energy", trained, (m) => m.train_energy, "Training energy per model", quality);
  energyBars("plot-inference", doc.models.filter((m) => m.inference_energy_per_sample),
    (m) => m.inference_energy_per_sample, "Inference energy per sample", quality);

  const [unit, factor] = energyUnit(Math.max(0, ...trained.flatMap((m) => m.epoch_energy_j)));
  const epochs = Math.max(0, ...trained.map((m) => m.epoch_energy_j.length));
  plot("plot-epochs", trained.map((m) => ({
    x: m.epoch_energy_j.map((_, i) => i + 1),
    y: m.epoch_energy_j.map((j) => j / factor),
    mode: "lines+markers",
    name: legend(m.model, m.quality),
  })), "Energy per epoch", "Epoch", `Energy (${unit})`, { xaxis: epochAxis(epochs) });

  const scored = trained.filter((m) => m.final_quality != null);
  const metrics = [...new Set(scored.map((m) => m.metric))].join(" / ");
  const [eUnit, eFactor] = energyUnit(Math.max(0, ...scored.map((m) => m.train_energy.j)));
  plot("plot-quality", [{
    x: scored.map((m) => m.train_energy.j / eFactor),
    y: scored.map((m) => m.final_quality),
    text: scored.map((m) => m.model),
    textposition: "top center",
    cliponaxis: false,
    mode: "markers+text",
    marker: { size: 11 },
    name: legend("model", quality),
  }], `Test ${metrics} against training energy`, `Training energy (${eUnit})`, metrics,
  { showlegend: true });
}

// Bars of each model's energy {j, low_j, high_j} (`of(model)`), the range as error bars.
function energyBars(id, models, of, title, quality) {
  const energies = models.map(of);
  const [unit, factor] = energyUnit(Math.max(0, ...energies.map((e) => e.j)));
  const scaled = (key) => energies.map((e) => e[key] / factor);
  plot(id, [{
    type: "bar",
    x: models.map((m) => m.model),
    y: scaled("j"),
    error_y: errorBars(scaled("j"), scaled("low_j"), scaled("high_j")),
    name: legend("energy", quality),
  }], `${title} (bars: low–high)`, "Model", `Energy (${unit})`, { showlegend: true });
}

guard(load);

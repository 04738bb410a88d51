// The stored benchmarks, newest first.
import { api, el, energy, fill, guard, table, time } from "./app.js";

function link(benchmark) {
  const href = `/benchmarks/${encodeURIComponent(benchmark.id)}`;
  return el("a", { href, class: "bench-link" }, benchmark.id);
}

async function load() {
  const { benchmarks } = await api("/api/benchmarks");
  fill("benchmarks", benchmarks.length ? table([
    ["Benchmark", link],
    ["Suite", (b) => b.suite],
    ["Started", (b) => time(b.started_at)],
    ["Models", (b) => b.models.join(", ")],
    ["Energy", (b) => energy(b.energy_j), "num"],
    ["Status", (b) => el("span", { class: `status ${b.status}` }, b.status)],
  ], benchmarks, "benchmarks-table")
    : el("p", { class: "empty" }, "No benchmark is stored yet: run wattprint bench."));
}

guard(load);

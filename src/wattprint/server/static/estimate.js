// The ex-ante calculator and the life-cycle model: each form posts its fields to the API
// and shows the estimate with its range and where each constant came from.
import {
  badge, card, co2e, duration, el, energy, fill, formValues, num, post, table,
} from "./app.js";

const J_PER_KWH = 3.6e6;

function kwh(value, low, high) {
  return energy(value * J_PER_KWH, low * J_PER_KWH, high * J_PER_KWH);
}

function watts(value, low, high) {
  return low === high ? `${num(value)} W` : `${num(value)} W (${num(low)}–${num(high)} W)`;
}

// A folded list (assumptions, equivalences): there for whoever wants the sources.
function folded(title, items) {
  if (!items.length) return "";
  const list = el("ul", {}, items.map((item) => el("li", {}, item)));
  return el("details", {}, el("summary", {}, title), list);
}

// The FLOP mode: time and energy from the FLOPs, the peak FLOP/s and a utilisation.
function showFlops(e) {
  return [
    el("div", { class: "cards" },
      card("Energy", el("span", { "data-testid": "estimate-energy" },
        kwh(e.energy_kwh, e.energy_low_kwh, e.energy_high_kwh)), badge(e.quality),
        `with PUE ${num(e.pue.value)} (${e.pue.reason})`),
      card("Time", `${duration(e.time_s)} (${duration(e.time_low_s)}–${duration(e.time_high_s)})`,
        `${e.count} × ${e.gpu.name}, ${num(e.device_hours)} device-hours`),
      card("FLOPs", num(e.flops), e.flops_basis),
      card("Utilisation", `${num(100 * e.efficiency)} %`, e.efficiency_source)),
    el("ul", { class: "warnings" }, e.warnings.map((w) => el("li", {}, w))),
    folded("Assumptions and sources", e.assumptions),
  ];
}

function showEstimate({ estimate: e }) {
  if (e.flops != null) return showFlops(e);
  const grid = e.intensity;
  const shown = (testid, text) => el("span", { "data-testid": testid }, text);
  return [
    el("div", { class: "cards" },
      card("Energy",
        shown("estimate-energy", kwh(e.energy_kwh, e.energy_low_kwh, e.energy_high_kwh)),
        badge(e.quality),
        `IT ${kwh(e.it_energy_kwh, e.it_energy_low_kwh, e.it_energy_high_kwh)}` +
          ` × PUE ${num(e.pue.value)} (${e.pue.reason})`),
      card("CO2e",
        shown("estimate-co2e", co2e(e.operational_kg, e.operational_low_kg, e.operational_high_kg)),
        badge(e.quality),
        `operational, at ${num(grid.g_per_kwh)} gCO2e/kWh for ${grid.location.name}` +
          ` (${grid.source}, ${grid.year})`),
      card("Embodied", co2e(e.embodied_kg, e.embodied_low_kg, e.embodied_high_kg),
        badge(e.quality),
        `hardware manufacture over ${num(e.embodied.lifetime_years)} years` +
          ` (${e.embodied.lifetime_source})`)),
    el("ul", { class: "warnings" }, e.warnings.map((w) => el("li", {}, w))),
    table([
      ["Device", (d) => `${d.count} × ${d.spec}`],
      ["Power", (d) => watts(d.power_w, d.power_low_w, d.power_high_w), "num"],
      ["IT energy", (d) => kwh(d.energy_kwh, d.energy_low_kwh, d.energy_high_kwh), "num"],
      ["Where the power comes from", (d) => d.power_basis],
    ], e.devices, "estimate-devices"),
    folded("Equivalences of the operational CO2e",
      e.equivalences.map((q) => `${num(q.amount)} ${q.unit}: ${q.label} (${q.source})`)),
    folded("Assumptions and sources", e.assumptions),
  ];
}

function showLifecycle({ lifecycle: l }) {
  const span = (p) => [p.energy_j, p.low_j, p.high_j];
  const inferences = [l.inference_total_j, l.inference_total_low_j, l.inference_total_high_j];
  const phases = [ // [phase, [energy, low, high] in J, share of the life cycle, origin]
    ["Search (CT)", span(l.search), l.share_search, l.search.origin],
    ["Training (T)", span(l.training), l.share_training, l.training.origin],
    [`Inference (I·e, e = ${num(l.inferences)})`, inferences, l.share_inference,
      `${l.inference.origin}; ${l.inferences_basis}`],
    ["Life cycle", [l.life_j, l.life_low_j, l.life_high_j], 1, ""],
  ];
  const e = l.emissions;
  const emissions = e && el("p", { "data-testid": "lifecycle-co2e" }, "Life-cycle emissions: ",
    el("strong", {}, co2e(e.life_kg, e.life_low_kg, e.life_high_kg)),
    ` at ${num(e.intensity.g_per_kwh)} gCO2e/kWh (${e.intensity.source})`,
    ` and PUE ${num(e.pue.value)} (${e.pue.source}).`);
  const breakEven = l.break_even_training != null && el("p", {},
    `Inference overtakes training after ${num(l.break_even_training)} inferences`,
    l.break_even_search_and_training != null
      ? `, search and training after ${num(l.break_even_search_and_training)}.` : ".");
  return [
    table([
      ["Phase", (p) => p[0]],
      ["Energy", (p) => energy(...p[1]), "num"],
      ["Share", (p) => `${num(100 * p[2])} %`, "num"],
      ["From", (p) => p[3]],
    ], phases, "lifecycle-phases"),
    emissions || "",
    breakEven || "",
    folded("Assumptions and sources", l.assumptions),
  ];
}

// Post the form's fields to `path` and show the answer (or the API's message) below it.
function connect(formId, resultId, path, show) {
  const form = document.getElementById(formId);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    fill(resultId, el("p", { class: "hint" }, "Estimating…"));
    try {
      fill(resultId, ...show(await post(path, formValues(form.elements))));
    } catch (error) {
      fill(resultId, el("p", { class: "error", "data-testid": "estimate-error" }, error.message));
    }
  });
}

connect("estimate-form", "estimate-result", "/api/estimate", showEstimate);
connect("lifecycle-form", "lifecycle-result", "/api/estimate/lifecycle", showLifecycle);

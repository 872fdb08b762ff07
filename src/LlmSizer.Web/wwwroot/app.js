// The estimator page: reads the controls, asks the JSON API, draws the charts. No memory formula lives here: every
// number shown is a field of an API response (docs/web.md).
import { stackedBar, lineChart, gib, tokens, count } from "./charts.js";

const $ = (id) => document.getElementById(id);
const WORKLOAD = ["mode", "dtype", "kv_dtype", "context", "batch", "engine", "tensor_parallel", "optimizer", "zero_stage", "gpus", "lora_rank", "qlora"];
const INFERENCE_ONLY = new Set(["kv_dtype", "engine"]);
const TRAINING_ONLY = new Set(["optimizer", "zero_stage", "gpus", "lora_rank", "qlora"]);
const DEFAULTS = { batch: "1", tensor_parallel: "1" };

const state = { models: [], gpus: [], config: null, paramsKey: null, params: null, generation: 0, timer: 0 };

/** The value of a workload control as the API's text, or "" when it is not set or does not apply. */
function value(name) {
  const mode = $("mode").value;
  if (mode !== "training" && TRAINING_ONLY.has(name)) return "";
  if (mode === "training" && INFERENCE_ONLY.has(name)) return "";
  const input = $(name);
  if (input.type === "checkbox") return input.checked ? "true" : "";
  const v = input.value.trim();
  return v === DEFAULTS[name] ? "" : v;
}

function selectedGpu() {
  return state.gpus.find((g) => g.id === $("gpu").value) ?? null;
}

/** The workload fields sent to the API (logical names, as on the CLI). */
function workload(context) {
  const fields = {};
  for (const name of WORKLOAD) {
    const v = name === "context" ? String(context) : value(name);
    if (v !== "") fields[name] = v;
  }
  const gpu = selectedGpu();
  if (gpu) fields.gpu_memory = `${gpu.usable_memory_bytes}B`;
  return fields;
}

class ApiError extends Error {
  constructor(problem) {
    super(problem.setting ? `${problem.setting}: ${problem.detail ?? problem.title}` : (problem.detail ?? problem.title));
    this.setting = problem.setting;
  }
}

async function api(path, fields, signal, body) {
  const init = { signal, headers: { Accept: "application/json" } };
  let url = path;
  if (body === undefined) {
    const q = new URLSearchParams(fields);
    url += q.size ? `?${q}` : "";
  } else {
    init.method = "POST";
    init.headers["Content-Type"] = "application/json";
    init.body = body;
  }
  const response = await fetch(url, init);
  const json = await response.json();
  if (!response.ok) throw new ApiError(json);
  return json;
}

/** Memory (or max context) for the current model: a catalog id by GET, a pasted config by POST. */
function modelCall(path, fields, signal) {
  if (state.config) return api(path, {}, signal, JSON.stringify({ config: state.config, ...fields }));
  return api(path, { model: $("model").value.trim(), ...fields }, signal);
}

function paramsCall(signal) {
  if (state.config) return api("/api/params", {}, signal, JSON.stringify(state.config));
  return api("/api/params", { model: $("model").value.trim() }, signal);
}

function contextValue() {
  const n = Number.parseInt($("context-n").value, 10);
  return Number.isFinite(n) && n > 0 ? n : Number.parseInt($("context").value, 10);
}

/** The page's state in the URL, so a link reproduces the view. */
function writeUrl() {
  const q = new URLSearchParams();
  if (!state.config) q.set("model", $("model").value.trim());
  q.set("gpu", $("gpu").value);
  for (const name of WORKLOAD) {
    const v = name === "context" ? String(contextValue()) : value(name);
    if (v !== "") q.set(name, v);
  }
  const url = `${location.pathname}?${q}`;
  history.replaceState(null, "", url);
  $("share").href = url;
}

function readUrl() {
  const q = new URLSearchParams(location.search);
  if (q.has("model")) $("model").value = q.get("model");
  for (const name of WORKLOAD) {
    if (!q.has(name)) continue;
    const input = $(name);
    if (input.type === "checkbox") input.checked = q.get(name) === "true";
    else input.value = q.get(name);
  }
  if (q.has("context")) $("context-n").value = q.get("context");
  return q;
}

function showMode() {
  const training = $("mode").value === "training";
  for (const node of document.querySelectorAll(".training-only")) node.hidden = !training;
  for (const node of document.querySelectorAll(".inference-only")) node.hidden = training;
}

function schedule() {
  clearTimeout(state.timer);
  state.timer = setTimeout(update, 120);
}

function showError(error) {
  for (const node of document.querySelectorAll("[aria-invalid]")) node.removeAttribute("aria-invalid");
  const box = $("error");
  if (!error) {
    box.hidden = true;
    box.textContent = "";
    return;
  }
  box.hidden = false;
  box.textContent = error.message;
  const field = error.setting === "model" && state.config ? "config" : error.setting;
  if (field && $(field)) $(field).setAttribute("aria-invalid", "true");
}

function rows(tbody, data) {
  tbody.replaceChildren(...data.map((cells) => {
    const tr = document.createElement("tr");
    for (const c of cells) {
      const td = document.createElement("td");
      td.textContent = c;
      tr.append(td);
    }
    return tr;
  }));
}

/** A legend whose swatches match the stacked bar's segment colours, in the same order. */
function legend(list, labels) {
  list.replaceChildren(...labels.map((text, i) => {
    const li = document.createElement("li");
    const swatch = document.createElement("span");
    swatch.className = `swatch seg-${i % 8}`;
    swatch.setAttribute("aria-hidden", "true");
    li.append(swatch, text);
    return li;
  }));
}

function renderMemory(memory, gpu) {
  const capacity = gpu?.usable_memory_bytes ?? null;
  const device = memory.components.filter((c) => c.on_device);
  $("title").textContent = `${memory.model}: ${memory.mode} on ${memory.gpus} GPU${memory.gpus === 1 ? "" : "s"}`;
  const perGpu = $("per-gpu");
  perGpu.textContent = gib(memory.per_gpu_bytes);
  perGpu.dataset.bytes = memory.per_gpu_bytes;
  $("capacity").textContent = gpu ? `${gib(capacity)} (${gpu.name})` : "–";
  const fits = capacity !== null && memory.per_gpu_bytes <= capacity;
  $("verdict").textContent = capacity === null ? "–" : fits ? "fits on one GPU" : "does not fit";
  $("verdict").className = fits ? "ok" : "bad";
  stackedBar($("bar"), device.map((c) => ({ name: c.name, bytes: c.per_gpu_bytes })), capacity,
    `Per-GPU memory ${gib(memory.per_gpu_bytes)} against ${gpu ? gib(capacity) : "no GPU"}`);
  legend($("legend"), device.filter((c) => c.per_gpu_bytes > 0).map((c) => `${c.name} ${gib(c.per_gpu_bytes)} (${c.share_percent}%)`));
  rows($("components").tBodies[0], memory.components.map((c) => [c.on_device ? c.name : `${c.name} (host)`, gib(c.per_gpu_bytes), c.formula]));
  rows($("assumptions").tBodies[0], memory.assumption_details.map((a) => [a.name, `${a.value}${a.default ? " (default)" : ""}`]));
  $("warnings").replaceChildren(...memory.warnings.map((w) => {
    const li = document.createElement("li");
    li.textContent = `warning: ${w}`;
    return li;
  }));
}

/** The deployment plans across GPU types, and the best plan's command line (no numbers computed here). */
function renderFit(fit) {
  const shown = fit.results.slice(0, 20);
  rows($("fit").querySelector("tbody"), shown.map((p) => [
    p.gpu_name,
    p.fit_type,
    p.fit_type === "none" ? "–" : `${p.gpus_needed} (${p.tensor_parallel}×${p.pipeline_parallel})`,
    gib(p.per_gpu_bytes),
    p.max_context > 0 ? p.max_context.toLocaleString("en-US") : "–",
    p.max_concurrency == null ? "–" : String(p.max_concurrency),
    p.decode_tokens_per_s == null ? "–" : String(p.decode_tokens_per_s),
  ]));
  const best = fit.results.find((p) => p.fit_type !== "none");
  const s = best?.engine_settings ?? {};
  $("settings").value = best ? [s.vllm, s.sglang, s.llamacpp, s.deepspeed ? JSON.stringify(s.deepspeed) : null].filter(Boolean).join("\n") : "Nothing fits on the catalog GPUs.";
}

function renderParams(params) {
  const p = params.parameters;
  const groups = Object.entries(p.groups).filter(([, v]) => v > 0);
  $("param-total").textContent = `${p.total.toLocaleString("en-US")} parameters (${count(p.total)})` +
    (p.active !== p.total ? `, ${p.active.toLocaleString("en-US")} active per token` : "") + `; ${params.tensors} tensors.`;
  $("param-total").dataset.total = p.total;
  stackedBar($("params-bar"), groups.map(([name, v]) => ({ name, bytes: v })), null, `Parameters by group, ${count(p.total)} in all`, count);
  legend($("params-legend"), groups.map(([name, v]) => `${name} ${count(v)}`));
  rows($("groups").tBodies[0], groups.map(([name, v]) => [name, v.toLocaleString("en-US"), `${((v / p.total) * 100).toFixed(1)}%`]));
}

/** Contexts for the line chart: powers of two from 512 up to the model's maximum, the chosen context, or a little past
 * the longest fitting context, so the line crosses the capacity line. */
function sweep(context, maxFit) {
  const top = Math.min(16777216, Math.max(context, state.params?.architecture?.max_positions ?? 4096, 1024, Math.ceil((maxFit * 1.25) / 1024) * 1024));
  const points = new Set([context]);
  for (let c = 512; c <= top; c *= 2) points.add(c);
  points.add(top);
  return [...points].filter((c) => c <= 16777216).sort((a, b) => a - b);
}

async function update() {
  const generation = ++state.generation;
  const results = $("results");
  results.setAttribute("aria-busy", "true");
  results.dataset.state = "loading";
  writeUrl();
  const context = contextValue();
  $("context-out").textContent = tokens(context);
  const gpu = selectedGpu();
  const controller = new AbortController();
  state.controller?.abort();
  state.controller = controller;
  const signal = controller.signal;
  try {
    const key = state.config ? `config:${JSON.stringify(state.config)}` : `model:${$("model").value.trim()}`;
    if (state.paramsKey !== key) {
      state.params = await paramsCall(signal);
      state.paramsKey = key;
      const max = state.params.architecture?.max_positions;
      if (max) $("context").max = String(Math.max(256, Math.ceil(max / 256) * 256));
    }
    if (generation !== state.generation) return;
    renderParams(state.params);
    const memory = await modelCall("/api/memory", workload(context), signal);
    if (generation !== state.generation) return;
    renderMemory(memory, gpu);
    showError(null);
    const { gpu_memory: _ignored, ...planFields } = workload(context);
    const plans = await modelCall("/api/fit", planFields, signal);
    if (generation !== state.generation) return;
    renderFit(plans);
    const fit = gpu ? await modelCall("/api/max_context", { ...workload(context), gpu: gpu.id }, signal) : null;
    if (generation !== state.generation) return;
    const contexts = sweep(context, fit?.max_context ?? 0);
    const points = await Promise.all(contexts.map((c) => modelCall("/api/memory", workload(c), signal).then((m) => ({ x: c, y: m.per_gpu_bytes }))));
    if (generation !== state.generation) return;
    const mark = fit && fit.max_context > 0 ? fit.max_context : null;
    $("max-context").textContent = fit ? (fit.max_context > 0 ? `${fit.max_context.toLocaleString("en-US")} tokens` : "none (not one token fits)") : "–";
    $("max-context").dataset.tokens = fit ? fit.max_context : "";
    lineChart($("line"), points, gpu?.usable_memory_bytes ?? null, mark && mark <= 16777216 ? mark : null,
      `Per-GPU memory from ${tokens(contexts[0])} to ${tokens(contexts[contexts.length - 1])} tokens`);
    results.dataset.context = String(context);
    results.dataset.state = "ready";
    results.setAttribute("aria-busy", "false");
  } catch (error) {
    if (error.name === "AbortError" || generation !== state.generation) return;
    showError(error);
    results.dataset.state = "error";
    results.setAttribute("aria-busy", "false");
  }
}

async function copySettings() {
  try {
    await navigator.clipboard.writeText($("settings").value);
    $("copy-settings").textContent = "Copied";
  } catch {
    $("settings").select(); // no clipboard permission: select the text for a manual copy
  }
}

async function start() {
  $("copy-settings").addEventListener("click", copySettings);
  const [models, gpus] = await Promise.all([api("/api/models", {}), api("/api/gpus", {})]);
  state.models = models.models;
  state.gpus = gpus.gpus;
  $("model-list").replaceChildren(...state.models.map((m) => {
    const o = document.createElement("option");
    o.value = m.id;
    o.label = `${m.family ?? "?"}, ${m.parameters ? count(m.parameters) : "?"}`;
    return o;
  }));
  $("gpu").replaceChildren(...state.gpus.map((g) => {
    const o = document.createElement("option");
    o.value = g.id;
    o.textContent = `${g.name} (${gib(g.usable_memory_bytes)})`;
    return o;
  }));
  $("model").value = "llama-3.1-8b";
  $("gpu").value = state.gpus.some((g) => g.id === "h100-sxm-80gb") ? "h100-sxm-80gb" : state.gpus[0]?.id ?? "";
  const q = readUrl();
  if (q.has("gpu")) $("gpu").value = q.get("gpu");
  if (!$("context-n").value) $("context-n").value = $("context").value;
  showMode();

  $("context").addEventListener("input", () => { $("context-n").value = $("context").value; schedule(); });
  $("context-n").addEventListener("change", () => { $("context").value = $("context-n").value; schedule(); });
  $("mode").addEventListener("change", () => { showMode(); schedule(); });
  $("model").addEventListener("change", () => { state.config = null; schedule(); });
  $("model").addEventListener("input", () => {
    if (state.models.some((m) => m.id === $("model").value.trim())) { state.config = null; schedule(); }
  });
  for (const name of WORKLOAD.filter((n) => n !== "context" && n !== "mode").concat(["gpu"])) {
    $(name).addEventListener("change", schedule);
  }
  $("use-config").addEventListener("click", () => {
    try {
      state.config = JSON.parse($("config").value);
      showError(null);
      schedule();
    } catch {
      showError({ message: "config: not valid JSON", setting: "config" });
    }
  });
  $("clear-config").addEventListener("click", () => { state.config = null; schedule(); });
  $("controls").addEventListener("submit", (e) => { e.preventDefault(); schedule(); });
  await update();
}

start().catch((error) => showError(error));

// The /seed page: every number of the post, its errata and the exact figures, all from /api/seed.
const $ = (id) => document.getElementById(id);
const n = (v) => v.toLocaleString("en-US");

function rows(id, data) {
  $(id).tBodies[0].replaceChildren(...data.map((cells) => {
    const tr = document.createElement("tr");
    cells.forEach((c, i) => {
      const cell = document.createElement(i === 0 ? "th" : "td");
      if (i === 0) cell.scope = "row";
      cell.textContent = c;
      tr.append(cell);
    });
    return tr;
  }));
}

async function start() {
  const response = await fetch("/api/seed", { headers: { Accept: "application/json" } });
  const s = await response.json();
  const i = s.inputs;
  $("inputs").textContent = `A toy transformer: embedding ${n(i.embedding_size)}, ${i.layers} layers, ${i.heads} heads, vocabulary ${n(i.vocab)}.`;
  const p = s.parameters;
  rows("post", [
    ["embedding (V·d)", n(p.embedding), n(p.embedding)],
    ["attention (L·H·d·d/H)", n(p.attention), n(s.published.attention)],
    ["feed-forward (L·2·d²)", n(p.feedforward), n(p.feedforward)],
    ["output (d·V)", n(p.output), n(p.output)],
    ["total", n(p.total), n(s.published.total)],
  ]);
  rows("vram", ["fp32", "fp16", "int8"].map((k) => [k, n(s.vram_bytes[k]), String(s.vram_mib[k])]));
  const t = s.training_estimate_mib;
  rows("training", [
    ["parameters", n(t.parameters)], ["activations (assumed)", n(t.activations)], ["optimizer (2 × parameters)", n(t.optimizer)],
    ["input (assumed)", n(t.input)], ["total, as printed", n(t.total)], ["gradients (left out by the post)", n(t.omitted_gradients)],
    ["total with gradients", n(t.total_with_gradients)],
  ]);
  $("errata").replaceChildren(...s.errata.map((e) => {
    const li = document.createElement("li");
    li.textContent = e;
    return li;
  }));
  const x = s.exact;
  $("exact-model").textContent = `${x.model}; ${n(x.positions)} positions, MLP ${n(x.intermediate)}.`;
  const groups = Object.keys(x.tied.groups).filter((g) => x.tied.groups[g] > 0 || x.untied.groups[g] > 0);
  rows("exact", [
    ["parameters", n(x.tied.total), n(x.untied.total)],
    ["tensors", n(x.tied.tensors), n(x.untied.tensors)],
    ...groups.map((g) => [g, n(x.tied.groups[g]), n(x.untied.groups[g])]),
    ["fp32 bytes", n(x.tied.fp32_bytes), n(x.untied.fp32_bytes)],
  ]);
  const tr = x.training;
  $("exact-training").textContent = `Training (${tr.method}): ${tr.bytes_per_parameter} bytes per parameter of model states, ` +
    `${n(tr.model_states_bytes_tied)} B tied / ${n(tr.model_states_bytes_untied)} B untied, activations ${n(tr.activation_bytes)} B ` +
    `at sequence ${n(tr.sequence_length)}, batch ${tr.batch}: total ${n(tr.total_bytes_tied)} B tied, ${n(tr.total_bytes_untied)} B untied.`;
  $("seed").setAttribute("aria-busy", "false");
  $("seed").dataset.state = "ready";
}

start().catch((e) => { $("inputs").textContent = `error: ${e.message}`; });

/* fitatlas VRAM calculator.
   All modelling is in Python: the build exports the fit engine's coefficients to
   /api/calculator.json (generator/calculator.py) and this script only adds, multiplies and
   rounds them, in the engine's own order of operations, so every byte count equals
   `fitatlas fit --json` (tests/browser/test_calculator_parity.py checks 500 configurations).
   compute() and present() are pure; the page fills every field from present(compute(...)), and
   both are exposed as window.fitatlasCalc for the tests. */
(() => {
  "use strict";
  const GIB = 2 ** 30;
  const KEYS = ["model", "quant", "context", "batch", "kv", "runtime", "gpu", "count"];
  const WORDS = {
    fits: "Fits", tight: "Fits, tight", "does-not-fit": "Does not fit",
    "over-card-limit": "Over card limit",
  };

  /* ---- numbers written as the site's template filters write them (generator/templating.py) */

  // Python's format(x, ",.Nf"): the exact binary value rounded half to even, thousands grouped.
  // toFixed rounds exact ties away from zero, so a tie is detected on 60 exact digits.
  const fixed = (x, d) => {
    const a = Math.abs(x), exact = a.toFixed(60), dot = exact.indexOf(".");
    const head = exact.slice(0, d ? dot + 1 + d : dot);
    const tie = /^50*$/.test(exact.slice(dot + 1 + d)) && !(head.slice(-1) & 1);
    const [whole, frac] = (tie ? head : a.toFixed(d)).split(".");
    return (x < 0 ? "-" : "") + whole.replace(/\B(?=(\d{3})+$)/g, ",") + (frac ? "." + frac : "");
  };
  const gib = (b) => fixed(b / GIB, 1) + " GiB";
  const speed = (v) => fixed(v, v < 100 ? 1 : 0);
  const money = (v, suffix = "/h") => (v == null ? "—" : "$" + fixed(v, 2) + suffix);
  const tokens = (v) =>
    v >= 1048576 && v % 1048576 === 0 ? v / 1048576 + "M"
      : v >= 1024 && v % 1024 === 0 ? v / 1024 + "K" : fixed(v, 0);
  // Python's round(): half to even (the engine rounds runtime overhead with it).
  const roundEven = (x) => {
    const f = Math.floor(x), r = x - f;
    return r > 0.5 || (r === 0.5 && f % 2) ? f + 1 : f;
  };
  // A whole number of tokens, cards or sequences as typed: "8192", "32k" (× 1024); else NaN.
  const whole = (raw) => {
    const m = /^\s*(\d+)\s*([kK]?)\s*$/.exec(String(raw));
    return m ? +m[1] * (m[2] ? 1024 : 1) : NaN;
  };

  /* ---- the engine's arithmetic (generator/fit/engine.py, memory.py, verdict.py, speed.py) */

  const byId = (list) => Object.fromEntries(list.map((e) => [e.id, e]));
  const index = (raw) => ({
    raw, model: byId(raw.models), quant: byId(raw.quantizations), kv: byId(raw.kv_dtypes),
    runtime: byId(raw.runtimes), gpu: byId(raw.gpus),
  });
  const quantsOf = (D, m) => D.raw.quantizations.filter((q) => q.id in m.quants);

  // Launch flags per launcher (generator/fit/commands.py); null: the runtime cannot run it.
  const FLAGS = {
    vllm(m, Q, n, c, b) {
      const [tp, pp] = m.layouts[n], f = ["--tensor-parallel-size " + tp];
      if (pp > 1) f.push("--pipeline-parallel-size " + pp);
      f.push("--max-model-len " + c);
      if (Q.quant_flags.vllm) f.push("--quantization " + Q.quant_flags.vllm);
      if (b > 1) f.push("--max-num-seqs " + b);
      return f;
    },
    tgi(m, Q, n, c, b) {
      if (m.attention_heads % n) return null;
      const f = ["--num-shard " + n, "--max-input-tokens " + (c - 1), "--max-total-tokens " + c];
      if (Q.quant_flags.tgi) f.push("--quantize " + Q.quant_flags.tgi);
      if (b > 1) f.push("--max-concurrent-requests " + b);
      return f;
    },
    "llama-cpp"(m, Q, n, c, b) {
      const f = ["-ngl 999", "-c " + c * b];
      if (b > 1) f.push("--parallel " + b);
      if (n > 1) f.push("--tensor-split " + Array(n).fill("1").join(","));
      return f;
    },
    // share: GiB per card rounded up to a tenth; String() prints it as Python's :g does.
    exllamav2(m, Q, n, c, b, share) {
      const f = ["-l " + c];
      if (n > 1) f.unshift("-gs " + Array(n).fill(String(Math.ceil(share * 10) / 10)).join(","));
      return f;
    },
  };

  const fail = (error, field) => ({ error, field });

  function compute(D, s) {
    const m = D.model[s.model];
    if (!m) return fail(`There is no model “${s.model}” in the catalog.`, "model");
    const q = m.quants[s.quant], Q = D.quant[s.quant];
    if (!q) {
      const ids = quantsOf(D, m).map((x) => x.id).join(", ");
      return fail(`${m.name} is not published as “${s.quant}”; it is: ${ids}.`, "quant");
    }
    const g = D.gpu[s.gpu];
    if (!g) return fail(`There is no GPU “${s.gpu}” in the catalog.`, "gpu");
    const rid = s.runtime || Q.runtimes[0], r = D.runtime[rid];
    if (!r || !Q.runtimes.includes(rid)) {
      return fail(`“${rid}” does not load ${Q.name}; runtimes that do: ${Q.runtimes.join(", ")}.`, "runtime");
    }
    const kid = s.kv || r.default_kv_dtype, k = D.kv[kid];
    if (!k || !r.kv_dtypes.includes(kid)) {
      return fail(`${r.name} has no “${kid}” KV cache; it offers: ${r.kv_dtypes.join(", ")}.`, "kv");
    }
    const ctx = s.context == null || s.context === ""
      ? Math.min(D.raw.default_context, m.max_context) : whole(s.context);
    if (!(ctx >= 1 && ctx <= m.max_context)) {
      return fail(`Context must be a whole number of tokens from 1 to ${fixed(m.max_context, 0)} ` +
        `for ${m.name}, not “${s.context}”.`, "context");
    }
    const b = s.batch == null || s.batch === "" ? 1 : whole(s.batch);
    if (!(b >= 1)) return fail(`Concurrent sequences must be a whole number from 1, not “${s.batch}”.`, "batch");
    const auto = s.count == null || s.count === "";
    const asked = auto ? 0 : whole(s.count);
    if (!auto && !(asked >= 1 && asked <= g.max_gpus)) {
      return fail(`${g.name} goes from 1 to ${g.max_gpus} card${g.max_gpus > 1 ? "s" : ""}, ` +
        `not “${s.count}”.`, "count");
    }

    // Memory (memory.py): KV layers as the runtime caches them, ceil per sequence, × batch.
    const win = r.sliding_window_cache ? m.kv.windowed_layers : 0;
    const grow = m.kv.growing_layers + m.kv.windowed_layers - win;
    const E = m.kv.elements_per_layer_token, bits = k.bits;
    const seqKV = (c) =>
      Math.ceil((grow * c + win * Math.min(c, m.kv.window)) * E * bits / 8) + m.kv.state_bytes;
    const overhead = (n, c) =>
      roundEven(r.per_card_bytes * n + r.buffer_bytes + r.buffer_bytes_per_token * c);
    const need = (n, c) => q.weights_bytes + seqKV(c) * b + overhead(n, c);
    const cap = (n) => g.capacities[n - 1];

    let min = null;
    for (let n = 1; n <= g.max_gpus && !min; n++) if (need(n, ctx) <= cap(n).effective) min = n;
    const n = asked || min || g.max_gpus, C = cap(n);

    // Longest context on n cards: memory never shrinks as context grows, so bisect for the
    // exact boundary (the engine interpolates, and finds the same one). lo fits, hi does not.
    let lo = 1, hi = m.max_context, maxContext = 0;
    if (need(n, lo) <= C.effective) {
      if (need(n, hi) <= C.effective) lo = hi;
      while (hi - lo > 1) {
        const mid = Math.floor((lo + hi) / 2);
        if (need(n, mid) <= C.effective) lo = mid; else hi = mid;
      }
      maxContext = lo;
    }

    const kvBytes = seqKV(ctx) * b, over = overhead(n, ctx);
    const total = q.weights_bytes + kvBytes + over, headroom = C.effective - total;
    const verdict = headroom < 0 ? "does-not-fit"
      : headroom < D.raw.tight_share * C.effective ? "tight" : "fits";

    // Decode (speed.py): one step reads the active weights and every sequence's cache.
    const bw = r.split === "tensor" && n > 1 ? g.bandwidth_gbps * n * C.factor : g.bandwidth_gbps;
    const tps = 1 / ((q.active_weights_bytes + seqKV(ctx) * b) / (r.efficiency * bw * 1e9) +
      r.step_overhead_ms / 1000);
    const cost = g.price_per_hour_usd == null ? null : g.price_per_hour_usd * n;

    const commands = {};
    if (verdict !== "does-not-fit") {
      const share = (q.weights_bytes + kvBytes) / n / GIB;
      for (const id of Q.runtimes) {
        const R = D.runtime[id], kv = R.kv_dtypes.includes(kid) ? kid : R.default_kv_dtype;
        const f = FLAGS[R.launcher](m, Q, n, ctx, b, share);
        if (f) commands[id] = [q.commands[id], ...f, R.kv_flags[kv]].filter(Boolean).join(" ");
      }
    }
    return {
      m, Q, g, r, k, auto,
      state: { model: m.id, quant: Q.id, context: ctx, batch: b, kv: kid, runtime: rid, gpu: g.id,
        count: auto ? "" : n },
      count: n, context: ctx, batch: b,
      weights: q.weights_bytes, kv_cache: kvBytes, overhead: over, total,
      raw: C.raw, effective: C.effective, factor: C.factor, verdict, headroom,
      fits: verdict !== "does-not-fit", min_gpus: min, max_context: maxContext,
      kv_per_token: Math.ceil(grow * E * bits / 8),
      tps, aggregate: tps * b, cost,
      cost_per_million: cost == null || tps * b <= 0 ? null : cost / (tps * b * 3600) * 1e6,
      commands, command: commands[rid] || null,
    };
  }

  // The text of every output field, as the site's filters would write it.
  function present(x) {
    if (x.error) return { error: x.error };
    const { m, Q, g, r, count: n } = x;
    const on = `${n}× ${g.name}`;
    return {
      verdict: WORDS[x.verdict],
      summary: `${m.name} at ${Q.name} with ${r.name} needs ${gib(x.total)} of the ` +
        `${gib(x.effective)} that ${on} offer${n > 1 ? "" : "s"}` +
        (x.fits ? `, with ${gib(x.headroom)} to spare.` : `: ${gib(-x.headroom)} too much.`),
      weights: gib(x.weights), kv_cache: gib(x.kv_cache), overhead: gib(x.overhead),
      total: gib(x.total), raw: gib(x.raw), effective: gib(x.effective),
      factor: fixed(x.factor, 2) + "×", headroom: gib(x.headroom),
      min_gpus: x.min_gpus ? `${x.min_gpus}× ${g.name}` : `none up to ${g.max_gpus}× ${g.name}`,
      max_context: x.max_context ? tokens(x.max_context) + " tokens" : "none",
      kv_per_token: fixed(x.kv_per_token, 0) + " bytes",
      tps: speed(x.tps), aggregate: speed(x.aggregate),
      cost: money(x.cost), cost_per_million: money(x.cost_per_million, ""),
      command: x.command || (x.fits ? `${r.name} cannot split ${m.name} over ${n} cards.`
        : "No command: the model does not fit this setup."),
    };
  }

  window.fitatlasCalc = { compute, present, index };

  /* ---- the page ---- */

  const form = document.getElementById("calc");
  if (!form) return;
  const $ = (id) => document.getElementById("calc-" + id);
  const field = (key) => form.elements[key];
  const out = document.querySelectorAll("[data-out]");
  let D = null, state = {}, typing = false;

  const fillSelect = (sel, items, value) => {
    const known = items.some(([v]) => v === String(value));
    const bad = value != null && value !== "" && !known ? [[String(value), value + " (not available)"]] : [];
    sel.replaceChildren(...bad.concat(items).map(([v, label]) => new Option(label, v)));
    sel.value = value == null ? "" : String(value);
  };

  // Keep choices that still apply when the model, quantization, runtime or GPU changes.
  function reconcile(s, changed) {
    const m = D.model[s.model];
    if (!m) return s;
    if (!m.quants[s.quant]) s.quant = defaultQuant(m);
    const Q = D.quant[s.quant];
    if (changed !== "runtime" && !Q.runtimes.includes(s.runtime)) s.runtime = Q.runtimes[0];
    const r = D.runtime[s.runtime];
    if (r && changed !== "kv" && !r.kv_dtypes.includes(s.kv)) s.kv = r.default_kv_dtype;
    if (changed === "model" && whole(s.context) > m.max_context) s.context = String(m.max_context);
    const g = D.gpu[s.gpu];
    if (g && changed === "gpu" && whole(s.count) > g.max_gpus) s.count = String(g.max_gpus);
    return s;
  }

  // The site's headline quantization when the model has it, else the model's first.
  const defaultQuant = (m) => {
    const q = form.dataset.defaultQuant;
    return m.quants[q] ? q : quantsOf(D, m)[0].id;
  };

  function fromURL() {
    const p = new URLSearchParams(location.search), s = {};
    for (const key of KEYS) if (p.has(key)) s[key] = p.get(key);
    s.model = s.model ?? form.dataset.defaultModel;
    s.gpu = s.gpu ?? form.dataset.defaultGpu;
    // Fill in what the link leaves out, so every field shows a value; what it gives is kept,
    // valid or not.
    const m = D.model[s.model];
    if (m && s.quant == null) s.quant = defaultQuant(m);
    const Q = m && m.quants[s.quant] && D.quant[s.quant];
    if (Q && s.runtime == null) s.runtime = Q.runtimes[0];
    const r = D.runtime[s.runtime];
    if (r && s.kv == null) s.kv = r.default_kv_dtype;
    if (m && s.context == null) s.context = String(Math.min(D.raw.default_context, m.max_context));
    s.batch = s.batch ?? "1";
    return s;
  }

  const toURL = (s) => "?" + new URLSearchParams(KEYS.filter((k) => s[k] != null && s[k] !== "")
    .map((k) => [k, s[k]])).toString();

  // A model typed as its name (any case) or its id.
  const modelId = (typed) => {
    const t = typed.trim().toLowerCase();
    const m = D.raw.models.find((x) => x.name.toLowerCase() === t || x.id === t);
    return m ? m.id : typed.trim();
  };

  function fromFields(changed) {
    const s = {};
    for (const key of KEYS) s[key] = field(key).value;
    s.model = modelId(s.model);
    return reconcile(s, changed);
  }

  function show(s) {
    const x = compute(D, s), text = present(x), m = D.model[s.model], g = D.gpu[s.gpu];
    // Fields show the state as given, valid or not, so a bad value can be seen and fixed.
    const modelField = field("model");
    if (document.activeElement !== modelField) modelField.value = m ? m.name : s.model ?? "";
    const Q = D.quant[s.quant];
    fillSelect(field("quant"), m ? quantsOf(D, m).map((q) => [q.id, q.name]) : [], s.quant);
    const now = x.error ? s : x.state, r = D.runtime[now.runtime];
    fillSelect(field("runtime"), Q ? Q.runtimes.map((id) => [id, D.runtime[id].name]) : [], now.runtime);
    fillSelect(field("kv"), r ? r.kv_dtypes.map((id) => [id, D.kv[id].name]) : [], now.kv);
    const gpus = field("gpu"), stray = gpus.querySelector(".stray");
    if (stray) stray.remove();
    if (!g) gpus.prepend(Object.assign(new Option(s.gpu + " (not available)", s.gpu), { className: "stray" }));
    gpus.value = s.gpu;
    const counts = g ? Array.from({ length: g.max_gpus }, (_, i) => [String(i + 1), String(i + 1)]) : [];
    const fewest = x.error ? "Fewest that fit" : `Fewest that fit (${x.min_gpus || "none"})`;
    fillSelect(field("count"), [["", fewest], ...counts], s.count ?? "");
    for (const key of ["context", "batch"]) {
      const el = field(key);
      if (document.activeElement !== el) el.value = now[key] ?? "";
    }
    for (const el of form.querySelectorAll("[data-ctx]")) {
      const v = el.dataset.ctx === "max" ? m && m.max_context : +el.dataset.ctx;
      el.hidden = !m || (el.dataset.ctx !== "max" && v >= m.max_context);
      if (el.dataset.ctx === "max" && m) el.textContent = "Max " + tokens(m.max_context);
    }

    for (const key of KEYS) field(key)[x.field === key ? "setAttribute" : "removeAttribute"]("aria-invalid", "true");
    $("error").hidden = !x.error;
    $("error").textContent = x.error || "";
    $("result").hidden = !!x.error;
    if (x.error) return x;
    for (const el of out) {
      const key = el.dataset.out;
      el.textContent = text[key];
      if (el.tagName === "DATA") el.value = x[key] == null ? "" : String(x[key]);
    }
    $("summary").className = "answer verdict-" + x.verdict;
    const scale = Math.max(x.total, x.effective);
    for (const key of ["weights", "kv_cache", "overhead"]) $("bar-" + key).style.width = (100 * x[key] / scale) + "%";
    $("bar-cap").style.left = (100 * x.effective / scale) + "%";
    $("copy").hidden = !x.command;
    $("copied").textContent = "";
    return x;
  }

  function update(changed, push) {
    const s = fromFields(changed), x = show(s);
    state = x.error ? s : x.state;
    const url = toURL(state);
    if (url !== location.search) history[push ? "pushState" : "replaceState"](null, "", url);
  }

  function init(raw) {
    D = index(raw);
    state = fromURL();
    const x = show(state);
    if (!x.error) state = x.state;
    form.addEventListener("submit", (e) => e.preventDefault());
    form.addEventListener("input", (e) => {
      // A half-typed model name waits for a full match, or for the field's change event.
      if (e.target.name === "model" && !D.model[modelId(e.target.value)]) return;
      // The first edit of a field adds a history entry; later keystrokes replace it.
      update(e.target.name, !typing);
      typing = true;
    });
    form.addEventListener("change", (e) => {
      if (e.target.name === "model") update("model", !typing);
      typing = false;
    });
    form.addEventListener("click", (e) => {
      const v = e.target.dataset && e.target.dataset.ctx;
      if (!v) return;
      field("context").value = v === "max" ? D.model[state.model].max_context : v;
      update("context", true);
    });
    window.addEventListener("popstate", () => {
      typing = false;
      state = fromURL();
      show(state);
    });
    $("copy").addEventListener("click", () => {
      const text = $("command").textContent, done = (msg) => { $("copied").textContent = msg; };
      (navigator.clipboard ? navigator.clipboard.writeText(text) : Promise.reject()).then(() => done("Copied."), () => {
        getSelection().selectAllChildren($("command"));
        done("Selected: press Ctrl+C (⌘C) to copy.");
      });
    });
    form.hidden = false;
    $("loading").hidden = true;
  }

  $("loading").hidden = false;
  fetch(form.dataset.src)
    .then((res) => (res.ok ? res.json() : Promise.reject(new Error("HTTP " + res.status))))
    .then(init)
    .catch((err) => {
      $("loading").textContent = `The calculator could not load its data (${err.message}).`;
    });
})();

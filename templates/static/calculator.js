/* fitatlas VRAM calculator.
   All modelling is in Python: the build exports the fit engine's coefficients to
   /api/calculator.json (generator/calculator.py) and this script only adds, multiplies and
   rounds them, in the engine's own order of operations, so every byte count equals
   `fitatlas fit --json` (tests/browser/test_calculator_parity.py checks 500 configurations).
   compute() and present() are pure; the page fills every field from present(compute(...)), and
   both are exposed as window.fitatlasCalc for the tests, with the page's data (D) once loaded:
   calc-own.js, imported when "your own model" is opened, adds a model to it. */
(() => {
  "use strict";
  const GIB = 2 ** 30;
  const KEYS = ["model", "quant", "context", "batch", "kv", "runtime", "gpu", "count"];
  const BYTES = ["weights", "kv_cache", "overhead", "total", "raw", "effective", "headroom", "need", "limit"];

  /* ---- numbers written as the site's template filters write them (generator/templating.py) */

  // Python's format(x, ",.Nf"): the exact binary value rounded half to even, thousands grouped.
  // toFixed rounds exact ties away from zero, so a tie is detected on 60 exact digits.
  // (e: the exact digits, p: where the point is, h: the digits kept, i and f: the whole and
  // fractional parts printed.)
  const fixed = (x, d) => {
    const a = Math.abs(x), e = a.toFixed(60), p = e.indexOf("."), h = e.slice(0, d ? p + 1 + d : p);
    const tie = /^50*$/.test(e.slice(p + 1 + d)) && !(h.slice(-1) & 1);
    const [i, f] = (tie ? h : a.toFixed(d)).split(".");
    return (x < 0 ? "-" : "") + i.replace(/\B(?=(\d{3})+$)/g, ",") + (f ? "." + f : "");
  };
  const gib = (b) => (b == null ? "—" : fixed(b / GIB, 1) + " GiB");
  const speed = (v) => fixed(v, v < 100 ? 1 : 0);
  const money = (v, unit = "/h") => (v == null ? "—" : "$" + fixed(v, 2) + unit);
  const tokens = (v) => (v % 1048576 ? (v % 1024 ? fixed(v, 0) : v / 1024 + "K") : v / 1048576 + "M");
  // Python's round(): half to even (the engine rounds runtime overhead with it).
  const rnd = (x) => {
    const f = Math.floor(x), r = x - f;
    return r > 0.5 || (r === 0.5 && f % 2) ? f + 1 : f;
  };
  // A whole number of tokens, cards or sequences as typed: "8192", "32k" (× 1024); else NaN.
  const whole = (raw) => {
    const m = /^\s*(\d+)\s*(k?)\s*$/i.exec(String(raw));
    return m ? +m[1] * (m[2] ? 1024 : 1) : NaN;
  };

  /* ---- the engine's arithmetic (generator/fit/engine.py, memory.py, verdict.py, speed.py) */

  const byId = (list) => Object.fromEntries(list.map((e) => [e.id, e]));
  const index = (raw) => ({
    raw, model: byId(raw.models), quant: byId(raw.quantizations), kv: byId(raw.kv_dtypes),
    runtime: byId(raw.runtimes), gpu: byId(raw.gpus),
  });
  const quantsIn = (D, m) => D.raw.quantizations.filter((q) => q.id in m.quants);
  // The runtimes that load Q and run on g's platform, in the format's order (engine.runtimes_on).
  const runsOn = (D, Q, g) => Q.runtimes.filter((id) => D.runtime[id].platforms.includes(g.platform));

  // Launch flags per launcher (generator/fit/commands.py), from the model, the card count, the
  // context, the batch, each card's bytes of weights and cache, and the format's flag for this
  // launcher; false: the runtime cannot run it. Flags left out are false (the command drops them).
  const FLAGS = {
    vllm: (m, n, c, b, _, f, t = m.tensor[n - 1]) => ["--tensor-parallel-size " + t,
      n > t && "--pipeline-parallel-size " + n / t, "--max-model-len " + c,
      f && "--quantization " + f, b > 1 && "--max-num-seqs " + b],
    tgi: (m, n, c, b, _, f) => !(m.attention_heads % n) && ["--num-shard " + n,
      "--max-input-tokens " + (c - 1), "--max-total-tokens " + c, f && "--quantize " + f,
      b > 1 && "--max-concurrent-requests " + b],
    "llama-cpp": (m, n, c, b) =>
      ["-ngl 999", "-c " + c * b, b > 1 && "--parallel " + b, n > 1 && "--tensor-split " + Array(n).fill(1)],
    // GiB per card rounded up to a tenth; String() prints it as Python's :g does.
    exllamav2: (m, n, c, b, shares) =>
      [n > 1 && "-gs " + shares.map((x) => Math.ceil(x / GIB * 10) / 10), "-l " + c],
    mlx: () => [],
  };

  const fail = (error, field) => ({ error, field });
  const none = (v) => v == null || v === "";

  // The engine's Sizing for runtime R and KV dtype K (fit/sizing.py, placement.py, memory.py):
  // weights as R loads them, the cache of b sequences, the layout and fullest card on n cards.
  function sizing(m, q, g, R, K, b) {
    const [E, H, L, routed] = (R.launcher == "llama-cpp" && q.g) || q.w, N = m.layers, v = m.kv;
    const P = [0], lay = R.split == "layer";
    for (let i = 0; i < N; i++) P.push(P[i] + (L[1] ? L[0][parseInt(L[1][i], 36)] : L));
    const W = R.sliding_window_cache ? v.windowed : 0, G = v.growing + v.windowed - W;
    const cache = (c, n, [g, w, s] = [G, W, v.state_bytes]) =>
      (Math.ceil((g * c + w * Math.min(c, v.window)) * K.bits / 8) + s) * n;
    const cap = rnd(g.card_bytes), weights = P[N] + H + (m.tied ? 0 : E);
    // Layer split: llama.cpp's layers per card (placement.llama_cpp_layers), the head on the
    // last. Tensor parallel: t shards of p stages of even_layers, each shard holding its
    // stage's weights ÷ t and its share of the KV heads (placement.shard_kv_layout).
    // [[weights, layers] per card, the shard's cache], or null: no pipeline stages here.
    const layout = (n) => {
      const cards = [], t = lay ? 1 : m.tensor[n - 1], p = n / t;
      const at = (i) => (lay ? Math.min(N, Math.ceil(i * (N + 1) / p)) : Math.floor(N * i / p));
      if (p > 1 && !lay && !R.pipeline_parallel) return null;
      for (let i = 0; i < p; i++) {
        const w = P[at(i + 1)] - P[at(i)] + (lay || i ? 0 : E) + (i == p - 1 && (lay || !m.tied || p > 1) ? H : 0);
        for (let s = 0; s < t; s++) cards.push([rnd(w / t), at(i + 1) - at(i)]);
      }
      const x = v.mla ? 1 : Math.max(1, Math.floor(v.kv_heads / t)) / v.kv_heads;
      // One shard (t = 1) keeps the whole cache: these are then G, W and the state unchanged.
      return { cards, kv: [rnd(G * x), rnd(W * x), rnd(v.state_bytes / t)] };
    };
    // Each card's weights and cache at context c; the fullest card's bytes with its overhead.
    const shares = (Y, c) => Y.cards.map(([w, l]) => w + rnd(cache(c, b, Y.kv) * l / N));
    const need = (Y, c) => Math.max(...shares(Y, c)) + R.fixed_bytes + rnd(R.buffer_bytes_per_token * c);
    return {
      cache, layout, shares, need, weights, perToken: Math.ceil(G * K.bits / 8),
      active: weights - (m.tied ? 0 : E) - rnd(routed * (m.idle_expert_share || 0)),
      limit: cap - rnd(cap * (1 - R.memory_utilization)), cap,
    };
  }

  function compute(D, s) {
    const m = D.model[s.model], q = m && m.quants[s.quant], Q = D.quant[s.quant], g = D.gpu[s.gpu];
    if (!m) return fail(`There is no model “${s.model}”.`, "model");
    if (!q) return fail(`${m.name} is not published as “${s.quant}”.`, "quant");
    if (!g) return fail(`There is no GPU “${s.gpu}”.`, "gpu");
    const here = runsOn(D, Q, g), rid = s.runtime || here[0] || Q.runtimes[0], r = D.runtime[rid];
    if (!r || !Q.runtimes.includes(rid)) return fail(`“${rid}” does not load ${Q.name}.`, "runtime");
    if (!here.length) return fail(`No runtime for ${Q.name} runs on ${g.name}.`, "quant");
    if (!here.includes(rid)) return fail(`${r.name} does not run on ${g.name}.`, "runtime");
    const kid = s.kv || r.default_kv_dtype, k = D.kv[kid], top = m.max_context, most = g.node_max_gpus;
    if (!k || !r.kv_dtypes.includes(kid)) return fail(`${r.name} has no “${kid}” KV cache.`, "kv");
    const ctx = none(s.context) ? Math.min(D.raw.default_context, top) : whole(s.context);
    if (!(ctx >= 1 && ctx <= top)) return fail(`Context must be 1 to ${fixed(top, 0)} tokens for ${m.name}, not “${s.context}”.`, "context");
    const b = none(s.batch) ? 1 : whole(s.batch), auto = none(s.count), asked = auto ? 0 : whole(s.count);
    if (!(b >= 1)) return fail(`Sequences: a whole number from 1, not “${s.batch}”.`, "batch");
    if (!auto && !(asked >= 1 && asked <= most)) return fail(`${g.name}: 1 to ${most} cards, not “${s.count}”.`, "count");

    // The fullest card against the runtime's card limit decides (engine.compute_fit).
    const S = sizing(m, q, g, r, k, b), fitsOn = (n, c) => {
      const Y = S.layout(n);
      return Y && S.need(Y, c) <= S.limit;
    };
    let min = null, lo = 1, hi = top, mc = 0;
    for (let n = most; n; n--) if (fitsOn(n, ctx)) min = n;
    const n = asked || min || most, Y = S.layout(n), f = n > 1 ? g.factor : 1;
    // Longest context on n cards: the fullest card never shrinks as context grows, so bisect
    // for the exact boundary (the engine interpolates, and finds the same one).
    if (fitsOn(n, lo)) {
      if (fitsOn(n, hi)) lo = hi;
      while (hi - lo > 1) {
        const mid = Math.floor((lo + hi) / 2);
        if (fitsOn(n, mid)) lo = mid; else hi = mid;
      }
      mc = lo;
    }

    // The pooled figures: the seed's planning margin (effective VRAM against the total).
    const kvb = S.cache(ctx, b), effective = rnd(g.card_bytes * n * f);
    const over = rnd(r.per_card_bytes * n + r.buffer_bytes + r.buffer_bytes_per_token * ctx);
    const total = S.weights + kvb + over, planning = effective - total, within = n <= g.max_gpus;
    const need = Y && S.need(Y, ctx), headroom = Y && S.limit - need;
    const verdict = !Y || headroom < 0 ? "does-not-fit"
      : headroom < D.raw.tight_share * S.cap || planning < 0 || !within ? "tight" : "fits";

    // Decode (speed.py): one step reads the active weights and every sequence's cache.
    const bw = r.split == "tensor" && n > 1 ? g.bandwidth_gbps * n * f : g.bandwidth_gbps;
    const tps = 1 / ((S.active + S.cache(ctx, 1) * b) / (r.efficiency * bw * 1e9) + r.step_overhead_ms / 1000);
    const cost = g.price_per_hour_usd == null ? null : g.price_per_hour_usd * n;

    // Commands for each runtime on the platform whose own placement fits (engine.render_commands).
    const commands = {}, [o, base] = m.hf_repo.split(/\/(.*)/);
    for (const id of verdict[0] == "d" ? [] : here) {
      const R = D.runtime[id], kv = R.kv_dtypes.includes(kid) ? kid : R.default_kv_dtype;
      const T = sizing(m, q, g, R, D.kv[kv], b), L = T.layout(n);
      const f = L && T.need(L, ctx) <= T.limit && FLAGS[R.launcher](m, n, ctx, b, T.shares(L, ctx), Q.quant_flags[R.launcher]);
      if (f) {
        commands[id] = [Q.commands[id].replace("%o", o).replace(/%b/g, base),
          ...f, R.kv_flags[kv]].filter(Boolean).join(" ");
      }
    }
    return {
      m, Q, g, r,
      state: { ...s, context: ctx, batch: b, kv: kid, runtime: rid, count: auto ? "" : n },
      count: n, context: ctx, batch: b, weights: S.weights, kv_cache: kvb, overhead: over, total,
      raw: rnd(g.card_bytes * n), effective, factor: f, verdict, headroom, need, limit: S.limit,
      planning_fits: planning >= 0, planning, within, node_max_gpus: most,
      fits: verdict[0] != "d", min_gpus: min, max_context: mc, kv_per_token: S.perToken,
      tps, aggregate: tps * b, cost, cost_per_million: cost == null ? null : cost / (tps * b * 3600) * 1e6,
      commands, command: commands[rid] || null,
    };
  }

  // The text of every output field, as the site's filters would write it.
  function present(x) {
    if (x.error) return { error: x.error };
    const { m, Q, g, r, count: n } = x, on = `${n}× ${g.name}`;
    return {
      verdict: D.raw.verdicts[x.verdict].word,
      summary: `${m.name} at ${Q.name} with ${r.name} on ${on}: ` + (x.need == null ? "no layout on that many cards." :
        `the fullest card holds ${gib(x.need)} of the ${gib(x.limit)} it may use, ` +
        (x.headroom < 0 ? gib(-x.headroom) + " too much." : gib(x.headroom) + " to spare.")) +
        ` The guide's planning rule (${gib(x.total)} of ${gib(x.effective)} effective, up to ` +
        `${g.max_gpus} cards) ` + (x.planning_fits && x.within ? "accepts it." : "does not."),
      factor: fixed(x.factor, 2) + "×",
      min_gpus: x.min_gpus ? `${x.min_gpus}× ${g.name}` : `none up to ${x.node_max_gpus}× ${g.name}`,
      max_context: x.max_context ? tokens(x.max_context) + " tokens" : "none",
      kv_per_token: fixed(x.kv_per_token, 0) + " bytes",
      tps: speed(x.tps), aggregate: speed(x.aggregate),
      cost: money(x.cost), cost_per_million: money(x.cost_per_million, ""),
      command: x.command || (x.fits ? `${r.name} cannot split ${m.name} over ${n} cards.`
        : "No command: it does not fit."),
      ...Object.fromEntries(BYTES.map((key) => [key, gib(x[key])])),
    };
  }

  window.fitatlasCalc = { compute, present, index };

  /* ---- the page ---- */

  const form = document.getElementById("calc");
  if (!form) return;
  const $ = (id) => document.getElementById("calc-" + id);
  const field = (key) => form.elements[key], on = (el, type, f) => el.addEventListener(type, f);
  const out = document.querySelectorAll("[data-out]");
  let D = null, state = {}, typing = false;
  const NA = " (not available)";

  const fill = (sel, items, value) => {
    const bad = !none(value) && !items.some(([v]) => v == value) ? [[value + "", value + NA]] : [];
    sel.replaceChildren(...bad.concat(items).map(([v, label]) => new Option(label, v)));
    sel.value = value ?? "";
  };

  // Keep choices that still apply when the model, quantization, runtime or GPU changes.
  function reconcile(s, edit) {
    const m = D.model[s.model];
    if (!m) return s;
    if (!m.quants[s.quant]) s.quant = quant0(m);
    const Q = D.quant[s.quant], g = D.gpu[s.gpu], rs = g ? runsOn(D, Q, g) : Q.runtimes;
    if (edit != "runtime" && !rs.includes(s.runtime)) s.runtime = rs[0] || Q.runtimes[0];
    const r = D.runtime[s.runtime];
    if (r && edit != "kv" && !r.kv_dtypes.includes(s.kv)) s.kv = r.default_kv_dtype;
    if (edit == "model" && whole(s.context) > m.max_context) s.context = m.max_context + "";
    if (g && edit == "gpu" && whole(s.count) > g.node_max_gpus) s.count = g.node_max_gpus + "";
    return s;
  }

  // The site's headline quantization when the model has it, else the model's first.
  const quant0 = (m) => {
    const q = form.dataset.defaultQuant;
    return m.quants[q] ? q : quantsIn(D, m)[0].id;
  };

  // The state a link gives, the form's defaults filling in model and GPU, and quantization,
  // context and batch, so every field shows a value (runtime and KV cache: compute()'s).
  function fromURL() {
    const p = new URLSearchParams(location.search), s = {};
    for (const key of KEYS) if (p.has(key)) s[key] = p.get(key);
    s.model ??= form.dataset.defaultModel;
    s.gpu ??= form.dataset.defaultGpu;
    s.batch ??= "1";
    const m = D.model[s.model];
    if (m) {
      s.quant ??= quant0(m);
      s.context ??= String(Math.min(D.raw.default_context, m.max_context));
    }
    return s;
  }

  const toURL = (s) => "?" + new URLSearchParams(KEYS.filter((k) => !none(s[k])).map((k) => [k, s[k]]));

  // A model typed as its name (any case) or its id.
  const modelId = (typed) => {
    const t = typed.trim().toLowerCase();
    const m = D.raw.models.find((x) => x.name.toLowerCase() == t || x.id == t);
    return m ? m.id : typed.trim();
  };

  function fromFields(edit) {
    const s = {};
    for (const key of KEYS) s[key] = field(key).value;
    s.model = modelId(s.model);
    return reconcile(s, edit);
  }

  function show(s) {
    const x = compute(D, s), text = present(x), m = D.model[s.model], g = D.gpu[s.gpu];
    // Fields show the state as given, valid or not, so a bad value can be seen and fixed.
    const mf = field("model"), Q = D.quant[s.quant], now = x.error ? s : x.state, r = D.runtime[now.runtime];
    if (document.activeElement != mf) mf.value = m ? m.name : s.model ?? "";
    const names = (ids, T) => ids.map((id) => [id, T[id].name]);
    fill(field("quant"), m ? quantsIn(D, m).map((q) => [q.id, q.name]) : [], s.quant);
    fill(field("runtime"), Q && g ? names(runsOn(D, Q, g), D.runtime) : [], now.runtime);
    fill(field("kv"), r ? names(r.kv_dtypes, D.kv) : [], now.kv);
    const gpus = field("gpu");
    gpus.querySelector(".stray")?.remove();
    if (!g) gpus.prepend(Object.assign(new Option(s.gpu + NA, s.gpu), { className: "stray" }));
    gpus.value = s.gpu;
    const counts = g ? Array.from({ length: g.node_max_gpus }, (_, i) => [++i + "", i + ""]) : [];
    fill(field("count"), [["", "Fewest that fit" + (x.error ? "" : ` (${x.min_gpus || "none"})`)], ...counts], s.count ?? "");
    for (const key of ["context", "batch"]) if (document.activeElement != field(key)) field(key).value = now[key] ?? "";
    for (const el of form.querySelectorAll("[data-ctx]")) {
      const max = el.dataset.ctx == "max";
      el.hidden = !m || (!max && +el.dataset.ctx >= m.max_context);
      if (max && m) el.textContent = "Max " + tokens(m.max_context);
    }

    for (const key of KEYS) field(key)[x.field == key ? "setAttribute" : "removeAttribute"]("aria-invalid", "true");
    $("error").hidden = !x.error;
    $("error").textContent = x.error || "";
    $("result").hidden = !!x.error;
    if (x.error) return x;
    for (const el of out) {
      const key = el.dataset.out;
      el.textContent = text[key];
      if (el.tagName == "DATA") el.value = x[key] ?? "";
    }
    $("summary").className = "answer verdict-" + x.verdict;
    const scale = Math.max(x.total, x.effective);
    for (const key of ["weights", "kv_cache", "overhead"]) $("bar-" + key).style.width = (100 * x[key] / scale) + "%";
    $("bar-cap").style.left = (100 * x.effective / scale) + "%";
    $("copy").hidden = !x.command;
    $("copied").textContent = "";
    return x;
  }

  function update(edit, push) {
    const s = fromFields(edit), x = show(s), url = toURL(state = x.error ? s : x.state);
    if (url != location.search) history[push ? "pushState" : "replaceState"](null, "", url);
  }

  function init(raw) {
    fitatlasCalc.D = D = index(raw);
    const x = show(state = fromURL());
    if (!x.error) state = x.state;
    on(form, "submit", (e) => e.preventDefault());
    on(form, "input", (e) => {
      // A half-typed model name waits for a full match, or for the field's change event.
      if (e.target.name == "model" && !D.model[modelId(e.target.value)]) return;
      // The first edit of a field adds a history entry; later keystrokes replace it.
      update(e.target.name, !typing);
      typing = true;
    });
    on(form, "change", (e) => {
      if (e.target.name == "model") update("model", !typing);
      typing = false;
    });
    on(form, "click", (e) => {
      // data-js: the script of a part of the page opened on demand ("your own model").
      const d = e.target.dataset || {}, v = d.ctx;
      if (d.js) import(d.js);
      if (!v) return;
      field("context").value = v == "max" ? D.model[state.model].max_context : v;
      update("context", true);
    });
    on(window, "popstate", () => {
      typing = false;
      show(state = fromURL());
    });
    on($("copy"), "click", () => {
      const done = (msg) => { $("copied").textContent = msg; };
      (navigator.clipboard?.writeText($("command").textContent) ?? Promise.reject()).then(() => done("Copied."), () => {
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

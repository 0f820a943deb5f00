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
  const gib = (b) => (b == null ? "—" : fixed(b / GIB, 1) + " GiB");
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
  // The runtimes that load Q and run on g's platform, in the format's order (engine.runtimes_on).
  const runtimesOn = (D, Q, g) => Q.runtimes.filter((id) => D.runtime[id].platforms.includes(g.platform));

  // Launch flags per launcher (generator/fit/commands.py); null: the runtime cannot run it.
  const FLAGS = {
    vllm(m, Q, n, c, b) {
      const t = m.tensor[n - 1], f = ["--tensor-parallel-size " + t];
      if (n > t) f.push("--pipeline-parallel-size " + n / t);
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
      if (n > 1) f.push("--tensor-split " + Array(n).fill(1));
      return f;
    },
    // GiB of weights and cache per card rounded up to a tenth; String() prints as Python's :g.
    exllamav2(m, Q, n, c, b, shares) {
      const f = ["-l " + c];
      if (n > 1) f.unshift("-gs " + shares.map((x) => Math.ceil(x / GIB * 10) / 10));
      return f;
    },
    mlx: () => [],
  };

  const fail = (error, field) => ({ error, field });

  // The engine's Sizing for runtime R and KV dtype K (fit/sizing.py, placement.py, memory.py):
  // weights as R loads them, the cache of b sequences, the layout and fullest card on n cards.
  function sizing(m, q, g, R, K, b) {
    const [E, H, L, routed] = (R.launcher == "llama-cpp" && q.g) || q.w, N = m.layers, v = m.kv;
    const P = [0];
    for (let i = 0; i < N; i++) P.push(P[i] + (L[1] ? L[0][parseInt(L[1][i], 36)] : L));
    const win = R.sliding_window_cache ? v.windowed_layers : 0;
    const G = (v.growing_layers + v.windowed_layers - win) * v.elements_per_layer_token;
    const cache = (c, n, [g, w, s] = [G, win * v.elements_per_layer_token, v.state_bytes]) =>
      (Math.ceil((g * c + w * Math.min(c, v.window)) * K.bits / 8) + s) * n;
    const cap = roundEven(g.card_bytes);
    const weights = P[N] + H + (m.tied ? 0 : E);
    // [[weights, layers] per card, the shard's cache], or null (no pipeline stages here).
    const layout = (n) => {
      const cards = [];
      let kv, t = 1;
      if (R.split == "layer") {
        const at = (c) => Math.min(N, Math.ceil(c * (N + 1) / n));
        for (let c = 0; c < n; c++) cards.push([P[at(c + 1)] - P[at(c)] + (c == n - 1 ? H : 0), at(c + 1) - at(c)]);
      } else {
        t = m.tensor[n - 1];
        const p = n / t, at = (i) => Math.floor(N * i / p);
        if (p > 1 && !R.pipeline_parallel) return null;
        for (let i = 0; i < p; i++) {
          const w = P[at(i + 1)] - P[at(i)] + (i ? 0 : E) + (i == p - 1 && (!m.tied || p > 1) ? H : 0);
          for (let s = 0; s < t; s++) cards.push([roundEven(w / t), at(i + 1) - at(i)]);
        }
      }
      if (t > 1) {
        const x = v.mla ? 1 : Math.max(1, Math.floor(v.kv_heads / t)) / v.kv_heads;
        kv = [roundEven(G * x), roundEven(win * v.elements_per_layer_token * x), roundEven(v.state_bytes / t)];
      }
      return { cards, kv };
    };
    // Each card's weights and cache at context c; the fullest card's bytes with its overhead.
    const shares = (Y, c) => Y.cards.map(([w, l]) => w + roundEven(cache(c, b, Y.kv) * l / N));
    const need = (Y, c) => Math.max(...shares(Y, c)) + R.fixed_bytes + roundEven(R.buffer_bytes_per_token * c);
    return {
      cache, layout, shares, need, weights, perToken: Math.ceil(G * K.bits / 8),
      active: weights - (m.tied ? 0 : E) - roundEven(routed * (m.idle_expert_share || 0)),
      limit: cap - roundEven(cap * (1 - R.memory_utilization)), cap,
    };
  }

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
    const here = runtimesOn(D, Q, g), names = (ids) => ids.map((id) => D.runtime[id].name).join(", ");
    const rid = s.runtime || here[0] || Q.runtimes[0], r = D.runtime[rid];
    if (!r || !Q.runtimes.includes(rid)) {
      return fail(`“${rid}” does not load ${Q.name}; runtimes that do: ${Q.runtimes.join(", ")}.`, "runtime");
    }
    if (!here.includes(rid)) {
      return fail(here.length ? `${r.name} does not run on ${g.name}; for ${Q.name} there: ${names(here)}.`
        : `${Q.name} runs on ${names(Q.runtimes)}, none of which runs on ${g.name}.`, here.length ? "runtime" : "quant");
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
    const auto = s.count == null || s.count === "", most = g.node_max_gpus;
    const asked = auto ? 0 : whole(s.count);
    if (!auto && !(asked >= 1 && asked <= most)) {
      return fail(`${g.name} goes from 1 to ${most} card${most > 1 ? "s" : ""}, not “${s.count}”.`, "count");
    }

    const S = sizing(m, q, g, r, k, b), fitsOn = (n, c) => {
      const Y = S.layout(n);
      return Y && S.need(Y, c) <= S.limit;
    };
    let min = null;
    for (let n = 1; n <= most && !min; n++) if (fitsOn(n, ctx)) min = n;
    const n = asked || min || most, Y = S.layout(n), f = n > 1 ? g.factor : 1;
    const raw = roundEven(g.card_bytes * n), effective = roundEven(g.card_bytes * n * f);

    // Longest context on n cards: the fullest card never shrinks as context grows, so bisect
    // for the exact boundary (the engine interpolates, and finds the same one).
    let lo = 1, hi = m.max_context, maxContext = 0;
    if (fitsOn(n, lo)) {
      if (fitsOn(n, hi)) lo = hi;
      while (hi - lo > 1) {
        const mid = Math.floor((lo + hi) / 2);
        if (fitsOn(n, mid)) lo = mid; else hi = mid;
      }
      maxContext = lo;
    }

    // The pooled figures: the seed's planning margin (effective VRAM against the total).
    const kvBytes = S.cache(ctx, b);
    const over = roundEven(r.per_card_bytes * n + r.buffer_bytes + r.buffer_bytes_per_token * ctx);
    const total = S.weights + kvBytes + over, planning = effective - total;
    const need = Y && S.need(Y, ctx), headroom = Y && S.limit - need;
    const within = n <= g.max_gpus;
    const verdict = !Y || headroom < 0 ? "does-not-fit"
      : headroom < D.raw.tight_share * S.cap || planning < 0 || !within ? "tight" : "fits";
    const fits = verdict !== "does-not-fit";

    // Decode (speed.py): one step reads the active weights and every sequence's cache.
    const bw = r.split === "tensor" && n > 1 ? g.bandwidth_gbps * n * f : g.bandwidth_gbps;
    const tps = 1 / ((S.active + S.cache(ctx, 1) * b) / (r.efficiency * bw * 1e9) +
      r.step_overhead_ms / 1000);
    const cost = g.price_per_hour_usd == null ? null : g.price_per_hour_usd * n;

    // Commands for each runtime on the platform whose own placement fits (engine.render_commands).
    const commands = {}, [owner] = m.hf_repo.split("/");
    for (const id of fits ? here : []) {
      const R = D.runtime[id], kv = R.kv_dtypes.includes(kid) ? kid : R.default_kv_dtype;
      const T = sizing(m, q, g, R, D.kv[kv], b), L = T.layout(n);
      const f = L && T.need(L, ctx) <= T.limit && FLAGS[R.launcher](m, Q, n, ctx, b, T.shares(L, ctx));
      if (f) {
        commands[id] = [Q.commands[id].replace("%o", owner).replace(/%b/g, m.hf_repo.slice(owner.length + 1)),
          ...f, R.kv_flags[kv]].filter(Boolean).join(" ");
      }
    }
    return {
      m, Q, g, r, k, auto,
      state: { model: m.id, quant: Q.id, context: ctx, batch: b, kv: kid, runtime: rid, gpu: g.id,
        count: auto ? "" : n },
      count: n, context: ctx, batch: b,
      weights: S.weights, kv_cache: kvBytes, overhead: over, total,
      raw, effective, factor: f, verdict, headroom, need, limit: S.limit,
      planning_fits: planning >= 0, planning, within, node_max_gpus: most,
      fits, min_gpus: min, max_context: maxContext,
      kv_per_token: S.perToken,
      tps, aggregate: tps * b, cost,
      cost_per_million: cost == null || tps * b <= 0 ? null : cost / (tps * b * 3600) * 1e6,
      commands, command: commands[rid] || null,
    };
  }

  // The text of every output field, as the site's filters would write it.
  function present(x) {
    if (x.error) return { error: x.error };
    const { m, Q, g, r, count: n } = x;
    const on = `${n}× ${g.name}`, s = n > 1 ? "s" : "";
    return {
      verdict: WORDS[x.verdict],
      summary: (x.need == null ? `${r.name} cannot lay ${m.name} out on ${n} card${s}.`
        : `With ${r.name} on ${on}, ${m.name} at ${Q.name} puts ${gib(x.need)} on the fullest card, ` +
        `of the ${gib(x.limit)} it may use: ` +
        (x.headroom < 0 ? `${gib(-x.headroom)} too much.` : `${gib(x.headroom)} to spare.`)) +
        ` By the guide's planning rule (${gib(x.total)} in all against ${gib(x.effective)} effective` +
        `${x.within ? "" : `, over the ${g.max_gpus} cards it recommends`}) it ` +
        (x.planning_fits && x.within ? "fits too." : "is a stretch."),
      weights: gib(x.weights), kv_cache: gib(x.kv_cache), overhead: gib(x.overhead),
      total: gib(x.total), raw: gib(x.raw), effective: gib(x.effective),
      factor: fixed(x.factor, 2) + "×", headroom: gib(x.headroom), need: gib(x.need), limit: gib(x.limit),
      min_gpus: x.min_gpus ? `${x.min_gpus}× ${g.name}` : `none up to ${x.node_max_gpus}× ${g.name}`,
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
    const Q = D.quant[s.quant], g = D.gpu[s.gpu], rs = g ? runtimesOn(D, Q, g) : Q.runtimes;
    if (changed !== "runtime" && !rs.includes(s.runtime)) s.runtime = rs[0] || Q.runtimes[0];
    const r = D.runtime[s.runtime];
    if (r && changed !== "kv" && !r.kv_dtypes.includes(s.kv)) s.kv = r.default_kv_dtype;
    if (changed === "model" && whole(s.context) > m.max_context) s.context = String(m.max_context);
    if (g && changed === "gpu" && whole(s.count) > g.node_max_gpus) s.count = String(g.node_max_gpus);
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
    // Fill in what the link leaves out (runtime and KV cache: compute()'s defaults), so every
    // field shows a value; what it gives is kept, valid or not.
    const m = D.model[s.model];
    if (m && s.quant == null) s.quant = defaultQuant(m);
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
    fillSelect(field("runtime"), Q && g ? runtimesOn(D, Q, g).map((id) => [id, D.runtime[id].name]) : [], now.runtime);
    fillSelect(field("kv"), r ? r.kv_dtypes.map((id) => [id, D.kv[id].name]) : [], now.kv);
    const gpus = field("gpu"), stray = gpus.querySelector(".stray");
    if (stray) stray.remove();
    if (!g) gpus.prepend(Object.assign(new Option(s.gpu + " (not available)", s.gpu), { className: "stray" }));
    gpus.value = s.gpu;
    const counts = g ? Array.from({ length: g.node_max_gpus }, (_, i) => [String(i + 1), String(i + 1)]) : [];
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

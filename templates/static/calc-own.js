/* fitatlas VRAM calculator, "your own model" mode: loaded (as a module) only when that part of
   the page is opened, so the page's first load stays small.
   It reads a pasted Hugging Face config.json the way `fitatlas fit --config` does
   (generator/catalog/hf_config.py, params.py), sizes its weights tensor by tensor as
   generator/fit/tensors.py does, and hands the page a model entry in the shape
   generator/calculator.py exports for catalog models; calculator.js's compute() does the rest.
   The tables (families, block sizes, file types, recipes) come from /api/calculator.json's
   "own" part; this file holds only the rules between them. tests/browser/test_calculator_own.py
   checks every number against the CLI. */
const C = window.fitatlasCalc;
const ID = "your-model";

/* ---- errors, worded as hf_config.ConfigError words them ---- */

class Problem extends Error {
  constructor(field, message) {
    super(field + ": " + message);
    this.field = field;
  }
}
// Python's repr() of a JSON value, for messages (floats come as Number objects: see parse()).
const repr = (v) => v == null ? "None" : v === true ? "True" : v === false ? "False"
  : typeof v == "string" ? `'${v}'` : v instanceof Number ? (Number.isInteger(+v) ? v + ".0" : v + "")
  : JSON.stringify(v);
// Python's truth value of a JSON value.
const truthy = (v) => v instanceof Number ? +v != 0 : Array.isArray(v) ? v.length > 0
  : v && typeof v == "object" ? Object.keys(v).length > 0 : !!v;
const isObject = (v) => v != null && typeof v == "object" && !Array.isArray(v) && !(v instanceof Number);
const has = (o, k) => Object.prototype.hasOwnProperty.call(o, k);

// JSON as Python reads it: a number written with a point or an exponent is a float there, not an
// int, so it is kept apart (a Number object) and refused where a whole number is needed.
export function parse(text) {
  let data;
  try {
    data = JSON.parse(text, (k, v, c) => typeof v == "number" && c && /[.eE]/.test(c.source) ? new Number(v) : v);
  } catch (e) {
    throw new Problem("config.json", "malformed JSON: " + e.message);
  }
  if (!isObject(data)) throw new Problem("config.json", "expected a JSON object (a Hugging Face config.json)");
  return data;
}

/* ---- reading the config (hf_config.read_config), field by field in the same order ---- */

function fields(raw, T) {
  const text = raw.text_config;
  let values = raw, prefix = "", type = raw.model_type;
  if (isObject(text)) {
    values = {};
    for (const k of T.outer_keys) if (has(raw, k)) values[k] = raw[k];
    Object.assign(values, text);
    prefix = "text_config.";
    type = has(text, "model_type") ? text.model_type : raw.model_type;
  }
  if (type == null) throw new Problem("model_type", "missing");
  if (typeof type != "string" || !has(T.model_types, type)) {
    const known = Object.keys(T.model_types).sort().join(", ");
    throw new Problem(prefix + "model_type", `unknown family ${repr(type)} (known: ${known})`);
  }
  const family = T.families[T.model_types[type]], V = { ...family.defaults, ...values };
  const err = (key, message) => new Problem(prefix + key, message);
  const whole = (v) => typeof v == "number" && Number.isInteger(v);
  const F = {
    family, type, err,
    get: (key) => (has(V, key) ? V[key] : undefined),
    positive(key, def) {
      const v = F.get(key);
      if (v == null) {
        if (def == null) throw err(key, "missing");
        return def;
      }
      if (!whole(v) || v <= 0) throw err(key, `expected a positive whole number, not ${repr(v)}`);
      return v;
    },
    count(key, def) {
      const v = F.get(key);
      if (v == null) return def;
      if (!whole(v) || v < 0) throw err(key, `expected a whole number ≥ 0, not ${repr(v)}`);
      return v;
    },
    boolean(key, def) {
      const v = F.get(key);
      if (v == null) return def;
      if (typeof v != "boolean") throw err(key, `expected true or false, not ${repr(v)}`);
      return v;
    },
    flag: (key) => F.boolean(key, false),
    text: (key) => (typeof F.get(key) == "string" && F.get(key) ? F.get(key) : null),
    layerTypes(layers) {
      const v = F.get("layer_types");
      if (v == null) return null;
      if (!Array.isArray(v) || !v.every((x) => typeof x == "string")) throw err("layer_types", "expected a list of layer type names");
      if (v.length != layers) throw err("layer_types", `lists ${v.length} layers, num_hidden_layers is ${layers}`);
      return v;
    },
  };
  return F;
}

const countOf = (list, name) => list.filter((x) => x == name).length;
const div = (a, b) => Math.floor(a / b);

export function readConfig(raw, T) {
  const cfg = fields(raw, T), family = cfg.family;
  const layers = cfg.positive("num_hidden_layers"), heads = cfg.positive("num_attention_heads");
  const hidden = cfg.positive("hidden_size");
  const mla = family.mla ? readMla(cfg) : null;
  const headDim = mla ? mla.qk_rope_head_dim + (mla.qk_nope_head_dim || 0)
    : cfg.positive("head_dim", hidden % heads == 0 ? div(hidden, heads) : null);
  const moe = readMoe(cfg, family, layers), needsDense = moe == null || !moe.layers.every(Boolean);
  const s = { family, layers, hidden, heads, head_dim: headDim, mla, moe };
  s.kv_heads = cfg.positive("num_key_value_heads", heads);
  s.vocab = cfg.positive("vocab_size");
  s.tie = cfg.boolean("tie_word_embeddings", family.tie_default);
  s.max_context = cfg.positive("max_position_embeddings");
  s.dense_width = needsDense ? cfg.positive(family.moe == "llama4" ? "intermediate_size_mlp" : "intermediate_size") : null;
  s.qkv_bias = family.bias == "qkv" || (family.bias != "none" && cfg.flag("attention_bias"));
  s.o_bias = family.bias == "config" && cfg.flag("attention_bias");
  s.qk_norm = family.qk_norm == "always" || (family.qk_norm == "config" && cfg.flag("use_qk_norm"));
  s.window = readWindow(cfg, family, layers);
  s.linear = family.hybrid ? readLinear(cfg, layers) : null;
  s.name_or_path = cfg.text("_name_or_path");
  return s;
}

function readMla(cfg) {
  const m = { kv_lora_rank: cfg.positive("kv_lora_rank"), qk_rope_head_dim: cfg.positive("qk_rope_head_dim") };
  m.q_lora_rank = cfg.get("q_lora_rank") == null ? null : cfg.positive("q_lora_rank");
  m.qk_nope_head_dim = cfg.positive("qk_nope_head_dim");
  m.v_head_dim = cfg.positive("v_head_dim");
  return m;
}

function readLinear(cfg, layers) {
  const types = cfg.layerTypes(layers);
  const count = types ? countOf(types, "linear_attention") : layers - div(layers, cfg.positive("full_attention_interval", 4));
  if (count == 0) throw cfg.err("layer_types", "names no linear_attention layer");
  return {
    layers: count, conv_kernel: cfg.positive("linear_conv_kernel_dim"),
    key_heads: cfg.positive("linear_num_key_heads"), value_heads: cfg.positive("linear_num_value_heads"),
    key_head_dim: cfg.positive("linear_key_head_dim"), value_head_dim: cfg.positive("linear_value_head_dim"),
  };
}

function readWindow(cfg, family, layers) {
  if (family.window == "none") return null;
  if (family.window == "chunked") return chunkedWindow(cfg, layers);
  const types = cfg.layerTypes(layers);
  let windowed;
  if (types) windowed = countOf(types, "sliding_attention");
  else if (family.window == "all") windowed = layers;
  else if (family.window == "qwen") windowed = cfg.flag("use_sliding_window") ? layers - cfg.count("max_window_layers", layers) : 0;
  else if (family.window == "alternate") windowed = div(layers + 1, 2);
  else windowed = layers - div(layers, cfg.positive("sliding_window_pattern"));
  if (windowed <= 0 || cfg.get("sliding_window") == null) return null;
  const window = cfg.positive("sliding_window");
  if (window >= cfg.positive("max_position_embeddings")) return null;
  return { window, layers: windowed };
}

function chunkedWindow(cfg, layers) {
  if (cfg.get("attention_chunk_size") == null) return null;
  const chunk = cfg.positive("attention_chunk_size"), types = cfg.layerTypes(layers), flags = cfg.get("no_rope_layers");
  let chunked;
  if (types) chunked = countOf(types, "chunked_attention");
  else if (Array.isArray(flags) && flags.length) {
    if (flags.length != layers) throw cfg.err("no_rope_layers", `lists ${flags.length} layers, not ${layers}`);
    chunked = flags.filter(truthy).length;
  } else chunked = layers - div(layers, cfg.positive("no_rope_layer_interval", 4));
  return chunked ? { window: chunk, layers: chunked } : null;
}

const range = (n) => Array.from({ length: n }, (_, i) => i);
const moeOf = (experts, top_k, width, shared, shared_width, layers, first_dense, step) =>
  ({ experts, top_k, width, shared, shared_width, layers, first_dense, step });

function readMoe(cfg, family, layers) {
  if (family.moe == "none") return null;
  if (family.moe == "mixtral") {
    const experts = cfg.positive("num_local_experts"), width = cfg.positive("intermediate_size");
    return moeOf(experts, cfg.positive("num_experts_per_tok"), width, 0, 0, range(layers).map(() => true), null, null);
  }
  if (family.moe == "llama4") {
    const step = cfg.positive("interleave_moe_layer_step", 1), width = cfg.positive("intermediate_size");
    const flags = range(layers).map((i) => (i + 1) % step == 0);
    return moeOf(cfg.positive("num_local_experts"), cfg.positive("num_experts_per_tok"), width, 1, width, flags, null, step > 1 ? step : null);
  }
  if (family.moe == "deepseek") {
    const experts = cfg.positive("n_routed_experts"), first = cfg.count("first_k_dense_replace", 0);
    const freq = cfg.positive("moe_layer_freq", 1), flags = range(layers).map((i) => i >= first && i % freq == 0);
    const width = cfg.positive("moe_intermediate_size"), shared = cfg.count("n_shared_experts", 0);
    return moeOf(experts, cfg.positive("num_experts_per_tok"), width, shared, shared * width, flags, first, freq > 1 ? freq : null);
  }
  if (family.hybrid && cfg.get("num_experts") == null) return null;
  const step = cfg.positive("decoder_sparse_step", 1), raw = cfg.get("mlp_only_layers");
  const only = truthy(raw) ? raw : [];
  if (!Array.isArray(only)) throw cfg.err("mlp_only_layers", "expected a list of layer indexes");
  // Python's `i in list`: True == 1 and 2.0 == 2 there; "2" is not 2.
  const listed = (i) => only.some((x) => (typeof x == "boolean" || x instanceof Number ? +x : x) === i);
  const flags = range(layers).map((i) => !listed(i) && (i + 1) % step == 0);
  const sharedWidth = family.shared_gate ? cfg.positive("shared_expert_intermediate_size") : 0;
  return moeOf(cfg.positive("num_experts"), cfg.positive("num_experts_per_tok"), cfg.positive("moe_intermediate_size"),
    sharedWidth ? 1 : 0, sharedWidth, flags, null, step > 1 ? step : null);
}

// hf_config.make_architecture: the catalog's Architecture fields the engine reads.
function architecture(s) {
  const m = s.moe, one = m && m.shared ? div(m.shared_width, m.shared) : null;
  return {
    layers: s.layers, hidden_size: s.hidden, attention_heads: s.heads, kv_heads: s.kv_heads,
    head_dim: s.head_dim, vocab_size: s.vocab, tie_word_embeddings: s.tie, mla: s.mla,
    sliding_window: s.window, linear_attention: s.linear,
    experts: m ? m.experts : null, experts_per_token: m ? m.top_k : null,
    intermediate_size: s.dense_width, moe_intermediate_size: m ? m.width : null,
    shared_experts: m ? m.shared : null, shared_expert_intermediate_size: one == null || one == m.width ? null : one,
    first_dense_layers: m && m.first_dense ? m.first_dense : null, moe_layer_step: m ? m.step : null,
    attention_output_gate: s.family.output_gate,
  };
}

/* ---- parameter counts (params.compute_param_counts): the size of formats without a recipe */

function paramCounts(s) {
  const h = s.hidden, f = s.family, linearLayers = s.linear ? s.linear.layers : 0;
  let total = s.vocab * h * (s.tie ? 1 : 2) + h;
  total += (s.layers - linearLayers) * attentionParams(s);
  if (s.linear) {
    const la = s.linear, key = la.key_heads * la.key_head_dim, value = la.value_heads * la.value_head_dim;
    const conv = 2 * key + value;
    total += linearLayers * (h * (conv + value + 2 * la.value_heads) + conv * la.conv_kernel + 2 * la.value_heads + la.value_head_dim + value * h);
  }
  total += s.layers * f.norms_per_layer * h;
  const moeLayers = s.moe ? s.moe.layers.filter(Boolean).length : 0;
  total += (s.layers - moeLayers) * 3 * h * (s.dense_width || 0);
  let active = total;
  if (s.moe) {
    const m = s.moe, expert = 3 * h * m.width + (f.gpt_oss ? 2 * m.width + h : 0);
    const router = h * m.experts + (f.router_bias ? m.experts : 0);
    const shared = 3 * h * m.shared_width + (f.shared_gate && m.shared_width ? h : 0);
    total += moeLayers * (router + shared + m.experts * expert);
    active += moeLayers * (router + shared + m.top_k * expert);
  }
  return [total, active];
}

function attentionParams(s) {
  const h = s.hidden, heads = s.heads;
  if (s.mla) {
    const m = s.mla, nope = m.qk_nope_head_dim || 0, v = m.v_head_dim || 0, qOut = heads * (nope + m.qk_rope_head_dim);
    const q = m.q_lora_rank ? m.q_lora_rank * (h + 1 + qOut) : h * qOut;
    const kv = h * (m.kv_lora_rank + m.qk_rope_head_dim) + m.kv_lora_rank + m.kv_lora_rank * heads * (nope + v);
    return q + kv + heads * v * h;
  }
  const qOut = heads * s.head_dim * (s.family.output_gate ? 2 : 1), kvOut = s.kv_heads * s.head_dim;
  return h * (qOut + 2 * kvOut) + heads * s.head_dim * h + (s.qkv_bias ? qOut + 2 * kvOut : 0)
    + (s.o_bias ? h : 0) + (s.qk_norm ? 2 * s.head_dim : 0) + (s.family.gpt_oss ? heads : 0);
}

/* ---- the tensors and their bytes (fit/tensors.py) ---- */

const tensor = (role, cols, rows, count = 1, expert = false, shared = false) => ({ role, cols, rows, count, expert, shared });

function isLinearLayer(a, i) {
  if (!a.linear_attention) return false;
  const full = a.layers - a.linear_attention.layers, period = full ? div(a.layers, full) : a.layers + 1;
  return (i + 1) % period != 0;
}

const isMoeLayer = (a, i) => a.experts != null && i >= (a.first_dense_layers || 0) && (i + 1) % (a.moe_layer_step || 1) == 0;

function layerTensors(a, i) {
  const h = a.hidden_size, out = [tensor("keep", h, 2)];
  if (isLinearLayer(a, i)) {
    const la = a.linear_attention, key = la.key_heads * la.key_head_dim, value = la.value_heads * la.value_head_dim;
    out.push(tensor("attn_v", h, 2 * key + value), tensor("other", h, value), tensor("other", h, 2 * la.value_heads),
      tensor("other", value, h), tensor("keep", la.conv_kernel, 2 * key + value));
  } else if (a.mla) {
    const m = a.mla, nope = m.qk_nope_head_dim || a.head_dim - m.qk_rope_head_dim, v = m.v_head_dim || nope;
    const heads = a.attention_heads, q = heads * (nope + m.qk_rope_head_dim);
    if (m.q_lora_rank) out.push(tensor("other", h, m.q_lora_rank), tensor("other", m.q_lora_rank, q));
    else out.push(tensor("attn_q", h, q));
    out.push(tensor("other", h, m.kv_lora_rank + m.qk_rope_head_dim), tensor("other", nope, m.kv_lora_rank * heads),
      tensor("other", m.kv_lora_rank, v * heads), tensor("attn_output", heads * v, h),
      tensor("keep", m.kv_lora_rank + (m.q_lora_rank || 0), 1));
  } else {
    const q = a.attention_heads * a.head_dim, kv = a.kv_heads * a.head_dim;
    out.push(tensor("attn_q", h, q * (a.attention_output_gate ? 2 : 1)), tensor("attn_k", h, kv),
      tensor("attn_v", h, kv), tensor("attn_output", q, h));
  }
  if (isMoeLayer(a, i)) {
    const w = a.moe_intermediate_size || a.intermediate_size || h, n = a.experts;
    out.push(tensor("keep", h, n), tensor("ffn_gate", h, w, n, true), tensor("ffn_up", h, w, n, true), tensor("ffn_down", w, h, n, true));
    const sh = (a.shared_experts || 0) * (a.shared_expert_intermediate_size || w);
    if (sh) out.push(tensor("ffn_gate", h, sh, 1, false, true), tensor("ffn_up", h, sh, 1, false, true), tensor("ffn_down", sh, h, 1, false, true));
  } else {
    const w = a.intermediate_size || a.moe_intermediate_size || h;
    out.push(tensor("ffn_gate", h, w), tensor("ffn_up", h, w), tensor("ffn_down", w, h));
  }
  return out;
}

const moreBits = (i, n) => i < div(n, 8) || i >= div(7 * n, 8) || (i - div(n, 8)) % 3 == 2;

// llama.cpp's choice of type for each tensor (tensors.GgufTyper; the file made with an
// importance matrix, as tensors.estimate_weights assumes).
function typer(a, T, ftype, embedOutput) {
  const B = T.blocks, base = T.ftype_default[ftype], quantized = base != "F16" && base != "BF16";
  const nExp = a.experts || 0, gqa = a.mla ? 1 : div(a.attention_heads, a.kv_heads);
  const is70b = a.experts == null && a.layers == 80, N = a.layers, nAttnV = a.mla ? 0 : N;
  const starts = [0];
  for (let i = 0; i < N; i++) starts.push(starts[i] + (isMoeLayer(a, i) && a.shared_experts ? 2 : 1));
  const iq2 = T.iq2_family.includes(ftype);

  function rule(t, i) {
    const ft = ftype, role = t.role;
    let nw = base;
    if (role == "output" || (a.tie_word_embeddings && role == "token_embd")) {
      if (embedOutput) return embedOutput;
      if (ft == "MXFP4_MOE" || t.cols % B[nw][0]) return "Q8_0";
      if (T.output_q5k.includes(ft)) return "Q5_K";
      return nw == "Q8_0" ? nw : "Q6_K";
    }
    if (ft == "MXFP4_MOE") return t.expert ? "MXFP4" : "Q8_0";
    if (role == "token_embd") {
      if (embedOutput) return embedOutput;
      if (["IQ2_XXS", "IQ2_XS", "IQ1_S", "IQ1_M"].includes(ft)) return "Q2_K";
      if (["IQ2_S", "IQ2_M", "IQ3_XXS"].includes(ft)) return "IQ3_S";
      return nw;
    }
    if (iq2) {
      const wide = ft == "IQ2_S" || ft == "IQ2_M";
      if (role == "attn_v") return gqa >= 4 || nExp >= 4 ? "Q4_K" : wide ? "IQ3_S" : "Q2_K";
      if (nExp == 8 && role == "attn_k") return "Q4_K";
      if (role == "ffn_down") return starts[i] + (t.shared ? 1 : 0) < div(N, 8) ? (wide ? "IQ3_S" : "Q2_K") : nw;
      if (role == "attn_output") {
        if (nExp == 8) return "Q5_K";
        if (ft == "IQ1_S" || ft == "IQ1_M") return "IQ2_XXS";
        if (wide) return "IQ3_S";
      }
      return nw;
    }
    if (role == "attn_v") {
      if (ft == "Q2_K") nw = gqa >= 4 ? "Q4_K" : "Q3_K";
      else if (ft == "Q2_K_S" && gqa >= 4) nw = "Q4_K";
      else if (ft == "IQ3_XXS") nw = gqa >= 4 ? "Q4_K" : "IQ3_XXS";
      else if ((["IQ3_XS", "IQ3_S"].includes(ft) && gqa >= 4) || ft == "IQ3_M") nw = "Q4_K";
      else if (ft == "Q3_K_M") nw = i < 2 ? "Q5_K" : "Q4_K";
      else if (ft == "Q3_K_L" || (["IQ4_NL", "IQ4_XS"].includes(ft) && gqa >= 4)) nw = "Q5_K";
      else if (["Q4_K_M", "Q5_K_M"].includes(ft) && moreBits(i, nAttnV)) nw = "Q6_K";
      else if (ft == "Q4_K_S" && i < 4) nw = "Q5_K";
      if (is70b && (nw == "Q3_K" || nw == "Q4_K")) nw = "Q5_K";
      return nExp == 8 ? "Q8_0" : nw;
    }
    if (role == "attn_k" || role == "attn_q") {
      if (role == "attn_k" && nExp == 8) return "Q8_0";
      return ft == "IQ3_XS" ? "IQ3_XXS" : ft == "IQ3_XXS" ? "IQ2_S" : nw;
    }
    if (role == "ffn_down") {
      const more = moreBits(i, N), early = i < div(N, 8);
      if (ft == "Q2_K") return "Q3_K";
      if (ft == "Q2_K_S") return early ? "Q4_K" : nw;
      if (ft == "Q3_K_M") return i < div(N, 16) ? "Q5_K" : "Q4_K";
      if (ft == "IQ3_M" && (early || (nExp == 8 && more))) return "Q4_K";
      if (ft == "Q3_K_L") return "Q5_K";
      if (ft == "Q4_K_M") return more ? "Q6_K" : nw;
      if (ft == "Q5_K_M" && more) return "Q6_K";
      if (ft == "Q4_K_S" && early) return "Q5_K";
      if ((ft == "Q4_0" || ft == "Q5_0") && early) return ft == "Q4_0" ? "Q4_1" : "Q5_1";
      return nw;
    }
    if (role == "attn_output") {
      if (nExp == 8) return T.attn_out_q5k_8e.includes(ft) ? "Q5_K" : nw;
      return { Q2_K: "Q3_K", IQ3_XXS: "IQ3_S", Q3_K_M: "Q4_K", Q3_K_L: "Q5_K", IQ3_M: "Q4_K" }[ft] || nw;
    }
    if ((role == "ffn_gate" || role == "ffn_up") && ft == "IQ3_XS" && div(N, 8) <= i && i < div(7 * N, 8)) return "IQ3_XXS";
    return nw;
  }

  return (t, i) => {
    if (t.role == "keep") return "F32";
    if (!quantized) return base;
    let chosen = rule(t, i);
    if (t.cols % B[chosen][0]) {
      chosen = T.fallback[chosen] || "F16";
      if (t.cols % B[chosen][0]) chosen = "F16";
    }
    return chosen;
  };
}

// Bytes of a tensor in a safetensors checkpoint (tensors._SafetensorsSizer).
function safetensorsBytes(recipe, t) {
  const n = t.cols * t.rows * t.count;
  if (recipe == "bf16" || ["token_embd", "output", "keep"].includes(t.role)) return 2 * n;
  if (recipe == "fp8") return n + 4 * Math.ceil(t.rows / 128) * Math.ceil(t.cols / 128) * t.count;
  if (recipe == "mxfp4") return t.expert ? div(n * 17, 32) : 2 * n;
  const groups = Math.ceil(t.cols / 128) * t.rows * t.count;
  return div(n, 2) + groups * 2 + div(groups, 2) + (recipe == "int4-gptq" ? 4 * t.cols * t.count : 0);
}

// tensors._sized: [embedding, output, per-layer bytes, per-layer routed-expert bytes, other].
function sized(a, T, recipe, embedOutput) {
  const h = a.hidden_size;
  let size, header = 0;
  if (T.safetensors.includes(recipe)) size = (t) => safetensorsBytes(recipe, t);
  else {
    const pick = typer(a, T, recipe, embedOutput), B = T.blocks;
    size = (t, i) => {
      const [per, bytes] = B[pick(t, i)];
      return t.rows * t.count * div(t.cols, per) * bytes;
    };
    header = T.header_bytes_per_token * a.vocab_size;
  }
  const embedding = size(tensor("token_embd", h, a.vocab_size), -1);
  const output = a.tie_word_embeddings ? 0 : size(tensor("output", h, a.vocab_size), -1);
  const kinds = {}, layers = [], routed = [];
  for (let i = 0; i < a.layers; i++) {
    const kind = [isLinearLayer(a, i), isMoeLayer(a, i)] + "";
    const list = (kinds[kind] ??= layerTensors(a, i));
    let total = 0, experts = 0;
    for (const t of list) {
      const b = size(t, i);
      total += b;
      if (t.expert) experts += b;
    }
    layers.push(total);
    routed.push(experts);
  }
  return [embedding, output, layers, routed, size(tensor("keep", h, 1), -1) + header];
}

// Python's round(): half to even.
const rnd = (x) => {
  const f = Math.floor(x), r = x - f;
  return r > 0.5 || (r === 0.5 && f % 2) ? f + 1 : f;
};

// tensors._even_split: a format without a recipe (EXL2, MLX) at its bits per weight.
function evenSplit(a, paramsB, activeB, bits) {
  const scale = bits / 8, embed = a.vocab_size * a.hidden_size, head = a.tie_word_embeddings ? 0 : embed;
  const total = rnd(paramsB * 1e9 * scale), embedding = rnd(embed * scale), output = rnd(head * scale);
  const body = total - embedding - output, base = div(body, a.layers), extra = body - base * a.layers;
  const layers = range(a.layers).map((i) => base + (i < extra ? 1 : 0));
  let routed = layers.map(() => 0);
  if (a.experts && a.experts_per_token && activeB) {
    const share = a.experts_per_token / a.experts, routedParams = (paramsB - activeB) / (1 - share);
    const per = rnd(routedParams * 1e9 * scale / a.layers);
    routed = layers.map((size) => Math.min(per, size));
  }
  return [embedding, output, layers, routed, 0];
}

// calculator._sizes: [embedding, head, layers as [values, pattern], routed total].
function exported([embedding, output, layers, routed, other], tied) {
  const values = [...new Set(layers)];
  const L = values.length > 1 ? [values, layers.map((b) => values.indexOf(b).toString(36))] : values[0];
  return [embedding, (tied ? embedding : output) + other, L, routed.reduce((x, y) => x + y, 0)];
}

/* ---- the model entry calculator.js computes with (calculator._model) ---- */

export function makeModel(raw, D) {
  const T = D.raw.own, s = readConfig(raw, T), a = architecture(s);
  const [total, active] = paramCounts(s), paramsB = total / 1e9, activeB = s.moe ? active / 1e9 : null;
  const quants = {};
  for (const q of D.raw.quantizations) {
    const [recipe, embedOutput, bits] = T.quants[q.id];
    const weights = (r) => r == null ? evenSplit(a, paramsB, activeB, bits) : sized(a, T, r, embedOutput);
    quants[q.id] = { w: exported(weights(recipe), a.tie_word_embeddings) };
    const gguf = recipe != null && T.conversion[recipe];
    if (gguf && q.runtimes.some((r) => D.runtime[r].launcher == "llama-cpp")) quants[q.id].g = exported(weights(gguf), a.tie_word_embeddings);
  }
  const linear = a.linear_attention, sw = a.sliding_window;
  const windowed = sw ? sw.layers : 0, growing = a.layers - (linear ? linear.layers : 0) - windowed;
  const perLayer = a.mla ? a.mla.kv_lora_rank + a.mla.qk_rope_head_dim : 2 * a.kv_heads * a.head_dim;
  const [conv, recurrent] = T.state_bytes, most = Math.max(...D.raw.gpus.map((g) => g.node_max_gpus));
  const state = linear ? linear.layers * ((linear.conv_kernel - 1) * (2 * linear.key_heads * linear.key_head_dim
    + linear.value_heads * linear.value_head_dim) * conv + linear.value_heads * linear.key_head_dim * linear.value_head_dim * recurrent) : 0;
  // commands.plan_parallel_layout: the widest tensor-parallel size dividing cards and heads.
  const tensorParallel = (n) => {
    for (let t = n; t > 0; t--) if (!(n % t) && !(a.attention_heads % t) && (!(a.kv_heads % t) || !(t % a.kv_heads))) return t;
    return 1;
  };
  const repo = /^[\p{L}\p{N}_.-]+\/[\p{L}\p{N}_.-]+$/u.test(s.name_or_path || "") ? s.name_or_path : "local/" + ID;
  const m = {
    id: ID, name: s.name_or_path ? s.name_or_path + " (your config)" : "A model from your config", hf_repo: repo, max_context: s.max_context,
    layers: a.layers, attention_heads: a.attention_heads, tied: a.tie_word_embeddings, quants,
    kv: { growing: growing * perLayer, windowed: windowed * perLayer, window: sw ? sw.window : 0, state_bytes: state, kv_heads: a.kv_heads, mla: !!a.mla },
    tensor: range(most).map((i) => tensorParallel(i + 1)),
    params: total, family: s.family.label,
  };
  if (a.experts && a.experts_per_token) m.idle_expert_share = 1 - a.experts_per_token / a.experts;
  return m;
}

// Put the model into the page's data (replacing an earlier one), so compute() knows it.
export function adopt(D, m) {
  D.raw.models = D.raw.models.filter((x) => x.id != m.id).concat(m);
  D.model[m.id] = m;
}

/* ---- the page: the pasted config, or a handful of typed numbers as a Llama/Mixtral config */

const $ = (id) => document.getElementById("calc-own-" + id);
const NUMBERS = ["num_hidden_layers", "hidden_size", "intermediate_size", "num_attention_heads", "num_key_value_heads",
  "head_dim", "vocab_size", "max_position_embeddings", "num_local_experts", "num_experts_per_tok"];

// The typed numbers as a config: blanks left out (so the message names what is missing),
// anything not a whole number passed on as typed (so the message quotes it).
export function typedConfig(values, tied) {
  const cfg = { model_type: values.num_local_experts ? "mixtral" : "llama", tie_word_embeddings: tied };
  for (const key of NUMBERS) {
    const v = (values[key] || "").trim();
    if (v) cfg[key] = /^\d+$/.test(v) ? +v : v;
  }
  return cfg;
}

function use(read) {
  const box = $("error"), model = document.getElementById("calc-model");
  try {
    const m = makeModel(read(), C.D);
    adopt(C.D, m);
    box.hidden = true;
    $("status").textContent = `Sized ${m.name}: ${m.family}, ${(m.params / 1e9).toFixed(2)} billion parameters.`;
    model.value = m.name;
    model.dispatchEvent(new Event("change", { bubbles: true }));
  } catch (e) {
    box.hidden = false;
    $("status").textContent = "";
    box.textContent = e instanceof Problem ? "This config cannot be sized: " + e.message + "."
      : "This config cannot be sized (" + e.message + ").";
  }
}

const panel = document.getElementById("calc-own");
if (panel && !panel.dataset.ready) {
  panel.dataset.ready = "1";
  // The panel's own fields are not the calculator's: keep their edits from the form's handlers.
  for (const type of ["input", "change"]) panel.addEventListener(type, (e) => e.stopPropagation());
  $("paste").addEventListener("click", () => use(() => parse($("config").value)));
  $("typed").addEventListener("click", () => use(() => typedConfig(
    Object.fromEntries(NUMBERS.map((k) => [k, panel.querySelector(`[data-key="${k}"]`).value])), $("tied").checked)));
  $("ready").hidden = false;
}

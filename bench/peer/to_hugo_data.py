"""Peer benchmark input: turn a fitatlas build's JSON API into the data file the Hugo site reads.

    .venv/bin/python bench/peer/to_hugo_data.py SITE_DIR PROJECT_DIR OUT_JSON [--api-only]

SITE_DIR is a finished ``fitatlas build`` output: ``api/catalog.json`` (models, GPUs,
quantizations, runtimes) and ``api/models/<id>.json`` (one result per quantization × GPU, at the
fewest cards that fit, else at the card limit). PROJECT_DIR is the project that produced it; two
small things the JSON does not carry are read from it: ``site.yaml`` (the home table's
quantization, featured models and GPUs) and each quantization's ``quality_rank``
(``catalog/quantizations.yaml``), which decides the "best quantization" on GPU and pair pages.

The API holds one result per model × quantization × GPU, at the fewest cards, and no text.
Everything else fitatlas's pages show is added from fitatlas's own code (``generator``, same
catalog, same defaults) by ``engine_supplement``: the GPU pages' tables at each card count
(figures at that count, each model at its best quantization), the model pages' memory on one
card at 8K/32K/128K tokens, the pair pages' "fullest card" column, per-card layout, offload plans
and published measurements, time to first token, launch commands (per model, quantization and
card count: they do not depend on the GPU), facts, notes and sources of models and GPUs, and
the GPU index's interconnect columns. ``--api-only`` leaves all that out; the Hugo layouts then
fall back to what the API alone gives (GPU tables at the fewest cards, no commands …).

The Hugo site in ``bench/peer/hugo/`` renders from OUT_JSON the pages fitatlas renders from its
matrix, at the same URLs: ``/``, ``/models/``, ``/gpus/``, ``/models/<id>/``, ``/gpus/<id>/`` and
``/models/<m>/on/<g>/``. The selection work that fitatlas does while rendering (best
quantization per card count on GPU pages, largest model first, the best / fewest-cards answer
on pair pages, the home table) is left to Hugo's templates. Only per-model aggregates that are
one line here and awkward in Go templates are precomputed: the recommended setup per
quantization, Q4_K_M weights and the count of GPUs that hold a model on one card.

Layout of OUT_JSON (numbers as in the API; bytes are integers):

    site:    {title, context, context_label, home_quant, featured_models, featured_gpus}
    quants:  {id: {id, name, bits, rank, runtimes}}        runtimes: names joined with ", "
    runtimes:{id: name}
    model_at, gpu_at: {id: position in models / gpus}   (pages carry ids; layouts look up)
    models:  [{id, name, params_b, active_params_b, max_context, license, hf_repo, ctx_label,
               quantizations, q4_weights, single_cards, recs: [{quant, gpu, cards, reason,
               tok_s, cost}]}]
    gpus:    [{id, name, vendor, class, vram_gib, usable_vram_fraction, bandwidth, max_gpus,
               interconnect, price, counts: [1 … max_gpus]}]
    results: {model id: {gpu id: [one row per quantization of the model, in its order]}}
             row: {q, n, min, tot, w, kv, oh, raw, eff, hr, sf, v, ctx, tps, cost, rt
                   [, full: {v, tot, cap} or null (engine: fullest card; null = cannot shard)]}
  engine supplement (absent with --api-only):
    quant_rows: {model id: [{q, w, kv, totals: [{ctx, tot}]}]}      memory on one card
    gpu_tables: {gpu id: [{cards, raw, eff, sf, rows: [{m, name, q, tot, tps, cost}]}]}
    site += {speed_error_pct, ram_gib}
    models[] += {facts: [[label, text]], notes, sources, layers, commands: {quant: {cards:
                 [[runtime name, command]]}}}
    gpus[] += {memory_type, fp16_tflops, link_name, link_bw, scaling, eff_at_max, raw_one,
               price_is_estimate, notes, sources}
    result rows += {ttft, tps0} when it fits, {off: {kind, ngl, ram, fits, tps}} when it does
                 not, {layout: {split, tensor, pipeline, cap, host, pool, cards}} on the pair's
                 best multi-card row, {meas: [...]} where measurements exist
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the repo, for generator.*


def tokens_label(value: int) -> str:
    """8192 -> '8K', the way fitatlas writes token counts."""
    for unit, suffix in ((2**20, "M"), (2**10, "K")):
        if value >= unit and value % unit == 0:
            return f"{value // unit}{suffix}"
    return f"{value:,}"


def load_api(site: Path) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
    """catalog.json and every model file of a built site."""
    catalog = json.loads((site / "api" / "catalog.json").read_text(encoding="utf-8"))
    models = {}
    for entry in catalog["models"]:
        path = site / "api" / "models" / f"{entry['id']}.json"
        models[entry["id"]] = json.loads(path.read_text(encoding="utf-8"))
    return catalog, models


def compact(result: dict[str, Any]) -> dict[str, Any]:
    """One API result under short keys (the data file is read once per Hugo build)."""
    return {
        "q": result["quant"], "n": result["count"], "min": result["min_gpus"],
        "tot": result["total_bytes"], "w": result["weights_bytes"],
        "kv": result["kv_cache_bytes"], "oh": result["overhead_bytes"],
        "raw": result["raw_vram_bytes"], "eff": result["effective_vram_bytes"],
        "hr": result["headroom_bytes"], "sf": result["scaling_factor"], "v": result["verdict"],
        "ctx": result["max_context"], "tps": result["decode_tokens_per_s"],
        "cost": result["cost_per_hour_usd"], "rt": result["runtime"],
    }  # fmt: skip


def recommend(
    rows: list[dict[str, Any]], gpu_order: list[str]
) -> tuple[dict[str, Any], str] | None:
    """fitatlas's rule (FitMatrix.recommend) applied to one quantization's rows over every GPU:
    one card if any holds it (cheapest priced, else smallest), else the cheapest multi-GPU setup
    (else the one with the least memory)."""
    fitting = [r for r in rows if r["min"] is not None]
    single = [r for r in fitting if r["min"] == 1]
    pool, kind = (single, "single card") if single else (fitting, "multi-GPU")
    if not pool:
        return None
    priced = [r for r in pool if r["cost"] is not None]
    if priced:
        best = min(priced, key=lambda r: (r["cost"], r["raw"]))
        return best, f"cheapest {kind} configuration with a price"
    best = min(pool, key=lambda r: (r["raw"], r["n"], gpu_order.index(r["gpu"])))
    return best, f"smallest {kind} configuration that fits"


def convert(site: Path, project: Path) -> dict[str, Any]:
    """The Hugo data file for the fitatlas build in ``site`` of ``project``."""
    catalog, model_files = load_api(site)
    settings = yaml.safe_load((project / "site.yaml").read_text(encoding="utf-8"))
    quant_yaml = yaml.safe_load((project / "catalog" / "quantizations.yaml").read_text("utf-8"))
    ranks = {q["id"]: q["quality_rank"] for q in quant_yaml["quantizations"]}
    runtimes = {r["id"]: r["name"] for r in catalog["runtimes"]}
    quants = {
        q["id"]: {"id": q["id"], "name": q["name"], "bits": q["bits_per_weight"],
                  "rank": ranks[q["id"]], "runtimes": ", ".join(runtimes[r] for r in q["runtimes"])}
        for q in catalog["quantizations"]
    }  # fmt: skip
    gpu_order = [g["id"] for g in catalog["gpus"]]
    gpus = [
        {"id": g["id"], "name": g["name"], "vendor": g["vendor"], "class": g["class"],
         "vram_gib": g["vram_gib"], "usable_vram_fraction": g["usable_vram_fraction"],
         "bandwidth": g["memory_bandwidth_gbps"], "max_gpus": g["max_gpus"],
         "interconnect": g["interconnect"], "price": g["price_per_hour_usd"],
         "counts": list(range(1, g["max_gpus"] + 1))}
        for g in catalog["gpus"]
    ]  # fmt: skip
    results: dict[str, dict[str, list[dict[str, Any]]]] = {}
    models = []
    for entry in catalog["models"]:
        mid = entry["id"]
        by_gpu: dict[str, list[dict[str, Any]]] = {g: [] for g in gpu_order}
        by_quant: dict[str, list[dict[str, Any]]] = {q: [] for q in entry["quantizations"]}
        for result in model_files[mid]["results"]:
            row = compact(result)
            by_gpu[result["gpu"]].append(row)
            by_quant[result["quant"]].append({**row, "gpu": result["gpu"]})
        order = {q: i for i, q in enumerate(entry["quantizations"])}
        for rows in by_gpu.values():
            rows.sort(key=lambda r: order[r["q"]])
        results[mid] = by_gpu
        recs = []
        for qid in entry["quantizations"]:
            picked = recommend(by_quant[qid], gpu_order)
            if picked:
                row, reason = picked
                recs.append(
                    {
                        "quant": qid,
                        "gpu": row["gpu"],
                        "cards": row["n"],
                        "reason": reason,
                        "tok_s": row["tps"],
                        "cost": row["cost"],
                    }
                )
        q4 = by_quant.get("q4_k_m")
        single = sum(1 for rows in by_gpu.values() if any(r["min"] == 1 for r in rows))
        models.append({
            "id": mid, "name": entry["name"], "params_b": entry["params_b"],
            "active_params_b": entry["active_params_b"], "max_context": entry["max_context"],
            "license": entry["license"], "hf_repo": entry["hf_repo"],
            "ctx_label": tokens_label(model_files[mid]["results"][0]["context"]),
            "quantizations": entry["quantizations"],
            "q4_weights": q4[0]["w"] if q4 else None, "single_cards": single, "recs": recs,
        })  # fmt: skip
    first = next(iter(model_files.values()))["results"][0]
    return {
        "site": {"title": settings["title"], "context": first["context"],
                 "context_label": tokens_label(first["context"]),
                 "home_quant": settings["home_quant"],
                 "featured_models": settings["featured_models"],
                 "featured_gpus": settings["featured_gpus"]},
        "quants": quants, "runtimes": runtimes, "models": models, "gpus": gpus,
        "model_at": {m["id"]: i for i, m in enumerate(models)},
        "gpu_at": {g["id"]: i for i, g in enumerate(gpus)},
        "results": results,
    }  # fmt: skip


def _layout(placed: Any) -> dict[str, Any]:
    """A runtime's per-card layout (fitatlas's Placement) as plain data."""
    return {
        "split": placed.split, "tensor": placed.tensor, "pipeline": placed.pipeline,
        "cap": placed.card_capacity, "host": placed.host_weights, "pool": placed.kv_pool_tokens,
        "cards": [[c.index, c.layers, c.weights, c.kv_cache, c.overhead, c.reserved, c.total]
                  for c in placed.cards],
    }  # fmt: skip


def _model_facts(model: Any) -> list[list[str]]:
    """The model page's facts as (label, text) in fitatlas's wording."""
    arch = model.architecture
    facts = [
        ["Parameters", f"{model.params_b:g}B" + (" in total" if model.active_params_b else "")]
    ]
    if model.active_params_b:
        facts.append(["Active per token", f"{model.active_params_b:g}B (mixture of experts)"])
    if arch.attention == "mla":
        attention = (
            f"Multi-head latent attention (MLA), latent rank {arch.mla.kv_lora_rank} + "
            f"RoPE dim {arch.mla.qk_rope_head_dim}"
        )
    else:
        attention = (
            f"Grouped-query attention, {arch.attention_heads} query heads, {arch.kv_heads} KV heads"
        )
    facts += [
        ["Attention", attention],
        ["Layers", str(arch.layers)],
        ["Head dimension", str(arch.head_dim)],
    ]
    if arch.sliding_window:
        facts.append(
            [
                "Sliding window",
                f"{arch.sliding_window.layers} of {arch.layers} layers "
                f"attend to the last {tokens_label(arch.sliding_window.window)} tokens",
            ]
        )
    if arch.linear_attention:
        facts.append(
            [
                "Linear attention",
                f"{arch.linear_attention.layers} of {arch.layers} "
                "layers keep a fixed state instead of a KV cache",
            ]
        )
    if arch.experts:
        facts.append(["Experts", f"{arch.experts}, {arch.experts_per_token} per token"])
    facts += [
        ["Native weights", model.native_dtype],
        ["Max context", f"{tokens_label(model.max_context)} tokens"],
        ["License", model.license],
        ["Hugging Face repo", model.hf_repo],
        ["Released", str(model.release_date)],
        ["Family", model.family],
    ]
    return facts  # fmt: skip


def _measured(comparison: Any) -> dict[str, Any]:
    """A published measurement beside the engine's estimate, as the pair page lists it."""
    r = comparison.measurement
    fits = r.metric == "fits"
    return {
        "id": r.id, "setup": f"{r.quant}, {r.cards}× card{'s' if r.cards > 1 else ''}, "
        f"{r.runtime}, {tokens_label(r.context)} tokens" + (f" × {r.batch}" if r.batch > 1 else ""),
        "what": r.metric.replace("_", " "),
        "measured": ("ran" if r.value else "out of memory") if fits else f"{r.value:,.2f}",
        "estimate": comparison.estimate if fits else f"{comparison.estimate:,.2f}",
        "verdict": fits, "source": r.source, "date": str(r.date),
    }  # fmt: skip


def engine_supplement(project: Path, data: dict[str, Any]) -> None:
    """Add what the API lacks (see the module docstring) from fitatlas's engine."""
    from generator.catalog.loader import load_catalog
    from generator.contexts import make_capacity, make_commands, make_quant_rows
    from generator.fit.answers import compute_placement
    from generator.fit.matrix import compute_matrix
    from generator.fit.offload import compute_offload
    from generator.fit.setup import DEFAULT_RAM_GIB
    from generator.fit.verdict import link_bandwidth_of, scaling_factor_of

    matrix = compute_matrix(load_catalog(project / "catalog"))
    catalog = matrix.catalog
    report = matrix.accuracy
    error = report.error("decode_tokens_per_s") if report else None
    data["site"]["speed_error_pct"] = round(error.median_abs * 100) if error else None
    data["site"]["ram_gib"] = f"{DEFAULT_RAM_GIB:,.0f}"
    for entry in data["models"]:
        model = catalog.models[entry["id"]]
        entry["facts"] = _model_facts(model)
        entry["notes"] = model.notes
        entry["sources"] = list(model.sources)
        entry["layers"] = model.architecture.layers
    for entry in data["gpus"]:
        gpu = catalog.gpus[entry["id"]]
        link = catalog.interconnect_of(gpu)
        entry.update({
            "memory_type": gpu.memory_type, "fp16_tflops": gpu.fp16_tflops,
            "link_name": link.name if link else None,
            "link_bw": link_bandwidth_of(gpu, link), "scaling": scaling_factor_of(gpu, link),
            "eff_at_max": make_capacity(matrix, gpu, gpu.max_gpus).effective,
            "price_is_estimate": gpu.price_is_estimate, "notes": gpu.notes,
            "sources": [*gpu.sources, *([f"Price: {gpu.price_source}"] * bool(gpu.price_source))],
            "raw_one": make_capacity(matrix, gpu, 1).raw,
        })  # fmt: skip
    # Launch commands depend on model, quantization and card count, not on the GPU: one table
    # per model, {quant: {cards: [[runtime name, command], ...]}}, for every count a page shows.
    for entry in data["models"]:
        mid = entry["id"]
        table: dict[str, dict[str, list[list[str]]]] = {}
        for qid in entry["quantizations"]:
            for gid in catalog.gpus:
                cell = matrix.cell(mid, qid, gid)
                if cell.fits and str(cell.min_gpus) not in table.get(qid, {}):
                    cmds = make_commands(matrix, cell)
                    table.setdefault(qid, {})[str(cell.min_gpus)] = [
                        [k, v] for k, v in cmds.items()
                    ]
        entry["commands"] = table
    first_gpu = next(iter(catalog.gpus))
    data["quant_rows"] = {}
    for mid, model in catalog.models.items():
        context = matrix.cell(mid, model.quantizations[0], first_gpu).setup.context
        data["quant_rows"][mid] = [
            {"q": row.quant.id, "w": row.weights, "kv": row.kv_cache,
             "totals": [{"ctx": tokens_label(c), "tot": tot} for c, tot in row.totals]}
            for row in make_quant_rows(matrix, model, context)
        ]  # fmt: skip
    ranks = {q: v["rank"] for q, v in data["quants"].items()}
    for mid, by_gpu in data["results"].items():
        for gid, rows in by_gpu.items():
            best = min(
                (r for r in rows if r["min"] is not None),
                default=None,
                key=lambda r: (r["v"] == "tight", ranks[r["q"]], r["min"]),
            )
            for row in rows:
                cell = matrix.cell(mid, row["q"], gid)
                placed = compute_placement(cell.setup, cell.result.cards)
                row["full"] = placed and {
                    "v": placed.verdict.value,
                    "tot": placed.fullest.total,
                    "cap": placed.card_capacity,
                }
                if cell.fits:
                    row["ttft"] = cell.result.time_to_first_token_s
                    row["tps0"] = cell.result.decode_tokens_per_s_at_start
                    if row is best and placed and cell.result.cards > 1:
                        row["layout"] = _layout(placed)
                else:
                    off = compute_offload(cell.setup, 1)
                    if off is not None:
                        row["off"] = {
                            "kind": off.kind,
                            "ngl": off.gpu_layers,
                            "ram": off.ram_bytes,
                            "fits": off.fits,
                            "tps": off.decode_tokens_per_s,
                        }
                measured = report.for_config(mid, row["q"], gid) if report else ()
                if measured:
                    row["meas"] = [_measured(c) for c in measured]
    tables: dict[str, list[dict[str, Any]]] = {}
    for gid, gpu in catalog.gpus.items():
        tables[gid] = []
        for cards in range(1, gpu.max_gpus + 1):
            fits = []
            for model in catalog.models:
                best = matrix.best_quant(model, gid, cards)
                if best is not None:
                    fits.append(matrix.result_at(model, best.setup.quant.id, gid, cards))
            fits.sort(key=lambda r: (-r.setup.model.params_b, r.setup.model.id))
            cap = make_capacity(matrix, gpu, cards)
            tables[gid].append({
                "cards": cards, "raw": cap.raw, "eff": cap.effective, "sf": cap.scaling_factor,
                "rows": [{"m": r.setup.model.id, "name": r.setup.model.name,
                          "q": r.setup.quant.id, "tot": r.memory.total,
                          "tps": r.decode_tokens_per_s, "cost": r.cost_per_hour_usd}
                         for r in fits],
            })  # fmt: skip
    data["gpu_tables"] = tables


def expected_pages(data: dict[str, Any]) -> int:
    """Pages the Hugo site renders: home, two indexes, models, GPUs, every pair."""
    m, g = len(data["models"]), len(data["gpus"])
    return 3 + m + g + m * g


def main(argv: list[str]) -> int:
    api_only = "--api-only" in argv
    argv = [a for a in argv if a != "--api-only"]
    if len(argv) != 4:
        print(__doc__, file=sys.stderr)
        return 2
    site, project, out = Path(argv[1]), Path(argv[2]), Path(argv[3])
    data = convert(site, project)
    if not api_only:
        engine_supplement(project, data)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(data, separators=(",", ":"), ensure_ascii=False), encoding="utf-8")
    print(
        f"{out}: {len(data['models'])} models, {len(data['gpus'])} GPUs -> "
        f"{expected_pages(data)} pages, {out.stat().st_size / 1e6:.1f} MB",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))

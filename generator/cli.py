"""Command line: ``fitatlas build | serve | check | fit | catalog``.

Errors print as ``path:line: message`` without a traceback unless ``--debug`` is given.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from jinja2 import TemplateError

from generator.catalog.loader import CatalogError, load_catalog
from generator.catalog.schema import Catalog
from generator.errors import SiteError, describe_error
from generator.fit.answers import (
    compute_max_context,
    compute_max_sequences,
    compute_min_gpus,
    compute_placement,
    kv_growth_per_token,
    render_commands,
)
from generator.fit.commands import render_offload_command
from generator.fit.memory import GIB
from generator.fit.offload import Offload, compute_offload
from generator.fit.placement import Placement
from generator.fit.result import FitResult, compute_fit
from generator.fit.setup import (
    DEFAULT_RAM_BANDWIDTH_GBPS,
    DEFAULT_RAM_GIB,
    FitQueryError,
    Options,
    Setup,
    resolve_model,
    resolve_setup,
)
from generator.listing import list_models, list_quants, render_listing

log = logging.getLogger("fitatlas")

#: Errors a user can fix; printed as one message each, never with a traceback. A template
#: error is the theme author's mistake: located, but not a crash.
USER_ERRORS: tuple[type[Exception], ...] = (CatalogError, FitQueryError, SiteError, TemplateError)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``fitatlas`` console script and ``python -m generator``."""
    parser = make_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(message)s")
    logging.getLogger("generator").setLevel(logging.DEBUG if args.debug else logging.INFO)
    handler: Callable[[argparse.Namespace], int] = args.handler
    try:
        return handler(args)
    except USER_ERRORS as exc:
        if args.debug:
            raise
        print(describe_error(exc), file=sys.stderr)
        return 1


def make_parser() -> argparse.ArgumentParser:
    """The argument parser with every subcommand."""
    parser = argparse.ArgumentParser(prog="fitatlas", description=__doc__)
    parser.add_argument("--debug", action="store_true", help="show tracebacks")
    parser.add_argument("--project", type=Path, default=Path("."), help="project folder")
    sub = parser.add_subparsers(required=True, metavar="COMMAND")

    build = sub.add_parser("build", help="render the site into site/")
    build.add_argument(
        "--base-url", default=None, help="URL the site is served from (default: site.yaml's)"
    )
    build.add_argument("--out", type=Path, default=None, help="output folder (default site/)")
    build.set_defaults(handler=_cmd_build)

    serve = sub.add_parser("serve", help="preview with live reload on 127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.set_defaults(handler=_cmd_serve)

    check = sub.add_parser("check", help="validate catalog and content")
    check.set_defaults(handler=_cmd_check)

    fit = sub.add_parser("fit", help="answer one model × quantization × GPU question")
    which = fit.add_mutually_exclusive_group()
    which.add_argument("--model", help="catalog model id")
    which.add_argument("--config", type=Path, help="a Hugging Face config.json instead of --model")
    fit.add_argument("--quant", help="format id (none: list every format of the model)")
    fit.add_argument("--gpu", required=True)
    fit.add_argument("--count", type=int, help="cards (default: the fewest that fit)")
    fit.add_argument(
        "--context", type=parse_tokens, help="tokens, e.g. 8192 or 32k (default: 8192 or less)"
    )
    fit.add_argument("--batch", type=int, default=1, help="concurrent sequences")
    fit.add_argument("--kv-dtype", help="KV cache dtype id (default: the runtime's)")
    fit.add_argument("--runtime", help="runtime id (default: the quantization's first)")
    fit.add_argument("--prompt", type=int, help="prompt tokens for time to first token")
    fit.add_argument("--ram-gib", type=float, default=DEFAULT_RAM_GIB, help="system RAM")
    fit.add_argument("--ram-bandwidth", type=float, default=DEFAULT_RAM_BANDWIDTH_GBPS, help="GB/s")
    fit.add_argument("--json", action="store_true", help="print the JSON contract")
    fit.set_defaults(handler=_cmd_fit)

    catalog = sub.add_parser("catalog", help="list catalog ids")
    catalog.add_argument("--json", action="store_true")
    catalog.set_defaults(handler=_cmd_catalog)
    add_catalog_add_parser(catalog)
    return parser


def _load(args: argparse.Namespace) -> Catalog:
    return load_catalog(args.project / "catalog")


def _cmd_build(args: argparse.Namespace) -> int:
    from generator.build import build_site

    report = build_site(args.project, out=args.out, base_url=args.base_url)
    print(report.summary())
    return 0


def _cmd_serve(args: argparse.Namespace) -> int:
    from generator.server import serve

    serve(args.project, port=args.port)
    return 0


def _cmd_check(args: argparse.Namespace) -> int:
    from generator.build import check_project

    print(check_project(args.project))
    return 0


def _cmd_fit(args: argparse.Namespace) -> int:
    options = Options(
        args.context, args.batch, args.kv_dtype, args.runtime, args.prompt, args.ram_gib,
        args.ram_bandwidth,
    )  # fmt: skip
    if args.model is None and args.config is None:
        return _print(list_models(_load(args), args.gpu.lower(), args.count or 1, options), args)
    catalog, model_id = _fit_model(_load(args), args)
    if args.quant is None:
        model = resolve_model(catalog, model_id)
        return _print(list_quants(catalog, model, args.gpu.lower(), args.count, options), args)
    setup = resolve_setup(catalog, model_id, args.quant, args.gpu, options)
    min_gpus = compute_min_gpus(setup)
    if args.count is not None and args.count < 1:
        raise FitQueryError(f"--count must be at least 1, not {args.count}")
    cards = args.count or min_gpus or setup.gpu.node_max_gpus
    result = compute_fit(setup, cards)
    payload = fit_payload(result, min_gpus, compute_max_context(setup, cards), catalog)
    payload["max_concurrent_sequences"] = compute_max_sequences(setup, cards)
    payload.update(placement_payload(compute_placement(setup, cards)))
    payload["offload"] = offload_payload(compute_offload(setup, cards), setup, cards)
    if payload["offload"] and payload["offload"]["fits_in_ram"]:
        payload["runtime_verdict"] = "offload"
    if args.json:
        print(json.dumps(payload, indent=2))
    else:
        print(render_fit_text(payload))
    return 0


def _print(listing: dict[str, Any], args: argparse.Namespace) -> int:
    print(json.dumps(listing, indent=2) if args.json else render_listing(listing))
    return 0


def parse_tokens(text: str) -> int:
    """A token count as typed: '8192', '32k' or '32K' (× 1024), as the calculator reads it."""
    raw = text.strip().lower()
    scale = 1024 if raw.endswith("k") else 1
    digits = raw.removesuffix("k")
    if not digits.lstrip("-").isdigit():
        raise argparse.ArgumentTypeError(f"not a token count: {text!r} (e.g. 8192 or 32k)")
    return int(digits) * scale  # out-of-range counts are the engine's to refuse, with the range


def fit_payload(
    result: FitResult, min_gpus: int | None, max_context: int, catalog: Catalog
) -> dict[str, Any]:
    """The stable ``fitatlas fit --json`` object (DESIGN.md), plus a few extra keys."""
    s = result.setup
    commands = render_commands(result, catalog) if result.fits else {}
    return {
        "model": s.model.id,
        "quant": s.quant.id,
        "gpu": s.gpu.id,
        "count": result.cards,
        "context": s.context,
        "batch": s.batch,
        "kv_dtype": s.kv.id,
        "runtime": s.runtime.id,
        "weights_bytes": result.memory.weights,
        "kv_cache_bytes": result.memory.kv_cache,
        "overhead_bytes": result.memory.overhead,
        "total_bytes": result.memory.total,
        "raw_vram_bytes": result.capacity.raw,
        "effective_vram_bytes": result.capacity.effective,
        "scaling_factor": result.capacity.scaling_factor,
        "fits": result.fits,
        "verdict": result.verdict.value,
        "headroom_bytes": result.headroom,
        "fullest_card_bytes": result.need,
        "card_limit_bytes": s.card_limit,
        "planning_fits": result.planning_fits,
        "planning_headroom_bytes": result.planning_headroom,
        "within_recommended_cards": result.within_recommended_cards,
        "min_gpus": min_gpus,
        "max_gpus": s.gpu.max_gpus,
        "node_max_gpus": s.gpu.node_max_gpus,
        "max_context": max_context,
        "kv_bytes_per_token": kv_growth_per_token(s),
        "decode_tokens_per_s": result.decode_tokens_per_s,
        "decode_tokens_per_s_at_start": result.decode_tokens_per_s_at_start,
        "prefill_tokens_per_s": result.prefill_tokens_per_s,
        "prompt": s.prompt,
        "time_to_first_token_s": result.time_to_first_token_s,
        "aggregate_tokens_per_s": result.aggregate_tokens_per_s,
        "cost_per_hour_usd": result.cost_per_hour_usd,
        "cost_per_million_tokens_usd": result.cost_per_million_tokens_usd,
        "command": commands.get(s.runtime.id),
        "commands": commands,
    }


def placement_payload(placement: Placement | None) -> dict[str, Any]:
    """The runtime-true layout: what each card holds, and whether the fullest card fits."""
    if placement is None:
        return {"runtime_fits": False, "runtime_verdict": "unsupported-layout", "per_card": []}
    return {
        "runtime_fits": placement.fits,
        "runtime_verdict": "fits" if placement.fits else "does-not-fit",
        "card_capacity_bytes": placement.card_capacity,
        "fullest_card_headroom_bytes": placement.headroom,
        "tensor_parallel": placement.tensor,
        "pipeline_parallel": placement.pipeline,
        "host_weights_bytes": placement.host_weights,
        "kv_pool_tokens": placement.kv_pool_tokens,
        "per_card": [
            {"card": c.index, "layers": c.layers, "weights_bytes": c.weights,
             "kv_cache_bytes": c.kv_cache, "overhead_bytes": c.overhead,
             "reserved_bytes": c.reserved, "total_bytes": c.total}
            for c in placement.cards
        ],
    }  # fmt: skip


def offload_payload(offload: Offload | None, setup: Setup, cards: int) -> dict[str, Any] | None:
    """A llama.cpp plan that keeps part of the model in system RAM, when one is needed."""
    if offload is None:
        return None
    command = render_offload_command(
        setup.model, setup.quant, setup.runtime, setup.kv.id, cards, setup.context, setup.batch,
        offload.gpu_layers, offload.cpu_moe_layers,
    )  # fmt: skip
    return {
        "kind": offload.kind,
        "gpu_layers": offload.gpu_layers,
        "cpu_moe_layers": offload.cpu_moe_layers,
        "gpu_bytes": offload.gpu_bytes,
        "ram_bytes": offload.ram_bytes,
        "fits_in_ram": offload.fits,
        "decode_tokens_per_s": offload.decode_tokens_per_s,
        "command": command,
    }


def render_fit_text(p: dict[str, Any]) -> str:
    """The human-readable breakdown of a fit payload (GiB = 2^30 bytes)."""

    def gib(key: str) -> str:
        return f"{p[key] / GIB:,.1f} GiB"

    cost = p["cost_per_hour_usd"]
    lines = [
        f"{p['model']} · {p['quant']} on {p['count']}× {p['gpu']} ({p['runtime']}, "
        f"{p['context']:,} tokens × {p['batch']}, KV {p['kv_dtype']})",
        f"  weights        {gib('weights_bytes'):>14}",
        f"  KV cache       {gib('kv_cache_bytes'):>14}",
        f"  overhead       {gib('overhead_bytes'):>14}",
        f"  total          {gib('total_bytes'):>14}",
        f"  raw VRAM       {gib('raw_vram_bytes'):>14}",
        f"  effective VRAM {gib('effective_vram_bytes'):>14}  (× {p['scaling_factor']:g}; "
        f"planning rule: {_planning_words(p)})",
        f"  verdict        {p['verdict']} ({_headroom_words(p)})",
        f"  fewest cards   {p['min_gpus'] or 'none up to ' + str(p['node_max_gpus'])}",
        f"  longest context {p['max_context']:,} tokens",
        f"  concurrent     {p['max_concurrent_sequences']:,} sequences of {p['context']:,} tokens",
        f"  decode         {p['decode_tokens_per_s']:,.1f} tokens/s per sequence "
        f"({p['decode_tokens_per_s_at_start']:,.1f} with an empty cache)",
        f"  first token    {_seconds(p['time_to_first_token_s'])} ({p['prompt']:,}-token prompt)",
        f"  cost           {'$' + format(cost, ',.2f') + '/h' if cost is not None else 'no price'}",
    ]
    lines.append(f"  {p['runtime']} per card: {p['runtime_verdict']}")
    lines += [
        f"    card {c['card']}: {c['layers']} layers, {c['total_bytes'] / GIB:,.1f} GiB "
        f"(weights {c['weights_bytes'] / GIB:,.1f}, KV {c['kv_cache_bytes'] / GIB:,.1f})"
        for c in p["per_card"]
    ]
    if p["offload"]:
        o = p["offload"]
        plan = (
            f"{o['gpu_layers']} layers on the cards, the rest in system RAM"
            if o["kind"] == "layers"
            else f"--n-cpu-moe {o['cpu_moe_layers']}: the routed experts of the first "
            f"{o['cpu_moe_layers']} layers in system RAM, the rest on the cards"
        )
        room = "fits" if o["fits_in_ram"] else "more than the RAM"
        lines.append(f"  offload        {plan}: {o['ram_bytes'] / GIB:,.1f} GiB in RAM ({room}), ")
        lines[-1] += f"{o['decode_tokens_per_s']:,.1f} tokens/s"
        lines.append(f"  offload command: {o['command']}")
    lines += [f"  {rt}: {cmd}" for rt, cmd in p["commands"].items()]
    return "\n".join(lines)


def _planning_words(p: dict[str, Any]) -> str:
    words = "accepts" if p["planning_fits"] else "rejects"
    if not p["within_recommended_cards"]:
        words += f", past the recommended {p['max_gpus']} cards (diminishing returns)"
    return words


def _headroom_words(p: dict[str, Any]) -> str:
    if p["headroom_bytes"] is None:
        return "the runtime cannot split the model over this many cards"
    need, limit = p["fullest_card_bytes"] / GIB, p["card_limit_bytes"] / GIB
    return f"fullest card {need:,.1f} of {limit:,.1f} GiB"


def _seconds(value: float | None) -> str:
    return "unknown (no TFLOPS figure)" if value is None else f"{value:,.2f} s"


def _cmd_catalog(args: argparse.Namespace) -> int:
    catalog = _load(args)
    listing = {
        kind: [{"id": e.id, "name": e.name} for e in getattr(catalog, kind).values()]
        for kind in ("models", "gpus", "quantizations", "runtimes", "kv_dtypes")
    }
    if args.json:
        print(json.dumps(listing, indent=2))
    else:
        for kind, entries in listing.items():
            print(f"{kind}:")
            print("\n".join(f"  {e['id']:<28} {e['name']}" for e in entries))
    return 0


def _fit_model(catalog: Catalog, args: argparse.Namespace) -> tuple[Catalog, str]:
    """The catalog and model id ``fit`` answers for: --model, or a model read from --config."""
    from generator.catalog.add import make_config_catalog

    if args.config is not None:
        return make_config_catalog(catalog, args.config)
    if args.model is None:
        raise FitQueryError("give --model ID or --config path/to/config.json")
    return catalog, args.model


def add_catalog_add_parser(catalog: argparse.ArgumentParser) -> None:
    """``fitatlas catalog add CONFIG --id --name --source``: append a model to models.yaml."""
    actions = catalog.add_subparsers(metavar="ACTION")
    add = actions.add_parser("add", help="add a model read from a Hugging Face config.json")
    add.add_argument("config", type=Path, help="path to the model's config.json")
    add.add_argument("--id", required=True, help="catalog id (a slug)")
    add.add_argument("--name", required=True, help="display name")
    add.add_argument("--source", required=True, help="where the config comes from (URL)")
    add.add_argument("--hf-repo", help="org/name (default: from a huggingface.co --source)")
    add.add_argument("--family", help="family shown on pages (default: the architecture's)")
    add.add_argument("--license", help="licence name")
    add.add_argument("--release-date", help="YYYY-MM-DD")
    add.add_argument("--quant", help="comma-separated quantization ids, released format first")
    add.add_argument("--notes", help="free text kept with the entry")
    add.set_defaults(handler=_cmd_catalog_add)


def _cmd_catalog_add(args: argparse.Namespace) -> int:
    from generator.catalog.add import EntryFacts, write_catalog_entry

    quants = [q.strip() for q in args.quant.split(",") if q.strip()] if args.quant else None
    facts = EntryFacts(args.id, args.name, args.source, args.hf_repo, args.family, args.license,
                       args.release_date, quants, args.notes)  # fmt: skip
    model = write_catalog_entry(args.project / "catalog", args.config, facts)
    active = f", {model.active_params_b:g} B active" if model.active_params_b else ""
    print(f"added {model.id} to catalog/models.yaml: {model.params_b:g} B parameters{active}")
    return 0

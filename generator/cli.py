"""Command line: ``fitatlas build | serve | check | fit | catalog``: what each command does.

The arguments each command takes are in generator/cli_parser.py. Errors a user can fix
(``USER_ERRORS``) print as ``path:line: message`` without a traceback unless ``--debug`` is given.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Callable, Sequence
from typing import Any

from generator.catalog.loader import load_catalog
from generator.catalog.schema import Catalog
from generator.cli_parser import make_parser
from generator.errors import describe_error
from generator.fit.answers import compute_min_gpus
from generator.fit.setup import FitQueryError, Options, resolve_model, resolve_setup
from generator.fit_text import render_fit_text
from generator.listing import list_models, list_quants, render_listing
from generator.payload import fit_payload
from generator.user_errors import USER_ERRORS


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``fitatlas`` console script and ``python -m generator``."""
    parser = make_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(message)s")
    logging.getLogger("generator").setLevel(logging.DEBUG if args.debug else logging.INFO)
    try:
        return COMMANDS[args.command](args)
    except USER_ERRORS as exc:
        if args.debug:
            raise
        print(describe_error(exc), file=sys.stderr)
        return 1


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
    payload = fit_payload(setup, cards, min_gpus, catalog)
    if args.json:
        print(json.dumps(payload, indent=2))
    else:
        print(render_fit_text(payload))
    return 0


def _print(listing: dict[str, Any], args: argparse.Namespace) -> int:
    print(json.dumps(listing, indent=2) if args.json else render_listing(listing))
    return 0


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


def _cmd_catalog_add(args: argparse.Namespace) -> int:
    from generator.catalog.add import EntryFacts, write_catalog_entry

    quants = [q.strip() for q in args.quant.split(",") if q.strip()] if args.quant else None
    facts = EntryFacts(args.id, args.name, args.source, args.hf_repo, args.family, args.license,
                       args.release_date, quants, args.notes)  # fmt: skip
    model = write_catalog_entry(args.project / "catalog", args.config, facts)
    active = f", {model.active_params_b:g} B active" if model.active_params_b else ""
    print(f"added {model.id} to catalog/models.yaml: {model.params_b:g} B parameters{active}")
    return 0


#: What each command does, by the name its parser sets (generator/cli_parser.py).
COMMANDS: dict[str, Callable[[argparse.Namespace], int]] = {
    "build": _cmd_build,
    "serve": _cmd_serve,
    "check": _cmd_check,
    "fit": _cmd_fit,
    "catalog": _cmd_catalog,
    "catalog add": _cmd_catalog_add,
}

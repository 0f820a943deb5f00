"""What ``fitatlas`` accepts on its command line: the argument parser of every command.

Each command's parser sets ``command`` to the command's name (``"catalog add"`` for the one
action below a command); generator/cli.py runs the command of that name.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from generator.fit.setup import DEFAULT_RAM_BANDWIDTH_GBPS, DEFAULT_RAM_GIB

DESCRIPTION = (
    "Command line: ``fitatlas build | serve | check | fit | catalog``. Errors print as "
    "``path:line: message`` without a traceback unless ``--debug`` is given."
)


def make_parser() -> argparse.ArgumentParser:
    """The argument parser with every command."""
    parser = argparse.ArgumentParser(prog="fitatlas", description=DESCRIPTION)
    parser.add_argument("--debug", action="store_true", help="show tracebacks")
    parser.add_argument("--project", type=Path, default=Path("."), help="project folder")
    sub = parser.add_subparsers(required=True, metavar="COMMAND")

    build = sub.add_parser("build", help="render the site into site/")
    build.add_argument(
        "--base-url", default=None, help="URL the site is served from (default: site.yaml's)"
    )
    build.add_argument("--out", type=Path, default=None, help="output folder (default site/)")
    build.set_defaults(command="build")

    serve = sub.add_parser("serve", help="preview with live reload on 127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.set_defaults(command="serve")

    check = sub.add_parser("check", help="validate catalog and content")
    check.set_defaults(command="check")

    _add_fit_parser(sub.add_parser("fit", help="answer one model × quantization × GPU question"))

    catalog = sub.add_parser("catalog", help="list catalog ids")
    catalog.add_argument("--json", action="store_true")
    catalog.set_defaults(command="catalog")
    _add_catalog_add_parser(catalog)
    return parser


def _add_fit_parser(fit: argparse.ArgumentParser) -> None:
    """``fitatlas fit``: one question, or a listing when --model or --quant is left out."""
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
    fit.set_defaults(command="fit")


def _add_catalog_add_parser(catalog: argparse.ArgumentParser) -> None:
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
    add.set_defaults(command="catalog add")


def parse_tokens(text: str) -> int:
    """A token count as typed: '8192', '32k' or '32K' (× 1024), as the calculator reads it."""
    raw = text.strip().lower()
    scale = 1024 if raw.endswith("k") else 1
    digits = raw.removesuffix("k")
    if not digits.lstrip("-").isdigit():
        raise argparse.ArgumentTypeError(f"not a token count: {text!r} (e.g. 8192 or 32k)")
    return int(digits) * scale  # out-of-range counts are the engine's to refuse, with the range

"""Theme environment: the one place Jinja is configured — its loader, filters and globals. No I/O
beyond reading templates.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from jinja2 import (
    BytecodeCache,
    Environment,
    FileSystemLoader,
    StrictUndefined,
    select_autoescape,
)
from jinja2.bccache import Bucket
from markupsafe import Markup

from generator import columns, seo
from generator.filters import FILTERS
from generator.settings import SiteSettings
from generator.urls import calculator_query, gpu_path, model_path, pair_path
from generator.verdicts import cards_mark, legend_mark


def make_shell_globals(env: Environment) -> dict[str, Any]:
    """``site_header(spec_path)`` and ``site_footer()`` for base.html: the page shell's fixed
    parts, each rendered once per build (the header once per navigation state) and reused, so
    thousands of pages do not each rebuild the same links."""
    rendered: dict[tuple[str, str, bool], Markup] = {}

    def render_once(name: str, section: str = "", exact: bool = False) -> Markup:
        key = (name, section, exact)
        if key not in rendered:
            text = env.get_template(name).render(section=section, exact=exact)
            rendered[key] = Markup(text.rstrip("\n"))  # base.html puts it on its own line
        return rendered[key]

    def site_header(spec_path: str) -> Markup:
        parts = spec_path.split("/")  # '/models/x/' → ['', 'models', 'x', '']
        section = f"/{parts[1]}/" if len(parts) > 2 else spec_path
        return render_once("_header.html", section, spec_path == section)

    def site_footer() -> Markup:
        return render_once("_footer.html")

    return {"site_header": site_header, "site_footer": site_footer}


def make_url_for(base_url: str) -> Callable[[str], str]:
    """A function mapping a site path ('/gpus/') to a link under the base URL's path."""
    prefix = urlsplit(base_url).path.rstrip("/")

    def url_for(path: str) -> str:
        if not path.startswith("/"):
            raise ValueError(f"site paths start with '/': {path!r}")
        return prefix + path

    return url_for


#: Indentation at the start of a template line: it only shapes the source, never the page.
_INDENT = re.compile(r"\n[ \t]+")


class CompactLoader(FileSystemLoader):
    """HTML templates as written, minus each line's indentation, removed once when one loads.

    Pages come out compact without minifying every rendered page, which would cost about a
    third of rendering a model-on-GPU page. Indentation is safe to drop because no template holds
    multi-line ``<pre>`` or ``<textarea>`` text; rendered values (Markdown, commands) are not
    touched.
    """

    def get_source(
        self, environment: Environment, template: str
    ) -> tuple[str, str, Callable[[], bool]]:
        source, filename, uptodate = super().get_source(environment, template)
        if template.endswith(".html"):  # _headers and the like read their indentation
            source = _INDENT.sub("\n", source)
        return source, filename, uptodate


class MemoryBytecodeCache(BytecodeCache):
    """Compiled templates kept in memory for the life of the process, keyed by template and
    checked against a checksum of its source: ``serve`` makes a new environment for every
    rebuild, and without this each one compiled every template again."""

    def __init__(self) -> None:
        self.code: dict[str, bytes] = {}

    def load_bytecode(self, bucket: Bucket) -> None:
        if bucket.key in self.code:
            bucket.bytecode_from_string(self.code[bucket.key])

    def dump_bytecode(self, bucket: Bucket) -> None:
        self.code[bucket.key] = bucket.bytecode_to_string()


_BYTECODE = MemoryBytecodeCache()


def make_theme_env(templates: Path, settings: SiteSettings, assets: dict[str, str]) -> Environment:
    """The Jinja environment for page templates: autoescaped, strict about missing names, with
    the site's filters, links, tables and page shell as globals."""
    env = Environment(
        loader=CompactLoader(templates),
        bytecode_cache=_BYTECODE,
        autoescape=select_autoescape(["html", "xml"], default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters.update(FILTERS, cards_mark=cards_mark, **columns.CELL_FILTERS)
    url_for = make_url_for(settings.base_url)

    def model_url(model: str) -> str:
        return url_for(model_path(model))

    def pair_url(model: str, gpu: str) -> str:
        """The answer for a model on a GPU: its page, or the calculator where it has none."""
        if settings.has_pair_pages(gpu):
            return url_for(pair_path(model, gpu))
        return url_for(calculator_query(model, gpu))

    def gpu_url(gpu: str) -> str:
        return url_for(gpu_path(gpu))

    env.globals.update(
        site=settings, url=url_for, asset=lambda name: url_for("/assets/" + assets[name]),
        model_url=model_url, pair_url=pair_url, gpu_url=gpu_url, legend_mark=legend_mark,
        model_path=model_path, gpu_path=gpu_path, pair_path=pair_path,
        pair_table=columns.PAIR_TABLE,
        details_table=columns.DETAILS_TABLE,
        gpu_table=columns.make_gpu_table(model_url, pair_url),
        compat_table=partial(columns.make_compat_table, gpu_url, pair_url),
        structured_data=partial(seo.structured_data, settings),
        absolute_url=partial(seo.absolute_url, settings), is_guide=seo.is_guide,
        **make_shell_globals(env),
    )  # fmt: skip
    return env

"""Shortcodes: computed tables and checked claims inside Markdown pages. No disk access.

A page calls a shortcode as a Jinja expression, ``{{ fits("llama-3.1-405b", "q4_k_m",
"h100-sxm", 2, expect=False) }}``, inline or on a line of its own. Expressions run in a
sandboxed environment whose only globals are the functions registered here; each reads the
precomputed FitMatrix, records which catalog entries it used, and raises ``ShortcodeError`` on
an unknown id or a claim the engine contradicts; ``render_shortcodes`` attaches file and line.

Every shortcode's docstring is its documentation for authors (``docs/shortcodes.md`` is
generated from them, and a test keeps the two in step).
"""

from generator.shortcodes import claims, formulas, tables  # noqa: F401  (they register)
from generator.shortcodes.base import (
    REGISTRY,
    Dependencies,
    ShortcodeContext,
    ShortcodeError,
    shortcode,
)
from generator.shortcodes.page import iter_shortcode_docs, make_sandbox, render_shortcodes

__all__ = [
    "REGISTRY",
    "Dependencies",
    "ShortcodeContext",
    "ShortcodeError",
    "iter_shortcode_docs",
    "make_sandbox",
    "render_shortcodes",
    "shortcode",
]

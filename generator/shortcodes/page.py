"""Rendering a page body: every ``{{ … }}`` evaluated in the sandbox, with file and line."""

from __future__ import annotations

import functools
import inspect
import re
from collections.abc import Callable
from typing import Any

from jinja2 import Environment, StrictUndefined, TemplateError, UndefinedError
from jinja2.environment import TemplateExpression
from jinja2.sandbox import SandboxedEnvironment
from markupsafe import Markup, escape

from generator.catalog.schema import suggest
from generator.shortcodes.base import (
    EXPRESSION,
    REGISTRY,
    STATEMENT,
    UNCLOSED,
    Shortcode,
    ShortcodeContext,
    ShortcodeError,
)


@functools.cache
def make_sandbox() -> SandboxedEnvironment:
    """A sandbox with no globals at all: shortcodes are passed in per page, nothing else. One
    per process: it holds no state besides its compiled expressions (``_compile``)."""
    env = SandboxedEnvironment(undefined=StrictUndefined, autoescape=True)
    env.globals.clear()
    return env


def render_shortcodes(
    body: str, first_line: int, display_path: str, ctx: ShortcodeContext, sandbox: Environment
) -> tuple[str, dict[str, str]]:
    """Replace every ``{{ … }}`` in ``body`` by a placeholder; return text and placeholder HTML.

    Placeholders survive Markdown untouched and are swapped back after it, so a table shortcode
    never meets Markdown's rules for raw HTML. An expression may span lines. Every problem of
    the page is collected and raised at once, each as ``path:line: message``.
    """
    bound = {name: _bind(function, ctx) for name, function in REGISTRY.items()}
    pieces: dict[str, str] = {}
    problems: list[str] = []

    def where(offset: int) -> str:
        return f"{display_path}:{first_line + body.count(chr(10), 0, offset)}"

    for match in STATEMENT.finditer(body):
        problems.append(
            f"{where(match.start())}: only {{{{ shortcode(...) }}}} expressions are allowed"
        )

    def substitute(match: re.Match[str]) -> str:
        try:
            html = _evaluate(match.group(1), sandbox, bound)
        except ShortcodeError as exc:
            problems.append(f"{where(match.start())}: {exc}")
            html = ""
        key = f"FITATLASSHORTCODE{len(pieces):05d}X"
        pieces[key] = html
        return key

    text = EXPRESSION.sub(substitute, body)
    for leftover in UNCLOSED.finditer(text):
        start = _source_offset(body, text, leftover.start())
        problems.append(f"{where(start)}: '{{{{' is never closed by '}}}}'")
    if problems:
        raise ShortcodeError("\n".join(problems))
    return text, pieces


def _source_offset(body: str, text: str, offset: int) -> int:
    """Where a leftover '{{' of the substituted text stands in the original body."""
    nth = text.count("{{", 0, offset)
    index = -1
    for _ in range(nth + 1):
        index = body.find("{{", index + 1)
    return max(index, 0)


def _bind(function: Shortcode, ctx: ShortcodeContext) -> Callable[..., Markup | str]:
    def call(*args: Any, **kwargs: Any) -> Markup | str:
        try:
            inspect.signature(function).bind(ctx, *args, **kwargs)
        except TypeError as exc:
            raise ShortcodeError(f"{function.__name__}(): {exc}") from None
        return function(ctx, *args, **kwargs)

    return call


def _evaluate(source: str, sandbox: Environment, bound: dict[str, Any]) -> str:
    expression = " ".join(source.split())
    try:
        value = _compile(sandbox, expression)(**bound)
    except UndefinedError as exc:
        name = re.search(r"'(\w+)' is undefined", str(exc))
        hint = suggest(name.group(1), REGISTRY) if name else ""
        raise ShortcodeError(f"unknown shortcode: {exc}{hint}") from None
    except (TemplateError, TypeError, ValueError) as exc:
        raise ShortcodeError(f"{type(exc).__name__}: {exc}") from None
    if not isinstance(value, str):
        raise ShortcodeError(f"{expression!r} is not a shortcode call")
    return str(value) if isinstance(value, Markup) else str(escape(value))


@functools.lru_cache(maxsize=4096)
def _compile(sandbox: Environment, expression: str) -> TemplateExpression:
    """A shortcode call compiled once: serve re-renders the same guides after every edit."""
    return sandbox.compile_expression(expression, undefined_to_none=False)


def iter_shortcode_docs() -> list[tuple[str, str, str]]:
    """(name, signature, docstring) of every registered shortcode, for the authors' guide."""
    docs = []
    for name, function in sorted(REGISTRY.items()):
        params = list(inspect.signature(function).parameters.values())[1:]
        signature = f"{name}({', '.join(str(p) for p in params)})"
        docs.append((name, signature, inspect.cleandoc(function.__doc__ or "")))
    return docs

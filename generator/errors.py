"""Errors the site stages raise for problems a user can fix, and how they are printed.

Which exceptions count as a user's to fix is listed once, in generator/user_errors.py; this
module imports nothing of the generator, so every stage may raise ``SiteError``.
"""

from __future__ import annotations

import re
from pathlib import Path
from types import TracebackType

from jinja2 import TemplateError, TemplateSyntaxError


class SiteError(Exception):
    """A located problem in content or output, printed without a traceback."""


def not_utf8(data: bytes, exc: UnicodeDecodeError) -> tuple[int, str, str]:
    """(line, location, message) for a file that does not decode as UTF-8."""
    line = data.count(b"\n", 0, exc.start) + 1
    byte = data[exc.start : exc.start + 1].hex()
    return line, "", f"not UTF-8 text (byte 0x{byte} at offset {exc.start}); save it as UTF-8"


def describe_error(exc: Exception) -> str:
    """The ``path:line: message`` text of a user error (template errors located by hand)."""
    if isinstance(exc, TemplateSyntaxError):
        return f"{_display(exc.filename or exc.name or '?')}:{exc.lineno}: {exc.message}"
    if isinstance(exc, TemplateError):
        where = _template_frame(exc.__traceback__) or _remote_template_frame(exc)
        return f"{where}: {type(exc).__name__}: {exc}" if where else f"{type(exc).__name__}: {exc}"
    return str(exc)


def _template_frame(tb: TracebackType | None) -> str | None:
    """'templates/x.html:12' for the innermost template line of a Jinja traceback."""
    # Jinja rewrites tracebacks so that template code appears under the template's file name.
    where = None
    while tb is not None:
        filename = tb.tb_frame.f_code.co_filename
        if filename.endswith((".html", ".xml", ".txt")):
            where = f"{_display(filename)}:{tb.tb_lineno}"
        tb = tb.tb_next
    return where


def _remote_template_frame(exc: BaseException) -> str | None:
    """The same for an error raised in a render worker, from the traceback text it sends back."""
    # multiprocessing attaches the worker's formatted traceback as the exception's cause.
    found = re.findall(r'File "([^"]+\.(?:html|xml|txt))", line (\d+)', str(exc.__cause__ or ""))
    return f"{_display(found[-1][0])}:{found[-1][1]}" if found else None


def _display(path: str) -> str:
    """``path`` relative to the working folder when it lies inside it, as the loaders print."""
    try:
        return str(Path(path).resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return path

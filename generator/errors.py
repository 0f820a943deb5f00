"""Errors the site stages raise for problems a user can fix (content, templates, output)."""

from __future__ import annotations


class SiteError(Exception):
    """A located problem in content or output, printed without a traceback."""

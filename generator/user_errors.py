"""The errors a user can fix, listed once for the command line and the dev server.

Both catch ``USER_ERRORS`` and print each as the ``path:line: message`` that
``generator.errors.describe_error`` writes, without a traceback; any other exception is a bug and
keeps its traceback.
"""

from __future__ import annotations

from jinja2 import TemplateError

from generator.catalog.problems import CatalogError
from generator.errors import SiteError
from generator.fit.setup import FitQueryError

#: A catalog, content, output or query problem. A template error is the theme author's mistake:
#: located, but not a crash.
USER_ERRORS: tuple[type[Exception], ...] = (CatalogError, FitQueryError, SiteError, TemplateError)

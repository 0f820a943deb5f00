"""The dev server: build once, serve the preview on 127.0.0.1 with live reload, rebuild on change.

It builds into ``.fitatlas-preview/site`` (PREVIEW), never into the deployable ``site/``: the
preview's links carry the dev server's URL, and a ``make build`` after a preview must be the
same as one without. It sits on top of the incremental build (``IncrementalBuilder``) and the
``livereload`` package and reaches into no stage. Its pages are the production build's
(livereload injects its script before the literal ``</head>`` that every page keeps). A failed
rebuild raises before anything is written (a full build swaps a complete staging folder into
place; an incremental one renders every affected page before writing any), so it prints its
located error and the browser keeps showing the last good site, with the error in a banner at
the top of every page, until the sources are fixed. A failed *first* build stops the server.
Unknown paths get the site's own 404 page.
"""

from __future__ import annotations

import errno
import ipaddress
import logging
import os
import signal
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import FrameType

from livereload import Server  # type: ignore[import-untyped]
from livereload.handlers import StaticFileHandler  # type: ignore[import-untyped]
from markupsafe import escape

from generator.build import BuildReport
from generator.errors import SiteError, describe_error
from generator.incremental import IncrementalBuilder
from generator.user_errors import USER_ERRORS

log = logging.getLogger(__name__)

#: What a site is built from, relative to the project; a change under any of them rebuilds.
SOURCES = ("catalog", "content", "templates", "site.yaml")
#: Where the preview is built, relative to the project (git ignores it).
PREVIEW = Path(".fitatlas-preview") / "site"

#: (path, mtime in ns, size) of every source file; equal fingerprints mean equal inputs.
Fingerprint = frozenset[tuple[str, int, int]]


def serve(project: Path, port: int = 8000, host: str = "127.0.0.1") -> None:
    """Build ``project`` once, then serve ``project/site`` with live reload until interrupted."""
    netloc = _loopback_netloc(host)
    # Created before the first build: livereload reports files changed after this moment, so an
    # edit made while the first build runs still triggers a rebuild.
    server = Server()
    builder = Rebuilder(project, project / PREVIEW, base_url=f"http://{netloc}:{port}/")
    report = builder.build()  # a user error stops the server; the command line prints it
    log.info("Built %d pages in %.1f s", report.pages, report.seconds)
    for name in SOURCES:
        server.watch(str(project / name), builder.rebuild_if_changed, ignore=is_scratch_file)
    log.info("Serving http://%s:%d/ — watching %s; Ctrl-C stops", netloc, port, ", ".join(SOURCES))
    _quiet_duplicate_logs()
    server.SFH = make_handler(builder)
    with _terminate_as_interrupt():
        _run(server, builder.out, host, port)


def _run(server: Server, root: Path, host: str, port: int) -> None:
    """Serve ``root`` until interrupted; a busy port is a user error."""
    try:
        # live_css off: stylesheets have content-hashed names, so reload the whole page.
        server.serve(root=str(root), host=host, port=port, open_url_delay=None, live_css=False)
    except OSError as exc:
        if exc.errno != errno.EADDRINUSE:
            raise
        raise SiteError(f"port {port} is already in use; pick another with --port") from None


@dataclass
class Rebuilder:
    """Rebuilds the site when its sources differ from those of the last attempt.

    The first build is a full one; later ones re-render only the pages that depend on what
    changed (``generator.incremental``), so an edited guide reloads in a fraction of a second.
    """

    project: Path
    out: Path
    base_url: str
    attempted: Fingerprint = frozenset()
    builder: IncrementalBuilder | None = None
    #: Why the last rebuild failed (shown on every served page), None after a good one.
    error: str | None = None

    def build(self) -> BuildReport:
        """One build into ``out``; raises whatever the build raises."""
        self.attempted = load_fingerprint(self.project)
        if self.builder is None:
            self.builder = IncrementalBuilder(self.project, self.out, self.base_url)
        return self.builder.build()

    def rebuild_if_changed(self) -> None:
        """Rebuild and log one line; on failure log the error and keep the last good site."""
        # livereload calls this once per watched folder that changed; one rebuild covers them all.
        if load_fingerprint(self.project) == self.attempted:
            return
        try:
            report = self.build()
        except USER_ERRORS as exc:
            self.error = describe_error(exc)
            log.error("Rebuild failed; still serving the last good build.\n%s", self.error)
        except Exception as exc:
            # A bug, not an authoring mistake: show the traceback, but keep the server up.
            self.error = f"the build crashed ({type(exc).__name__}: {exc}); see the terminal"
            log.exception("Rebuild crashed; still serving the last good build.")
        else:
            self.error = None
            log.info("Rebuilt %d pages in %.2f s", report.pages, report.seconds)


#: Marks the banner a failed rebuild puts at the top of every served page.
BANNER_ID = "fitatlas-build-error"


def with_banner(page: bytes, error: str) -> bytes:
    """``page`` with a banner saying the rebuild failed, and why, at the top of its body."""
    banner = (
        f'<div id="{BANNER_ID}" role="alert" style="background:#fff0f0;color:#600;'
        'border-bottom:3px solid #c00;padding:0.75em 1em;font:15px/1.4 sans-serif">'
        "<strong>Rebuild failed</strong>: this is the last good build. Fix the problem and save; "
        "the page reloads by itself."
        f'<pre style="white-space:pre-wrap;margin:0.5em 0 0">{escape(error)}</pre></div>'
    ).encode()
    start = page.find(b"<body")
    end = page.find(b">", start) + 1 if start >= 0 else 0
    return page[:end] + banner + page[end:]


def make_handler(rebuilder: Rebuilder) -> type[StaticFileHandler]:
    """livereload's file handler, serving the site's 404 page for unknown paths and, while the
    last rebuild failed, every page with its error banner."""

    class PreviewHandler(StaticFileHandler):  # type: ignore[misc]
        async def get(self, path: str, include_body: bool = True) -> None:
            error = rebuilder.error
            if error is None:
                await super().get(path, include_body)
                return
            # Resolve the file as the base class does (a folder without a slash redirects).
            self.path = self.parse_url_path(path)
            absolute = self.get_absolute_path(self.root, self.path)
            self.absolute_path = self.validate_absolute_path(self.root, absolute)
            if self.absolute_path is None:
                return
            if not self.absolute_path.endswith(".html"):
                await super().get(path, include_body)
                return
            self.set_header("Content-Type", "text/html; charset=UTF-8")
            self.set_header("Cache-Control", "no-store")
            page = Path(self.absolute_path).read_bytes()
            self.finish(with_banner(page, error) if include_body else b"")

        def write_error(self, status_code: int, **kwargs: object) -> None:
            not_found = Path(self.root) / "404.html"
            if status_code != 404 or not not_found.is_file():
                super().write_error(status_code, **kwargs)
                return
            page = not_found.read_bytes()
            error = rebuilder.error
            self.set_header("Content-Type", "text/html; charset=UTF-8")
            self.finish(with_banner(page, error) if error is not None else page)

    return PreviewHandler


def load_fingerprint(project: Path) -> Fingerprint:
    """The fingerprint of every source file under ``project`` (reads file metadata only)."""
    entries = set()
    for path in iter_source_files(project):
        try:
            stat = path.stat()
        except OSError:
            continue  # removed since it was listed (editors save by rename)
        entries.add((str(path), stat.st_mtime_ns, stat.st_size))
    return frozenset(entries)


def iter_source_files(project: Path) -> Iterator[Path]:
    """Every file a build reads, editor scratch files left out."""
    for name in SOURCES:
        source = project / name
        found = sorted(source.rglob("*")) if source.is_dir() else [source]
        yield from (p for p in found if p.is_file() and not is_scratch_file(str(p)))


def is_scratch_file(path: str) -> bool:
    """Editor swap, backup and lock files, and hidden files: never a reason to rebuild."""
    name = Path(path).name
    return name.startswith((".", "#")) or name.endswith(("~", ".swp", ".swx", ".tmp"))


def _loopback_netloc(host: str) -> str:
    """``host`` as it goes into a URL, if it is a loopback address; refuse anything else."""
    if host == "localhost":
        return host
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        address = None
    if address is None or not address.is_loopback:
        raise SiteError(f"the dev server listens on loopback addresses only, not {host!r}")
    return f"[{host}]" if address.version == 6 else host


def _quiet_duplicate_logs() -> None:
    """livereload gives its loggers their own handler; stop them printing twice via the root."""
    for name in ("livereload", "tornado"):
        logging.getLogger(name).propagate = False


@contextmanager
def _terminate_as_interrupt() -> Iterator[None]:
    """Treat SIGTERM like Ctrl-C, so a build in progress removes its staging folder."""
    server_pid = os.getpid()

    def interrupt(signum: int, frame: FrameType | None) -> None:
        if os.getpid() != server_pid:
            # A forked render worker inherited this handler; the server discards its output.
            os._exit(128 + signum)
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)

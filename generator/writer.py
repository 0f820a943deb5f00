"""Writing: put rendered files into a fresh folder, then swap it into place. Touches disk.

A build that fails at any stage never reaches ``swap_into_place``, so the previous output stays
exactly as it was. Writes outside the staging folder, or to one path twice, are refused.
"""

from __future__ import annotations

import ctypes
import errno
import fcntl
import multiprocessing
import os
import shutil
import sys
import tempfile
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import IO, Any, TypeVar

from generator.errors import SiteError

T = TypeVar("T")


class Staging:
    """A temporary sibling of the output folder that files are written into."""

    def __init__(self, out: Path) -> None:
        self.out = out.resolve()
        self.out.parent.mkdir(parents=True, exist_ok=True)
        self.root = Path(
            tempfile.mkdtemp(prefix=STAGING_PREFIX % self.out.name, dir=self.out.parent)
        )
        self.written: set[str] = set()
        self.bytes_written = 0

    def write(self, rel: str, data: bytes) -> None:
        """Write one file at ``rel`` (a relative POSIX path) inside the staging folder."""
        if rel in self.written:
            raise SiteError(f"refusing to write {rel} twice")
        _write_file(self.root, rel, data)
        self._record(rel, len(data))

    def _record(self, rel: str, size: int) -> None:
        self.written.add(rel)
        self.bytes_written += size

    def write_all(
        self,
        runs: Sequence[Sequence[T]],
        render: Callable[[T], tuple[str, bytes]],
        jobs: int,
        apart: Sequence[T] = (),
        then: Callable[[], None] | None = None,
        setup_worker: Callable[[], None] | None = None,
    ) -> None:
        """Render and write every item of ``runs`` in ``jobs`` forked processes when more than
        one, and the items of ``apart`` meanwhile in one more process of their own; call
        ``then`` as soon as the ``apart`` items are written, while the workers go on.

        A run (one model's pages) goes whole to whichever worker is free, so the workers stay
        busy to the end and each computes and touches only the data of its runs (a forked
        process copies each page of shared memory it writes to, reference counts included).
        Items that read everything go ``apart``: whatever they compute is freed when their
        process ends. ``setup_worker`` runs first in each of the ``jobs`` workers. Each process
        writes its files itself; only paths and sizes travel back. The files do not depend on
        which process wrote them, so the output stays byte-identical.
        """
        items = sum(len(run) for run in runs)
        if jobs <= 1 or items < MIN_ITEMS_PER_JOB * 2:
            for item in apart:
                self.write(*render(item))
            if then is not None:
                then()
            for item in (item for run in runs for item in run):
                self.write(*render(item))
            return
        global _JOB
        _JOB = (self.root, [apart, *runs], render)
        try:
            context = multiprocessing.get_context("fork")
            with context.Pool(jobs, initializer=setup_worker) as pool:
                pending = pool.map_async(_write_run, range(1, len(runs) + 1), chunksize=1)
                with context.Pool(1) as alone:
                    first = alone.apply(_write_run, (0,))
                self._record_all(first)
                if then is not None:
                    then()
                rest = pending.get()
        finally:
            _JOB = None
        self._record_all(pair for run in rest for pair in run)

    def _record_all(self, written: Iterable[tuple[str, int]]) -> None:
        """Record files written by a worker process, refusing any path written twice."""
        for rel, size in sorted(written):
            if rel in self.written:
                raise SiteError(f"refusing to write {rel} twice")
            self._record(rel, size)

    def discard(self) -> None:
        """Remove the staging folder (after a failure)."""
        _FOLDERS.clear()
        shutil.rmtree(self.root, ignore_errors=True)

    def swap_into_place(self) -> None:
        """Replace the output folder by the staged one in one step, then remove the old one.

        On Linux the two folders trade places atomically (``renameat2`` with RENAME_EXCHANGE),
        so a build killed at any moment leaves either the old site or the new one, whole.
        Elsewhere it takes two renames, and a build killed between them leaves the old site
        under ``.<name>.old-<pid>``, put back by the next build (``OutputLock``).
        """
        _FOLDERS.clear()
        os.chmod(self.root, 0o755)
        if self.out.exists() and exchange(self.root, self.out):
            shutil.rmtree(self.root, ignore_errors=True)  # now the old site
            return
        old = None
        if self.out.exists():
            old = self.out.with_name(f"{OLD_PREFIX % self.out.name}{os.getpid()}")
            self.out.rename(old)
        self.root.rename(self.out)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)


#: Names of the folders a build leaves next to the output folder while it runs.
STAGING_PREFIX = ".%s.tmp-"
OLD_PREFIX = ".%s.old-"
#: renameat2's flag that swaps two paths (linux/fs.h), and "relative to the working folder".
RENAME_EXCHANGE = 2
AT_FDCWD = -100


def exchange(a: Path, b: Path) -> bool:
    """Swap the folders ``a`` and ``b`` atomically; False when the system cannot."""
    if sys.platform != "linux":
        return False
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):  # no libc symbol (glibc before 2.28, musl before 1.2.?)
        return False
    renameat2.argtypes = [
        ctypes.c_int,
        ctypes.c_char_p,
        ctypes.c_int,
        ctypes.c_char_p,
        ctypes.c_uint,
    ]
    result = renameat2(AT_FDCWD, os.fsencode(a), AT_FDCWD, os.fsencode(b), RENAME_EXCHANGE)
    if result == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP):  # the file system cannot swap
        return False
    raise OSError(code, os.strerror(code), str(b))


class OutputLock:
    """Only one build writes an output folder at a time.

    The lock is ``.<name>.lock`` next to the output folder, held with ``flock``, so the system
    releases it when its process ends however it ends (a killed build leaves no stale lock).
    Whoever takes it first removes what a killed build left behind: its staging folder, and the
    old site when a build was killed between the two renames of a non-atomic swap.
    """

    def __init__(self, out: Path) -> None:
        self.out = out.resolve()
        self.path = self.out.with_name(f".{self.out.name}.lock")
        self._file: IO[str] | None = None

    def __enter__(self) -> OutputLock:
        self.out.parent.mkdir(parents=True, exist_ok=True)
        file = open(self.path, "a+", encoding="utf-8")  # held until __exit__
        try:
            fcntl.flock(file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            file.seek(0)
            holder = file.read().strip() or "another process"
            file.close()
            raise SiteError(
                f"another fitatlas build ({holder}) is writing {self.out}; wait until it "
                f"finishes, or stop it (lock file: {self.path})"
            ) from None
        try:  # who holds it, for the message above; a full disk must not stop the build here
            file.seek(0)
            file.truncate()
            file.write(f"pid {os.getpid()}\n")
            file.flush()
        except OSError:
            pass
        self._file = file
        self._recover()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._file is not None:
            with self._file:  # closing releases the lock
                self._file.truncate(0)
            self._file = None

    def _recover(self) -> None:
        name, parent = self.out.name, self.out.parent
        olds = sorted(parent.glob(f"{OLD_PREFIX % name}*"))
        if olds and not self.out.exists():
            olds.pop().rename(self.out)  # a swap interrupted between its renames
        for left in [*olds, *parent.glob(f"{STAGING_PREFIX % name}*")]:
            shutil.rmtree(left, ignore_errors=True)


#: Below this many items per process, forking costs more than it saves.
MIN_ITEMS_PER_JOB = 100
_JOB: tuple[Path, Sequence[Sequence[Any]], Callable[[Any], tuple[str, bytes]]] | None = None


def _write_run(index: int) -> list[tuple[str, int]]:
    """Worker: render and write the items of run ``index``; return (path, size) pairs."""
    assert _JOB is not None
    root, runs, render = _JOB
    written = []
    for item in runs[index]:
        rel, data = render(item)
        _write_file(root, rel, data)
        written.append((rel, len(data)))
    return written


#: Folders this process has made (or found) in a staging folder, so each is made once.
_FOLDERS: set[str] = set()


def _write_file(root: Path, rel: str, data: bytes) -> None:
    """Write ``data`` at ``rel`` under ``root``. The staging folder is new and holds no links,
    so a path stays inside it unless it is absolute or climbs with '..'."""
    if rel.startswith("/") or ".." in rel.split("/"):
        raise SiteError(f"refusing to write outside the output folder: {rel}")
    target = os.path.join(root, rel)
    folder = os.path.dirname(target)
    if folder not in _FOLDERS:
        os.makedirs(folder, exist_ok=True)
        _FOLDERS.add(folder)
    with open(target, "wb") as file:
        file.write(data)

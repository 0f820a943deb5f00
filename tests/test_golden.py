"""The fixture site's whole output, committed under tests/golden/ and compared file by file.

Its diff is reviewed like code: regenerate it only on purpose, with
`.venv/bin/pytest tests/test_golden.py --update-golden`. The search index (pagefind/) is left
out: it is compressed binary data that Pagefind writes, tested for determinism elsewhere.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from generator.build import build_site
from tests.conftest import ROOT
from tests.site_helpers import FIXTURE, copy_project

GOLDEN = ROOT / "tests" / "golden"


def output_files(site: Path) -> dict[str, bytes]:
    return {
        p.relative_to(site).as_posix(): p.read_bytes()
        for p in sorted(site.rglob("*"))
        if p.is_file() and not p.relative_to(site).as_posix().startswith("pagefind/")
    }


def test_the_fixture_site_matches_the_golden_tree(tmp_path: Path, update_golden: bool) -> None:
    project = copy_project(tmp_path / "project", FIXTURE)
    site = tmp_path / "site"
    build_site(project, out=site)
    built = output_files(site)
    if update_golden:
        shutil.rmtree(GOLDEN, ignore_errors=True)
        for rel, data in built.items():
            (GOLDEN / rel).parent.mkdir(parents=True, exist_ok=True)
            (GOLDEN / rel).write_bytes(data)
    golden = output_files(GOLDEN)
    assert sorted(built) == sorted(golden), "files differ; regenerate with --update-golden"
    changed = [rel for rel in built if built[rel] != golden[rel]]
    assert not changed, f"{len(changed)} files differ from tests/golden, first: {changed[:5]}"

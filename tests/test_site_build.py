"""`fitatlas build` as a whole: determinism, atomic output, located errors, escaping, links."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from generator.build import build_site
from generator.catalog.problems import CatalogError
from generator.cli import main
from generator.errors import SiteError
from generator.writer import Staging
from tests.site_helpers import FIXTURE, broken_links, copy_project, tree_digest


@pytest.fixture
def fixture_project(tmp_path: Path) -> Path:
    return copy_project(tmp_path / "project", FIXTURE)


def edit_yaml(path: Path, kind: str, index: int, **changes: object) -> None:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data[kind][index].update(changes)
    path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), encoding="utf-8")


def test_two_builds_are_byte_identical(fixture_project: Path, tmp_path: Path) -> None:
    build_site(fixture_project, out=tmp_path / "a")
    build_site(fixture_project, out=tmp_path / "b")
    first, second = tree_digest(tmp_path / "a"), tree_digest(tmp_path / "b")
    assert len(first) > 20
    assert first == second


def test_a_bad_catalog_entry_fails_the_build_and_leaves_the_site_untouched(
    fixture_project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--project", str(fixture_project), "build"]) == 0
    site = fixture_project / "site"
    before = tree_digest(site)
    edit_yaml(fixture_project / "catalog/gpus.yaml", "gpus", 1, vram_gib=-80)
    capsys.readouterr()
    assert main(["--project", str(fixture_project), "build"]) == 1
    err = capsys.readouterr().err
    assert "catalog/gpus.yaml:" in err and "gpus[1].vram_gib" in err and "Traceback" not in err
    assert tree_digest(site) == before
    left = [p for p in fixture_project.glob(".site.*") if p.name != ".site.lock"]
    assert not left, "no staging folder is left behind (the lock file stays, unlocked)"


def write_guide(project: Path, body: str) -> Path:
    path = project / "content/guides/fixture-guide.md"
    head = path.read_text(encoding="utf-8").split("---", 2)
    path.write_text(f"---{head[1]}---\n\nFirst line.\n\n{body}\n", encoding="utf-8")
    return path


def build_error(project: Path) -> str:
    with pytest.raises(SiteError) as raised:
        build_site(project)
    return str(raised.value)


def test_an_unknown_gpu_in_a_shortcode_names_file_line_and_a_suggestion(
    fixture_project: Path,
) -> None:
    write_guide(fixture_project, 'It has {{ effective_vram("h100", 2) }} in all.')
    message = build_error(fixture_project)
    assert message.startswith("content/guides/fixture-guide.md:10: ")
    assert "unknown GPU id 'h100' (did you mean 'h100-sxm'?)" in message


def test_a_claim_the_engine_contradicts_fails_the_build(fixture_project: Path) -> None:
    write_guide(
        fixture_project,
        'So {{ fits("deepseek-r1", "q4_k_m", "h100-sxm", 2, expect=True) }} on two cards.',
    )
    message = build_error(fixture_project)
    assert "fixture-guide.md:10:" in message and "the engine says False" in message


def test_a_wrong_number_in_prose_fails_the_build(fixture_project: Path) -> None:
    write_guide(fixture_project, 'Pooled: {{ effective_vram("h100-sxm", 2, expect=160) }}.')
    assert "the engine says 147.2" in build_error(fixture_project)


def test_the_sandbox_offers_only_shortcodes(fixture_project: Path) -> None:
    write_guide(fixture_project, "{{ range(3) }}")
    assert "unknown shortcode" in build_error(fixture_project)
    write_guide(fixture_project, "{% for x in [1] %}x{% endfor %}")
    assert "only {{ shortcode(...) }} expressions" in build_error(fixture_project)


def test_a_bad_shortcode_argument_is_reported_with_its_line(fixture_project: Path) -> None:
    write_guide(fixture_project, 'Hi.\n\n{{ config_table(["two h100"], ["llama-3.1-8b"]) }}')
    message = build_error(fixture_project)
    assert "fixture-guide.md:12:" in message and "reads like '2x rtx-4090'" in message  # first card


def test_a_failed_shortcode_leaves_the_previous_site_untouched(fixture_project: Path) -> None:
    build_site(fixture_project)
    before = tree_digest(fixture_project / "site")
    write_guide(fixture_project, '{{ min_cards("llama-3.1-8b", "q4_k_m", "rtx-4090", expect=3) }}')
    build_error(fixture_project)
    assert tree_digest(fixture_project / "site") == before


def test_a_script_in_a_catalog_name_is_escaped_on_every_page(fixture_project: Path) -> None:
    evil = "<script>alert(1)</script> Card"
    edit_yaml(fixture_project / "catalog/gpus.yaml", "gpus", 0, name=evil)
    site = fixture_project / "site"
    build_site(fixture_project)
    pages = sorted(site.rglob("*.html"))
    shown = 0
    for page in pages:
        text = page.read_text(encoding="utf-8")
        assert "<script>alert(1)" not in text, page
        shown += "&lt;script&gt;alert(1)&lt;/script&gt; Card" in text
    assert shown >= 3, "the escaped name appears on the GPU's pages"


def test_catalog_errors_are_reported_before_any_output_exists(
    fixture_project: Path, tmp_path: Path
) -> None:
    (fixture_project / "catalog/models.yaml").write_text("models: [", encoding="utf-8")
    with pytest.raises(CatalogError):
        build_site(fixture_project, out=tmp_path / "never")
    assert not (tmp_path / "never").exists()


def test_every_internal_link_and_anchor_resolves(built_site: Path) -> None:
    assert broken_links(built_site) == []


def test_the_summary_counts_pages(fixture_project: Path) -> None:
    report = build_site(fixture_project)
    assert report.pages == len(list((fixture_project / "site").rglob("*.html")))
    assert report.summary().startswith(f"Built {report.pages} pages")


def test_a_shortcode_may_span_lines(fixture_project: Path) -> None:
    write_guide(fixture_project, 'Pooled: {{ effective_vram("h100-sxm",\n   2, expect=147.2) }}.')
    build_site(fixture_project)
    html = (fixture_project / "site/guides/fixture-guide/index.html").read_text(encoding="utf-8")
    assert "Pooled: 147.2 GiB." in html


def test_an_unclosed_shortcode_is_an_error_not_raw_text(fixture_project: Path) -> None:
    write_guide(fixture_project, 'Pooled: {{ effective_vram("h100-sxm", 2) and more text.')
    assert "fixture-guide.md:10: '{{' is never closed by '}}'" in build_error(fixture_project)


def test_every_shortcode_problem_of_every_page_is_reported_at_once(fixture_project: Path) -> None:
    write_guide(fixture_project, '{{ gpu_link("h1") }}\n\n{{ min_cards("llama-3.1-8b", "q9") }}')
    method = fixture_project / "content/methodology.md"
    text = method.read_text(encoding="utf-8")
    method.write_text(text + "\n{{ nope() }}\n", encoding="utf-8")
    nope_line = text.count("\n") + 2
    lines = build_error(fixture_project).splitlines()
    assert [line.split(": ", 1)[0] for line in lines] == [
        "content/guides/fixture-guide.md:10",
        "content/guides/fixture-guide.md:12",
        f"content/methodology.md:{nope_line}",
    ]


def test_a_template_mistake_is_reported_with_its_file_and_line(
    fixture_project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    template = fixture_project / "templates/robots.txt"
    template.write_text(template.read_text(encoding="utf-8") + "{{ no_such_name }}\n")
    assert main(["--project", str(fixture_project), "build"]) == 1
    err = capsys.readouterr().err
    assert "templates/robots.txt:" in err and "no_such_name" in err and "Traceback" not in err
    assert not (fixture_project / "site").exists()


def test_staging_refuses_paths_that_leave_the_output_folder(tmp_path: Path) -> None:
    staging = Staging(tmp_path / "site")
    for bad in ("/etc/passwd", "../outside.html", "models/../../outside.html"):
        with pytest.raises(SiteError, match="outside the output folder"):
            staging.write(bad, b"x")
    staging.write("models/x/index.html", b"ok")
    assert (staging.root / "models/x/index.html").read_bytes() == b"ok"
    assert not (tmp_path / "outside.html").exists()
    staging.discard()

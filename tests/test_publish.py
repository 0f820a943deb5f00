"""Publishing gates: what must hold before the site reaches static hosting.

Every page passes the Nu HTML Checker; lychee finds no broken internal link, asset or #anchor;
the sitemap lists exactly the pages that exist; a sub-path build keeps every link under its
prefix; host files (_headers, robots.txt, 404.html) and hashed assets are as hosts expect; the
GitHub Pages workflow lints clean and runs exactly the README's commands.

Each gate is a function returning problems as ``page: message`` lines, so a failure names the
page, and each is shown to catch a planted fault. The real site is built once per session
(``built_site``); the checkers run once over the whole of it.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections.abc import Iterable
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest
import yaml

from generator.build import build_site
from tests.conftest import ROOT
from tests.site_helpers import FIXTURE, broken_links, copy_project

VNU_JAR = ROOT / "tools/node_modules/vnu-jar/build/dist/vnu.jar"
VENV_BIN = Path(sys.executable).parent
WORKFLOW = ROOT / ".github/workflows/publish.yml"
SUB_PATH_URL = "https://host.example/deep/path/"


def tool(name: str) -> str:
    """A command installed with the test extra (next to this Python) or on PATH."""
    found = shutil.which(name, path=str(VENV_BIN)) or shutil.which(name)
    if not found:
        pytest.fail(f"{name} is not installed: `make test` installs the test tools")
    return found


def report(problems: list[str], limit: int = 40) -> str:
    """Problems as an assertion message: the first ``limit`` lines and how many in all."""
    shown = "\n".join(problems[:limit])
    more = f"\n… and {len(problems) - limit} more" if len(problems) > limit else ""
    return f"{len(problems)} problem(s):\n{shown}{more}"


def site_base_url() -> str:
    """The published URL in site.yaml (what ``built_site`` was built with)."""
    settings = yaml.safe_load((ROOT / "site.yaml").read_text(encoding="utf-8"))
    return str(settings["base_url"])


# --- the gates ----------------------------------------------------------------------------

GNU_LINE = re.compile(r'^"(?P<uri>[^"]+)":(?P<where>[^ ]+): (?P<kind>[a-z ]+): (?P<message>.*)$')


def vnu_errors(site: Path) -> list[str]:
    """Every Nu HTML Checker error in the HTML files under ``site``: one JVM run for all."""
    if not VNU_JAR.exists():
        pytest.fail(f"{VNU_JAR.relative_to(ROOT)} is missing: `make test` runs npm ci in tools/")
    run = subprocess.run(
        [tool("java"), "-jar", str(VNU_JAR), "--skip-non-html", "--errors-only",
         "--format", "gnu", str(site)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    problems = []
    for line in (run.stdout + run.stderr).splitlines():
        match = GNU_LINE.match(line)
        if match is None:
            if line.strip():
                problems.append(f"(vnu) {line}")
            continue
        path = Path(unquote(urlsplit(match["uri"]).path))
        page = path.relative_to(site).as_posix() if path.is_relative_to(site) else str(path)
        problems.append(f"{page}:{match['where']}: {match['message']}")
    if run.returncode != 0 and not problems:
        problems.append(f"(vnu) exited {run.returncode} without a message")
    return problems


def lychee_problems(site: Path, root: Path | None = None) -> list[str]:
    """Broken internal links, assets and #anchors in ``site``, checked offline by lychee.

    ``root`` is the folder a link starting with '/' resolves against (default ``site``); a
    sub-path build is checked from the folder above its prefix, so a link escaping the prefix
    points at a file that does not exist.
    """
    root = root or site
    report_file = site.parent / f".lychee-{site.name}.json"
    run = subprocess.run(
        [tool("lychee"), "--offline", "--include-fragments", "--index-files", "index.html",
         "--root-dir", str(root), "--no-progress", "--format", "json",
         "--output", str(report_file), f"{site}/**/*.html"],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    if run.returncode not in (0, 2) or not report_file.exists():
        return [f"(lychee) exited {run.returncode}: {run.stderr.strip()[:2000]}"]
    result = json.loads(report_file.read_text(encoding="utf-8"))
    report_file.unlink()
    problems = []
    for source, failures in sorted(result.get("error_map", {}).items()):
        page = Path(source)
        name = page.relative_to(site).as_posix() if page.is_relative_to(site) else source
        for failure in failures:
            url = str(failure["url"]).replace(f"file://{root}", "")
            problems.append(f"{name}: {url} ({failure['status']['text']})")
    return problems


def page_url(site: Path, page: Path, base_url: str) -> str:
    """The absolute URL a page is published at: 'models/x/index.html' → base + 'models/x/'."""
    rel = page.relative_to(site).as_posix()
    rel = rel.removesuffix("index.html")
    return base_url.rstrip("/") + "/" + rel


def sitemap_problems(site: Path, base_url: str) -> list[str]:
    """The sitemap must list every page (404.html aside) once, by absolute URL, and no more."""
    tree = ET.parse(site / "sitemap.xml")
    ns = {"s": "http://www.sitemaps.org/schemas/sitemap/0.9"}
    listed = [loc.text or "" for loc in tree.getroot().findall("s:url/s:loc", ns)]
    pages = {
        page_url(site, p, base_url): p.relative_to(site).as_posix()
        for p in sorted(site.rglob("*.html"))
        if p.relative_to(site).as_posix() != "404.html"
    }
    problems = [f"sitemap.xml: {url} is not an absolute URL under {base_url}"
                for url in listed if not url.startswith(base_url)]  # fmt: skip
    problems += [f"sitemap.xml: {url} is listed twice" for url in sorted(set(listed))
                 if listed.count(url) > 1]  # fmt: skip
    problems += [f"sitemap.xml: {url} has no page" for url in sorted(set(listed) - set(pages))]
    problems += [f"{page}: missing from sitemap.xml"
                 for url, page in sorted(pages.items()) if url not in listed]  # fmt: skip
    return problems


# --- the gates on the real site -----------------------------------------------------------


def test_every_page_passes_the_nu_html_checker(built_site: Path) -> None:
    problems = vnu_errors(built_site)
    assert not problems, report(problems)


def test_lychee_finds_no_broken_internal_link_asset_or_anchor(built_site: Path) -> None:
    problems = lychee_problems(built_site)
    assert not problems, report(problems)


def test_the_sitemap_lists_every_page_and_only_pages_that_exist(built_site: Path) -> None:
    problems = sitemap_problems(built_site, site_base_url())
    assert not problems, report(problems)


def test_robots_txt_names_the_sitemap_by_absolute_url(built_site: Path) -> None:
    lines = (built_site / "robots.txt").read_text(encoding="utf-8").splitlines()
    assert f"Sitemap: {site_base_url()}sitemap.xml" in lines
    assert "Disallow: /" not in lines


# --- each gate catches a planted fault and names the page ---------------------------------


def plant(page: Path, before: str, insert: str) -> None:
    """Insert ``insert`` in front of the first ``before`` of a page."""
    text = page.read_text(encoding="utf-8")
    assert before in text, f"{page} has no {before!r} to plant in front of"
    page.write_text(text.replace(before, insert + before, 1), encoding="utf-8")


def test_the_html_gate_names_the_page_with_an_invalid_tag(built_site: Path, tmp_path: Path) -> None:
    site = tmp_path / "site"
    for rel in ("index.html", "models/index.html", "gpus/index.html"):
        (site / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(built_site / rel, site / rel)
    plant(site / "models/index.html", "<main", "<frobnicate>")
    planted = [p for p in vnu_errors(site) if "frobnicate" in p]
    assert planted, "the planted tag is reported"
    assert all(p.startswith("models/index.html:") for p in planted), report(planted)


def test_the_link_gate_names_the_pages_with_a_dead_link_a_missing_asset_and_anchor(
    built_site: Path, tmp_path: Path
) -> None:
    site = tmp_path / "site"
    shutil.copytree(built_site, site)
    before = set(lychee_problems(site))
    plant(site / "gpus/index.html", "</main>", '<a href="/models/no-such-model/">gone</a>')
    plant(site / "guides/index.html", "</main>", '<img src="/assets/gone.0123456789.png" alt="">')
    plant(site / "models/index.html", "</main>", '<a href="/gpus/#no-such-anchor">gone</a>')
    new = sorted(set(lychee_problems(site)) - before)
    assert [p.split(":", 1)[0] for p in new] == [
        "gpus/index.html", "guides/index.html", "models/index.html"
    ], report(new)  # fmt: skip
    assert "/models/no-such-model" in new[0]
    assert "/assets/gone.0123456789.png" in new[1]
    assert "no-such-anchor" in new[2] and "fragment" in new[2].lower()


def test_the_sitemap_gate_names_a_page_left_out_and_an_entry_without_a_page(
    built_site: Path, tmp_path: Path
) -> None:
    site = tmp_path / "site"
    shutil.copytree(built_site, site, ignore=shutil.ignore_patterns("on"))  # no pair pages
    (site / "models/orphan").mkdir()
    (site / "models/orphan/index.html").write_text("<!doctype html><title>x</title>")
    problems = sitemap_problems(site, site_base_url())
    assert "models/orphan/index.html: missing from sitemap.xml" in problems
    assert any(p.startswith("sitemap.xml: ") and "/on/" in p for p in problems)


# --- a build under a sub-path -------------------------------------------------------------


@pytest.fixture(scope="module")
def sub_path_site(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The fixture project built for SUB_PATH_URL, placed at <root>/deep/path/."""
    base = tmp_path_factory.mktemp("subpath")
    project = copy_project(base / "project", FIXTURE)
    root = base / "root"
    site = root / urlsplit(SUB_PATH_URL).path.strip("/")
    build_site(project, out=site, base_url=SUB_PATH_URL)
    return root, site


def test_a_sub_path_build_has_no_link_escaping_it(sub_path_site: tuple[Path, Path]) -> None:
    root, site = sub_path_site
    # The Python walker rejects a root-relative link outside the prefix outright; lychee, with
    # '/' resolving to the folder above the prefix, finds such a link's target missing.
    assert broken_links(site, prefix=urlsplit(SUB_PATH_URL).path) == []
    problems = lychee_problems(site, root=root)
    assert not problems, report(problems)


def test_the_sub_path_gate_names_a_page_whose_link_escapes_the_prefix(
    sub_path_site: tuple[Path, Path], tmp_path: Path
) -> None:
    root = tmp_path / "root"
    shutil.copytree(sub_path_site[0], root)
    site = root / urlsplit(SUB_PATH_URL).path.strip("/")
    plant(site / "gpus/index.html", "</main>", '<a href="/gpus/">outside</a>')
    problems = lychee_problems(site, root=root)
    assert [p.split(":", 1)[0] for p in problems] == ["gpus/index.html"], report(problems)
    with pytest.raises(AssertionError, match=r"gpus/index\.html: link '/gpus/' escapes"):
        broken_links(site, prefix=urlsplit(SUB_PATH_URL).path)


def test_the_404_page_links_by_absolute_path_so_it_works_at_any_depth(
    sub_path_site: tuple[Path, Path],
) -> None:
    _, site = sub_path_site
    html = (site / "404.html").read_text(encoding="utf-8")
    links = re.findall(r'(?:href|src)=["\']?([^"\' >]+)', html)
    assert links
    prefix = urlsplit(SUB_PATH_URL).path
    relative = [u for u in links if not u.startswith((prefix, "#", "https://", "http://", "data:"))]
    assert relative == [], "links that would break when 404.html is served at /a/b/c"
    assert re.search(r'<meta (?:name=["\']?robots["\']? content=["\']?noindex|'
                     r'content=["\']?noindex["\']? name=["\']?robots)', html)  # fmt: skip


def test_the_sub_path_sitemap_and_robots_use_the_full_url(
    sub_path_site: tuple[Path, Path],
) -> None:
    _, site = sub_path_site
    assert sitemap_problems(site, SUB_PATH_URL) == []
    robots = (site / "robots.txt").read_text(encoding="utf-8")
    assert f"Sitemap: {SUB_PATH_URL}sitemap.xml" in robots.splitlines()


# --- what static hosts read ---------------------------------------------------------------


def header_rules(text: str) -> list[tuple[str, dict[str, str]]]:
    """(path pattern, headers) per block of a _headers file."""
    rules: list[tuple[str, dict[str, str]]] = []
    for line in text.splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        if not line[0].isspace():
            rules.append((line.strip(), {}))
        else:
            name, _, value = line.strip().partition(":")
            assert rules, f"header line before any path: {line!r}"
            assert name not in rules[-1][1], f"{rules[-1][0]} sets {name} twice"
            rules[-1][1][name] = value.strip()
    return rules


def matches(pattern: str, path: str) -> bool:
    """Cloudflare/Netlify path matching: '*' (a splat) stands for any characters."""
    return re.fullmatch(".*".join(map(re.escape, pattern.split("*"))), path) is not None


def served_paths(site: Path) -> Iterable[str]:
    """The URL path a host serves each file at; index.html is served at its folder's path."""
    for file in sorted(site.rglob("*")):
        if file.is_file() and file.name != "_headers":
            yield "/" + file.relative_to(site).as_posix().removesuffix("index.html")


def test_headers_cache_hashed_assets_a_year_and_everything_else_briefly(built_site: Path) -> None:
    rules = header_rules((built_site / "_headers").read_text(encoding="utf-8"))
    assert len(rules) <= 100, "Cloudflare Pages reads at most 100 rules"
    caching = [(pattern, h["Cache-Control"]) for pattern, h in rules if "Cache-Control" in h]
    problems = []
    for path in served_paths(built_site):
        found = [value for pattern, value in caching if matches(pattern, path)]
        if len(found) != 1:
            problems.append(f"{path}: {len(found)} Cache-Control rules (exactly one is needed)")
            continue
        age = int(re.search(r"max-age=(\d+)", found[0]).group(1))  # type: ignore[union-attr]
        if path.startswith("/assets/"):
            if age < 31536000 or "immutable" not in found[0]:
                problems.append(f"{path}: hashed asset cached with {found[0]!r}")
        elif age > 3600 or "immutable" in found[0]:
            problems.append(f"{path}: cached with {found[0]!r}, too long for a page")
    assert not problems, report(problems)
    everything = [h for pattern, h in rules if pattern == "/*"]
    assert everything and everything[0].get("X-Content-Type-Options") == "nosniff"


def test_every_asset_name_carries_a_hash_of_its_content(built_site: Path) -> None:
    assets = sorted((built_site / "assets").iterdir())
    assert assets
    for asset in assets:
        match = re.fullmatch(r"(?P<stem>.+)\.(?P<hash>[0-9a-f]{10})(?P<ext>\.\w+)", asset.name)
        assert match, f"{asset.name} has no content hash in its name"
        assert hashlib.sha256(asset.read_bytes()).hexdigest().startswith(match["hash"])


def test_a_404_page_sits_at_the_root(built_site: Path) -> None:
    html = (built_site / "404.html").read_text(encoding="utf-8")
    assert "noindex" in html and "<h1>" in html


def test_published_html_carries_no_template_indentation(built_site: Path) -> None:
    for rel in ("index.html", "models/index.html", "guides/how-much-vram/index.html"):
        html = (built_site / rel).read_text(encoding="utf-8")
        assert html.startswith('<!doctype html>\n<html lang="en">\n<head>\n'), rel
        assert "\n  <" not in html, f"{rel} keeps its indentation"
        assert "</head>" in html, f"{rel}: the live-reload script goes before </head>"


# --- the GitHub Pages workflow ------------------------------------------------------------


def load_workflow() -> dict[str, object]:
    data = yaml.safe_load(WORKFLOW.read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    data["on"] = data.pop(True, data.get("on"))  # YAML 1.1 reads a bare `on` as true
    return data


def readme_commands() -> list[str]:
    """The commands of the README's "The two commands" block, comments stripped."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## The two commands", 1)[1]
    block = section.split("```sh", 1)[1].split("```", 1)[0]
    return [line.split("#", 1)[0].strip() for line in block.splitlines() if line.strip()]


def test_actionlint_passes_on_the_publish_workflow() -> None:
    run = subprocess.run(
        [tool("actionlint"), "-no-color", str(WORKFLOW)],
        capture_output=True, text=True, check=False, cwd=ROOT,
    )  # fmt: skip
    assert run.returncode == 0, run.stdout + run.stderr


def test_the_workflow_runs_exactly_the_readme_commands() -> None:
    workflow = load_workflow()
    jobs = workflow["jobs"]
    assert isinstance(jobs, dict)
    steps = [step for job in jobs.values() for step in job["steps"]]
    runs = [step["run"].strip() for step in steps if "run" in step]
    assert readme_commands() == ["make build", "make test"]
    assert runs == readme_commands()
    build = next(step for step in steps if step.get("run", "").strip() == "make build")
    assert build["env"] == {"BASE_URL": "${{ steps.pages.outputs.base_url }}/"}


def test_the_workflow_deploys_after_the_tests_with_the_least_permissions() -> None:
    workflow = load_workflow()
    assert workflow["on"] == {"push": {"branches": ["main"]}, "workflow_dispatch": None}
    assert workflow["permissions"] == {"contents": "read"}
    assert workflow["concurrency"] == {"group": "pages", "cancel-in-progress": False}
    jobs = workflow["jobs"]
    assert isinstance(jobs, dict) and set(jobs) == {"build", "deploy"}
    build, deploy = jobs["build"], jobs["deploy"]
    assert "write" not in build["permissions"].values()
    assert deploy["permissions"] == {"pages": "write", "id-token": "write"}
    assert deploy["needs"] == "build" and deploy["environment"]["name"] == "github-pages"
    order = [s.get("run", s.get("uses", "")).split("@")[0] for s in build["steps"]]
    assert order.index("make test") < order.index("actions/upload-pages-artifact")
    upload = next(s for s in build["steps"] if "upload-pages-artifact" in s.get("uses", ""))
    assert upload["with"]["path"].rstrip("/") == "site"
    assert [s["uses"].split("@")[0] for s in deploy["steps"]] == ["actions/deploy-pages"]

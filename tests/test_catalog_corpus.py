"""A generated corpus of broken catalogs: every one is refused, located, and changes nothing.

Each case rewrites one catalog file of a scratch project (a mutation of the shipped data, or
raw bytes), then runs ``fitatlas build`` through the CLI's ``main``: it must exit 1, print only
``path:line: message`` lines (one naming the broken file), print no traceback, and leave the
previously built ``site/`` exactly as it was. A sample of one case per category goes through a
real ``python -m generator build`` subprocess and compares ``site/`` byte for byte.
"""

from __future__ import annotations

import copy
import itertools
import math
import os
import random
import re
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from generator.build import build_site
from generator.catalog.loader import KINDS, load_catalog
from generator.cli import main
from tests.conftest import ROOT
from tests.site_helpers import tree_digest

#: A located message: ``<file>.yaml:<line>: ...``.
LOCATED = re.compile(r"^(?P<file>\S+?\.yaml):(?P<line>\d+): \S")

Data = dict[str, Any]
#: Given the file's parsed shipped data (a fresh copy), return the file's new bytes.
Mutation = Callable[[Data], bytes]


@dataclass(frozen=True)
class Case:
    """One broken catalog: which file changes, how, and which file the message must name."""

    category: str
    name: str
    kind: str  # the catalog file rewritten
    mutate: Mutation
    named: str = ""  # the file the message names when it is not the rewritten one

    @property
    def id(self) -> str:
        return f"{self.category}:{self.name}"


def dump(data: Data) -> bytes:
    dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
    return yaml.dump(data, Dumper=dumper, sort_keys=False, allow_unicode=True).encode("utf-8")


def entry_with(data: Data, kind: str, path: str) -> dict[str, Any]:
    """The first entry of ``kind`` that has the dotted ``path`` (its parent mapping)."""
    *parents, _ = path.split(".")
    for entry in data[kind]:
        node = entry
        for part in parents:
            node = node.get(part) if isinstance(node, dict) else None
        if isinstance(node, dict) and path.split(".")[-1] in node:
            return entry
    raise AssertionError(f"no {kind} entry has {path}")


def set_field(
    kind: str, path: str, value: Any, entry: Callable[[Data], dict[str, Any]] | None = None
) -> Mutation:
    """Set the dotted ``path`` of one entry of ``kind`` (by default the first that has it)."""

    def mutate(data: Data) -> bytes:
        node = entry(data) if entry else entry_with(data, kind, path)
        *parents, last = path.split(".")
        for part in parents:
            node = node[part]
        node[last] = value
        return dump(data)

    return mutate


def change(kind: str, edit: Callable[[list[dict[str, Any]]], None]) -> Mutation:
    def mutate(data: Data) -> bytes:
        edit(data[kind])
        return dump(data)

    return mutate


def raw(content: bytes) -> Mutation:
    return lambda data: content


def text_edit(edit: Callable[[str], str]) -> Mutation:
    """Edit the YAML text of the re-dumped file (syntax errors keep the rest intact)."""
    return lambda data: edit(dump(data).decode("utf-8")).encode("utf-8")


# Number fields by kind: (dotted path, is an integer, may be zero).
NUMBERS: dict[str, list[tuple[str, bool, bool]]] = {
    "gpus": [("vram_gib", False, False), ("usable_vram_fraction", False, False),
             ("memory_bandwidth_gbps", False, False), ("fp16_tflops", False, False),
             ("fp8_tflops", False, False), ("max_gpus", True, False),
             ("node_max_gpus", True, False), ("price_per_hour_usd", False, False)],
    "interconnects": [("bandwidth_gbps", False, False), ("scaling_factor", False, False)],
    "models": [("params_b", False, False), ("max_context", True, False),
               ("architecture.layers", True, False), ("architecture.kv_heads", True, False),
               ("architecture.head_dim", True, False)],
    "quantizations": [("bits_per_weight", False, False), ("quality_rank", True, False)],
    "kv_dtypes": [("bits_per_element", False, False)],
    "runtimes": [("memory_utilization", False, False), ("decode_efficiency", False, False),
                 ("per_gpu_overhead_mib", False, True)],
    "measurements": [("cards", True, False), ("context", True, False)],
}  # fmt: skip

FLAGS = [("gpus", "price_is_estimate"), ("models", "architecture.tie_word_embeddings"),
         ("runtimes", "pipeline_parallel"), ("runtimes", "sliding_window_cache")]  # fmt: skip
DATES = [("models", "release_date"), ("measurements", "date")]
PATH_LIKE_IDS = ["../escape", "a/b", "/etc", "..", ".", "back\\slash", "With Space", "", "-lead"]
REFERENCES = [
    ("gpus", "interconnect", "nvlink-99"),
    ("models", "quantizations", ["q9_k_z"]),
    ("quantizations", "runtimes", ["vllmm"]),
    ("runtimes", "kv_dtypes", ["f17"]),
    ("measurements", "model", "no-such-model"),
    ("measurements", "gpu", "no-such-gpu"),
    ("measurements", "quant", "no-such-quant"),
    ("measurements", "runtime", "no-such-runtime"),
    ("measurements", "kv_dtype", "no-such-kv"),
]
SYNTAX = {
    "unclosed flow sequence": lambda t: t + "  - id: [unclosed\n",
    "unterminated quote": lambda t: t + '  - id: "open\n',
    "bad indentation": lambda t: t.replace("\n  name:", "\n    name:", 1),
    "tab indentation": lambda t: t.replace("\n  name:", "\n\tname:", 1),
    "undefined alias": lambda t: t + "  - *nowhere\n",
    "python tag": lambda t: t + "  - !!python/object/apply:os.system ['true']\n",
    "two documents": lambda t: t + "---\nmore: 1\n",
    "mapping value in scalar": lambda t: t.replace("\n  name:", "\n  name: a: b\n  nam:", 1),
}
LATIN_1_ID = "id: caf\u00e9".encode("latin-1")  # é as one byte, 0xe9: not UTF-8
BINARY = {
    "random bytes": random.Random(14).randbytes(512),
    "png header": b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)),
    "nul in text": b"gpus:\n  - id: a\x00b\n",
    "bell character": b"gpus:\n  - id: \x07\n",
}


def _numbers() -> Iterator[Case]:
    # NaN, infinity and minus infinity take turns, field after field.
    non_finite = itertools.cycle([("nan", math.nan), ("inf", math.inf), ("-inf", -math.inf)])
    for kind, fields in NUMBERS.items():
        for path, is_int, zero_ok in fields:
            bad: dict[str, Any] = dict([("true", True), ("string", "80"), next(non_finite),
                                        ("negative", -1)])  # fmt: skip
            if is_int:
                bad["fraction"] = 2.5
            if not zero_ok:
                bad["zero"] = 0
            for label, value in bad.items():
                yield Case("number", f"{kind}.{path}={label}", kind, set_field(kind, path, value))
    first_fits = lambda d: next(m for m in d["measurements"] if m["metric"] == "fits")  # noqa: E731
    first_speed = lambda d: next(m for m in d["measurements"] if m["metric"] != "fits")  # noqa: E731
    for label, value in (("true", True), ("string", "12.5"), ("nan", math.nan), ("zero", 0)):
        yield Case("number", f"measurement value={label}", "measurements",
                   set_field("measurements", "value", value, first_speed))  # fmt: skip
    yield Case("number", "fits value=1", "measurements",
               set_field("measurements", "value", 1, first_fits))  # fmt: skip


def _flags_and_dates() -> Iterator[Case]:
    for kind, path in FLAGS:
        for label, value in (("one", 1), ("zero", 0), ("yes-string", "yes"), ("none", None)):
            entry = (lambda d, k=kind: d[k][0]) if "." not in path else None
            yield Case("flag", f"{kind}.{path}={label}", kind, set_field(kind, path, value, entry))
    for kind, path in DATES:
        for label, value in (("string", "2024-01-01"), ("timestamp", 1700000000), ("text", "soon")):
            yield Case("date", f"{kind}.{path}={label}", kind, set_field(kind, path, value))


def _ids() -> Iterator[Case]:
    for kind in KINDS:
        yield Case("duplicate id", kind, kind,
                   change(kind, lambda e: e[1].update(id=e[0]["id"])))  # fmt: skip
        yield Case("id type", f"{kind} id=42", kind, change(kind, lambda e: e[0].update(id=42)))
    for kind in ("gpus", "models"):  # the kinds with a page per id
        for ident in PATH_LIKE_IDS:
            yield Case("path-like id", f"{kind} id={ident!r}", kind,
                       change(kind, lambda e, i=ident: e[0].update(id=i)))  # fmt: skip


def _keys() -> Iterator[Case]:
    for kind in KINDS:
        yield Case("unknown key", kind, kind, change(kind, lambda e: e[0].update(colour="green")))
        yield Case("missing key", kind, kind, change(kind, lambda e: e[0].pop("id")))
        yield Case("entry not a mapping", kind, kind, change(kind, lambda e: e.append("oops")))
    yield Case("unknown key", "architecture.colour", "models",
               change("models", lambda e: e[0]["architecture"].update(colour="green")))  # fmt: skip


def _references() -> Iterator[Case]:
    for kind, key, value in REFERENCES:
        yield Case("broken reference", f"{kind}.{key}", kind, set_field(kind, key, value))
    yield Case("broken reference", "default_kv_dtype not listed", "runtimes",
               set_field("runtimes", "default_kv_dtype", "f17"))  # fmt: skip
    yield Case("broken reference", "removed interconnect", "interconnects",
               change("interconnects", lambda e: e.clear()), named="gpus.yaml")  # fmt: skip
    yield Case("broken reference", "removed runtime", "runtimes",
               change("runtimes", lambda e: e.pop(0)), named="quantizations.yaml")  # fmt: skip
    yield Case("broken reference", "override of an unlisted quantization", "models",
               set_field("models", "bits_per_weight_overrides", {"no-such-quant": 4.0},
                         lambda d: d["models"][0]))  # fmt: skip


def _files() -> Iterator[Case]:
    for kind in KINDS:
        yield Case("empty file", kind, kind, raw(b""))
        yield Case("not UTF-8", f"{kind} latin-1", kind,
                   lambda d: dump(d).replace(b"id:", LATIN_1_ID, 1))  # fmt: skip
    for kind in ("gpus", "models", "runtimes"):
        yield Case("empty file", f"{kind} comments only", kind, raw(b"# nothing here\n\n"))
        yield Case("not UTF-8", f"{kind} UTF-16", kind, lambda d: dump(d).decode().encode("utf-16"))
        yield Case("wrong shape", f"{kind} top-level list", kind, raw(b"- a\n- b\n"))
        yield Case("wrong shape", f"{kind} scalar", kind, raw(b"42\n"))
        yield Case("wrong shape", f"{kind} wrong key", kind, raw(b"things:\n  - id: a\n"))
        yield Case("wrong shape", f"{kind} null list", kind, raw(f"{kind}:\n".encode()))
        for label, content in BINARY.items():
            yield Case("binary file", f"{kind} {label}", kind, raw(content))
    for label, edit in SYNTAX.items():
        for kind in ("gpus", "models"):
            yield Case("YAML syntax", f"{kind} {label}", kind, text_edit(edit))


def corpus() -> list[Case]:
    return [*_numbers(), *_flags_and_dates(), *_ids(), *_keys(), *_references(), *_files()]


CASES = corpus()


def tree_state(folder: Path) -> dict[str, tuple[int, int, int]]:
    """Every file and folder under ``folder`` with its size, modification time and inode (cheap
    to take: a rewritten, replaced, added or removed file changes it)."""
    state = {}
    pending = [str(folder)]
    while pending:
        with os.scandir(pending.pop()) as entries:
            for entry in entries:
                s = entry.stat(follow_symlinks=False)
                state[entry.path] = (s.st_size, s.st_mtime_ns, s.st_ino)
                if entry.is_dir(follow_symlinks=False):
                    pending.append(entry.path)
    return state


@dataclass
class Built:
    """A scratch project with a good build in site/, and the shipped catalog parsed."""

    project: Path
    originals: dict[str, bytes]
    parsed: dict[str, Data]
    state: dict[str, tuple[int, int, int]]
    digest: dict[str, str]

    def apply(self, case: Case) -> Path:
        path = self.project / "catalog" / f"{case.kind}.yaml"
        path.write_bytes(case.mutate(copy.deepcopy(self.parsed[case.kind])))
        return path

    def restore(self, case: Case) -> None:
        (self.project / "catalog" / f"{case.kind}.yaml").write_bytes(self.originals[case.kind])


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Built:
    project = tmp_path_factory.mktemp("corpus") / "project"
    for folder in ("catalog", "content", "templates"):
        shutil.copytree(ROOT / folder, project / folder)
    shutil.copy2(ROOT / "site.yaml", project / "site.yaml")
    build_site(project, jobs=1)
    originals = {k: (project / "catalog" / f"{k}.yaml").read_bytes() for k in KINDS}
    parsed = {k: yaml.safe_load(v) for k, v in originals.items()}
    site = project / "site"
    return Built(project, originals, parsed, tree_state(site), tree_digest(site))


def assert_refused(output: str, code: int, case: Case) -> None:
    assert code == 1, f"exit {code}, not 1:\n{output}"
    assert "Traceback" not in output
    lines = output.strip().splitlines()
    assert lines, "no message"
    for line in lines:
        assert LOCATED.match(line), f"not a located message: {line!r}"
    named = case.named or f"{case.kind}.yaml"
    assert any(Path(LOCATED.match(line)["file"]).name == named for line in lines), lines  # type: ignore[index]


def test_the_corpus_has_at_least_150_cases_across_every_category() -> None:
    categories = {case.category for case in CASES}
    assert len(CASES) >= 150
    assert len({case.id for case in CASES}) == len(CASES), "case names are unique"
    assert categories >= {"number", "flag", "date", "duplicate id", "path-like id",
                          "unknown key", "broken reference", "YAML syntax", "empty file",
                          "binary file", "not UTF-8"}  # fmt: skip


def test_the_unmutated_catalog_as_the_corpus_writes_it_loads(built: Built, tmp_path: Path) -> None:
    """The control: re-dumping the shipped data is not itself a mistake."""
    for kind, data in built.parsed.items():
        (tmp_path / f"{kind}.yaml").write_bytes(dump(copy.deepcopy(data)))
    assert load_catalog(tmp_path).gpus


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_a_broken_catalog_is_refused_located_and_leaves_site_unchanged(
    case: Case, built: Built, capsys: pytest.CaptureFixture[str]
) -> None:
    built.apply(case)
    try:
        code = main(["--project", str(built.project), "build"])
    finally:
        built.restore(case)
    captured = capsys.readouterr()
    assert_refused(captured.err, code, case)
    assert tree_state(built.project / "site") == built.state


def sample() -> list[Case]:
    """The first case of each category."""
    seen: dict[str, Case] = {}
    for case in CASES:
        seen.setdefault(case.category, case)
    return list(seen.values())


@pytest.mark.parametrize("case", sample(), ids=[case.id for case in sample()])
def test_a_real_build_process_refuses_a_sample_and_site_is_byte_identical(
    case: Case, built: Built
) -> None:
    built.apply(case)
    try:
        done = subprocess.run(
            [sys.executable, "-m", "generator", "--project", str(built.project), "build"],
            capture_output=True, text=True, timeout=120, cwd=built.project,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
        )  # fmt: skip
    finally:
        built.restore(case)
    assert done.stdout == ""
    assert_refused(done.stderr, done.returncode, case)
    assert tree_digest(built.project / "site") == built.digest


@pytest.mark.parametrize("rel", ["content/guides/how-much-vram.md", "site.yaml"])
def test_a_guide_or_settings_file_saved_as_latin_1_is_refused_with_its_line(
    rel: str, built: Built, capsys: pytest.CaptureFixture[str]
) -> None:
    path = built.project / rel
    original = path.read_bytes()
    lines = original.split(b"\n")
    lines[3] += " caf\u00e9".encode("latin-1")
    path.write_bytes(b"\n".join(lines))
    try:
        code = main(["--project", str(built.project), "build"])
    finally:
        path.write_bytes(original)
    err = capsys.readouterr().err
    assert code == 1 and "Traceback" not in err
    assert f"{Path(rel).name}:4: not UTF-8 text (byte 0xe9" in err
    assert tree_state(built.project / "site") == built.state


def test_site_yaml_problems_name_their_lines(
    built: Built, capsys: pytest.CaptureFixture[str]
) -> None:
    path = built.project / "site.yaml"
    original = path.read_text(encoding="utf-8")
    lines = original.split("\n")
    quant = next(n for n, line in enumerate(lines) if line.startswith("home_quant:"))
    gpus = next(n for n, line in enumerate(lines) if line.startswith("featured_gpus:"))
    lines[quant] = "home_quant: q4_k_z"
    lines[gpus + 2] = "  - no-such-card"
    path.write_text("\n".join(lines), encoding="utf-8")
    try:
        code = main(["--project", str(built.project), "build"])
    finally:
        path.write_text(original, encoding="utf-8")
    err = capsys.readouterr().err
    assert code == 1
    assert f"site.yaml:{quant + 1}: home_quant: unknown quantization 'q4_k_z'" in err
    assert f"site.yaml:{gpus + 3}: featured_gpus: unknown id 'no-such-card'" in err
    assert tree_state(built.project / "site") == built.state

"""Check that the Hugo pages carry fitatlas's numbers: table by table, cell by cell.

    .venv/bin/python bench/peer/compare.py FITATLAS_SITE HUGO_SITE [--models 4] [--gpus 4]
        [--pairs 40]

Every table of a page is read as cells keyed by (caption, row header, column header); a cell's
value is its ``data-sort`` attribute when it has one (compared as a number), else its text.
For a sample of pages of each kind (home, the two indexes, models, GPUs, model × GPU pairs,
always the same sample for the same site) it counts fitatlas's table cells that Hugo's page
has under the same key with the same value ("same"), with another value ("differ"), or not at
all ("absent"). Prose blocks outside tables (the pair page's answer and breakdown, facts as
<dt>/<dd>, launch commands in <pre>, <summary> lines) are compared as exact texts (thousands
separators ignored). Exit status 0 unless a page Hugo renders is missing on the fitatlas side.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections import Counter
from html.parser import HTMLParser
from pathlib import Path

Key = tuple[str, str, str]


class TableReader(HTMLParser):
    """Cells of every <table>: {(caption, row header, column header): value}."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.cells: dict[Key, str] = {}
        self.depth = 0  # inside <table>
        self.caption = ""
        self.columns: list[str] = []
        self.row: list[tuple[str, str | None]] = []  # (text, data-sort) per cell
        self.text: list[str] | None = None  # collecting a cell or caption
        self.sort: str | None = None
        self.in_head = False
        self.blocks: Counter[tuple[str, str]] = Counter()  # (kind, text) of prose outside tables
        self.block: str | None = None
        self.block_text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        classes = (dict(attrs).get("class") or "").split()
        if self.block is None and (
            tag in ("pre", "dt", "dd", "summary")
            or (tag == "p" and {"answer", "breakdown"} & set(classes))
        ):
            self.block, self.block_text = (tag if tag != "p" else "answer"), []
        if tag == "table":
            self.depth += 1
            self.caption, self.columns = "", []
        elif not self.depth:
            return
        elif tag == "thead":
            self.in_head = True
        elif tag == "tr":
            self.row = []
        elif tag in ("td", "th", "caption"):
            self.text, self.sort = [], dict(attrs).get("data-sort")

    def handle_data(self, data: str) -> None:
        if self.text is not None:
            self.text.append(data)
        if self.block is not None:
            self.block_text.append(data)

    def handle_endtag(self, tag: str) -> None:
        if self.block is not None and (
            tag == self.block or (self.block == "answer" and tag == "p")
        ):
            text = re.sub(r"\s+", " ", "".join(self.block_text)).strip()
            self.blocks[(self.block, _ungroup(text))] += 1
            self.block = None
        if not self.depth:
            return
        if tag in ("td", "th", "caption") and self.text is not None:
            text = re.sub(r"\s+", " ", "".join(self.text)).strip()
            if tag == "caption":
                self.caption = text
            else:
                self.row.append((text, self.sort))
            self.text = None
        elif tag == "thead":
            self.in_head = False
        elif tag == "tr":
            if self.in_head:
                self.columns = [text for text, _ in self.row]
            elif self.row:
                label = self.row[0][0]
                for column, (text, sort) in zip(self.columns[1:], self.row[1:], strict=False):
                    self.cells[(self.caption, label, column)] = sort if sort is not None else text
        elif tag == "table":
            self.depth -= 1


def read_page(path: Path) -> TableReader:
    reader = TableReader()
    reader.feed(path.read_text(encoding="utf-8"))
    return reader


def read_cells(path: Path) -> dict[Key, str]:
    return read_page(path).cells


def _ungroup(text: str) -> str:
    return re.sub(r"(?<=\d),(?=\d{3})", "", text)


def same_value(a: str, b: str) -> bool:
    """Numbers compare as numbers (16.0 == 16); anything else as text."""
    try:
        x, y = float(a.replace(",", "")), float(b.replace(",", ""))
    except ValueError:  # text: thousands separators are styling
        return _ungroup(a) == _ungroup(b)
    return abs(x - y) <= 1e-9 * max(abs(x), abs(y), 1.0)


def pages_of(root: Path) -> set[str]:
    """Every HTML page of a built site, as site paths ('models/x/index.html')."""
    return {p.relative_to(root).as_posix() for p in root.rglob("*.html")}


def sample(hugo_pages: set[str], models: int, gpus: int, pairs: int) -> dict[str, list[str]]:
    """A fixed, spread-out sample of the page kinds both sides render."""
    model_pages = sorted(p for p in hugo_pages if re.fullmatch(r"models/[^/]+/index\.html", p))
    gpu_pages = sorted(p for p in hugo_pages if re.fullmatch(r"gpus/[^/]+/index\.html", p))
    pair_pages = sorted(p for p in hugo_pages if "/on/" in p)

    def spread(items: list[str], n: int) -> list[str]:
        step = max(1, len(items) // max(n, 1))
        return items[::step][:n]

    return {
        "home": ["index.html"],
        "indexes": ["models/index.html", "gpus/index.html"],
        "model": spread(model_pages, models),
        "GPU": spread(gpu_pages, gpus),
        "pair": spread(pair_pages, pairs),
    }


def compare(fitatlas: Path, hugo: Path, models: int, gpus: int, pairs: int) -> tuple[dict, list]:
    """Per page kind: Counter of same / differ / absent / hugo-only; plus examples of differ."""
    kinds = sample(pages_of(hugo), models, gpus, pairs)
    totals: dict[str, Counter[str]] = {}
    examples: list[str] = []
    for kind, pages in kinds.items():
        count: Counter[str] = Counter(pages=len(pages))
        for page in pages:
            our_page, their_page = read_page(fitatlas / page), read_page(hugo / page)
            ours, theirs = our_page.cells, their_page.cells
            kept = our_page.blocks & their_page.blocks
            count["text same"] += sum(kept.values())
            count["text absent"] += sum((our_page.blocks - their_page.blocks).values())
            for block, text in list((our_page.blocks - their_page.blocks).elements())[:2]:
                if len(examples) < 24:
                    examples.append(f"{page}: {block} only in fitatlas: {text[:160]!r}")
            for key, value in ours.items():
                if key not in theirs:
                    count["absent"] += 1
                elif same_value(value, theirs[key]):
                    count["same"] += 1
                else:
                    count["differ"] += 1
                    if len(examples) < 12:
                        examples.append(f"{page}: {key}: fitatlas {value!r}, hugo {theirs[key]!r}")
            count["hugo-only"] += sum(1 for key in theirs if key not in ours)
        totals[kind] = count
    return totals, examples


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("fitatlas", type=Path)
    parser.add_argument("hugo", type=Path)
    parser.add_argument("--models", type=int, default=4)
    parser.add_argument("--gpus", type=int, default=4)
    parser.add_argument("--pairs", type=int, default=40)
    args = parser.parse_args(argv)
    ours, theirs = pages_of(args.fitatlas), pages_of(args.hugo)
    print(
        f"fitatlas: {len(ours)} HTML pages; hugo: {len(theirs)}; "
        f"hugo pages missing from fitatlas: {len(theirs - ours)}; "
        f"fitatlas pages hugo does not render: {sorted(ours - theirs)}"
    )
    totals, examples = compare(args.fitatlas, args.hugo, args.models, args.gpus, args.pairs)
    for kind, c in totals.items():
        print(
            f"{kind:8} pages={c['pages']} fitatlas cells: same={c['same']} differ={c['differ']} "
            f"absent={c['absent']}; cells only in hugo={c['hugo-only']}; fitatlas prose blocks "
            f"(answers, facts, commands, summaries): same={c['text same']} "
            f"absent={c['text absent']}"
        )
    for line in examples:
        print("  differ:", line)
    return 1 if theirs - ours else 0


if __name__ == "__main__":
    sys.exit(main())

"""Lighthouse scores of the published site, recorded in bench/RESULTS.md under "Lighthouse".

    .venv/bin/python bench/lighthouse/run.py [--model ID] [--keep DIR]

Builds the site (production settings) for a local URL, serves it with Python's
http.server on 127.0.0.1 (started and stopped by its PID), and runs the pinned Lighthouse
(bench/lighthouse/package.json, installed with `npm ci` when missing) with Debian's Chromium on
the home page, one model page, the GPU catalog and the calculator (noted as absent when the build
has none). It records the four category scores per page and lists every audit under 100 in
accessibility and SEO. Lighthouse's defaults apply: mobile form factor, simulated throttling.
Scores, performance above all, vary from run to run and from machine to machine.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass
from datetime import date
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
RESULTS = ROOT / "bench" / "RESULTS.md"
START, END = "<!-- lighthouse:start -->", "<!-- lighthouse:end -->"
CATEGORIES = ("performance", "accessibility", "best-practices", "seo")
CHROME = os.environ.get("CHROME_PATH", "/usr/bin/chromium")
CHROME_FLAGS = (
    "--headless=new --no-sandbox --disable-gpu --disable-quic --no-first-run "
    "--disable-background-networking --disable-component-update --disable-sync"
)


@dataclass(frozen=True)
class Audit:
    """One page's result: category scores (0–100) and the audits that cost points."""

    label: str
    path: str
    scores: dict[str, int]
    lost: tuple[str, ...]  # "category: audit id (score)" for accessibility and SEO under 100


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def build(out: Path, base_url: str) -> None:
    subprocess.run(
        [sys.executable, "-m", "generator", "build", "--out", str(out), "--base-url", base_url],
        cwd=ROOT,
        check=True,
    )


def ensure_lighthouse() -> Path:
    binary = HERE / "node_modules" / ".bin" / "lighthouse"
    if not binary.exists():
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"], cwd=HERE,
                       check=True)  # fmt: skip
    return binary


def wait_until_served(url: str, seconds: float = 15) -> None:
    deadline = time.monotonic() + seconds
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def run_lighthouse(binary: Path, url: str, label: str, path: str, scratch: Path) -> Audit:
    report = scratch / f"{re.sub(r'[^a-z0-9]+', '-', label.lower())}.json"
    subprocess.run(
        [str(binary), url, "--quiet", f"--chrome-flags={CHROME_FLAGS}", "--output=json",
         f"--output-path={report}", f"--only-categories={','.join(CATEGORIES)}"],
        env={**os.environ, "CHROME_PATH": CHROME},
        check=True,
    )  # fmt: skip
    data = json.loads(report.read_text(encoding="utf-8"))
    scores = {c: round(100 * (data["categories"][c]["score"] or 0)) for c in CATEGORIES}
    lost = []
    for category in ("accessibility", "seo"):
        for ref in data["categories"][category]["auditRefs"]:
            audit = data["audits"][ref["id"]]
            if ref["weight"] > 0 and audit["score"] is not None and audit["score"] < 1:
                lost.append(f"{category}: {ref['id']} ({audit['score']:g}) — {audit['title']}")
    return Audit(label, path, scores, tuple(lost))


def commit_label() -> str:
    def git(*args: str) -> str:
        return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True,
                              check=False).stdout.strip()  # fmt: skip

    head = git("rev-parse", "--short", "HEAD") or "unknown"
    dirty = git("status", "--porcelain", "--", "generator", "templates", "content", "catalog")
    return head + ("+changes" if dirty else "")


def machine_label() -> str:
    cpu = "unknown CPU"
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        names = re.findall(r"model name\s*:\s*(.+)", cpuinfo.read_text(encoding="utf-8"))
        if names:
            cpu = names[0].strip()
    chromium = subprocess.run([CHROME, "--version"], capture_output=True, text=True, check=False)
    browser = chromium.stdout.strip()
    return f"{os.cpu_count()} CPUs ({cpu}), {browser}, Python {platform.python_version()}"


def section(audits: list[Audit], notes: list[str]) -> str:
    today = date.today().isoformat()
    lines = [
        START,
        "| page | path | performance | accessibility | best practices | SEO | date | commit |",
        "|---|---|---:|---:|---:|---:|---|---|",
    ]
    for a in audits:
        s = a.scores
        lines.append(
            f"| {a.label} | `{a.path}` | {s['performance']} | {s['accessibility']} | "
            f"{s['best-practices']} | {s['seo']} | {today} | {commit_label()} |"
        )
    lines.append("")
    lines.append(f"Machine: {machine_label()}.")
    lost = [f"- {a.label}: {item}" for a in audits for item in a.lost]
    lines.append("")
    lines.append("Accessibility and SEO audits under 100:" if lost else
                 "No accessibility or SEO audit scored under 100.")  # fmt: skip
    lines += lost
    lines += [f"- {note}" for note in notes] if notes else []
    lines.append(END)
    return "\n".join(lines)


INTRO = """## Lighthouse

Written by `bench/lighthouse/run.py` (`.venv/bin/python bench/lighthouse/run.py`): Lighthouse
12.2.3 (pinned in `bench/lighthouse/package.json`) with Debian's Chromium, headless, against a
production build served by `python -m http.server` on 127.0.0.1. Lighthouse's defaults: mobile
form factor, simulated slow-4G throttling. http.server sends nothing compressed, which static
hosts do, so performance here is on the low side; it also moves with the machine's load. Each
run replaces the table.

"""


def record(text: str) -> None:
    current = RESULTS.read_text(encoding="utf-8") if RESULTS.exists() else ""
    if START in current and END in current:
        head, rest = current.split(START, 1)
        updated = head + text + rest.split(END, 1)[1]
    else:
        updated = current.rstrip("\n") + "\n\n" + INTRO + text + "\n"
    RESULTS.write_text(updated, encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="llama-3.1-70b", help="model page to audit")
    parser.add_argument("--keep", type=Path, help="copy the Lighthouse JSON reports here")
    parser.add_argument("--no-record", action="store_true", help="print, do not edit RESULTS.md")
    args = parser.parse_args(argv)

    binary = ensure_lighthouse()
    port = free_port()
    origin = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryDirectory(prefix="fitatlas-lh-") as tmp:
        scratch = Path(tmp)
        site = scratch / "site"
        build(site, origin + "/")
        pages = [("Home", "/"), ("Model page", f"/models/{args.model}/"), ("GPU catalog", "/gpus/")]
        notes = []
        if (site / "calculator" / "index.html").exists():
            pages.append(("Calculator", "/calculator/"))
        else:
            notes.append("Calculator: not audited, the build has no /calculator/ page yet.")
        server = subprocess.Popen(
            [sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1",
             "--directory", str(site)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        try:
            wait_until_served(origin + "/")
            audits = [run_lighthouse(binary, origin + p, label, p, scratch) for label, p in pages]
        finally:
            server.terminate()
            server.wait(timeout=10)
        if args.keep:
            args.keep.mkdir(parents=True, exist_ok=True)
            for report in scratch.glob("*.json"):
                (args.keep / report.name).write_bytes(report.read_bytes())
    text = section(audits, notes)
    print(text)
    if not args.no_record:
        record(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Keep the trimmed real JSON examples in docs/json.md, and the accuracy tables of docs/estimation.md, equal to
what the tool prints today.

`python scripts/docs_examples.py check` lists every value of the example that differs from a fresh run, and
says whether the accuracy tables are current; `python scripts/docs_examples.py update` rewrites both in place
(strings trimmed with `…` keep their length). tests/test_docs.py runs the check.
"""

from __future__ import annotations

import json
import os
import re
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "json.md"
ESTIMATION = ROOT / "docs" / "estimation.md"
ACCURACY_START = "<!-- accuracy tables: scripts/docs_examples.py update -->"
ACCURACY_END = "<!-- end of accuracy tables -->"
VOLATILE = {"generated_at", "selfhost_version", "calibration_file"}
KEYS = ("id", "name", "rule", "parameter", "code", "gpu", "profile", "field", "tokens_per_day")
PROFILES = Path("profiles")  # relative, as the docs write them: the commands run in the repository root
FIXTURES = Path("tests") / "fixtures"


def _run(*argv: str) -> Any:
    """The command's JSON document; with --out, the file it wrote."""
    from selfhost_cli.cli import app

    here = os.getcwd()
    os.chdir(ROOT)
    try:
        out = CliRunner().invoke(app, list(argv))
    finally:
        os.chdir(here)
    if "--out" in argv:
        return json.loads(Path(argv[argv.index("--out") + 1]).read_text(encoding="utf-8"))
    return json.loads(out.stdout)


def _check_example() -> Any:
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp) / "base.json"
        _run("advise", str(PROFILES / "startup.yaml"), "--format", "json", "--out", str(base))
        return _run(
            "check",
            str(PROFILES / "startup.yaml"),
            str(PROFILES / "spiky-consumer.yaml"),
            "--baseline",
            str(base),
            "--max-increase-pct",
            "10",
            "--fail-on-decision-change",
            "--format",
            "json",
        )


def _diff_example() -> Any:
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp) / "base.json"
        _run("advise", str(PROFILES / "startup.yaml"), "--format", "json", "--out", str(base))
        proposed = Path(tmp) / "proposed.yaml"
        text = (PROFILES / "startup.yaml").read_text(encoding="utf-8")
        proposed.write_text(text + "compliance:\n  third_party_processing: forbidden\n", encoding="utf-8")
        doc = _run("diff", str(base), str(proposed), "--format", "json")
        doc["base"]["source"], doc["proposed"]["source"] = "base.json", "startup-forbidden.yaml"  # the doc's names
        return doc


def _calibrate_example() -> Any:
    with tempfile.TemporaryDirectory() as tmp:
        return _run(
            "calibrate", "import", str(FIXTURES / "vllm_bench_serve.json"), "--model", "llama-3.1-8b",
            "--gpu", "h100-sxm", "--gpus", "1", "--precision", "bf16", "--engine", "vllm",
            "--save", str(Path(tmp) / "cal.yaml"), "--format", "json",
        )  # fmt: skip


# Each JSON example of docs/json.md: the text just before its ```json block, and how to produce it today.
EXAMPLES: dict[str, Callable[[], Any]] = {
    "Trimmed real example (`selfhost advise profiles/startup.yaml --format json`": lambda: _run(
        "advise", str(PROFILES / "startup.yaml"), "--format", "json"
    ),
    "Real example (`selfhost estimate --model llama-3.3-70b --gpu h100-sxm --gpus 8 --tp 2 --precision fp8 "
    "--concurrency 128 --format json`)": lambda: _run(
        "estimate",
        "--model",
        "llama-3.3-70b",
        "--gpu",
        "h100-sxm",
        "--gpus",
        "8",
        "--tp",
        "2",
        "--precision",
        "fp8",
        "--concurrency",
        "128",
        "--format",
        "json",
    ),  # fmt: skip
    "Trimmed real example (`selfhost breakeven --model llama-4-70b --gpu h100-sxm --pricing spot "
    "--api-price-in 2.5 --api-price-out 10 --format json`)": lambda: _run(
        "breakeven",
        "--model",
        "llama-4-70b",
        "--gpu",
        "h100-sxm",
        "--pricing",
        "spot",
        "--api-price-in",
        "2.5",
        "--api-price-out",
        "10",
        "--format",
        "json",
    ),  # fmt: skip
    "Real example (`selfhost advise profiles/startup.yaml --format json --out base.json`, then": _check_example,
    "Real example (base = the saved startup result; proposed = startup with": _diff_example,
    "Trimmed real example (`selfhost accuracy --format json`)": lambda: _run("accuracy", "--format", "json"),
    "Real example (`selfhost calibrate import tests/fixtures/vllm_bench_serve.json": _calibrate_example,
    "Trimmed real example (`selfhost catalog apis together/llama-3.3-70b-instruct-turbo --format json`": lambda: _run(
        "catalog", "apis", "together/llama-3.3-70b-instruct-turbo", "--format", "json"
    ),
}
MARK = next(iter(EXAMPLES))


def _span(text: str, mark: str = MARK) -> tuple[int, int]:
    start = text.index("```json", text.index(mark)) + len("```json\n")
    return start, text.index("```", start)


def live() -> Any:
    return EXAMPLES[MARK]()


def _match(item: Any, pool: list[Any], n: int) -> Any:
    if isinstance(item, dict):
        key = next((k for k in KEYS if k in item), None)
        if key:
            return next((y for y in pool if isinstance(y, dict) and y.get(key) == item[key]), None)
    return pool[n] if n < len(pool) else None


def compare(example: Any, real: Any, path: str, fix: bool, found: list[str]) -> Any:
    """The example with each leaf checked (and, with `fix`, replaced) against the real output."""
    if isinstance(example, dict):
        out = {}
        for k, v in example.items():
            if k not in real:
                found.append(f"{path}.{k}: no longer printed")
                continue
            out[k] = v if k in VOLATILE else compare(v, real[k], f"{path}.{k}", fix, found)
        return out
    if isinstance(example, list):
        kept = []
        for n, item in enumerate(example):
            if item == "…":
                kept.append(item)
                continue
            other = _match(item, real, n)
            if other is None:
                found.append(f"{path}[{n}]: no such item today")
                continue
            kept.append(compare(item, other, f"{path}[{n}]", fix, found))
        return kept
    if isinstance(example, str) and "…" in example:
        head = example.split("…")[0]
        if not str(real).startswith(head):
            found.append(f"{path}: {example[:50]!r} vs {str(real)[:50]!r}")
            return str(real)[: len(head)] + "…" if fix else example
        return example
    if example != real:
        found.append(f"{path}: {example!r} vs {real!r}")
        return real if fix else example
    return example


def accuracy_tables() -> str:
    """The summary (fitted and held out, per engine) and every scored row, as Markdown."""
    from selfhost_cli import catalog
    from selfhost_cli.calibration import accuracy, bundled_rows
    from selfhost_cli.render.estimate_view import accuracy_summary_rows
    from selfhost_cli.render.markdown import md_table

    acc = accuracy(catalog.bundled(), bundled_rows())
    headline = (
        f"**Median absolute error on every row: {acc.overall:.1f}%** — "
        + ", ".join(f"{k} {v:.1f}%" for k, v in acc.by_engine.items())
        + (f"; TPOT (where measured) {acc.tpot_overall:.1f}%." if acc.tpot_overall is not None else ".")
    )
    summary = md_table(
        ["", "fitted (`calibrate`)", "rows", "held out (`validate`)", "rows"], accuracy_summary_rows(acc, "**overall**")
    )
    rows = []
    for p in acc.predictions:
        r = p.row
        predicted = "—" if p.predicted_output_tokens_per_s is None else f"{p.predicted_output_tokens_per_s:,.1f}"
        error = ("rate-limited" if r.scenario == "online" else "—") if p.error_pct is None else f"{p.error_pct:+.1f}%"
        rows.append(
            (r.id, r.use, r.engine.value if r.engine else "", f"{r.gpus}× {r.gpu}", r.model, r.precision.value)
            + (r.scenario, f"{r.measured_output_tokens_per_s:,.1f}", predicted, error)
        )
    headers = ["row", "use", "engine", "hardware", "model", "prec", "scenario", "measured", "predicted", "error"]
    return "\n".join([ACCURACY_START, headline, "", summary, md_table(headers, rows) + ACCURACY_END])


def _accuracy_span(text: str) -> tuple[int, int]:
    return text.index(ACCURACY_START), text.index(ACCURACY_END) + len(ACCURACY_END)


# A trimmed example may leave out list items with a bare `…` line: read as the string "…", skipped, written back.
_ELIDED = re.compile(r"^(\s*)…(,?)$", re.M)
_QUOTED_ELISION = re.compile(r'^(\s*)"…",?$', re.M)


def _unelide(block: str) -> str:
    """The example as JSON: each bare `…` line an item "…" (with the commas JSON needs)."""
    text = _ELIDED.sub(r'\1"…",', block)
    return re.sub(r",(\s*[\]}])", r"\1", text)


def check_examples(fix: bool) -> list[str]:
    """Every JSON example against a fresh run (with `fix`, rewritten in place); what differs."""
    text = DOC.read_text(encoding="utf-8")
    found: list[str] = []
    for mark, produce in EXAMPLES.items():
        start, end = _span(text, mark)
        differs: list[str] = []
        fixed = compare(json.loads(_unelide(text[start:end])), produce(), "", fix, differs)
        found += [f"{mark[:40]}…: {d}" for d in differs]
        if fix and differs:
            dumped = _QUOTED_ELISION.sub(r"\1…", json.dumps(fixed, indent=2, ensure_ascii=False))
            text = text[:start] + dumped + "\n" + text[end:]
    if fix:
        DOC.write_text(text, encoding="utf-8")
    return found


PROFILE_DOC = ROOT / "docs" / "profile.md"
# A ```yaml block, then the block of what `selfhost advise eN.yaml` prints for it (its first line names the file).
_ERROR_EXAMPLE = re.compile(
    r"```yaml\n(?P<yaml>(?:(?!```).)*?)```\n```\n(?P<out>selfhost: error: (?P<file>e\d+\.yaml):(?:(?!```).)*?)```", re.S
)
# `$ selfhost advise ok.yaml --set ...` lines, each followed by what it prints (up to the next `$` or the fence).
_SET_EXAMPLE = re.compile(r"^\$ selfhost advise ok\.yaml --set (?P<item>\S+)\n(?P<out>(?:(?!\$ |```).*\n)+)", re.M)


def _stderr(argv: list[str], files: dict[str, str]) -> str:
    """What the command prints on stderr, run in a folder holding `files`, warnings left out."""
    import tempfile

    from selfhost_cli.cli import app

    here = os.getcwd()
    with tempfile.TemporaryDirectory() as folder:
        for name, body in files.items():
            Path(folder, name).write_text(body, encoding="utf-8")
        os.chdir(folder)
        try:
            out = CliRunner().invoke(app, argv)
        finally:
            os.chdir(here)
    return "".join(line + "\n" for line in out.stderr.splitlines() if not line.startswith("warning:"))


def check_error_examples(fix: bool) -> list[str]:
    """docs/profile.md's error examples against fresh runs (with `fix`, rewritten in place); what differs."""
    text = PROFILE_DOC.read_text(encoding="utf-8")
    ok = (ROOT / "profiles" / "startup.yaml").read_text(encoding="utf-8")
    found: list[str] = []
    for pattern, run in (
        (_ERROR_EXAMPLE, lambda m: _stderr(["advise", m["file"]], {m["file"]: m["yaml"]})),
        (_SET_EXAMPLE, lambda m: _stderr(["advise", "ok.yaml", "--set", m["item"]], {"ok.yaml": ok})),
    ):
        for m in reversed(list(pattern.finditer(text))):
            printed = run(m)
            if printed != m["out"]:
                found.append(f"docs/profile.md: {m.group(0).splitlines()[0][:60]}: prints {printed.splitlines()[:1]}")
                if fix:
                    text = text[: m.start("out")] + printed + text[m.end("out") :]
    if fix:
        PROFILE_DOC.write_text(text, encoding="utf-8")
    return found


def main(mode: str) -> int:
    found = check_examples(mode == "update") + check_error_examples(mode == "update")
    est = ESTIMATION.read_text(encoding="utf-8")
    a, b = _accuracy_span(est)
    tables = accuracy_tables()
    if est[a:b] != tables:
        found.append("docs/estimation.md: the accuracy tables differ from `selfhost accuracy`")
        if mode == "update":
            ESTIMATION.write_text(est[:a] + tables + est[b:], encoding="utf-8")
    print("\n".join(found) or "docs/json.md examples and docs/estimation.md accuracy tables match the tool")
    return 1 if found and mode == "check" else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "check"))

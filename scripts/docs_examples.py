"""Keep the trimmed real JSON examples in docs/json.md, and the accuracy tables of docs/estimation.md, equal to
what the tool prints today.

`python scripts/docs_examples.py check` lists every value of the example that differs from a fresh run, and
says whether the accuracy tables are current; `python scripts/docs_examples.py update` rewrites both in place
(strings trimmed with `…` keep their length). tests/test_docs.py runs the check.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "json.md"
ESTIMATION = ROOT / "docs" / "estimation.md"
ACCURACY_START = "<!-- accuracy tables: scripts/docs_examples.py update -->"
ACCURACY_END = "<!-- end of accuracy tables -->"
MARK = "Trimmed real example (`selfhost advise profiles/startup.yaml --format json`"
VOLATILE = {"generated_at", "selfhost_version"}
KEYS = ("id", "name", "rule", "parameter", "code", "gpu")


def _span(text: str) -> tuple[int, int]:
    start = text.index("```json", text.index(MARK)) + len("```json\n")
    return start, text.index("```", start)


def live() -> Any:
    from selfhost_cli.cli import app

    out = CliRunner().invoke(app, ["advise", str(ROOT / "profiles" / "startup.yaml"), "--format", "json"])
    return json.loads(out.stdout)


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


def _pct(figure: tuple[float, int] | None) -> tuple[str, str]:
    return ("—", "0") if figure is None else (f"{figure[0]:.1f}%", str(figure[1]))


def accuracy_tables() -> str:
    """The summary (fitted and held out, per engine) and every scored row, as Markdown."""
    from selfhost_cli import catalog
    from selfhost_cli.calibration import accuracy, bundled_rows

    acc = accuracy(catalog.bundled(), bundled_rows())
    lines = [
        ACCURACY_START,
        f"**Median absolute error on every row: {acc.overall:.1f}%** — "
        + ", ".join(f"{k} {v:.1f}%" for k, v in acc.by_engine.items())
        + (f"; TPOT (where measured) {acc.tpot_overall:.1f}%." if acc.tpot_overall is not None else "."),
        "",
        "| | fitted (`calibrate`) | rows | held out (`validate`) | rows |",
        "| --- | --- | --- | --- | --- |",
    ]
    for engine in acc.by_engine:
        fitted, held = _pct(acc.fitted.by_engine.get(engine)), _pct(acc.held_out.by_engine.get(engine))
        lines.append(f"| {engine} | {fitted[0]} | {fitted[1]} | {held[0]} | {held[1]} |")
    for name, split in (("**overall**", None), ("TPOT (where measured)", "tpot")):
        f, h = acc.fitted, acc.held_out
        if split is None:
            pair = (
                _pct((f.overall, f.rows) if f.overall is not None else None),
                _pct((h.overall, h.rows) if h.overall is not None else None),
            )
        else:
            pair = (
                _pct((f.tpot, f.tpot_rows) if f.tpot is not None else None),
                _pct((h.tpot, h.tpot_rows) if h.tpot is not None else None),
            )
        lines.append(f"| {name} | {pair[0][0]} | {pair[0][1]} | {pair[1][0]} | {pair[1][1]} |")
    lines += [
        "",
        "| row | use | engine | hardware | model | prec | scenario | measured | predicted | error |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for p in acc.predictions:
        r = p.row
        predicted = "—" if p.predicted_output_tokens_per_s is None else f"{p.predicted_output_tokens_per_s:,.1f}"
        error = ("rate-limited" if r.scenario == "online" else "—") if p.error_pct is None else f"{p.error_pct:+.1f}%"
        lines.append(
            f"| {r.id} | {r.use} | {r.engine.value if r.engine else ''} | {r.gpus}× {r.gpu} | {r.model} | "
            f"{r.precision.value} | {r.scenario} | {r.measured_output_tokens_per_s:,.1f} | {predicted} | {error} |"
        )
    return "\n".join([*lines, ACCURACY_END])


def _accuracy_span(text: str) -> tuple[int, int]:
    return text.index(ACCURACY_START), text.index(ACCURACY_END) + len(ACCURACY_END)


def main(mode: str) -> int:
    text = DOC.read_text(encoding="utf-8")
    start, end = _span(text)
    found: list[str] = []
    fixed = compare(json.loads(text[start:end]), live(), "", mode == "update", found)
    if mode == "update":
        DOC.write_text(text[:start] + json.dumps(fixed, indent=2, ensure_ascii=False) + "\n" + text[end:])
    est = ESTIMATION.read_text(encoding="utf-8")
    a, b = _accuracy_span(est)
    tables = accuracy_tables()
    if est[a:b] != tables:
        found.append("docs/estimation.md: the accuracy tables differ from `selfhost accuracy`")
        if mode == "update":
            ESTIMATION.write_text(est[:a] + tables + est[b:], encoding="utf-8")
    print("\n".join(found) or "docs/json.md example and docs/estimation.md accuracy tables match the tool")
    return 1 if found and mode == "check" else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "check"))

"""Keep the trimmed real JSON examples in docs/json.md equal to what the tool prints today.

`python scripts/docs_examples.py check` lists every value of the example that differs from a fresh run;
`python scripts/docs_examples.py update` rewrites those values in place (strings trimmed with `…` keep
their length). tests/test_docs.py runs the check.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "json.md"
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


def main(mode: str) -> int:
    text = DOC.read_text(encoding="utf-8")
    start, end = _span(text)
    found: list[str] = []
    fixed = compare(json.loads(text[start:end]), live(), "", mode == "update", found)
    if mode == "update":
        DOC.write_text(text[:start] + json.dumps(fixed, indent=2, ensure_ascii=False) + "\n" + text[end:])
    print("\n".join(found) or "docs/json.md example matches the tool")
    return 1 if found and mode == "check" else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "check"))

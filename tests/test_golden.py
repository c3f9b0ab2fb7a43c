"""Golden files: the rendered advise table (at 120 and 80 columns), Markdown and JSON for shipped profiles at a fixed
date.

Regenerate after an intended change with SELFHOST_UPDATE_GOLDEN=1 and review the diff.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path

import pytest

from selfhost_cli import catalog
from selfhost_cli.advise import advise
from selfhost_cli.cli import render_table
from selfhost_cli.profile import load_profile
from selfhost_cli.render import json_ as jr
from selfhost_cli.render.markdown import advice_markdown
from selfhost_cli.render.table import advice_view

ROOT = Path(__file__).resolve().parent.parent
GOLDEN = Path(__file__).parent / "golden"
TODAY = dt.date(2026, 11, 27)
NOW = dt.datetime(2026, 11, 27, 12, 0, tzinfo=dt.timezone.utc)
CASES = ["healthcare-phi", "startup", "research-lab"]


def check(name: str, text: str) -> None:
    path = GOLDEN / name
    if os.environ.get("SELFHOST_UPDATE_GOLDEN"):
        path.write_text(text, encoding="utf-8")
    assert path.exists(), f"missing golden {path}; run with SELFHOST_UPDATE_GOLDEN=1"
    assert text == path.read_text(encoding="utf-8"), f"{name} differs from its golden file"


def _advice(case: str):
    profile, _ = load_profile(ROOT / "profiles" / f"{case}.yaml")
    return advise(profile, catalog.bundled(), today=TODAY)


@pytest.mark.parametrize("case", CASES)
def test_advise_table_golden(case: str) -> None:
    check(f"{case}.table.txt", render_table(advice_view(_advice(case)), width=120))


@pytest.mark.parametrize("case", CASES)
def test_advise_table_golden_at_80_columns(case: str) -> None:
    """A terminal's default width: tables that cannot keep their ids whole show each row as a record."""
    check(f"{case}.table80.txt", render_table(advice_view(_advice(case)), width=80))


@pytest.mark.parametrize("case", CASES)
def test_advise_markdown_golden(case: str) -> None:
    check(f"{case}.md", advice_markdown(_advice(case)))


@pytest.mark.parametrize("case", CASES)
def test_advise_json_golden(case: str) -> None:
    advice = _advice(case)
    doc = jr.envelope("advise", jr.advice_payload(advice), advice.warnings, advice.prices_as_of, now=NOW)
    text = jr.dumps(doc)
    json.loads(text)  # one valid document
    check(f"{case}.json", text)

"""Tables people read, at 80 and 120 columns (issue 9): no id, date or money figure broken across lines, no line
wider than the terminal, no scientific notation or Python literal — for every shipped profile and listing."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from selfhost_cli import catalog
from selfhost_cli.advise import Advice, advise
from selfhost_cli.calibration import accuracy, bundled_rows
from selfhost_cli.cli import app, render_table
from selfhost_cli.profile import load_profile
from selfhost_cli.render import catalog_view
from selfhost_cli.render.estimate_view import accuracy_table
from selfhost_cli.render.table import advice_view, alternatives_rows

ROOT = Path(__file__).resolve().parent.parent
PROFILES = sorted((ROOT / "profiles").glob("*.yaml"))
TODAY = dt.date(2026, 12, 1)
WIDTHS = (80, 120)
CAT = catalog.bundled()
RAW = re.compile(r"\d\.?\d*e[+-]\d|\bNone\b|\bTrue\b|\bFalse\b|\['")


def _advice(path: Path) -> Advice:
    profile, _ = load_profile(path)
    return advise(profile, CAT, today=TODAY)


def _whole_words(advice: Advice) -> set[str]:
    """What must never be split: every option, GPU and offering id and every date the tables show."""
    shown = [row[0] for row in alternatives_rows(advice)] if len(advice.alternatives) > 1 else []
    words = {o.id for o in advice.options} | (set(shown) - {"…"})
    words |= {a.as_of for a in advice.assumptions if a.as_of}
    return {w for w in words if w}


def _check(text: str, width: int, words: set[str]) -> None:
    lines = text.splitlines()
    assert max(len(line) for line in lines) <= width
    flat = "\n".join(lines)
    for word in sorted(words):
        assert word in flat, f"{word!r} is broken across lines (or missing) at {width} columns"
    assert not RAW.search(flat), RAW.search(flat)


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("path", PROFILES, ids=lambda p: p.stem)
def test_advise_tables_keep_ids_and_dates_whole(path: Path, width: int) -> None:
    advice = _advice(path)
    _check(render_table(advice_view(advice), width=width), width, _whole_words(advice))


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("kind", ["models", "gpus", "apis"])
def test_catalog_listings_keep_ids_whole_and_stay_short(kind: str, width: int) -> None:
    entries = list(getattr(CAT, kind).values())
    text = render_table(catalog_view.table(kind, entries), width=width)
    _check(text, width, {e.id for e in entries} | {e.as_of.isoformat() for e in entries})
    assert len(text.splitlines()) <= 2 * len(entries) + 12  # a listing, not a record per entry


@pytest.mark.parametrize("width", WIDTHS)
def test_accuracy_keeps_row_ids_whole(width: int) -> None:
    acc = accuracy(CAT, bundled_rows())
    text = render_table(accuracy_table(acc), width=width)
    _check(text, width, {p.row.id for p in acc.predictions})
    assert len(text.splitlines()) <= 2 * len(acc.predictions) + 20


@pytest.mark.parametrize("width", WIDTHS)
def test_breakeven_screen_keeps_ids_whole(width: int) -> None:
    result = CliRunner().invoke(app, ["--no-color", "breakeven", "--model", "llama-4-70b"], env={"COLUMNS": str(width)})
    assert result.exit_code == 0, result.output
    ids = set(re.findall(r"(?:API|frontier): ([a-z0-9.\-]+/[a-z0-9.\-]+)", result.stdout))
    assert ids, "the screen names the offerings it compares with"
    _check(result.stdout, width, ids | {g for g in CAT.gpus if g in result.stdout})

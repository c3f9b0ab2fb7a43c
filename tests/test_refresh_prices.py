"""scripts/refresh_prices.py: the release report of bundled prices against public price files."""

from __future__ import annotations

import datetime as dt
import importlib.util
from pathlib import Path

from selfhost_cli import catalog

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).parent / "fixtures" / "prices"


def _script():
    spec = importlib.util.spec_from_file_location("refresh_prices", ROOT / "scripts" / "refresh_prices.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_report_names_changed_prices_unlisted_offerings_and_old_rows() -> None:
    cat = catalog.bundled()
    text = _script().report(
        cat, [("litellm", FIXTURES / "litellm_sample.json")], dt.date(2026, 11, 30), dt.date(2026, 12, 1)
    )
    changed = text.split("## Prices that differ")[1].split("##")[0]
    bundled = cat.apis["fireworks/deepseek-v3"]
    assert "`fireworks/deepseek-v3`" in changed and f"${bundled.input_usd_per_1m:g}" in changed
    unlisted = text.split("## Bundled offerings no file lists")[1].split("##")[0]
    assert "`together/llama-3.3-70b-instruct-turbo`" not in unlisted  # the sample lists it
    assert "`anthropic/claude-haiku-4.5`" in unlisted
    old = text.split("## Rows older than 180 days")[1]
    stale = [g for g in cat.gpus.values() for p in g.prices if (dt.date(2026, 12, 1) - p.as_of).days > 180]
    assert stale and f"`{stale[0].id}`" in old


def test_the_script_needs_a_public_file(capsys) -> None:
    import pytest

    with pytest.raises(SystemExit):
        _script().main(["--as-of", "2026-11-30"])
    assert "give at least one public file" in capsys.readouterr().err

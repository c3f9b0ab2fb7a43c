"""How numbers read in tables (render/format.py): one place, one spelling."""

from __future__ import annotations

import pytest

from selfhost_cli.render.format import source_cell, tokens, unit_usd, usd


@pytest.mark.parametrize(
    ("value", "text"),
    [(0.125, "$0.125"), (0.4, "$0.40"), (10.0, "$10.00"), (0.0275, "$0.0275"), (0.00116, "$0.00116"), (0.88, "$0.88")],
)
def test_unit_prices_keep_their_digits_and_show_cents(value: float, text: str) -> None:
    assert unit_usd(value) == text


@pytest.mark.parametrize(("value", "text"), [(27_375e6, "27.4B"), (3e6, "3M"), (1.2e9, "1.2B"), (950.0, "950")])
def test_token_volumes(value: float, text: str) -> None:
    assert tokens(value) == text


def test_money() -> None:
    assert (usd(58.4), usd(21_575.2), usd(None)) == ("$58.40", "$21,575", "unknown")


def test_source_cell_keeps_whole_references_then_counts_the_rest() -> None:
    source = "https://a.example/prices; b-org/repo data/prices.csv; https://c.example/page"
    assert source_cell(source, 200) == source
    assert source_cell(source, 60) == "https://a.example/prices; b-org/repo data/prices.csv; +1 more"
    assert source_cell("x" * 50, 20) == "x" * 19 + "…"

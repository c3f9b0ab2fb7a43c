"""budget.py: CI gates over advise results (monthly budget, increase over a baseline, decision change, stale prices)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from selfhost_cli.advise import Advice, advise
from selfhost_cli.advise.notes import Warning
from selfhost_cli.advise.options import Option
from selfhost_cli.budget import Baseline, Limits, evaluate_gates
from selfhost_cli.catalog import bundled
from selfhost_cli.enums import Decision, OptionKind, WarningCode
from selfhost_cli.profile import Profile, load_profile

PROFILES = Path(__file__).resolve().parent.parent / "profiles"


@cache
def _startup() -> Advice:
    return advise(load_profile(PROFILES / "startup.yaml")[0], bundled(), today=dt.date(2026, 12, 1), with_flips=False)


def make_advice(
    monthly_usd: float | None, decision: Decision = Decision.API, warnings: tuple[Warning, ...] = ()
) -> Advice:
    """A real Advice whose chosen option costs exactly `monthly_usd` (None = unknown)."""
    option = Option(OptionKind(decision.value), "x", None, (), monthly_usd)
    return dataclasses.replace(
        _startup(), decision=decision, options=[option], chosen=option, warning_items=list(warnings)
    )


def gate(result, name):
    found = [g for g in result.gates if g.name == name]
    assert len(found) == 1, result.gates
    return found[0]


def test_no_limits_no_gates():
    result = evaluate_gates(make_advice(100.0), Limits(), None)
    assert result.gates == [] and result.passed


@pytest.mark.parametrize(
    ("cost", "limit", "passed"), [(4_000.0, 5_000.0, True), (5_000.0, 5_000.0, True), (5_000.01, 5_000.0, False)]
)
def test_max_monthly_usd(cost, limit, passed):
    result = evaluate_gates(make_advice(cost), Limits(max_monthly_usd=limit), None)
    g = gate(result, "max_monthly_usd")
    assert g.passed is passed and result.passed is passed
    assert g.limit == limit and g.value == pytest.approx(cost)


def test_increase_usd_and_pct_against_a_baseline():
    # $1,150 now vs $1,000 before: +$150, +15%
    baseline = Baseline("api", 1_000.0, "old.json")
    ok = evaluate_gates(make_advice(1_150.0), Limits(max_increase_usd=200, max_increase_pct=20), baseline)
    assert gate(ok, "max_increase_usd").value == pytest.approx(150.0)
    assert gate(ok, "max_increase_pct").value == pytest.approx(15.0)
    assert ok.passed
    too_much = evaluate_gates(make_advice(1_150.0), Limits(max_increase_usd=100, max_increase_pct=10), baseline)
    assert not gate(too_much, "max_increase_usd").passed
    assert not gate(too_much, "max_increase_pct").passed
    assert not too_much.passed


def test_a_decrease_passes_increase_gates():
    result = evaluate_gates(
        make_advice(800.0), Limits(max_increase_usd=0, max_increase_pct=0), Baseline("api", 1_000.0, "old.json")
    )
    assert gate(result, "max_increase_pct").value == pytest.approx(-20.0)
    assert result.passed


def test_decision_change_gate():
    limits = Limits(fail_on_decision_change=True)
    same = evaluate_gates(make_advice(100.0, Decision.API), limits, Baseline("api", 100.0, "old.json"))
    assert gate(same, "decision_unchanged").passed
    changed = evaluate_gates(make_advice(100.0, Decision.API), limits, Baseline("self_host", 100.0, "old.json"))
    g = gate(changed, "decision_unchanged")
    assert not g.passed and g.limit == "self_host" and g.value == "api"
    assert not changed.passed
    # without the flag a changed decision is not a gate
    assert evaluate_gates(make_advice(100.0), Limits(), Baseline("self_host", 100.0, "old.json")).gates == []


@pytest.mark.parametrize(
    ("warnings", "passed"),
    [
        ((), True),
        ((Warning(WarningCode.STALE_PRICE, "stale price: openai/gpt-4.1-mini as of 2025-01-01"),), False),
        ((Warning(WarningCode.PRICE_UNKNOWN, "no reserved_3y price for h100-sxm"),), False),
        ((Warning(WarningCode.RETIRING, "openai/gpt-5 shuts down on 2026-12-11 (https://...)"),), False),
        ((Warning(WarningCode.FLEET_SHORT, "no price is named here, but the fleet is short"),), True),
    ],
)
def test_strict_stale_or_unknown_price_gate(warnings, passed):
    result = evaluate_gates(make_advice(100.0, warnings=warnings), Limits(strict=True), None)
    assert gate(result, "prices_known_and_fresh").passed is passed
    # not strict: warnings are only warnings
    assert evaluate_gates(make_advice(100.0, warnings=warnings), Limits(), None).passed


def test_unknown_cost_fails_budget_gates():
    unknown = make_advice(None, Decision.SELF_HOST)
    assert unknown.chosen_monthly_usd is None
    result = evaluate_gates(
        unknown,
        Limits(max_monthly_usd=1e9, max_increase_usd=1e9, max_increase_pct=1e9),
        Baseline("self_host", 1_000.0, "old.json"),
    )
    assert not gate(result, "max_monthly_usd").passed
    assert not gate(result, "max_increase_usd").passed
    assert not gate(result, "max_increase_pct").passed
    assert gate(result, "max_monthly_usd").value is None
    assert not result.passed


def test_unknown_cost_from_a_real_profile_fails_the_budget():
    # healthcare-phi must self-host; priced at reserved_3y (no rows for h100-sxm) and without its own price,
    # its cost is unknown: the $60k budget gate must fail, not pass as $0
    p, _ = load_profile(PROFILES / "healthcare-phi.yaml")
    doc = p.model_dump(exclude_unset=True)
    doc["self_hosting"] = {**doc["self_hosting"], "pricing": "reserved_3y", "gpu_hourly_usd": None}
    a = advise(Profile.model_validate(doc), bundled(), today=dt.date(2026, 12, 1), with_flips=False)
    result = evaluate_gates(a, Limits(max_monthly_usd=60_000, strict=True), None)
    assert not gate(result, "max_monthly_usd").passed
    assert not gate(result, "prices_known_and_fresh").passed


def test_unknown_baseline_cost_fails_configured_increase_gates():
    result = evaluate_gates(
        make_advice(1_000.0), Limits(max_increase_usd=100, max_increase_pct=10), Baseline("self_host", None, "old.json")
    )
    names = {g.name for g in result.gates}
    assert {"max_increase_usd", "max_increase_pct"} <= names
    assert not result.passed


def test_gate_result_reports_profile_decision_and_cost():
    result = evaluate_gates(make_advice(1234.567), Limits(max_monthly_usd=2000), None)
    assert result.profile == _startup().profile_name
    assert result.decision == "api"
    assert result.monthly_usd == pytest.approx(1234.57, abs=0.01)


# ---------------------------------------------------------------- baselines per profile


def _check(*args: str) -> Any:
    from typer.testing import CliRunner

    from selfhost_cli.cli import app

    return CliRunner().invoke(app, ["check", *args])


def test_a_check_result_is_a_baseline_for_every_profile_it_holds(tmp_path: Path) -> None:
    profiles = sorted(str(p) for p in (Path(__file__).resolve().parent.parent / "profiles").glob("*.yaml"))
    main = tmp_path / "main.json"
    first = _check(*profiles, "--format", "json", "--out", str(main))
    assert first.exit_code in (0, 1), first.output
    again = _check(
        *profiles, "--baseline", str(main), "--max-increase-pct", "10", "--fail-on-decision-change", "--format", "json"
    )
    assert again.exit_code in (0, 1), again.output
    doc = json.loads(again.stdout)
    for r in doc["results"]:  # each compared with itself, never with another profile's cost
        assert r["baseline"] == "matched" and r["change_usd"] == 0.0, r
        assert all(g["passed"] for g in r["gates"] if g["name"] in ("max_increase_pct", "decision_unchanged"))
    assert doc["removed"] == [] and doc["totals"]["change_usd"] == 0.0


def test_new_and_removed_profiles_are_reported_as_such(tmp_path: Path) -> None:
    root = Path(__file__).resolve().parent.parent / "profiles"
    main = tmp_path / "main.json"
    _check(str(root / "startup.yaml"), str(root / "spiky-consumer.yaml"), "--format", "json", "--out", str(main))
    result = _check(
        str(root / "startup.yaml"),
        str(root / "eu-residency.yaml"),
        "--baseline",
        str(main),
        "--max-increase-pct",
        "10",
        "--format",
        "json",
    )
    doc = json.loads(result.stdout)
    status = {r["profile"]: r["baseline"] for r in doc["results"]}
    assert status["startup-support-bot"] == "matched" and "new" in status.values()
    assert len(doc["removed"]) == 1
    new = next(r for r in doc["results"] if r["baseline"] == "new")
    assert new["change_usd"] is None and not [g for g in new["gates"] if g["name"] == "max_increase_pct"]


def test_a_folder_of_results_is_a_baseline(tmp_path: Path) -> None:
    root = Path(__file__).resolve().parent.parent / "profiles"
    folder = tmp_path / "base"
    folder.mkdir()
    for name in ("startup", "spiky-consumer"):
        _check(str(root / f"{name}.yaml"), "--format", "json", "--out", str(folder / f"{name}.json"))
    result = _check(
        str(root / "startup.yaml"),
        str(root / "spiky-consumer.yaml"),
        "--baseline",
        str(folder),
        "--max-increase-usd",
        "1",
        "--format",
        "json",
    )
    assert result.exit_code == 0, result.output
    assert all(r["baseline"] == "matched" for r in json.loads(result.stdout)["results"])


def test_no_material_change_is_said_instead_of_a_table(tmp_path: Path) -> None:
    root = Path(__file__).resolve().parent.parent / "profiles"
    main = tmp_path / "main.json"
    _check(str(root / "startup.yaml"), "--format", "json", "--out", str(main))
    quiet = _check(str(root / "startup.yaml"), "--baseline", str(main), "--min-change-pct", "1", "--format", "markdown")
    assert "No material change: 1 profile(s), each within ±1% of its baseline" in quiet.stdout
    assert "| profile |" not in quiet.stdout
    loud = _check(str(root / "startup.yaml"), "--baseline", str(main), "--format", "markdown")
    assert "| profile |" in loud.stdout

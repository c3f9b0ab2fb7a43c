"""advise: decisions on the example profiles, the options' costs, unknown prices, volume scaling, flip points."""

from __future__ import annotations

import datetime as dt
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from selfhost_cli.advise import Advice, advise
from selfhost_cli.catalog import bundled
from selfhost_cli.costs import HOURS_PER_MONTH
from selfhost_cli.enums import Decision, Effect
from selfhost_cli.profile import Profile, load_profile
from selfhost_cli.render.json_ import breakdown

PROFILES = Path(__file__).resolve().parent.parent / "profiles"
CATALOG = bundled()
TODAY = dt.date(2026, 12, 1)


@cache
def profile(name: str) -> Profile:
    return load_profile(PROFILES / name)[0]


@cache
def advice(name: str) -> Advice:
    return advise(profile(name), CATALOG, today=TODAY, with_flips=False)


def with_changes(p: Profile, section: str, **changes: Any) -> Profile:
    """The profile with `section` keys changed, validated again (enums from strings, bounds)."""
    doc = p.model_dump(exclude_unset=True)
    doc[section] = {**doc.get(section, {}), **changes}
    return Profile.model_validate(doc)


def at_volume(p: Profile, tokens_per_day: float) -> Profile:
    return with_changes(p, "workload", tokens_per_day=tokens_per_day)


def test_example_profiles_exist():
    assert {p.name for p in PROFILES.glob("*.yaml")} >= {
        "healthcare-phi.yaml",
        "startup.yaml",
        "high-volume-steady.yaml",
    }


# ---------------------------------------------------------------- SPEC §1: the healthcare worked example


def test_healthcare_phi_self_hosts_for_compliance():
    a = advice("healthcare-phi.yaml")
    assert a.decision is Decision.SELF_HOST
    assert any(r.effect is Effect.REQUIRES_SELF_HOST for r in a.reasons)
    assert "third_party_processing" in {r.rule for r in a.reasons if r.effect is Effect.REQUIRES_SELF_HOST}
    # the API is priced for comparison but not eligible
    apis = [o for o in a.options if o.kind == "api"]
    assert apis and all(not o.eligible and "third_party_processing" in o.excluded_by for o in apis)


def test_healthcare_phi_gpu_cost_is_8_h100_at_4_28():
    # 8 GPUs × 730 h × $4.28 = $24,995.20 a month of GPU-hours (SPEC §1: "about $25k/month")
    own = advice("healthcare-phi.yaml").option("self_host")
    assert own is not None and own.eligible
    assert breakdown(own)["gpu_usd"] == pytest.approx(8 * 730 * 4.28)
    assert breakdown(own)["gpu_usd"] == pytest.approx(24_995.2)
    assert breakdown(own)["gpu_hours"] == pytest.approx(8 * HOURS_PER_MONTH)
    assert own.capacity is not None and own.capacity.gpus == 8
    # fully loaded: + 1 FTE × $200,000 / 12 + $2,000 other
    assert own.monthly_usd == pytest.approx(24_995.2 + 200_000 / 12 + 2_000)


def test_healthcare_phi_chosen_cost_is_the_self_hosted_one():
    a = advice("healthcare-phi.yaml")
    assert a.chosen_monthly_usd == pytest.approx(a.option("self_host").monthly_usd)


# ---------------------------------------------------------------- startup: the API wins by a wide margin


def test_startup_uses_the_api():
    a = advice("startup.yaml")
    assert a.decision is Decision.API
    own = a.option("self_host")
    cheapest_api = min(o.monthly_usd for o in a.options if o.kind == "api")
    assert a.chosen_monthly_usd == pytest.approx(cheapest_api)
    assert own.monthly_usd > 10 * cheapest_api


def test_startup_cost_reason_says_how_many_times_more_self_hosting_costs():
    a = advice("startup.yaml")
    cost = [r for r in a.reasons if r.rule == "cost"]
    assert len(cost) == 1 and cost[0].effect is Effect.FAVORS_API
    times = a.option("self_host").monthly_usd / min(o.monthly_usd for o in a.options if o.kind == "api")
    assert "×" in cost[0].message
    assert f"{times:.1f}×" in cost[0].message


def test_startup_breakeven_never():
    a = advice("startup.yaml")
    assert a.breakeven_tokens_per_day is None
    assert a.breakeven_note.startswith("never")


# ---------------------------------------------------------------- all the example profiles


ALL = sorted(p.name for p in PROFILES.glob("*.yaml"))


def test_example_profiles_reach_at_least_two_decisions():
    assert len({advice(name).decision for name in ALL}) >= 2


@pytest.mark.parametrize("name", ALL)
def test_options_never_negative_and_unknown_only_when_ineligible(name):
    a = advice(name)
    assert a.options
    for o in a.options:
        if o.monthly_usd is None:
            assert not o.eligible and o.excluded_by, o
        else:
            assert o.monthly_usd >= 0, o
    assert a.chosen_monthly_usd is None or a.chosen_monthly_usd >= 0


@pytest.mark.parametrize("name", ALL)
def test_the_decision_has_an_eligible_option(name):
    a = advice(name)
    assert any(o.kind == a.decision.value and o.eligible for o in a.options)
    assert a.summary


@pytest.mark.parametrize("name", ALL)
def test_assumptions_carry_the_month_convention(name):
    found = {x.name: x.value for x in advice(name).assumptions}
    assert found["hours_per_month"] == 730.0
    assert "gpu_hourly_usd" in found and "risk_margin" in found


@pytest.mark.parametrize("name", ALL)
def test_every_sized_fleet_states_its_planned_share_of_capacity(name):
    a = advice(name)
    planned = [x for x in a.assumptions if x.name == "target_peak_utilization"]
    sized = [o for o in a.options if o.capacity]
    assert len(planned) == max(len(sized), 1)
    for x, o in zip(planned, sized, strict=False):
        assert x.value == round(o.capacity.planned_utilization, 3) and 0 < x.value <= 1
        assert x.source.startswith(o.id)


def test_no_sized_fleet_still_names_the_planned_share_without_a_value():
    # one RTX 4090 cannot hold DeepSeek V3: no fleet is sized, and the assumption says so instead of a number
    p = with_changes(profile("startup.yaml"), "models", self_hosted="deepseek-v3")
    p = with_changes(p, "self_hosting", gpu="rtx-4090", gpus=1)
    a = advise(p, CATALOG, today=TODAY, with_flips=False)
    assert not [o for o in a.options if o.capacity]
    planned = [x for x in a.assumptions if x.name == "target_peak_utilization"]
    assert [(x.value, x.source) for x in planned] == [(None, "no self-hosted fleet was sized")]


def test_high_volume_steady_breaks_even_below_its_volume():
    a = advice("high-volume-steady.yaml")
    assert a.decision is Decision.SELF_HOST
    assert a.breakeven_tokens_per_day is not None
    assert a.breakeven_tokens_per_day < profile("high-volume-steady.yaml").workload.tokens_per_day


# ---------------------------------------------------------------- unknown GPU prices: never $0


UNKNOWN_PRICE = {
    # rtx-3090 has no price rows at all; llama-3.1-8b fits its 24 GB
    "rtx-3090-on-demand": lambda: with_changes(
        with_changes(profile("startup.yaml"), "models", self_hosted="llama-3.1-8b", api=None),
        "self_hosting",
        gpu="rtx-3090",
        pricing="on_demand",
    ),
    # h100-sxm has no reserved_3y rows
    "h100-reserved-3y": lambda: with_changes(profile("startup.yaml"), "self_hosting", pricing="reserved_3y"),
}


@pytest.mark.parametrize("case", sorted(UNKNOWN_PRICE))
def test_unknown_gpu_price_makes_self_host_ineligible_not_free(case):
    a = advise(UNKNOWN_PRICE[case](), CATALOG, today=TODAY, with_flips=False)
    own = a.option("self_host")
    assert own is not None
    assert own.eligible is False
    assert "gpu_price_unknown" in {r.rule for r in a.reasons}
    assert own.monthly_usd is None
    assert a.decision is Decision.API
    assert {x.name: x.value for x in a.assumptions}["gpu_hourly_usd"] is None
    assert any(w.startswith("no ") and "price" in w for w in a.warnings)
    assert a.breakeven_tokens_per_day is None


def test_unknown_price_with_a_compliance_requirement_leaves_cost_unknown():
    p = with_changes(profile("healthcare-phi.yaml"), "self_hosting", pricing="reserved_3y", gpu_hourly_usd=None)
    a = advise(p, CATALOG, today=TODAY, with_flips=False)
    assert a.decision is Decision.SELF_HOST
    assert a.option("self_host").monthly_usd is None
    assert a.chosen_monthly_usd is None


# ---------------------------------------------------------------- volume scaling


FACTORS = [0.01, 0.1, 1.0, 10.0, 100.0, 1000.0]


@pytest.mark.parametrize("name", ["startup.yaml", "high-volume-steady.yaml", "research-lab.yaml"])
def test_api_cost_linear_and_self_host_non_decreasing_in_volume(name):
    base = profile(name)
    volume = base.workload.tokens_per_day
    api_cost: dict[str, list[float]] = {}
    own_cost: list[float] = []
    for f in FACTORS:
        a = advise(at_volume(base, volume * f), CATALOG, today=TODAY, with_flips=False)
        for o in a.options:
            if o.kind == "api":
                api_cost.setdefault(o.id, []).append(o.monthly_usd)
        own_cost.append(a.option("self_host").monthly_usd)
    for api_id, costs in api_cost.items():
        for f, cost in zip(FACTORS, costs, strict=True):
            assert cost == pytest.approx(costs[FACTORS.index(1.0)] * f, rel=1e-9), api_id
    assert all(b >= a - 1e-6 for a, b in zip(own_cost, own_cost[1:], strict=False)), own_cost


# ---------------------------------------------------------------- flip points


def test_startup_flip_points_never_claim_less_volume_means_self_host():
    a = advise(profile("startup.yaml"), CATALOG, today=TODAY)
    volume = profile("startup.yaml").workload.tokens_per_day
    for fp in a.flip_points:
        if fp.parameter == "workload.tokens_per_day" and fp.value < volume:
            assert fp.decision != Decision.SELF_HOST.value, fp


def test_compliance_forced_decision_has_no_volume_flips():
    a = advise(profile("healthcare-phi.yaml"), CATALOG, today=TODAY)
    assert not [fp for fp in a.flip_points if fp.parameter == "workload.tokens_per_day"]


@pytest.mark.parametrize("name", ["high-volume-steady.yaml", "research-lab.yaml"])
def test_volume_flip_points_are_where_the_decision_changes(name):
    p = profile(name)
    a = advise(p, CATALOG, today=TODAY)
    volume = p.workload.tokens_per_day
    flips = [fp for fp in a.flip_points if fp.parameter == "workload.tokens_per_day"]
    assert flips, a.flip_points
    for fp in flips:
        # at the value printed the decision named holds (the value is rounded outward); 1% back towards today's
        # volume (beyond the 3-significant-figure rounding) today's decision still holds
        assert advise(at_volume(p, fp.value), CATALOG, today=TODAY, with_flips=False).decision.value == fp.decision
        back = 1.01 if fp.value < volume else 0.99
        assert advise(at_volume(p, fp.value * back), CATALOG, today=TODAY, with_flips=False).decision is a.decision


# ---------------------------------------------------------------- retired offerings


def _retiring(api_id: str, on: dt.date, replacement: str | None = None):
    from dataclasses import replace

    from selfhost_cli.catalog.schema import Retirement

    gone = Retirement(date=on, replacement=replacement, source="https://example.org/deprecations", as_of=TODAY)
    return replace(CATALOG, apis={**CATALOG.apis, api_id: CATALOG.apis[api_id].model_copy(update={"retires": gone})})


CHEAPEST = "google/gemini-3.5-flash-lite"  # the startup profile's cheaper named offering
OTHER = "together/llama-3.3-70b-instruct-turbo"


def test_a_retired_named_offering_is_shown_but_cannot_win():
    cat = _retiring(CHEAPEST, TODAY, "openai/gpt-6-luna")
    a = advise(profile("startup.yaml"), cat, today=TODAY, with_flips=False)
    gone = next(o for o in a.options if o.id == CHEAPEST)
    assert not gone.eligible and "retired" in gone.excluded_by
    assert a.chosen is not None and a.chosen.id == OTHER
    reason = next(r for r in a.reasons if r.rule == "retired")
    assert "was shut down on 2026-12-01" in reason.message and "openai/gpt-6-luna" in reason.message
    assert any(w.code.value == "retiring" for w in a.warning_items)


def test_an_offering_retiring_soon_still_competes_with_a_warning():
    cat = _retiring(CHEAPEST, TODAY + dt.timedelta(days=30))
    a = advise(profile("startup.yaml"), cat, today=TODAY, with_flips=False)
    assert a.chosen is not None and a.chosen.id == CHEAPEST
    assert [w.message for w in a.warning_items if w.code.value == "retiring"] == [
        f"{CHEAPEST} shuts down on 2026-12-31 (https://example.org/deprecations)"
    ]
    far = advise(profile("startup.yaml"), _retiring(CHEAPEST, TODAY + dt.timedelta(days=400)), today=TODAY)
    assert not [w for w in far.warning_items if w.code.value == "retiring"]


def test_a_retired_offering_is_never_picked_automatically():
    cheapest = min(CATALOG.apis_serving("llama-3.3-70b"), key=lambda o: o.input_usd_per_1m + o.output_usd_per_1m)
    cat = _retiring(cheapest.id, TODAY - dt.timedelta(days=1)).current(TODAY)
    assert cheapest.id not in {o.id for o in cat.apis_serving("llama-3.3-70b")}
    assert cheapest.id in cat.apis  # a profile may still name it, and is told

"""advise/decide.py and flips.py on the real pipeline: monotone in volume, eligible options only, `none`,
confidence from the boundary, and flip points that flip when applied with --set."""

from __future__ import annotations

import datetime as dt
import json
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from selfhost_cli.advise import Advice, advise, evaluate
from selfhost_cli.advise.candidates import PlanCache
from selfhost_cli.budget import Limits, evaluate_gates
from selfhost_cli.catalog import bundled
from selfhost_cli.cli import app
from selfhost_cli.deploy.engines import BUNDLED_ENGINES
from selfhost_cli.enums import Confidence, Decision, OptionKind
from selfhost_cli.profile import Profile, load_profile

CATALOG = bundled()
TODAY = dt.date(2026, 12, 1)
PROFILES = Path(__file__).resolve().parent.parent / "profiles"


def make(**sections: Any) -> Profile:
    doc: dict[str, Any] = {"version": 1, "workload": {"tokens_per_day": 1e8}}
    for section, values in sections.items():
        doc.setdefault(section, {}).update(values)
    return Profile.model_validate(doc)


def decision(p: Profile, cache_: PlanCache | None = None) -> Decision:
    return evaluate(p, CATALOG, BUNDLED_ENGINES, cache_ or PlanCache()).verdict.decision


def at(p: Profile, tokens_per_day: float) -> Profile:
    doc = p.model_dump(mode="json", exclude_unset=True)
    doc["workload"]["tokens_per_day"] = tokens_per_day
    return Profile.model_validate(doc)


# ---------------------------------------------------------------- monotone in volume


def test_the_issue_sweep_never_returns_to_the_api():
    # llama-3.3-70b against openai/gpt-4.1 on h100-sxm, peak 1.2: 150M to 1.5B tokens/day, 4-7% apart
    p = make(
        workload={"tokens_per_day": 1.5e8, "peak_to_average": 1.2},
        models={"self_hosted": "llama-3.3-70b", "api": ["openai/gpt-4.1"]},
        self_hosting={"gpu": "h100-sxm"},
    )
    volume, seen, cache_ = 1.5e8, [], PlanCache()
    step = 0
    while volume <= 1.5e9:
        seen.append(decision(at(p, volume), cache_))
        volume *= 1.04 + 0.03 * (step % 2)
        step += 1
    left = next(i for i, d in enumerate(seen) if d is not Decision.API)
    assert all(d is not Decision.API for d in seen[left:]), seen


MODELS = ["llama-3.1-8b", "llama-3.3-70b", "qwen3-32b", "gpt-oss-120b"]
APIS = ["openai/gpt-4.1", "openai/gpt-4.1-mini", "together/llama-3.3-70b-instruct-turbo", "groq/qwen3-32b"]


@settings(max_examples=25, deadline=None, derandomize=True, database=None, suppress_health_check=list(HealthCheck))
@given(
    model=st.sampled_from(MODELS),
    api=st.sampled_from(APIS),
    gpu=st.sampled_from(["h100-sxm", "a100-80gb", "h200", "mi300x"]),
    peak=st.floats(min_value=1.0, max_value=6.0),
    expertise=st.sampled_from(["none", "some", "strong"]),
    redundancy=st.sampled_from(["none", "n_plus_1"]),
    autoscaling=st.booleans(),
    start=st.floats(min_value=6.0, max_value=9.0),
)
def test_more_volume_never_hands_the_decision_back_to_the_api(
    model, api, gpu, peak, expertise, redundancy, autoscaling, start
):
    p = make(
        workload={"peak_to_average": peak},
        models={"self_hosted": model, "api": [api]},
        self_hosting={"gpu": gpu, "redundancy": redundancy, "autoscaling": autoscaling},
        team={"inference_expertise": expertise},
    )
    cache_ = PlanCache()
    left = False
    for i in range(40):
        got = decision(at(p, 10 ** (start + i * 0.08)), cache_)
        if left:
            assert got is not Decision.API, (i, got)
        left = left or got is not Decision.API


def with_(p: Profile, section: str, key: str, value: float) -> Profile:
    doc = p.model_dump(mode="json", exclude_unset=True)
    doc.setdefault(section, {})[key] = value
    return Profile.model_validate(doc)


@settings(max_examples=20, deadline=None, derandomize=True, database=None, suppress_health_check=list(HealthCheck))
@given(
    model=st.sampled_from(MODELS),
    api=st.sampled_from(APIS),
    gpu=st.sampled_from(["h100-sxm", "a100-80gb", "h200", "mi300x"]),
    volume=st.floats(min_value=7.0, max_value=9.5),
    start=st.floats(min_value=0.5, max_value=1.2),
    fte=st.floats(min_value=0.05, max_value=2.0),
)
def test_cheaper_gpus_or_less_ops_never_hand_the_decision_back_to_the_api(model, api, gpu, volume, start, fte):
    # flips.py asks one run at the cheap end of these searches when the decision is api (settled_by_end)
    p = make(
        workload={"tokens_per_day": 10**volume},
        models={"self_hosted": model, "api": [api]},
        self_hosting={"gpu": gpu, "pricing": "on_demand", "ops_fte": fte},
    )
    cache_ = PlanCache()
    for section, key, top in (("self_hosting", "gpu_hourly_usd", 10**start), ("self_hosting", "ops_fte", fte)):
        left = False
        for i in range(30):  # from the dearest down to a hundredth of it
            got = decision(with_(p, section, key, top * 10 ** (-i / 15)), cache_)
            if left:
                assert got is not Decision.API, (key, i, got)
            left = left or got is not Decision.API


def test_settled_searches_find_what_the_full_grid_finds():
    from selfhost_cli.advise.flips import numeric_flip

    cache_ = PlanCache()

    def decide_for(q: Profile) -> Decision:
        return decision(q, cache_)

    checked, found = 0, 0
    for model in MODELS:
        for volume in (3e7, 3e8, 3e9):
            p = make(
                workload={"tokens_per_day": volume},
                models={"self_hosted": model, "api": ["openai/gpt-4.1"]},
                self_hosting={"gpu": "h100-sxm", "pricing": "on_demand", "gpu_hourly_usd": 8.0, "ops_fte": 0.5},
            )
            start = decide_for(p)
            if start is not Decision.API:
                continue
            searches = [("workload.tokens_per_day", volume, (1e-4, 1e4), up) for up in (True, False)]
            searches += [("self_hosting.gpu_hourly_usd", 8.0, (1e-2, 1e2), False)]
            searches += [("self_hosting.ops_fte", 0.5, (1e-3, 1.0), False)]
            for key, now, span, up in searches:
                args = (p, key, now, start, decide_for, span, up)
                full = numeric_flip(*args)
                assert numeric_flip(*args, settled_by_end=True) == full, (model, volume, key, up)
                checked += 1
                found += full is not None
    assert checked >= 12 and found >= 3, (checked, found)


# ---------------------------------------------------------------- what is compared, and confidence


def test_at_1b_tokens_a_day_leaving_the_api_is_not_low_confidence():
    p = make(
        workload={"tokens_per_day": 1e9, "peak_to_average": 1.2},
        models={"self_hosted": "llama-3.3-70b", "api": ["openai/gpt-4.1"]},
    )
    a = advise(p, CATALOG, today=TODAY, with_flips=False)
    api = min(o.monthly_usd for o in a.options if o.kind is OptionKind.API)
    assert a.decision is not Decision.API and a.chosen.monthly_usd < api / 2
    assert a.confidence is not Confidence.LOW, a.confidence_why


def test_the_decision_is_always_an_eligible_option():
    for name in sorted(p.name for p in PROFILES.glob("*.yaml")):
        a = advise(load_profile(PROFILES / name)[0], CATALOG, today=TODAY, with_flips=False)
        assert a.chosen is not None and not a.chosen.excluded_by, name
        assert a.chosen.kind.value == a.decision.value, name


def test_premium_for_customization_counts_for_self_hosting_not_for_the_hybrid():
    # research-lab: custom sampling preferred and inference-time techniques; the hybrid's API half has neither
    a = advise(load_profile(PROFILES / "research-lab.yaml")[0], CATALOG, today=TODAY, with_flips=False)
    assert a.decision is Decision.SELF_HOST
    assert "within the premium" in a.summary


# ---------------------------------------------------------------- none


@cache
def stuck() -> Advice:
    p = make(
        compliance={"third_party_processing": "forbidden"},
        models={"self_hosted": "deepseek-v3"},
        self_hosting={"gpu": "h100-sxm", "gpus": 8, "precision": "bf16"},
    )
    return advise(p, CATALOG, today=TODAY)


def test_a_requirement_that_cannot_be_met_is_none_with_low_confidence():
    a = stuck()
    assert a.decision is Decision.NONE and a.confidence is Confidence.LOW
    assert a.chosen is None and a.chosen_monthly_usd is None
    assert "No option is feasible" in a.summary
    assert {"third_party_processing", "deployment_infeasible"} <= {r.rule for r in a.reasons}
    # what would make one feasible: lifting the constraint lets an API serve it
    assert any(f.parameter == "compliance.third_party_processing" and f.decision == "api" for f in a.flip_points)
    assert not any(f.decision == "self_host" for f in a.flip_points)


def test_check_fails_a_profile_with_no_feasible_option():
    result = evaluate_gates(stuck(), Limits(), None)
    assert not result.passed and result.gates[0].name == "feasible_option"


# ---------------------------------------------------------------- capabilities in the decision


def test_requirements_never_recommend_an_offering_that_cannot_serve_them():
    cases = [
        make(
            workload={"tokens_per_day": 1e9},
            models={"self_hosted": "llama-3.1-8b", "api": ["groq/llama-3.1-8b-instant"]},
            customization={"fine_tuned_weights": True},
        ),
        make(
            workload={"tokens_per_day": 1e8},
            customization={"custom_sampling": "required"},
            models={"api": ["deepinfra/llama-3.3-70b-instruct", "together/llama-3.3-70b-instruct-turbo"]},
        ),
        load_profile(PROFILES / "eu-residency.yaml")[0],
    ]
    for p in cases:
        a = advise(p, CATALOG, today=TODAY, with_flips=False)
        assert a.chosen is not None and not a.chosen.excluded_by
        excluded = [o for o in a.options if "capability" in o.excluded_by]
        assert excluded, p.name
        cap = next(r for r in a.reasons if r.rule == "capability")
        assert all(o.id in cap.message for o in excluded if o.kind is OptionKind.API)


# ---------------------------------------------------------------- flip points flip


SHIPPED = sorted(p.name for p in PROFILES.glob("*.yaml"))


@pytest.mark.parametrize("name", SHIPPED)
def test_every_flip_point_flips_when_applied_with_set(name):
    runner = CliRunner()
    base = runner.invoke(app, ["advise", str(PROFILES / name), "--format", "json"])
    assert base.exit_code == 0, base.output
    doc = json.loads(base.stdout)
    for flip in doc["flip_points"]:
        args = ["advise", str(PROFILES / name), "--format", "json"]
        for setting in flip["sets"]:
            args += ["--set", setting]
        got = runner.invoke(app, args)
        assert got.exit_code == 0, got.output
        assert json.loads(got.stdout)["decision"] == flip["decision"], flip

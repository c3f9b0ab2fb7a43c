"""advise/rules.py: each rule and each exclusion, on options the real pipeline priced."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from selfhost_cli.advise import evaluate
from selfhost_cli.advise.candidates import PlanCache
from selfhost_cli.advise.rules import (
    MAX_PREMIUM,
    RISK_MARGIN,
    SPIKY_PEAK_TO_AVERAGE,
    STRONG_CAPABILITY_PREMIUM,
    Finding,
    premium,
)
from selfhost_cli.catalog import bundled
from selfhost_cli.deploy.engines import BUNDLED_ENGINES
from selfhost_cli.enums import (
    Confidence,
    CustomSampling,
    Decision,
    Effect,
    Engine,
    Expertise,
    OptionKind,
    Precision,
    Pricing,
    QualityPolicy,
    WarningCode,
)
from selfhost_cli.profile import Profile

CATALOG = bundled()


def make(**sections: Any) -> Profile:
    doc: dict[str, Any] = {"version": 1, "workload": {"tokens_per_day": 1e8}}
    for section, values in sections.items():
        doc.setdefault(section, {}).update(values)
    return Profile.model_validate(doc)


def run(profile: Profile) -> Any:
    return evaluate(profile, CATALOG, BUNDLED_ENGINES, PlanCache())


def by_rule(found: list[Finding], rule: str) -> list[Finding]:
    return [f for f in found if f.rule == rule]


def test_enums_are_closed_sets():
    assert {d.value for d in Decision} == {"api", "self_host", "hybrid", "none"}
    assert {e.value for e in Effect} == {"requires_self_host", "requires_api", "favors_self_host", "favors_api", "info"}
    assert {k.value for k in OptionKind} == {"api", "self_host", "hybrid"}
    assert {c.value for c in Confidence} == {"high", "medium", "low"}
    assert {p.value for p in Pricing} == {"spot", "on_demand", "reserved_1y", "reserved_3y", "owned", "serverless"}
    assert {p.value for p in Precision} == {"bf16", "fp16", "fp8", "int8", "int4", "fp4"}
    assert {q.value for q in QualityPolicy} == {"same_model", "same_tier", "any"}
    assert {c.value for c in CustomSampling} == {"none", "preferred", "required"}
    assert "ideal" in {e.value for e in Engine}
    assert {"stale_price", "price_unknown", "fleet_short", "quality_gap"} <= {w.value for w in WarningCode}
    assert set(RISK_MARGIN) == set(Expertise)


# ---------------------------------------------------------------- compliance


def test_forbidden_third_party_excludes_every_api_and_hybrid():
    ev = run(make(compliance={"third_party_processing": "forbidden", "regulations": ["hipaa"]}))
    (f,) = by_rule(ev.findings, "third_party_processing")
    assert f.effect is Effect.REQUIRES_SELF_HOST and "HIPAA" in f.message
    for o in ev.options:
        assert ("third_party_processing" in o.excluded_by) == (o.kind is not OptionKind.SELF_HOST), o.id
    assert ev.verdict.decision is Decision.SELF_HOST


@pytest.mark.parametrize(
    ("section", "key", "value", "rule"),
    [
        ("compliance", "air_gapped", True, "air_gapped"),
        ("compliance", "data_residency", "on_prem", "on_prem_residency"),
    ],
)
def test_hard_constraints_exclude_apis(section, key, value, rule):
    ev = run(make(**{section: {key: value}}))
    assert by_rule(ev.findings, rule)[0].effect is Effect.REQUIRES_SELF_HOST
    assert all(rule in o.excluded_by for o in ev.options if o.kind is not OptionKind.SELF_HOST)


def test_eu_residency_keeps_only_apis_with_an_eu_endpoint():
    ev = run(
        make(
            compliance={"data_residency": "eu"},
            models={"api": ["openai/gpt-4.1-mini", "anthropic/claude-haiku-4.5", "groq/llama-3.3-70b-versatile"]},
        )
    )
    excluded = {o.id for o in ev.options if "capability" in o.excluded_by}
    # OpenAI lists eu among its regional endpoints; Anthropic's older models route globally; Groq states none
    assert "anthropic/claude-haiku-4.5" in excluded and "groq/llama-3.3-70b-versatile" in excluded
    assert "openai/gpt-4.1-mini" not in excluded
    (cap,) = by_rule(ev.findings, "capability")
    assert "EU" in cap.message and "openai.com" in cap.evidence
    assert ev.verdict.chosen is None or ev.verdict.chosen.id not in excluded


def test_with_agreement_keeps_apis_whose_retention_is_unknown():
    ev = run(make(compliance={"third_party_processing": "with_agreement"}))
    assert all(not o.excluded_by for o in ev.options if o.kind is OptionKind.API)


# ---------------------------------------------------------------- customization


def test_fine_tuned_weights_keep_only_apis_that_host_them_at_their_fine_tuned_price():
    ev = run(
        make(
            workload={"tokens_per_day": 1e9},
            models={"self_hosted": "llama-3.1-8b", "api": ["groq/llama-3.1-8b-instant", "openai/gpt-4.1-mini"]},
            customization={"fine_tuned_weights": True},
        )
    )
    by_id = {o.id: o for o in ev.options}
    assert "capability" in by_id["groq/llama-3.1-8b-instant"].excluded_by
    mini = by_id["openai/gpt-4.1-mini"]
    assert mini.eligible and mini.item("output").unit_usd == 3.2  # fine-tuned gpt-4.1-mini: $0.80 / $3.20
    assert ev.verdict.chosen.id != "groq/llama-3.1-8b-instant"
    for o in ev.options:
        if o.kind is OptionKind.HYBRID and "groq" in o.id:
            assert "capability" in o.excluded_by


def test_lora_adapters_exclude_serverless_offerings_without_lora():
    ev = run(make(customization={"lora_adapters": 3}, models={"api": ["fireworks/llama-3.3-70b-instruct"]}))
    assert "capability" in ev.options[0].excluded_by


def test_custom_sampling_required_excludes_apis_without_it_and_preferred_only_leans():
    required = run(
        make(
            customization={"custom_sampling": "required"},
            models={"api": ["fireworks/llama-3.3-70b-instruct", "deepinfra/llama-3.3-70b-instruct"]},
        )
    )
    by_id = {o.id: o for o in required.options}
    assert by_id["fireworks/llama-3.3-70b-instruct"].eligible  # GBNF grammar mode
    assert "capability" in by_id["deepinfra/llama-3.3-70b-instruct"].excluded_by
    preferred = run(make(customization={"custom_sampling": True}))  # the original boolean form
    (f,) = by_rule(preferred.findings, "custom_sampling")
    assert f.effect is Effect.FAVORS_SELF_HOST and f.premium == STRONG_CAPABILITY_PREMIUM
    assert "preferred, not required" in f.message
    assert all(not o.excluded_by for o in preferred.options if o.kind is OptionKind.API)


def test_premium_is_capped():
    findings = [Finding("x", Effect.FAVORS_SELF_HOST, "", "", premium=2.0) for _ in range(5)]
    assert premium(findings) == MAX_PREMIUM


@given(st.lists(st.floats(min_value=1.0, max_value=5.0), max_size=6))
def test_premium_never_below_one_nor_above_the_cap(premiums):
    p = premium([Finding("x", Effect.INFO, "", "", premium=v) for v in premiums])
    assert 1.0 <= p <= MAX_PREMIUM


# ---------------------------------------------------------------- feasibility, quality, traffic, team


def test_a_model_that_cannot_fit_excludes_its_option_and_hybrids():
    # 1.4 TB of bf16 weights on 24 GB cards that cannot leave their workstation (no scale-out network)
    ev = run(make(models={"self_hosted": "deepseek-v3"}, self_hosting={"gpu": "rtx-4090", "precision": "bf16"}))
    (f,) = by_rule(ev.findings, "deployment_infeasible")
    assert f.effect is Effect.REQUIRES_API
    own = next(o for o in ev.options if o.kind is OptionKind.SELF_HOST)
    assert "deployment_infeasible" in own.excluded_by and own.monthly_usd is None
    assert ev.verdict.decision is Decision.API


def test_quality_gap_is_stated_with_its_source():
    ev = run(make(models={"self_hosted": "llama-3.3-70b", "api": ["openai/gpt-4.1"]}))
    (f,) = by_rule(ev.findings, "quality")
    api = bundled().apis["openai/gpt-4.1"].quality
    own = bundled().models["llama-3.3-70b"].quality
    assert api is not None and own is not None
    gap = round(api.score - own.score)
    assert f"openai/gpt-4.1 {api.score:.0f} vs llama-3.3-70b {own.score:.0f}" in f.message
    assert f"({gap} points" in f.message and gap > 35  # a gap the rule must state (same tier is ±35)
    assert "lmarena" in f.evidence and "huggingface.co/datasets/lmarena-ai" in f.evidence


def test_stand_ins_say_they_are_stand_ins():
    ev = run(make(models={"self_hosted": "qwen3-235b-a22b", "api": ["fireworks/deepseek-v3"]}))
    (f,) = by_rule(ev.findings, "quality")
    assert "stand-in" in f.message and "deepseek-v3" in f.message


def test_same_model_offerings_raise_no_quality_reason():
    ev = run(make(models={"self_hosted": "llama-3.3-70b", "api": ["together/llama-3.3-70b-instruct-turbo"]}))
    assert not by_rule(ev.findings, "quality")


def test_traffic_variance_quotes_the_fleets_own_mean_utilization():
    ev = run(make(workload={"tokens_per_day": 3e6, "peak_to_average": SPIKY_PEAK_TO_AVERAGE}))
    (f,) = by_rule(ev.findings, "traffic_variance")
    own = next(o for o in ev.options if o.kind is OptionKind.SELF_HOST)
    assert f"{own.capacity.mean_utilization:.0%}" in f.message
    assert f.effect is Effect.FAVORS_API


def test_team_without_expertise_favors_the_api_and_states_the_margin():
    ev = run(make(team={"inference_expertise": "none"}))
    (f,) = by_rule(ev.findings, "team_expertise")
    assert f.effect is Effect.FAVORS_API and "30%" in f.message

"""rules.py: each profile rule fires with the right effect, and the capability premium is capped."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from selfhost_cli.profile import Expertise, Profile
from selfhost_cli.rules import (
    MAX_PREMIUM,
    RISK_MARGIN,
    SPIKY_PEAK_TO_AVERAGE,
    STRONG_CAPABILITY_PREMIUM,
    Decision,
    Effect,
    Finding,
    air_gapped,
    customization,
    data_residency,
    premium,
    profile_findings,
    team_expertise,
    third_party_processing,
    traffic_variance,
)


def make(**sections: Any) -> Profile:
    doc: dict[str, Any] = {"version": 1, "workload": {"tokens_per_day": 1e8}}
    for section, values in sections.items():
        doc.setdefault(section, {}).update(values)
    return Profile.model_validate(doc)


def effects(findings: list[Finding]) -> dict[str, Effect]:
    return {f.rule: f.effect for f in findings}


def test_enums_are_closed_sets():
    assert {d.value for d in Decision} == {"api", "self_host", "hybrid"}
    assert {e.value for e in Effect} == {"requires_self_host", "requires_api", "favors_self_host", "favors_api", "info"}
    assert set(RISK_MARGIN) == set(Expertise)


# ---------------------------------------------------------------- compliance


def test_forbidden_third_party_requires_self_host():
    found = third_party_processing(make(compliance={"third_party_processing": "forbidden", "regulations": ["hipaa"]}))
    assert effects(found) == {"third_party_processing": Effect.REQUIRES_SELF_HOST}
    assert "HIPAA" in found[0].message
    assert found[0].evidence == "compliance.third_party_processing: forbidden"


def test_with_agreement_is_info_mentioning_the_agreement():
    found = third_party_processing(make(compliance={"third_party_processing": "with_agreement"}))
    assert effects(found) == {"third_party_agreement": Effect.INFO}
    assert "agreement" in found[0].message


def test_allowed_third_party_says_nothing():
    assert third_party_processing(make()) == []


def test_air_gapped_requires_self_host():
    assert effects(air_gapped(make(compliance={"air_gapped": True}))) == {"air_gapped": Effect.REQUIRES_SELF_HOST}
    assert air_gapped(make()) == []


def test_on_prem_residency_requires_self_host():
    found = data_residency(make(compliance={"data_residency": "on_prem"}))
    assert effects(found) == {"on_prem_residency": Effect.REQUIRES_SELF_HOST}


@pytest.mark.parametrize("region", ["eu", "us"])
def test_regional_residency_is_info(region):
    found = data_residency(make(compliance={"data_residency": region}))
    assert effects(found) == {"regional_residency": Effect.INFO}
    assert region.upper() in found[0].message
    assert data_residency(make()) == []


# ---------------------------------------------------------------- customization


def test_custom_sampling_favors_self_host_with_premium():
    found = customization(make(customization={"custom_sampling": True}))
    assert effects(found) == {"custom_sampling": Effect.FAVORS_SELF_HOST}
    assert found[0].premium == STRONG_CAPABILITY_PREMIUM == 1.5


def test_inference_time_techniques_favor_self_host_with_premium():
    found = customization(make(customization={"inference_time_techniques": ["steering"]}))
    assert effects(found) == {"inference_time_techniques": Effect.FAVORS_SELF_HOST}
    assert found[0].premium == 1.5 and "steering" in found[0].message


def test_fine_tuned_weights_only_lean():
    found = customization(make(customization={"fine_tuned_weights": True}))
    assert effects(found) == {"fine_tuned_weights": Effect.FAVORS_SELF_HOST}
    assert 1.0 < found[0].premium < STRONG_CAPABILITY_PREMIUM


@pytest.mark.parametrize(("adapters", "effect", "leans"),
                         [(3, Effect.INFO, False), (10, Effect.FAVORS_SELF_HOST, True)])
def test_lora_adapters(adapters, effect, leans):
    found = customization(make(customization={"lora_adapters": adapters}))
    assert effects(found) == {"lora_adapters": effect}
    assert (found[0].premium > 1.0) is leans


def test_no_customization_says_nothing():
    assert customization(make()) == []


# ---------------------------------------------------------------- traffic and team


@pytest.mark.parametrize(("peak", "autoscaling", "fires"), [
    (SPIKY_PEAK_TO_AVERAGE, False, True),  # exactly 3: fires
    (5.0, False, True),
    (2.99, False, False),
    (5.0, True, False),  # autoscaling follows the curve
])
def test_traffic_variance(peak, autoscaling, fires):
    found = traffic_variance(make(workload={"peak_to_average": peak}, self_hosting={"autoscaling": autoscaling}))
    assert (effects(found) == {"traffic_variance": Effect.FAVORS_API}) is fires
    if not fires:
        assert found == []


def test_traffic_variance_message_gives_mean_utilization():
    # peak 4× the mean: a fleet sized for the peak runs at 100 / 4 = 25% on average
    found = traffic_variance(make(workload={"peak_to_average": 4.0}))
    assert "25%" in found[0].message


@pytest.mark.parametrize(("level", "effect"), [("none", Effect.FAVORS_API), ("some", Effect.INFO),
                                               ("strong", Effect.INFO)])
def test_team_expertise(level, effect):
    found = team_expertise(make(team={"inference_expertise": level}))
    assert effects(found) == {"team_expertise": effect}
    assert f"{RISK_MARGIN[Expertise(level)]:.0%}" in found[0].message


def test_risk_margin_shrinks_with_expertise():
    assert RISK_MARGIN[Expertise.NONE] > RISK_MARGIN[Expertise.SOME] > RISK_MARGIN[Expertise.STRONG] > 0


# ---------------------------------------------------------------- all rules and the premium


def test_profile_findings_collects_every_rule():
    p = make(
        compliance={"third_party_processing": "forbidden", "air_gapped": True, "data_residency": "on_prem"},
        customization={"custom_sampling": True},
        workload={"peak_to_average": 4.0},
        team={"inference_expertise": "none"},
    )
    got = effects(profile_findings(p))
    assert got == {
        "third_party_processing": Effect.REQUIRES_SELF_HOST,
        "air_gapped": Effect.REQUIRES_SELF_HOST,
        "on_prem_residency": Effect.REQUIRES_SELF_HOST,
        "custom_sampling": Effect.FAVORS_SELF_HOST,
        "traffic_variance": Effect.FAVORS_API,
        "team_expertise": Effect.FAVORS_API,
    }
    for f in profile_findings(p):
        assert f.message and f.evidence


def _f(p: float) -> Finding:
    return Finding("x", Effect.FAVORS_SELF_HOST, "m", "e", p)


def test_premium_multiplies_findings():
    # custom sampling 1.5 × inference-time techniques 1.5 = 2.25
    p = make(customization={"custom_sampling": True, "inference_time_techniques": ["steering"]})
    assert premium(profile_findings(p)) == pytest.approx(2.25)
    assert premium([]) == 1.0


def test_premium_capped_at_three():
    assert MAX_PREMIUM == 3.0
    assert premium([_f(2.0), _f(2.0)]) == 3.0  # 4.0 capped
    # every customization at once: 1.5 × 1.5 × 1.15 × 1.15 = 2.976, just under the cap
    p = make(customization={"custom_sampling": True, "inference_time_techniques": ["steering"],
                            "fine_tuned_weights": True, "lora_adapters": 12})
    assert premium(profile_findings(p)) == pytest.approx(1.5 * 1.5 * 1.15 * 1.15)


@given(st.lists(st.floats(1.0, 5.0), max_size=8))
def test_premium_between_one_and_the_cap(premiums):
    total = premium([_f(p) for p in premiums])
    assert 1.0 <= total <= MAX_PREMIUM

"""The rules that cost alone misses: one small function per rule, each returning Findings with evidence."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from selfhost_cli.profile import Expertise, Profile, Residency, ThirdParty


class Effect(str, Enum):
    """What a finding does to the decision (SPEC §4)."""

    REQUIRES_SELF_HOST = "requires_self_host"
    REQUIRES_API = "requires_api"
    FAVORS_SELF_HOST = "favors_self_host"
    FAVORS_API = "favors_api"
    INFO = "info"


class Decision(str, Enum):
    API = "api"
    SELF_HOST = "self_host"
    HYBRID = "hybrid"


class Confidence(str, Enum):
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"


@dataclass(frozen=True)
class Finding:
    """One reason: which rule, its effect, a sentence for people, and the input or figure behind it."""

    rule: str
    effect: Effect
    message: str
    evidence: str
    # how much more than the API a team should accept paying for self-hosting because of this finding
    # (1.0 = none); only customization findings set it
    premium: float = 1.0


# Risk margin: self-hosting must beat the API by this share before cost alone recommends it, because
# its cost estimate carries more uncertainty (utilization, incidents, upgrades) than a price sheet.
RISK_MARGIN = {Expertise.NONE: 0.30, Expertise.SOME: 0.20, Expertise.STRONG: 0.10}
# Accept paying up to this multiple of the API for a capability the API does not expose at all.
STRONG_CAPABILITY_PREMIUM = 1.5
LEANING_PREMIUM = 1.15
MAX_PREMIUM = 3.0
# Peak/mean above which a fleet sized for the peak is mostly idle.
SPIKY_PEAK_TO_AVERAGE = 3.0
MANY_LORA_ADAPTERS = 10


def third_party_processing(profile: Profile) -> list[Finding]:
    mode = profile.compliance.third_party_processing
    regs = ", ".join(r.upper() for r in profile.compliance.regulations) or "internal policy"
    if mode is ThirdParty.FORBIDDEN:
        return [
            Finding(
                "third_party_processing",
                Effect.REQUIRES_SELF_HOST,
                f"Data may not be processed by a third party ({regs}): every hosted API is excluded; "
                "only a deployment you operate (own VPC or on-prem) is eligible.",
                "compliance.third_party_processing: forbidden",
            )
        ]
    if mode is ThirdParty.WITH_AGREEMENT:
        return [
            Finding(
                "third_party_agreement",
                Effect.INFO,
                f"Third-party processing is allowed under an agreement ({regs}): an enterprise API contract "
                "with no training on your data and zero data retention (and a BAA for HIPAA, a DPA for GDPR) "
                "satisfies it, so hosted APIs stay eligible.",
                "compliance.third_party_processing: with_agreement",
            )
        ]
    return []


def air_gapped(profile: Profile) -> list[Finding]:
    if not profile.compliance.air_gapped:
        return []
    return [
        Finding(
            "air_gapped",
            Effect.REQUIRES_SELF_HOST,
            "The environment is air-gapped: no hosted API can be reached; weights must run on hardware you hold.",
            "compliance.air_gapped: true",
        )
    ]


def data_residency(profile: Profile) -> list[Finding]:
    residency = profile.compliance.data_residency
    if residency is Residency.ON_PREM:
        return [
            Finding(
                "on_prem_residency",
                Effect.REQUIRES_SELF_HOST,
                "Data must stay on premises: hosted APIs are excluded.",
                "compliance.data_residency: on_prem",
            )
        ]
    if residency in (Residency.EU, Residency.US):
        region = residency.value.upper()
        return [
            Finding(
                "regional_residency",
                Effect.INFO,
                f"Data must stay in the {region}: hosted APIs remain eligible only through in-region endpoints "
                "(for example Azure OpenAI data zones, Vertex AI or Bedrock regional endpoints); confirm your "
                f"provider processes and stores in the {region} before relying on the API option. A self-hosted "
                f"deployment needs GPUs in {'an' if region == 'EU' else 'a'} {region} region, "
                "which the price rows do not distinguish.",
                f"compliance.data_residency: {residency.value}",
            )
        ]
    return []


def customization(profile: Profile) -> list[Finding]:
    c = profile.customization
    found: list[Finding] = []
    if c.custom_sampling:
        found.append(
            Finding(
                "custom_sampling",
                Effect.FAVORS_SELF_HOST,
                "Custom sampling (logit processors, grammars beyond JSON mode) is not exposed by hosted APIs; "
                f"self-hosting is accepted at up to {STRONG_CAPABILITY_PREMIUM:g}× the API cost for it.",
                "customization.custom_sampling: true",
                STRONG_CAPABILITY_PREMIUM,
            )
        )
    if c.inference_time_techniques:
        names = ", ".join(c.inference_time_techniques)
        found.append(
            Finding(
                "inference_time_techniques",
                Effect.FAVORS_SELF_HOST,
                f"Inference-time techniques ({names}) need access to the engine or activations, which APIs do not "
                f"give; self-hosting is accepted at up to {STRONG_CAPABILITY_PREMIUM:g}× the API cost for them.",
                f"customization.inference_time_techniques: [{names}]",
                STRONG_CAPABILITY_PREMIUM,
            )
        )
    if c.fine_tuned_weights:
        found.append(
            Finding(
                "fine_tuned_weights",
                Effect.FAVORS_SELF_HOST,
                "Fine-tuned weights lean towards self-hosting, but hosted fine-tuning and serving of your weights "
                "exist (OpenAI, Together, Fireworks), so this only leans that way.",
                "customization.fine_tuned_weights: true",
                LEANING_PREMIUM,
            )
        )
    if c.lora_adapters >= MANY_LORA_ADAPTERS:
        found.append(
            Finding(
                "lora_adapters",
                Effect.FAVORS_SELF_HOST,
                f"{c.lora_adapters} LoRA adapters: multi-LoRA serving (vLLM, SGLang) shares one base model across "
                "them; hosted multi-LoRA exists but prices and limits per adapter vary.",
                f"customization.lora_adapters: {c.lora_adapters}",
                LEANING_PREMIUM,
            )
        )
    elif c.lora_adapters > 0:
        found.append(
            Finding(
                "lora_adapters",
                Effect.INFO,
                f"{c.lora_adapters} LoRA adapter(s): hosted providers serve LoRA adapters too (Together, Fireworks); "
                "no weight given.",
                f"customization.lora_adapters: {c.lora_adapters}",
            )
        )
    return found


def traffic_variance(profile: Profile) -> list[Finding]:
    p = profile.workload.peak_to_average
    sh = profile.self_hosting
    if p < SPIKY_PEAK_TO_AVERAGE or sh.autoscaling:
        return []
    return [
        Finding(
            "traffic_variance",
            Effect.FAVORS_API,
            f"Peak traffic is {p:g}× the mean: a fleet sized for the peak runs at about {100 / p:.0f}% of its capacity "
            "on average, while an API bills only the tokens used. Autoscaling or a hybrid split recovers part of it.",
            f"workload.peak_to_average: {p:g}; self_hosting.autoscaling: false",
        )
    ]


def team_expertise(profile: Profile) -> list[Finding]:
    level = profile.team.inference_expertise
    margin = RISK_MARGIN[level]
    if level is Expertise.NONE:
        return [
            Finding(
                "team_expertise",
                Effect.FAVORS_API,
                "No one on the team has run an inference engine in production: expect slower tuning, more incidents "
                f"and a learning curve; self-hosting must beat the API by {margin:.0%} on cost "
                "before it is recommended.",
                "team.inference_expertise: none",
            )
        ]
    return [
        Finding(
            "team_expertise",
            Effect.INFO,
            f"Team inference expertise '{level.value}': self-hosting must beat the API by {margin:.0%} on cost "
            "(risk margin).",
            f"team.inference_expertise: {level.value}",
        )
    ]


def insurance() -> Finding:
    return Finding(
        "strategic_insurance",
        Effect.INFO,
        "Whatever the decision, keeping a self-hosting path ready (a tested open-weight model and deployment "
        "recipe) is insurance against API price changes, rate limits and model deprecations.",
        "selfhost note",
    )


PROFILE_RULES = (third_party_processing, air_gapped, data_residency, customization, traffic_variance, team_expertise)


def profile_findings(profile: Profile) -> list[Finding]:
    """Every profile-only rule, in the order they are shown."""
    return [finding for rule in PROFILE_RULES for finding in rule(profile)]


def premium(findings: list[Finding]) -> float:
    """Combined capability premium: product of the findings' premiums, capped."""
    total = 1.0
    for f in findings:
        total *= f.premium
    return min(total, MAX_PREMIUM)

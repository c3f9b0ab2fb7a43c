"""Stage 4: the rules that cost alone misses. One small function per rule, each returning Findings: which
options it excludes, its effect on the decision, a sentence for people, and the input or figure behind it."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from selfhost_cli.advise.options import Option
from selfhost_cli.advise.workload import Workload
from selfhost_cli.catalog.schema import Capabilities, Fact
from selfhost_cli.enums import CustomSampling, Effect, Expertise, OptionKind, Residency, ThirdParty
from selfhost_cli.profile import Profile


@dataclass(frozen=True)
class Finding:
    """One reason: which rule, its effect, a sentence for people, and the input or figure behind it."""

    rule: str
    effect: Effect
    message: str
    evidence: str
    excludes: tuple[str, ...] = ()  # ids of the options this finding makes ineligible
    # how much more than the API a team should accept paying for self-hosting because of this finding
    # (1.0 = none); only customization preferences set it
    premium: float = 1.0


# Risk margin: leaving the API must save this share before cost alone recommends it, because a self-hosted
# cost estimate carries more uncertainty (utilization, incidents, upgrades) than a price sheet.
RISK_MARGIN = {Expertise.NONE: 0.30, Expertise.SOME: 0.20, Expertise.STRONG: 0.10}
# Accept paying up to this multiple of the API for a capability the API does not expose.
STRONG_CAPABILITY_PREMIUM = 1.5
MAX_PREMIUM = 3.0
# Peak/mean above which a fleet sized for the peak is mostly idle.
SPIKY_PEAK_TO_AVERAGE = 3.0
# A quality gap above this many LMArena points is worth a warning (about 55% head-to-head preference).
QUALITY_GAP_POINTS = 35.0

Rule = Callable[[Profile, Workload, Sequence[Option]], list[Finding]]


def _ids(options: Sequence[Option], kinds: tuple[OptionKind, ...]) -> tuple[str, ...]:
    return tuple(o.id for o in options if o.kind in kinds)


WITH_API = (OptionKind.API, OptionKind.HYBRID)


def _api_half(option: Option, options: Sequence[Option]) -> Option | None:
    """The API an option sends tokens to: itself, or a hybrid's API half."""
    if option.kind is OptionKind.API:
        return option
    if option.kind is OptionKind.HYBRID:
        return next((o for o in options if o.id == option.parts[1]), None)
    return None


def _hard(rule: str, message: str, evidence: str, options: Sequence[Option]) -> list[Finding]:
    return [Finding(rule, Effect.REQUIRES_SELF_HOST, message, evidence, _ids(options, WITH_API))]


# ---------------------------------------------------------------- compliance


def third_party_processing(profile: Profile, work: Workload, options: Sequence[Option]) -> list[Finding]:
    mode = profile.compliance.third_party_processing
    regs = ", ".join(r.upper() for r in profile.compliance.regulations) or "internal policy"
    if mode is ThirdParty.FORBIDDEN:
        return _hard(
            "third_party_processing",
            f"Data may not be processed by a third party ({regs}): every hosted API, and every hybrid, is excluded; "
            "only a deployment you operate (own VPC or on-prem) is eligible.",
            "compliance.third_party_processing: forbidden",
            options,
        )
    if mode is ThirdParty.WITH_AGREEMENT:
        return capability_rule(
            "third_party_agreement",
            "zero data retention or a BAA",
            lambda c: c.zero_data_retention,
            options,
            f"Third-party processing is allowed under an agreement ({regs}): an enterprise contract with no "
            "training on your data and zero data retention (a BAA for HIPAA, a DPA for GDPR) satisfies it.",
            "compliance.third_party_processing: with_agreement",
            unknown_excludes=False,
        )
    return []


def air_gapped(profile: Profile, work: Workload, options: Sequence[Option]) -> list[Finding]:
    if not profile.compliance.air_gapped:
        return []
    return _hard(
        "air_gapped",
        "The environment is air-gapped: no hosted API can be reached; weights must run on hardware you hold.",
        "compliance.air_gapped: true",
        options,
    )


def data_residency(profile: Profile, work: Workload, options: Sequence[Option]) -> list[Finding]:
    residency = profile.compliance.data_residency
    if residency is Residency.ON_PREM:
        return _hard(
            "on_prem_residency",
            "Data must stay on premises: hosted APIs and hybrids are excluded.",
            "compliance.data_residency: on_prem",
            options,
        )
    if residency is Residency.ANY:
        return []
    region = residency.value
    found = capability_rule(
        "regional_residency",
        f"processing in the {region.upper()}",
        lambda c: Fact(
            value=None if c.regions.value is None else region in c.regions.value,
            source=c.regions.source,
            note=c.regions.note,
        ),
        options,
        f"Data must stay in the {region.upper()}: only offerings with an in-region endpoint qualify.",
        f"compliance.data_residency: {region}",
    )
    found.append(
        Finding(
            "regional_residency",
            Effect.INFO,
            f"A self-hosted deployment needs GPUs in {'an' if region == 'eu' else 'a'} {region.upper()} region, "
            "which the GPU price rows do not distinguish.",
            f"compliance.data_residency: {region}",
        )
    )
    return found


# ---------------------------------------------------------------- capabilities


def capability_rule(
    rule: str,
    what: str,
    fact_of: Callable[[Capabilities], Fact],
    options: Sequence[Option],
    lead: str,
    evidence: str,
    unknown_excludes: bool = True,
) -> list[Finding]:
    """Exclude every API (and hybrid through its API half) whose capability fact is false — or unknown,
    unless `unknown_excludes` is off. The effect is `requires_self_host` when no API-using option is left."""
    missing: list[str] = []
    for o in options:
        half = _api_half(o, options)
        if half is None or half.capabilities is None:
            continue
        value = fact_of(half.capabilities).value
        if value is False or (value is None and unknown_excludes):
            missing.append(o.id)
    apis = [o for o in options if o.kind is OptionKind.API]
    if not apis:
        return []
    excluded_apis = [o.id for o in apis if o.id in missing]
    kept = [o.id for o in apis if o.id not in missing]
    if not missing:
        return [Finding(rule, Effect.INFO, f"{lead} Every compared offering has {what}.", evidence)]
    sources = sorted({s for o in apis if o.capabilities and (s := fact_of(o.capabilities).source)})
    why = f"{', '.join(excluded_apis)} {'has' if len(excluded_apis) == 1 else 'have'} no documented {what}"
    effect = Effect.REQUIRES_SELF_HOST if not kept else Effect.INFO
    rest = f"; still eligible: {', '.join(kept)}" if kept else "; no hosted API qualifies"
    return [
        Finding(
            "capability",
            effect,
            f"{lead} Excluded: {why}{rest}.",
            f"{evidence}; sources: {'; '.join(sources) or 'none in the catalog'}",
            tuple(missing),
        )
    ]


def customization(profile: Profile, work: Workload, options: Sequence[Option]) -> list[Finding]:
    c = profile.customization
    found: list[Finding] = []
    if c.fine_tuned_weights:
        found += capability_rule(
            "fine_tuned_weights",
            "serving of your fine-tuned weights",
            lambda caps: caps.custom_weights,
            options,
            "The workload runs fine-tuned weights: only options that can serve them qualify (self-hosting, or an "
            "API that hosts your fine-tune, at its fine-tuned price).",
            "customization.fine_tuned_weights: true",
        )
    if c.lora_adapters > 0:
        found += capability_rule(
            "lora_adapters",
            "LoRA adapters on its shared base model",
            lambda caps: caps.lora,
            options,
            f"{c.lora_adapters} LoRA adapter(s): only options that serve adapters qualify (vLLM and SGLang serve "
            "many on one base model).",
            f"customization.lora_adapters: {c.lora_adapters}",
        )
    if c.custom_sampling is CustomSampling.REQUIRED:
        found += capability_rule(
            "custom_sampling",
            "custom sampling (logit processors or arbitrary grammars)",
            lambda caps: caps.custom_sampling,
            options,
            "Custom sampling is required.",
            "customization.custom_sampling: required",
        )
    elif c.custom_sampling is CustomSampling.PREFERRED:
        found.append(
            Finding(
                "custom_sampling",
                Effect.FAVORS_SELF_HOST,
                "Custom sampling (logit processors, grammars beyond JSON mode) is preferred, not required: "
                f"self-hosting is accepted at up to {STRONG_CAPABILITY_PREMIUM:g}× the API's cost for it, and an API "
                "is still chosen beyond that (set custom_sampling: required to exclude APIs without it).",
                "customization.custom_sampling: preferred",
                premium=STRONG_CAPABILITY_PREMIUM,
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
                premium=STRONG_CAPABILITY_PREMIUM,
            )
        )
    return found


# ---------------------------------------------------------------- feasibility and prices


def _with_part(options: Sequence[Option], option_id: str) -> tuple[str, ...]:
    return (option_id, *(o.id for o in options if option_id in o.parts))


def _listed(value: object) -> str:
    if isinstance(value, list):
        return "[" + ", ".join(str(getattr(v, "value", v)) for v in value) + "]"
    return str(getattr(value, "value", value))


def deployment(profile: Profile, work: Workload, options: Sequence[Option]) -> list[Finding]:
    """Self-hosted options no layout can serve, or whose GPU price is unknown, are excluded."""
    found: list[Finding] = []
    own = [o for o in options if o.kind is OptionKind.SELF_HOST]
    for o in own:
        if o.infeasible:
            all_out = all(x.infeasible for x in own)
            found.append(
                Finding(
                    "deployment_infeasible",
                    Effect.REQUIRES_API if all_out else Effect.INFO,
                    f"{o.id} cannot be served as configured: {o.infeasible}."
                    + (f" {o.suggestion[0].upper()}{o.suggestion[1:]}." if o.suggestion else ""),
                    f"self_hosting: gpu {_listed(profile.self_hosting.gpu)}, precision "
                    f"{_listed(profile.self_hosting.precision or 'auto')}"
                    + (f", gpus {profile.self_hosting.gpus}" if profile.self_hosting.gpus else ""),
                    _with_part(options, o.id),
                )
            )
        elif o.price_missing:
            found.append(Finding("gpu_price_unknown", Effect.INFO, f"{o.id}: {o.price_missing}.", "catalog prices"))
    return found


def quality(profile: Profile, work: Workload, options: Sequence[Option]) -> list[Finding]:
    """State the quality gap whenever the compared options serve different models."""
    own = next((o for o in options if o.kind is OptionKind.SELF_HOST), None)
    if own is None:
        return []
    lines: list[str] = []
    evidence: list[str] = []
    for o in options:
        if o.kind is not OptionKind.API or o.model == own.model:
            continue
        if o.quality and own.quality and o.quality.entry and o.quality.entry == own.quality.entry:
            continue  # the same rated model (a stand-in modelled on it, or an identical architecture)
        stand_in = f" (serves {o.model}: a stand-in, not {own.model})" if o.model else ""
        if o.quality is None or own.quality is None:
            lines.append(f"{o.id}{stand_in}: no quality figure to compare")
            continue
        gap = o.quality.score - own.quality.score
        preferred = 1 / (1 + 10 ** (-abs(gap) / 400))
        better = o.id if gap > 0 else own.model
        lines.append(
            f"{o.id}{stand_in} {o.quality.score:.0f} vs {own.model} {own.quality.score:.0f} "
            f"({abs(gap):.0f} points: {better} preferred in about {preferred:.0%} of votes)"
        )
        evidence.append(f"{o.quality.scale} {o.quality.as_of}: {o.quality.entry or o.id}")
    if not lines:
        return []
    scale = own.quality.scale if own.quality else "lmarena-text"
    source = own.quality.source if own.quality else "no quality figure"
    return [
        Finding(
            "quality",
            Effect.INFO,
            f"The compared options serve different models; LMArena text scores: {'; '.join(lines)}. Costs are compared "
            "as if the models were interchangeable: check the one you would get is good enough for the task.",
            f"{scale}: {source}; " + "; ".join(evidence),
        )
    ]


# ---------------------------------------------------------------- traffic and team


def traffic_variance(profile: Profile, work: Workload, options: Sequence[Option]) -> list[Finding]:
    p = work.peak_to_average
    if p < SPIKY_PEAK_TO_AVERAGE or profile.self_hosting.autoscaling or profile.self_hosting.gpus:
        return []
    own = next((o for o in options if o.kind is OptionKind.SELF_HOST and o.capacity), None)
    mean = f"{own.capacity.mean_utilization:.0%}" if own and own.capacity else f"at most {1 / p:.0%}"
    return [
        Finding(
            "traffic_variance",
            Effect.FAVORS_API,
            f"Peak traffic is {p:g}× the mean: the fleet sized for the peak runs at {mean} of its serving capacity "
            "on average, while an API bills only the tokens used. Autoscaling or a hybrid split recovers part of it.",
            f"workload.peak_to_average: {p:g}; self_hosting.autoscaling: false",
        )
    ]


def team_expertise(profile: Profile, work: Workload, options: Sequence[Option]) -> list[Finding]:
    level = profile.team.inference_expertise
    margin = RISK_MARGIN[level]
    if level is Expertise.NONE:
        message = (
            "No one on the team has run an inference engine in production: expect slower tuning, more incidents "
            f"and a learning curve; leaving the API must save {margin:.0%} before it is recommended."
        )
        return [Finding("team_expertise", Effect.FAVORS_API, message, "team.inference_expertise: none")]
    message = f"Team inference expertise '{level.value}': leaving the API must save {margin:.0%} (risk margin)."
    return [Finding("team_expertise", Effect.INFO, message, f"team.inference_expertise: {level.value}")]


def insurance(profile: Profile, work: Workload, options: Sequence[Option]) -> list[Finding]:
    return [
        Finding(
            "strategic_insurance",
            Effect.INFO,
            "Whatever the decision, keeping a self-hosting path ready (a tested open-weight model and deployment "
            "recipe) is insurance against API price changes, rate limits and model deprecations.",
            "selfhost note",
        )
    ]


def availability(profile: Profile, work: Workload, options: Sequence[Option]) -> list[Finding]:
    """An offering its provider has shut down cannot be bought: it is shown (a profile named it) but excluded,
    with every hybrid that would send tokens to it."""
    gone = {o.id: o.retired for o in options if o.kind is OptionKind.API and o.retired}
    if not gone:
        return []
    excluded = tuple(o.id for o in options if (half := _api_half(o, options)) is not None and half.id in gone)
    return [
        Finding(
            "retired",
            Effect.INFO,
            f"Excluded: {'; '.join(gone.values())}. Name its successor in models.api to compare it.",
            "catalog retires.date",
            excluded,
        )
    ]


RULES: tuple[Rule, ...] = (
    availability,
    third_party_processing,
    air_gapped,
    data_residency,
    customization,
    deployment,
    quality,
    traffic_variance,
    team_expertise,
    insurance,
)


def findings(profile: Profile, work: Workload, options: Sequence[Option]) -> list[Finding]:
    """Every rule, in the order they are shown."""
    return [finding for rule in RULES for finding in rule(profile, work, options)]


def premium(found: Sequence[Finding]) -> float:
    """Combined capability premium: product of the findings' premiums, capped."""
    total = 1.0
    for f in found:
        total *= f.premium
    return min(total, MAX_PREMIUM)

"""Stage 6: the decision in words and figures — summary, the cost reason, break-even, assumptions,
alternatives and coded warnings — drawn from the typed values, never from message text."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from selfhost_cli.advise.candidates import Candidates
from selfhost_cli.advise.decide import Basis, Verdict
from selfhost_cli.advise.pricing import Option, price_self_host
from selfhost_cli.advise.rules import QUALITY_GAP_POINTS, Finding
from selfhost_cli.advise.workload import Workload
from selfhost_cli.costs import DAYS_PER_MONTH, HOURS_PER_MONTH, api_monthly_cost, breakeven_volume
from selfhost_cli.deploy.sizing import TARGET_PEAK_UTILIZATION, Infeasible
from selfhost_cli.enums import Decision, Effect, OptionKind, WarningCode
from selfhost_cli.profile import DEFAULT_OUTPUT_TOKENS_PER_REQUEST, Profile

# Prices older than this are flagged as stale.
STALE_AFTER_DAYS = 365


@dataclass(frozen=True)
class Warning:
    code: WarningCode
    message: str


@dataclass(frozen=True)
class Assumption:
    name: str
    value: Any
    source: str
    as_of: str | None = None


@dataclass(frozen=True)
class Alternative:
    """One self-hosted plan that was compared (SPEC §4 `alternatives`)."""

    gpu: str
    pricing: str
    precision: str
    gpus: int | None
    tp: int | None
    pp: int
    ep: int
    monthly_usd: float | None
    feasible: bool
    reason: str
    model: str


def usd(value: float | None) -> str:
    return "unknown" if value is None else f"${value:,.0f}"


# ---------------------------------------------------------------- what is shown


def shown_options(options: Sequence[Option]) -> list[Option]:
    """APIs and self-hosted options, and per self-hosted option its best hybrid (eligible first, then cheapest)."""
    out = [o for o in options if o.kind is not OptionKind.HYBRID]
    for own in [o for o in options if o.kind is OptionKind.SELF_HOST]:
        hybrids = [o for o in options if o.kind is OptionKind.HYBRID and o.parts[0] == own.id]
        if hybrids:
            out.append(min(hybrids, key=lambda o: (not o.eligible, o.monthly_usd or 0.0)))
    return out


# ---------------------------------------------------------------- the cost reason and the summary


def cost_finding(v: Verdict, options: Sequence[Option]) -> Finding | None:
    """The comparison the decision made, in one reason (rule `cost`); for a decision that cost did not make,
    the comparison for information."""
    api, own = v.best_api, v.best_own
    if v.basis is Basis.ONLY_OWN:
        return _for_comparison(v, options)
    if v.basis is Basis.ONLY_API and api:
        return Finding(
            "cost",
            Effect.FAVORS_API,
            "API by default: no self-hosted option is eligible as configured.",
            f"{api.id}: {usd(api.monthly_usd)}/month",
        )
    if v.basis is not Basis.COST or api is None or own is None or v.contender is None:
        return None
    api_usd, own_usd = api.monthly_usd or 0.0, own.monthly_usd or 0.0
    evidence = f"{own.id} {usd(own_usd)}/month vs {api.id} {usd(api_usd)}/month; margin {v.risk_margin:.0%}"
    premium = f" (accepting up to {v.premium:.2g}× for the customization it enables)" if v.premium > 1 else ""
    if v.decision is not Decision.API:
        if own_usd <= api_usd:
            msg = (
                f"Leaving the API saves {1 - own_usd / api_usd:.0%}: {own.id} costs {usd(own_usd)} vs {usd(api_usd)} a "
                f"month for {api.id}, beyond the {v.risk_margin:.0%} risk margin even with one more replica{premium}."
            )
        else:
            msg = (
                f"Self-hosting costs {own_usd / api_usd:.1f}× the API ({usd(own_usd)} vs {usd(api_usd)} a month) but "
                f"is within the premium accepted for customization{premium}."
            )
        return Finding("cost", Effect.FAVORS_SELF_HOST, msg, evidence)
    contender = v.contender
    c_usd = contender.monthly_usd or 0.0
    threshold = v.threshold_usd or 0.0
    if c_usd <= threshold:
        msg = (
            f"{contender.id} at {usd(c_usd)}/month is inside the {v.risk_margin:.0%} margin at exactly this "
            f"volume, but one more replica (+{usd(contender.step_usd)}) — a few percent more traffic — puts it "
            "outside: the API stays "
            "the recommendation until the volume clears that step."
        )
    elif c_usd >= api_usd:
        msg = (
            f"The API is cheaper: the best non-API option ({contender.id}) costs {c_usd / api_usd:.1f}× as much "
            f"({usd(c_usd)} vs {usd(api_usd)} a month)."
        )
    else:
        msg = (
            f"Leaving the API would save {1 - c_usd / api_usd:.0%} ({contender.id} {usd(c_usd)} vs {usd(api_usd)} a "
            f"month), less than the {v.risk_margin:.0%} risk margin a self-hosted estimate needs."
        )
    return Finding("cost", Effect.FAVORS_API, msg, evidence)


def _for_comparison(v: Verdict, options: Sequence[Option]) -> Finding | None:
    own = v.chosen
    priced = [o for o in options if o.kind is OptionKind.API and o.monthly_usd]
    if own is None or own.monthly_usd is None or not priced:
        return None
    api = min(priced, key=lambda o: o.monthly_usd or 0.0)
    api_usd, own_usd = api.monthly_usd or 0.0, own.monthly_usd
    ratio = own_usd / api_usd
    compare = (
        "near break-even with"
        if 0.67 <= ratio <= 1.5
        else (f"{ratio:.1f}× the cost of" if ratio > 1 else f"{1 / ratio:.1f}× cheaper than")
    )
    gpu = own.item("gpu")
    gpu_part = f" (GPU-hours alone: {usd(gpu.monthly_usd)})" if gpu else ""
    return Finding(
        "cost",
        Effect.INFO,
        f"For comparison only: self-hosting at {usd(own_usd)}/month{gpu_part} is {compare} {api.id} "
        f"({usd(api_usd)}/month, not allowed here). The requirement decides, not cost.",
        f"{own.id} {usd(own_usd)}/month vs {api.id} {usd(api_usd)}/month",
    )


LABEL = {Decision.API: "Use the API", Decision.SELF_HOST: "Self-host", Decision.HYBRID: "Go hybrid"}


def summary(v: Verdict, found: Sequence[Finding]) -> str:
    if v.decision is Decision.NONE:
        blocked = ", ".join(v.blocked_by)
        return f"No option is feasible as configured (excluded by {blocked}): see what would make one feasible."
    chosen = v.chosen
    what = f" ({chosen.id}) at {usd(chosen.monthly_usd)}/month" if chosen else ""
    label = LABEL[v.decision]
    hard = sorted({f.rule for f in found if f.effect in (Effect.REQUIRES_SELF_HOST, Effect.REQUIRES_API)})
    if v.basis is Basis.ONLY_OWN:
        return f"{label}{what}: required by {', '.join(hard) or 'the exclusions of every API'}."
    if v.basis is Basis.ONLY_API:
        return f"{label}{what}: no self-hosted option is eligible ({', '.join(hard) or 'see the reasons'})."
    api = v.best_api
    if v.decision is Decision.API:
        best = v.best_own or v.contender
        if best and best.monthly_usd and chosen and chosen.monthly_usd:
            ratio = best.monthly_usd / chosen.monthly_usd
            if ratio >= 1:
                return f"{label}{what}: the best alternative to it ({best.id}) costs {ratio:.1f}× as much."
            return (
                f"{label}{what}: leaving it would save {1 - ratio:.0%} ({best.id}), less than the "
                f"{v.risk_margin:.0%} risk margin."
            )
        return f"{label}{what}: leaving it does not save the {v.risk_margin:.0%} risk margin."
    assert api is not None and chosen is not None
    ratio = (chosen.monthly_usd or 0.0) / (api.monthly_usd or 1.0)
    if ratio > 1:
        return (
            f"{label}{what}: {ratio:.1f}× {api.id}'s {usd(api.monthly_usd)}, within the premium accepted for what "
            "the API cannot do."
        )
    margin = f"{v.risk_margin:.0%} risk margin"
    return f"{label}{what}: it saves {1 - ratio:.0%} against {api.id} ({usd(api.monthly_usd)}), beyond the {margin}."


# ---------------------------------------------------------------- break-even


def breakeven(
    cands: Candidates, work: Workload, profile: Profile, options: Sequence[Option]
) -> tuple[float | None, str]:
    """Tokens/day from which the first self-hosted option, fully loaded, stays at or below the cheapest API
    (costs equal: no risk margin; the volume flip point is where the decision changes)."""
    apis = [o for o in options if o.kind is OptionKind.API]
    cand = cands.self_hosts[0] if cands.self_hosts else None
    if cand is None:
        return None, "no break-even: no self-hosted model to compare"
    if isinstance(cand.plans, Infeasible):
        return None, f"no break-even: {cand.id} cannot be deployed ({cand.plans.reason})"
    if cand.hourly is None:
        return None, f"no break-even: no {profile.self_hosting.pricing.value} price for {cand.gpu.id}"
    api_cands = [a for a in cands.apis if a.id in {o.id for o in apis}]
    if not api_cands:
        return None, "no break-even: no API offering to compare with"
    cheapest = min(api_cands, key=lambda a: api_monthly_cost(a.prices, 1e9, work.input_share).monthly_usd)
    s = profile.self_hosting.model_copy(update={"gpus": None})
    sized = replace(cand, fixed_gpus=None)

    def own(volume: float) -> float | None:
        return price_self_host(sized, work.at_volume(volume), s).monthly_usd

    def api(volume: float) -> float:
        w = work
        return api_monthly_cost(cheapest.prices, volume, w.input_share, w.cached_input_share, w.batch_share).monthly_usd

    volume = breakeven_volume(own, api)
    if volume is None:
        return None, f"never: even at 10T tokens/day {sized.id} costs more than {cheapest.id} per token"
    return (
        volume,
        f"vs {cheapest.id}, fully loaded (GPU + ops + other), fleet sized for the profile's peak; no risk margin",
    )


# ---------------------------------------------------------------- alternatives, warnings, assumptions


def alternatives(options: Sequence[Option]) -> list[Alternative]:
    rows = []
    for o in options:
        if o.kind is not OptionKind.SELF_HOST:
            continue
        c = o.capacity
        gpu = o.id.split("@")[1]
        reason = (
            o.infeasible or o.price_missing or ("eligible" if o.eligible else "excluded by " + ", ".join(o.excluded_by))
        )
        rows.append(
            Alternative(
                gpu,
                c.pricing if c else "",
                c.precision if c else "",
                c.gpus if c else None,
                c.tp if c else None,
                1,
                1,
                o.monthly_usd,
                o.infeasible is None,
                reason,
                o.model or "",
            )
        )
    return sorted(rows, key=lambda r: (r.monthly_usd is None, r.monthly_usd or 0.0))


def warnings(
    profile: Profile, work: Workload, options: Sequence[Option], cands: Candidates, v: Verdict, today: dt.date
) -> list[Warning]:
    out: list[Warning] = []
    for a in cands.apis:
        if a.as_of and (today - a.as_of).days > STALE_AFTER_DAYS:
            out.append(
                Warning(
                    WarningCode.STALE_PRICE, f"stale price: {a.id} as of {a.as_of} ({(today - a.as_of).days} days old)"
                )
            )
    for c in cands.self_hosts:
        h = c.hourly
        if h and h.as_of and (today - h.as_of).days > STALE_AFTER_DAYS:
            out.append(Warning(WarningCode.STALE_PRICE, f"stale price: {c.gpu.id} GPU-hour as of {h.as_of}"))
        if h is None:
            out.append(
                Warning(
                    WarningCode.PRICE_UNKNOWN,
                    f"no {profile.self_hosting.pricing.value} price for {c.gpu.id}: self-hosted cost unknown",
                )
            )
        if c.model.modelled_on:
            out.append(
                Warning(
                    WarningCode.STAND_IN,
                    f"{c.model.id} is not a release: modelled on {c.model.modelled_on}'s architecture",
                )
            )
    for o in options:
        cap = o.capacity
        if (
            o.kind is OptionKind.SELF_HOST
            and cap
            and cap.fixed_fleet
            and cap.peak_utilization > TARGET_PEAK_UTILIZATION
        ):
            out.append(
                Warning(
                    WarningCode.FLEET_SHORT,
                    f"the fixed fleet of {cap.gpus} × {cap.gpu} would run at {cap.peak_utilization:.0%} of its "
                    "latency-bound "
                    f"capacity at the peak ({work.peak_output_tokens_per_s:,.0f} output tokens/s); the plan allows "
                    f"{TARGET_PEAK_UTILIZATION:.0%}",
                )
            )
        for note in o.notes:
            if note.startswith("no cached-input price"):
                out.append(Warning(WarningCode.CACHED_PRICE_MISSING, f"{o.id}: {note}"))
            if note.startswith("no batch discount"):
                out.append(Warning(WarningCode.BATCH_PRICE_MISSING, f"{o.id}: {note}"))
    chosen = v.chosen
    own = next((o for o in options if o.kind is OptionKind.SELF_HOST), None)
    if chosen and own and chosen.kind is OptionKind.API and chosen.quality and own.quality:
        gap = chosen.quality.score - own.quality.score
        if abs(gap) > QUALITY_GAP_POINTS:
            out.append(
                Warning(
                    WarningCode.QUALITY_GAP,
                    f"{chosen.id} and {own.model} differ by {abs(gap):.0f} LMArena points: "
                    "the comparison is not like for like",
                )
            )
    if v.decision is Decision.NONE:
        out.append(Warning(WarningCode.NO_FEASIBLE_OPTION, "no option is feasible as configured"))
    return out


def _src(section: Any, key: str) -> str:
    return "profile" if key in section.model_fields_set else "default"


def assumptions(
    profile: Profile, work: Workload, cands: Candidates, options: Sequence[Option], v: Verdict
) -> list[Assumption]:
    s, w = profile.self_hosting, profile.workload
    out = [
        Assumption("hours_per_month", HOURS_PER_MONTH, "8,760 h ÷ 12 (cloud billing convention)"),
        Assumption("days_per_month", round(DAYS_PER_MONTH, 2), "730 h ÷ 24"),
    ]
    for c in cands.self_hosts:
        out.append(Assumption("self_hosted_model", c.model.id, c.model.source, c.model.as_of.isoformat()))
        out.append(
            Assumption(
                "gpu",
                f"{c.gpu.id}: {c.gpu.memory_gb:g} GB, {c.gpu.hbm_tb_per_s:g} TB/s",
                c.gpu.source,
                c.gpu.as_of.isoformat(),
            )
        )
        h = c.hourly
        if h:
            spread = f" (range ${h.low_usd:.2f}–${h.high_usd:.2f})" if h.high_usd > h.low_usd else ""
            out.append(
                Assumption(
                    "gpu_hourly_usd",
                    round(h.usd_per_gpu_hour, 4),
                    f"{h.basis}: {h.source}{spread}",
                    h.as_of.isoformat() if h.as_of else None,
                )
            )
        else:
            out.append(Assumption("gpu_hourly_usd", None, f"unknown: no {s.pricing.value} price for {c.gpu.id}"))
        out.append(
            Assumption(
                "precision",
                c.precision.value,
                "profile" if s.precision else "default: fp8 where the GPU runs it natively, else bf16",
            )
        )
        out.append(Assumption("engine_constants", c.engine.provenance, "docs/estimation.md"))
        if c.model.modelled_on:
            out.append(
                Assumption(
                    "model_note",
                    f"{c.model.id} is not a release: modelled on {c.model.modelled_on}'s architecture "
                    "(Meta's Llama 4 models are MoE)",
                    c.model.source,
                    c.model.as_of.isoformat(),
                )
            )
    own = next((o for o in options if o.kind is OptionKind.SELF_HOST and o.capacity), None)
    redundancy = s.redundancy.value
    if own and own.capacity and own.capacity.fixed_fleet:
        spare = own.capacity.spare_replicas
        redundancy = f"{redundancy} asked; the fixed fleet has {spare} spare replica(s) beyond the peak's need"
    out += [
        Assumption("engine", s.engine.value, _src(s, "engine")),
        Assumption(
            "input_tokens_per_request",
            round(work.shape.input_tokens, 1),
            "profile"
            if w.input_tokens_per_request
            else f"default: {DEFAULT_OUTPUT_TOKENS_PER_REQUEST:g} output tokens/request at the input share",
        ),
        Assumption(
            "output_tokens_per_request",
            round(work.shape.output_tokens, 1),
            "profile" if w.output_tokens_per_request else "default",
        ),
        Assumption("peak_to_average", w.peak_to_average, _src(w, "peak_to_average")),
        Assumption("max_ttft_ms", w.latency.max_ttft_ms, _src(w.latency, "max_ttft_ms")),
        Assumption(
            "min_output_tokens_per_s", w.latency.min_output_tokens_per_s, _src(w.latency, "min_output_tokens_per_s")
        ),
        Assumption("target_peak_utilization", TARGET_PEAK_UTILIZATION, "selfhost planning headroom (docs/method.md)"),
        Assumption("redundancy", redundancy, _src(s, "redundancy")),
        Assumption("autoscaling", "on" if s.autoscaling else "off", _src(s, "autoscaling")),
        Assumption("ops_fte", s.ops_fte, _src(s, "ops_fte")),
        Assumption("fte_annual_usd", s.fte_annual_usd, _src(s, "fte_annual_usd")),
        Assumption("other_monthly_usd", s.other_monthly_usd, _src(s, "other_monthly_usd")),
        Assumption(
            "risk_margin",
            v.risk_margin,
            f"selfhost rule for team.inference_expertise={profile.team.inference_expertise.value}",
        ),
        Assumption("quality_policy", profile.models.quality.value, _src(profile.models, "quality")),
        Assumption("cached_input_share", w.cached_input_share, _src(w, "cached_input_share")),
        Assumption("batch_share", w.batch_share, _src(w, "batch_share")),
    ]
    return out


def prices_as_of(cands: Candidates) -> str | None:
    dates = [a.as_of for a in cands.apis if a.as_of] + [
        c.hourly.as_of for c in cands.self_hosts if c.hourly and c.hourly.as_of
    ]
    return min(dates).isoformat() if dates else None

"""Stage 6b: what the advice rests on — assumptions with sources, the plans compared, coded warnings."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from selfhost_cli.advise.candidates import Candidates, SelfHostCandidate, on_site, retirement
from selfhost_cli.advise.decide import Verdict
from selfhost_cli.advise.options import Option
from selfhost_cli.advise.ownership import ENGINE_START_S, WEIGHT_LOAD_GB_PER_S, cold_start_s
from selfhost_cli.advise.rules import QUALITY_GAP_POINTS
from selfhost_cli.advise.workload import Workload
from selfhost_cli.costs import DAYS_PER_MONTH, HOURS_PER_MONTH
from selfhost_cli.deploy.search import billed_gpus
from selfhost_cli.deploy.sizing import PEAK_LATENCY_QUANTILE
from selfhost_cli.enums import Decision, OptionKind, Pricing, WarningCode
from selfhost_cli.profile import DEFAULT_OUTPUT_TOKENS_PER_REQUEST, LONGEST_TO_MEAN, Profile

# An offering shutting down within this many days is worth a warning: a plan built on it is a migration.
RETIRING_WITHIN_DAYS = 90
# Prices older than this are flagged as stale.
STALE_AFTER_DAYS = 180


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


# ---------------------------------------------------------------- alternatives, warnings, assumptions


def alternatives(cands: Candidates, fixed_monthly_usd: float) -> list[Alternative]:
    """What the deployment search compared: the best plan per model × GPU × tier, cheapest first, fully
    loaded like the option (`fixed_monthly_usd`: people and other costs), then each GPU that cannot serve."""
    rows: list[Alternative] = []
    for c in cands.self_hosts:
        if c.search is None:
            continue
        for f in c.search.found:
            setup = f.fleet.plan.setup
            hourly = f.usd_per_hour
            chosen = f.market.gpu.id == c.gpu.id and f.market.pricing == c.pricing.value
            what = f"{f.fleet.replicas} × {setup.layout} replica(s) on {setup.nodes} node(s) each"
            bought = billed_gpus(f.fleet.mean_gpus, f.market.unit_gpus)
            if bought > f.fleet.mean_gpus:
                what += f"; {bought:,} bought ({f.market.unit_gpus} at a time)"
            rows.append(
                Alternative(
                    f.market.gpu.id,
                    f.market.pricing,
                    f.precision.value,
                    f.fleet.gpus,
                    setup.tp,
                    setup.pp,
                    setup.ep,
                    None if hourly is None else hourly * HOURS_PER_MONTH + fixed_monthly_usd,
                    True,
                    ("the plan: " if chosen else "") + what + ("" if hourly is not None else "; no price known"),
                    c.model.id,
                )
            )
        for r in c.search.rejected:
            rows.append(Alternative(r.gpu.id, r.pricing, "", None, None, 1, 1, None, False, r.reason, c.model.id))
    return sorted(rows, key=lambda r: (not r.feasible, r.monthly_usd is None, r.monthly_usd or 0.0))


def warnings(
    profile: Profile, work: Workload, options: Sequence[Option], cands: Candidates, v: Verdict, today: dt.date
) -> list[Warning]:
    out: list[Warning] = []
    for a in cands.apis:
        if a.retires and (a.retired or (a.retires.date - today).days <= RETIRING_WITHIN_DAYS):
            out.append(Warning(WarningCode.RETIRING, retirement(a)))
        if a.as_of and (today - a.as_of).days > STALE_AFTER_DAYS:
            out.append(
                Warning(
                    WarningCode.STALE_PRICE, f"stale price: {a.id} as of {a.as_of} ({(today - a.as_of).days} days old)"
                )
            )
    for c in cands.self_hosts:
        h = c.hourly
        if h and h.as_of and (today - h.as_of).days > STALE_AFTER_DAYS:
            what = "purchase price" if c.pricing is Pricing.OWNED else "GPU-hour"
            out.append(Warning(WarningCode.STALE_PRICE, f"stale price: {c.gpu.id} {what} as of {h.as_of}"))
        if h is None:
            out.append(
                Warning(
                    WarningCode.PRICE_UNKNOWN,
                    f"no {c.pricing.value} price for {c.gpu.id}: self-hosted cost unknown",
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
            and cap.peak_utilization > cap.planned_utilization * (1 + 1e-9)
        ):
            out.append(
                Warning(
                    WarningCode.FLEET_SHORT,
                    f"the fixed fleet of {cap.gpus} × {cap.gpu} would run at {cap.peak_utilization:.0%} of its "
                    "latency-bound "
                    f"capacity at the peak ({work.peak_output_tokens_per_s:,.0f} output tokens/s); the plan allows "
                    f"{cap.planned_utilization:.0%} (queueing headroom for Poisson arrivals)",
                )
            )
        if o.kind is OptionKind.SELF_HOST and cap:
            out += _fleet_size(o.id, cap.gpus, cands)
        out += [Warning(code, f"{o.id}: {message}") for code, message in o.price_gaps]
    if on_site(profile) and any(c.pricing is not Pricing.OWNED for c in cands.self_hosts):
        out.append(
            Warning(
                WarningCode.ON_SITE_RENTED,
                "the data may not leave your site, yet the self-hosted plan is priced as rented cloud GPU-hours "
                "(self_hosting.pricing): hardware you hold is priced with pricing: owned",
            )
        )
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


# Fleets beyond these are flagged: workstation cards (no scale-out network) are rarely run by the dozen, and
# a thousand data-center GPUs for one workload is a large training cluster's size.
UNUSUAL_WORKSTATION_GPUS = 64
UNUSUAL_GPUS = 1024


def _fleet_size(option_id: str, gpus: int, cands: Candidates) -> list[Warning]:
    cand = next((c for c in cands.self_hosts if c.id == option_id), None)
    if cand is None:
        return []
    limit = UNUSUAL_GPUS if cand.gpu.multi_node else UNUSUAL_WORKSTATION_GPUS
    if gpus <= limit:
        return []
    if cand.fixed_gpus is not None:  # the profile's own fleet: what it has, not what the peak needs
        return [
            Warning(
                WarningCode.FLEET_UNUSUAL,
                f"{option_id}: the fixed fleet of {gpus:,} GPUs (self_hosting.gpus) is over {limit:,}, more than one "
                "workload usually runs; check the figure",
            )
        ]
    kind = (
        "GPUs: a large cluster for one workload"
        if cand.gpu.multi_node
        else (f"{cand.gpu.id} cards, which have no scale-out network: far more than such fleets run")
    )
    return [
        Warning(
            WarningCode.FLEET_UNUSUAL,
            f"{option_id} needs {gpus:,} GPUs at the peak, over {limit:,} {kind}; check the volume and the "
            "latency target, or cap the search with self_hosting.max_gpus",
        )
    ]


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
            out.append(Assumption("gpu_hourly_usd", None, f"unknown: no {c.pricing.value} price for {c.gpu.id}"))
        out += _search_assumptions(profile, work, c)
        out.append(Assumption("engine_constants", c.engine.provenance, "docs/estimation.md"))
        if c.engine.speculation:
            out.append(
                Assumption(
                    "speculative_decoding",
                    c.engine.speculation.label,
                    "profile (self_hosting.speculative); checked against published speedups (docs/estimation.md)",
                )
            )
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
        redundancy = f"{redundancy} asked; the fixed fleet has {spare:,} spare replica(s) beyond the peak's need"
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
        Assumption(
            "peak_latency_quantile",
            PEAK_LATENCY_QUANTILE,
            "selfhost planning headroom: Poisson arrivals keep the latency target this share of the peak "
            "(docs/method.md)",
        ),
        *_planned_utilizations(options),
        Assumption("redundancy", redundancy, _src(s, "redundancy")),
        Assumption("autoscaling", "on" if s.autoscaling else "off", _src(s, "autoscaling")),
        Assumption("workload_class", w.workload_class.value, _src(w, "workload_class")),
        Assumption(
            "max_context_tokens",
            round(w.max_context_tokens_resolved),
            "profile"
            if w.max_context_tokens
            else f"default: {LONGEST_TO_MEAN:g}× the mean request (the KV cache must hold the longest request)",
        ),
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


def _planned_utilizations(options: Sequence[Option]) -> list[Assumption]:
    """Each sized fleet's planned share of its latency-bound capacity at the peak (the queueing headroom); one
    entry with no value when no fleet was sized, so that the key is always there."""
    planned = [
        Assumption(
            "target_peak_utilization",
            round(o.capacity.planned_utilization, 3),
            f"{o.id}: {o.capacity.planned_concurrency_per_replica:,.1f} of {o.capacity.concurrency_per_replica:,} "
            f"latency-bound requests in flight per replica at p{PEAK_LATENCY_QUANTILE * 100:g} "
            "(docs/method.md)",
        )
        for o in options
        if o.kind is OptionKind.SELF_HOST and o.capacity
    ]
    return planned or [Assumption("target_peak_utilization", None, "no self-hosted fleet was sized")]


def _search_assumptions(profile: Profile, work: Workload, c: SelfHostCandidate) -> list[Assumption]:
    """What the deployment search compared and chose, and where the owned and autoscaling figures came from."""
    s = profile.self_hosting
    out: list[Assumption] = []
    if c.search is not None:
        found = c.search.found
        gpus = sorted({f.market.gpu.id for f in found} | {r.gpu.id for r in c.search.rejected})
        out.append(
            Assumption(
                "deployment_search",
                f"{len(found)} feasible plan(s), {len(c.search.rejected)} GPU × tier that cannot serve, over "
                f"{len(gpus)} GPU(s) × {', '.join(t.value for t in c.tiers)}",
                "selfhost search: GPU × tier × precision × layout (TP, PP across nodes, EP), cheapest fleet "
                "(docs/method.md §6a)",
            )
        )
    tier_src = "profile" if "pricing" in s.model_fields_set else "default"
    if tier_src == "default" and on_site(profile):
        tier_src = "default: the data may not leave the site, so the hardware is owned"
    out.append(Assumption("pricing", c.pricing.value, tier_src))
    out.append(
        Assumption(
            "precision",
            c.precision.value,
            "profile"
            if s.precisions
            else "auto: formats the GPU runs natively without a published quality loss (bf16, fp8), cheapest kept",
        )
    )
    o = c.owned
    if c.pricing is Pricing.OWNED and o is not None:
        figures = [
            ("owned.gpu_purchase_usd", o.purchase_usd),
            ("owned.amortization_years", o.amortization_years),
            ("owned.power_w_per_gpu", o.power_w),
            ("owned.pue", o.pue),
            ("owned.usd_per_kwh", o.usd_per_kwh),
            ("owned.hosting_usd_per_gpu_month", o.hosting_usd_per_gpu_month),
        ]
        for name, f in figures:
            if f is None:
                out.append(Assumption(name, None, f"unknown for {c.gpu.id}: set self_hosting.{name}"))
            else:
                out.append(Assumption(name, round(f.value, 4), f.source, f.as_of.isoformat() if f.as_of else None))
    if s.autoscaling is not None:
        cold = cold_start_s(c.model, s)
        auto = s.autoscaling.cold_start_s == "auto"
        out += [
            Assumption(
                "autoscaling.cold_start_s",
                round(cold),
                f"auto: {ENGINE_START_S:g} s engine start + weights at {WEIGHT_LOAD_GB_PER_S:g} GB/s"
                if auto
                else "profile",
            ),
            Assumption("autoscaling.min_replicas", s.autoscaling.min_replicas, _src(s.autoscaling, "min_replicas")),
        ]
    cached = work.shape.cached_share if c.engine.prefix_cache else 0.0
    out.append(
        Assumption(
            "self_hosted_prefix_cache",
            round(cached, 4),
            "workload.cached_input_share: that share of prompt tokens is not prefilled again (vLLM/SGLang prefix "
            "caching)"
            if c.engine.prefix_cache
            else f"0: {c.engine.engine.value} keeps no shared prefix cache",
        )
    )
    return out


def prices_as_of(cands: Candidates) -> str | None:
    dates = [a.as_of for a in cands.apis if a.as_of] + [
        c.hourly.as_of for c in cands.self_hosts if c.hourly and c.hourly.as_of
    ]
    return min(dates).isoformat() if dates else None

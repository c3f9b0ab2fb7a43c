"""Stage 3: every candidate priced per month as typed line items, with the capacity plan of each self-host.

Besides the whole-replica cost each non-API option carries `smooth_usd` (the same fleet with fractional
replicas: what the capacity itself costs) and `step_usd` (one replica more). The decision tests
`smooth_usd + step_usd`: a bound on the real cost that never rises faster than the volume, which is what
keeps the recommendation monotone in volume (docs/method.md, "Decision rules").
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable
from dataclasses import dataclass, field, replace

from selfhost_cli.advise.candidates import ApiCandidate, Candidates, SelfHostCandidate
from selfhost_cli.advise.workload import Workload
from selfhost_cli.catalog.schema import Capabilities, Quality
from selfhost_cli.costs import (
    DAYS_PER_MONTH,
    HOURS_PER_MONTH,
    ApiPrices,
    api_monthly_cost,
    daily_curve,
    overflow_share,
)
from selfhost_cli.deploy.sizing import Infeasible, ReplicaPlan, fitting_in
from selfhost_cli.enums import Confidence, OptionKind
from selfhost_cli.profile import Profile, SelfHosting


@dataclass(frozen=True)
class LineItem:
    """One priced quantity, as Infracost's cost components: quantity × unit price = monthly USD."""

    name: str  # key: JSON `breakdown` carries it as `<name>_usd`
    label: str
    quantity: float
    unit: str
    unit_usd: float
    monthly_usd: float
    source: str
    as_of: dt.date | None = None


@dataclass(frozen=True)
class Capacity:
    """The self-hosted fleet: layout, replicas, and the one definition of utilization every view prints.

    Utilization is demand ÷ the latency-bound capacity of the serving replicas (spares excluded)."""

    gpu: str
    pricing: str
    gpus: int
    gpus_per_replica: int
    replicas: int
    serving_replicas: float  # mean over the day when autoscaling
    spare_replicas: int
    precision: str
    engine: str
    tp: int
    mean_utilization: float
    peak_utilization: float
    output_tokens_per_s_per_replica: float
    concurrency_per_replica: int
    tpot_ms: float
    ttft_ms: float
    weights_gb_per_gpu: float
    kv_cache_gb_per_gpu: float
    expected_error_pct: float
    fixed_fleet: bool
    autoscaling: bool
    pp: int = 1
    ep: int = 1
    nodes_per_replica: int = 1


@dataclass(frozen=True)
class Option:
    """One way to serve the workload, priced per month (None = a price is unknown, never $0)."""

    kind: OptionKind
    id: str
    model: str | None
    items: tuple[LineItem, ...]
    monthly_usd: float | None
    quality: Quality | None = None
    capabilities: Capabilities | None = None
    capacity: Capacity | None = None
    notes: tuple[str, ...] = ()
    infeasible: str | None = None  # why no layout serves it (self-host)
    price_missing: str | None = None  # why the cost is unknown
    smooth_usd: float | None = None  # non-API: the fleet at fractional replicas
    step_usd: float = 0.0  # non-API: one more replica a month (0 for a fixed fleet)
    parts: tuple[str, ...] = ()  # hybrid: the self-host and API option ids
    gpu_usd: float = 0.0  # the GPU-hours share of monthly_usd (what the estimate's error scales)
    gpu_price_range: tuple[float, float] = (1.0, 1.0)  # interquartile price rows ÷ the price used
    price_confidence: Confidence | None = None  # API: how far its price row can be trusted
    excluded_by: tuple[str, ...] = field(default=())

    @property
    def eligible(self) -> bool:
        return not self.excluded_by and self.monthly_usd is not None

    @property
    def bound_usd(self) -> float | None:
        """What the decision tests for a non-API option: fractional fleet plus one replica."""
        return None if self.smooth_usd is None else self.smooth_usd + self.step_usd

    def item(self, name: str) -> LineItem | None:
        return next((i for i in self.items if i.name == name), None)


def price(cands: Candidates, work: Workload, profile: Profile) -> list[Option]:
    """API options, self-host options, and a hybrid per self-host × API pair."""
    apis = [price_api(a, work, profile) for a in cands.apis]
    own = [price_self_host(c, work, profile.self_hosting) for c in cands.self_hosts]
    hybrids = [h for c in cands.self_hosts for a in cands.apis if (h := price_hybrid(c, a, work, profile)) is not None]
    return apis + own + hybrids


# ---------------------------------------------------------------- API


def api_prices_for(api: ApiCandidate, profile: Profile) -> tuple[ApiPrices, str | None]:
    """The offering's prices, or its fine-tuned-model prices when the workload runs fine-tuned weights."""
    caps = api.capabilities
    if profile.customization.fine_tuned_weights and caps and caps.custom_weights_input_usd_per_1m is not None:
        out = caps.custom_weights_output_usd_per_1m or api.prices.output_usd_per_1m
        prices = replace(api.prices, input_usd_per_1m=caps.custom_weights_input_usd_per_1m, output_usd_per_1m=out)
        return prices, f"fine-tuned model prices ${prices.input_usd_per_1m:g}/${out:g} per 1M"
    return api.prices, None


def api_items(api: ApiCandidate, prices: ApiPrices, work: Workload, tokens_per_day: float) -> list[LineItem]:
    cost = api_monthly_cost(prices, tokens_per_day, work.input_share, work.cached_input_share, work.batch_share)
    month_m = tokens_per_day * DAYS_PER_MONTH / 1e6
    input_m, output_m = month_m * work.input_share, month_m * (1 - work.input_share)
    cached_m = input_m * work.cached_input_share
    cached_unit = prices.cached_input_usd_per_1m
    src, as_of = api.source, api.as_of
    items = [
        LineItem(
            "input",
            "input tokens",
            input_m - cached_m,
            "1M tokens",
            prices.input_usd_per_1m,
            cost.input_usd,
            src,
            as_of,
        ),
        LineItem(
            "cached_input",
            "cached input tokens",
            cached_m,
            "1M tokens",
            prices.input_usd_per_1m if cached_unit is None else cached_unit,
            cost.cached_input_usd,
            src if cached_unit is not None else "no cached price known: billed at the input price",
            as_of,
        ),
        LineItem(
            "output", "output tokens", output_m, "1M tokens", prices.output_usd_per_1m, cost.output_usd, src, as_of
        ),
    ]
    if cost.batch_savings_usd:
        items.append(
            LineItem(
                "batch_savings",
                "batch discount",
                work.batch_share,
                "share of traffic",
                -(prices.batch_discount or 0.0),
                -cost.batch_savings_usd,
                src,
                as_of,
            )
        )
    return items


def price_api(api: ApiCandidate, work: Workload, profile: Profile) -> Option:
    prices, price_note = api_prices_for(api, profile)
    items = api_items(api, prices, work, work.tokens_per_day)
    notes = [price_note] if price_note else []
    if work.cached_input_share > 0 and prices.cached_input_usd_per_1m is None:
        notes.append("no cached-input price known: cached tokens billed at the full input price")
    if work.batch_share > 0 and prices.batch_discount is None:
        notes.append("no batch discount known: batch traffic billed at the full price")
    return Option(
        OptionKind.API,
        api.id,
        api.model,
        tuple(items),
        sum(i.monthly_usd for i in items),
        api.quality,
        api.capabilities or Capabilities(),
        notes=tuple(notes),
        price_confidence=api.price_confidence,
    )


# ---------------------------------------------------------------- self-host


def people_items(s: SelfHosting) -> list[LineItem]:
    return [
        LineItem(
            "ops",
            "operations people",
            s.ops_fte,
            "FTE-month",
            s.fte_annual_usd / 12,
            s.ops_fte * s.fte_annual_usd / 12,
            "profile: self_hosting.ops_fte × fte_annual_usd ÷ 12",
        ),
        LineItem(
            "other",
            "evals, monitoring, storage, egress",
            1,
            "month",
            s.other_monthly_usd,
            s.other_monthly_usd,
            "profile: self_hosting.other_monthly_usd",
        ),
    ]


def gpu_item(cand: SelfHostCandidate, gpu_hours: float) -> LineItem:
    assert cand.hourly is not None
    h = cand.hourly
    return LineItem(
        "gpu",
        f"{cand.gpu.id} GPU-hours",
        gpu_hours,
        "GPU-hour",
        h.usd_per_gpu_hour,
        gpu_hours * h.usd_per_gpu_hour,
        f"{h.basis}: {h.source}",
        h.as_of,
    )


@dataclass(frozen=True)
class Fleet:
    """Replicas of one layout for the workload: whole replicas, and the same at fractional replicas."""

    plan: ReplicaPlan
    replicas: int
    serving: float
    spare: int
    gpu_hours: float
    smooth_gpu_hours: float


def serving_needed(work: Workload, plan: ReplicaPlan, level: float = 1.0) -> float:
    """Fractional replicas that carry `level` × the peak at the planned utilization."""
    return level * work.peak_output_tokens_per_s / plan.planned_output_tokens_per_s


def fleet(cand: SelfHostCandidate, plan: ReplicaPlan, work: Workload, autoscaling: bool) -> Fleet:
    """Replicas for the peak plus spares; the existing fleet as it is; or following the daily curve."""
    tp = plan.tp
    if cand.fixed_gpus:
        replicas = cand.fixed_gpus // tp
        need = max(1, math.ceil(serving_needed(work, plan) - 1e-9))
        spare = max(0, replicas - need)
        hours = cand.fixed_gpus * HOURS_PER_MONTH
        return Fleet(plan, replicas, replicas - spare, spare, hours, hours)
    spare = cand.spare_replicas
    # demand levels the fleet follows: the daily curve (every 15 min) when autoscaling, else the peak alone
    levels = [lv / work.peak_to_average for lv in daily_curve(work.peak_to_average)] if autoscaling else [1.0]
    whole = sum(max(1, math.ceil(serving_needed(work, plan, lv) - 1e-9)) for lv in levels) / len(levels)
    frac = sum(max(1.0, serving_needed(work, plan, lv)) for lv in levels) / len(levels)
    peak = max(1, math.ceil(serving_needed(work, plan) - 1e-9))
    hours = (whole + spare) * tp * HOURS_PER_MONTH
    return Fleet(plan, peak + spare, whole, spare, hours, (frac + spare) * tp * HOURS_PER_MONTH)


def capacity(cand: SelfHostCandidate, f: Fleet, work: Workload, pricing: str, autoscaling: bool) -> Capacity:
    plan = f.plan
    per_replica = plan.output_tokens_per_s
    serving_capacity = f.serving * per_replica
    return Capacity(
        gpu=cand.gpu.id,
        pricing=pricing,
        gpus=f.replicas * plan.tp if not cand.fixed_gpus else cand.fixed_gpus,
        gpus_per_replica=plan.tp,
        replicas=f.replicas,
        serving_replicas=int(f.serving) if float(f.serving).is_integer() else round(f.serving, 2),
        spare_replicas=f.spare,
        precision=cand.precision.value,
        engine=plan.setup.engine.engine.value,
        tp=plan.tp,
        mean_utilization=work.mean_output_tokens_per_s / serving_capacity,
        peak_utilization=work.peak_output_tokens_per_s
        / (max(1.0, f.serving if not autoscaling else f.replicas - f.spare) * per_replica),
        output_tokens_per_s_per_replica=per_replica,
        concurrency_per_replica=int(plan.state.concurrency),
        tpot_ms=plan.state.tpot_ms,
        ttft_ms=plan.state.ttft_ms,
        weights_gb_per_gpu=plan.memory.weights_gb,
        kv_cache_gb_per_gpu=plan.memory.kv_cache_gb,
        expected_error_pct=plan.setup.engine.expected_error_pct,
        fixed_fleet=cand.fixed_gpus is not None,
        autoscaling=autoscaling,
    )


def _cheapest_fleet(
    cand: SelfHostCandidate, plans: tuple[ReplicaPlan, ...], work: Workload, autoscaling: bool
) -> Fleet:
    """The layout whose fleet needs the fewest GPU-hours (an existing fleet: the one that carries the most)."""
    if cand.fixed_gpus:
        usable = fitting_in(list(plans), cand.fixed_gpus)
        return max(
            (fleet(cand, p, work, autoscaling) for p in usable),
            key=lambda f: ((cand.fixed_gpus or 0) // f.plan.tp * f.plan.output_tokens_per_s, -f.plan.tp),
        )
    return min((fleet(cand, p, work, autoscaling) for p in plans), key=lambda f: (f.gpu_hours, f.plan.tp))


def price_self_host(cand: SelfHostCandidate, work: Workload, s: SelfHosting) -> Option:
    base = Option(OptionKind.SELF_HOST, cand.id, cand.model.id, (), None, cand.model.quality)
    if isinstance(cand.plans, Infeasible):
        return replace(base, infeasible=cand.plans.reason)
    chosen = _cheapest_fleet(cand, cand.plans, work, s.autoscaling)
    cap = capacity(cand, chosen, work, s.pricing.value, s.autoscaling)
    if cand.hourly is None:
        return replace(
            base,
            capacity=cap,
            price_missing=f"no {s.pricing.value} price for {cand.gpu.id} in the catalog; "
            "set self_hosting.gpu_hourly_usd",
        )
    items = [gpu_item(cand, chosen.gpu_hours), *people_items(s)]
    hourly = cand.hourly.usd_per_gpu_hour
    fixed_usd = sum(i.monthly_usd for i in items[1:])
    # the bound: the cheapest layout at fractional replicas, plus one of its replicas
    bounds = [(fleet(cand, p, work, s.autoscaling), p.tp) for p in cand.plans] if not cand.fixed_gpus else [(chosen, 0)]
    smooth_fleet, step_gpus = min(bounds, key=lambda b: b[0].smooth_gpu_hours + b[1] * HOURS_PER_MONTH)
    return replace(
        base,
        items=tuple(items),
        monthly_usd=sum(i.monthly_usd for i in items),
        capacity=cap,
        smooth_usd=smooth_fleet.smooth_gpu_hours * hourly + fixed_usd,
        step_usd=step_gpus * HOURS_PER_MONTH * hourly,
        gpu_usd=items[0].monthly_usd,
        gpu_price_range=(cand.hourly.q1_usd / hourly, cand.hourly.q3_usd / hourly),
    )


# ---------------------------------------------------------------- hybrid


def price_hybrid(cand: SelfHostCandidate, api: ApiCandidate, work: Workload, profile: Profile) -> Option | None:
    """Self-host a steady base of k replicas (no spare: the API is the failover), send the peaks to the API.

    The monthly cost is convex in k (own cost rises linearly, the overflow bill falls ever more slowly), so
    a ternary search finds the real-valued optimum and the best whole k is its floor or ceiling.
    """
    s = profile.self_hosting
    if isinstance(cand.plans, Infeasible) or cand.hourly is None or cand.fixed_gpus:
        return None
    plan = max(cand.plans, key=lambda p: p.output_tokens_per_s / p.tp)
    # k runs over [1, peak need - 1]: the peaks always overflow, and the range scales with the volume
    top = serving_needed(work, plan) - 1.0
    if top < 1.0:
        return None
    prices, _ = api_prices_for(api, profile)
    curve = daily_curve(work.peak_to_average)
    hourly = cand.hourly.usd_per_gpu_hour
    people = people_items(s)
    fixed_usd = sum(i.monthly_usd for i in people)

    def api_usd(k: float) -> float:
        share = overflow_share(curve, k * plan.planned_output_tokens_per_s / work.mean_output_tokens_per_s)
        return api_monthly_cost(
            prices, work.tokens_per_day * share, work.input_share, work.cached_input_share, work.batch_share
        ).monthly_usd

    def total(k: float) -> float:
        return k * plan.tp * HOURS_PER_MONTH * hourly + fixed_usd + api_usd(k)

    k_real = _convex_min(total, 1.0, top)
    k = min({max(1, math.floor(k_real)), math.ceil(k_real)}, key=total)
    share = overflow_share(curve, k * plan.planned_output_tokens_per_s / work.mean_output_tokens_per_s)
    api_items_ = api_items(api, prices, work, work.tokens_per_day * share)
    api_total = sum(i.monthly_usd for i in api_items_)
    api_m = work.tokens_per_day * share * DAYS_PER_MONTH / 1e6
    items = [
        gpu_item(cand, k * plan.tp * HOURS_PER_MONTH),
        *people,
        LineItem(
            "api",
            f"{api.id} for the peaks",
            api_m,
            "1M tokens",
            api_total / api_m if api_m else 0.0,
            api_total,
            api.source,
            api.as_of,
        ),
    ]
    return Option(
        OptionKind.HYBRID,
        f"{cand.id}+{api.id}",
        cand.model.id,
        tuple(items),
        sum(i.monthly_usd for i in items),
        cand.model.quality,
        notes=(f"{k} replica(s) of TP{plan.tp} carry the base load; {share:.1%} of tokens (the peaks) go to {api.id}",),
        smooth_usd=total(k_real),
        step_usd=plan.tp * HOURS_PER_MONTH * hourly,
        parts=(cand.id, api.id),
        gpu_usd=items[0].monthly_usd,
        gpu_price_range=(cand.hourly.q1_usd / hourly, cand.hourly.q3_usd / hourly),
    )


def _convex_min(f: Callable[[float], float], low: float, high: float) -> float:
    """Minimiser of a convex function on [low, high] by ternary search (60 rounds: far below a replica)."""
    for _ in range(60):
        a, b = low + (high - low) / 3, high - (high - low) / 3
        if f(a) <= f(b):
            high = b
        else:
            low = a
    return (low + high) / 2

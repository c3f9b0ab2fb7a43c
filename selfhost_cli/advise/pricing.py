"""Stage 3: every candidate priced per month as typed line items, with the capacity plan of each self-host.

Besides the whole-replica cost each non-API option carries `smooth_usd` (the same fleet with fractional
replicas: what the capacity itself costs) and `step_usd` (one replica more). The decision tests
`smooth_usd + step_usd`: a bound on the real cost that never rises faster than the volume, which is what
keeps the recommendation monotone in volume (docs/method.md, "Decision rules").
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import replace

from selfhost_cli.advise.candidates import ApiCandidate, Candidates, SelfHostCandidate, purchase_unit
from selfhost_cli.advise.options import Capacity, LineItem, Option, usd
from selfhost_cli.advise.workload import Workload
from selfhost_cli.catalog import GpuHourly
from selfhost_cli.catalog.schema import Capabilities
from selfhost_cli.costs import (
    DAYS_PER_MONTH,
    HOURS_PER_MONTH,
    ApiCost,
    ApiPrices,
    api_monthly_cost,
    daily_curve,
    overflow_share,
)
from selfhost_cli.deploy.search import billed_gpus
from selfhost_cli.deploy.sizing import (
    Fleet,
    Infeasible,
    ReplicaPlan,
    bound_gpus,
    fixed_fleet_best,
    fleet_for_peak_best,
    per_gpu,
    serving_needed,
)
from selfhost_cli.enums import OptionKind, Pricing, WarningCode
from selfhost_cli.profile import Profile, SelfHosting


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


def api_cost_at(prices: ApiPrices, work: Workload, tokens_per_day: float) -> ApiCost:
    """The offering's monthly bill at `tokens_per_day` with the workload's input, cached and batch shares."""
    return api_monthly_cost(prices, tokens_per_day, work.input_share, work.cached_input_share, work.batch_share)


def api_usd_at(prices: ApiPrices, work: Workload, tokens_per_day: float) -> float:
    """USD per month of `api_cost_at`."""
    return api_cost_at(prices, work, tokens_per_day).monthly_usd


def api_items(api: ApiCandidate, prices: ApiPrices, work: Workload, tokens_per_day: float) -> list[LineItem]:
    cost = api_cost_at(prices, work, tokens_per_day)
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
    gaps = []
    if work.cached_input_share > 0 and prices.cached_input_usd_per_1m is None:
        gaps.append(
            (
                WarningCode.CACHED_PRICE_MISSING,
                "no cached-input price known: cached tokens billed at the full input price",
            )
        )
    if work.batch_share > 0 and prices.batch_discount is None:
        gaps.append(
            (WarningCode.BATCH_PRICE_MISSING, "no batch discount known: batch traffic billed at the full price")
        )
    return Option(
        OptionKind.API,
        api.id,
        api.model,
        tuple(items),
        sum(i.monthly_usd for i in items),
        api.quality,
        api.capabilities or Capabilities(),
        notes=(price_note,) if price_note else (),
        price_gaps=tuple(gaps),
        price_confidence=api.price_confidence,
    )


# ---------------------------------------------------------------- self-host


def fixed_monthly_usd(s: SelfHosting) -> float:
    """What a self-hosted plan costs a month whatever its GPUs: people and other costs."""
    return sum(i.monthly_usd for i in people_items(s))


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


def gpu_items(cand: SelfHostCandidate, f: Fleet) -> list[LineItem]:
    """What the fleet's GPUs cost a month: rented GPU-hours (the elastic part at the on-demand price), or
    owned hardware's amortized purchase, power and hosting."""
    assert cand.hourly is not None
    h = cand.hourly
    o = cand.owned
    if (
        cand.pricing is Pricing.OWNED
        and o is not None
        and o.amortized_usd_per_month is not None
        and h.basis.startswith("owned")
    ):
        assert o.purchase_usd is not None
        unit = purchase_unit(cand.gpu)
        gpus = billed_gpus(f.mean_gpus, unit)
        whole = f" (bought {unit} at a time: {gpus:g} for {f.mean_gpus:g} used)" if gpus > f.mean_gpus else ""
        return [
            LineItem(
                "gpu",
                f"{cand.gpu.id} owned: ${o.purchase_usd.value:,.0f} over {o.amortization_years.value:g} years{whole}",
                gpus,
                "GPU-month",
                o.amortized_usd_per_month,
                gpus * o.amortized_usd_per_month,
                f"{o.purchase_usd.source}; amortization: {o.amortization_years.source}",
                o.purchase_usd.as_of,
            ),
            LineItem(
                "power",
                f"power: {o.power_w.value:,.0f} W × PUE {o.pue.value:g} × ${o.usd_per_kwh.value:g}/kWh",
                gpus,
                "GPU-month",
                o.power_usd_per_month,
                gpus * o.power_usd_per_month,
                f"{o.power_w.source}; PUE: {o.pue.source}; electricity: {o.usd_per_kwh.source}",
                o.usd_per_kwh.as_of,
            ),
            LineItem(
                "hosting",
                "colocation space and cooling",
                gpus,
                "GPU-month",
                o.hosting_usd_per_gpu_month.value,
                gpus * o.hosting_usd_per_gpu_month.value,
                o.hosting_usd_per_gpu_month.source,
                o.hosting_usd_per_gpu_month.as_of,
            ),
        ]
    floor = min(f.floor_gpus, f.mean_gpus) if cand.elastic else f.mean_gpus
    items = [_hours_item("gpu", f"{cand.gpu.id} GPU-hours ({cand.pricing.value})", floor * HOURS_PER_MONTH, h)]
    if cand.elastic and f.mean_gpus > floor:
        e = cand.elastic
        items.append(
            _hours_item(
                "gpu_elastic",
                f"{cand.gpu.id} autoscaled GPU-hours (on_demand)",
                (f.mean_gpus - floor) * HOURS_PER_MONTH,
                e,
            )
        )
    return items


def _hours_item(name: str, label: str, hours: float, h: GpuHourly) -> LineItem:
    return LineItem(
        name,
        label,
        hours,
        "GPU-hour",
        h.usd_per_gpu_hour,
        hours * h.usd_per_gpu_hour,
        f"{h.basis}: {h.source}",
        h.as_of,
    )


def gpu_item(cand: SelfHostCandidate, gpu_hours: float) -> LineItem:
    """GPU-hours of a steady fleet at the candidate's price (the hybrid's own base)."""
    assert cand.hourly is not None
    return _hours_item("gpu", f"{cand.gpu.id} GPU-hours ({cand.pricing.value})", gpu_hours, cand.hourly)


def fleet(cand: SelfHostCandidate, plans: tuple[ReplicaPlan, ...], work: Workload) -> Fleet:
    """The existing fleet's best use, or the layout whose fleet for the peak needs the fewest GPU-hours."""
    peak = work.peak_output_tokens_per_s
    if cand.fixed_gpus:
        return fixed_fleet_best(plans, cand.fixed_gpus, peak)
    levels = cand.levels if cand.follows_demand else (1.0,)
    return fleet_for_peak_best(plans, peak, cand.spare_replicas, levels, cand.min_replicas)


def capacity(cand: SelfHostCandidate, f: Fleet, work: Workload) -> Capacity:
    plan = f.plan
    per_replica = plan.output_tokens_per_s
    serving = f.serving_replicas
    setup = plan.setup
    return Capacity(
        gpu=cand.gpu.id,
        pricing=cand.pricing.value,
        gpus=f.gpus if not cand.fixed_gpus else cand.fixed_gpus,
        gpus_per_replica=plan.gpus,
        replicas=f.replicas,
        serving_replicas=int(serving) if float(serving).is_integer() else round(serving, 2),
        spare_replicas=f.spare_replicas,
        precision=cand.precision.value,
        engine=setup.engine.engine.value,
        tp=setup.tp,
        mean_utilization=work.mean_output_tokens_per_s / (serving * per_replica),
        peak_utilization=f.peak_utilization,
        output_tokens_per_s_per_replica=per_replica,
        concurrency_per_replica=int(plan.state.concurrency),
        tpot_ms=plan.state.tpot_ms,
        ttft_ms=plan.state.ttft_ms,
        weights_gb_per_gpu=plan.memory.weights_gb,
        kv_cache_gb_per_gpu=plan.memory.kv_cache_gb,
        expected_error_pct=setup.engine.expected_error_pct,
        fixed_fleet=cand.fixed_gpus is not None,
        autoscaling=cand.follows_demand,
        pp=setup.pp,
        ep=setup.ep,
        nodes_per_replica=setup.nodes,
        layout=setup.layout,
    )


def price_self_host(cand: SelfHostCandidate, work: Workload, s: SelfHosting) -> Option:
    base = Option(OptionKind.SELF_HOST, cand.id, cand.model.id, (), None, cand.model.quality)
    if isinstance(cand.plans, Infeasible):
        return replace(base, infeasible=cand.plans.reason, suggestion=_suggestion(cand, s))
    chosen = fleet(cand, cand.plans, work)
    cap = capacity(cand, chosen, work)
    if cand.hourly is None:
        what = "owned-hardware cost (purchase price)" if cand.pricing is Pricing.OWNED else "price"
        fix = "self_hosting.owned.gpu_purchase_usd" if cand.pricing is Pricing.OWNED else "self_hosting.gpu_hourly_usd"
        return replace(
            base,
            capacity=cap,
            price_missing=f"no {cand.pricing.value} {what} for {cand.gpu.id} in the catalog; set {fix}",
        )
    gpu_lines = gpu_items(cand, chosen)
    items = [*gpu_lines, *people_items(s)]
    gpu_usd = sum(i.monthly_usd for i in gpu_lines)
    fixed_usd = sum(i.monthly_usd for i in items[len(gpu_lines) :])
    per_gpu_hour = gpu_usd / (chosen.mean_gpus * HOURS_PER_MONTH) if chosen.mean_gpus else 0.0
    if cand.fixed_gpus:  # an existing fleet costs what it costs, whatever the volume
        smooth_gpus, step_gpus = chosen.mean_gpus, 0
    else:
        levels = cand.levels if cand.follows_demand else (1.0,)
        peak = work.peak_output_tokens_per_s
        smooth_gpus, step_gpus = bound_gpus(cand.plans, peak, cand.spare_replicas, levels, cand.min_replicas)
    hourly = cand.hourly.usd_per_gpu_hour
    return replace(
        base,
        items=tuple(items),
        monthly_usd=sum(i.monthly_usd for i in items),
        capacity=cap,
        smooth_usd=smooth_gpus * HOURS_PER_MONTH * per_gpu_hour + fixed_usd,
        step_usd=step_gpus * HOURS_PER_MONTH * per_gpu_hour,
        gpu_usd=gpu_usd,
        gpu_price_range=(cand.hourly.q1_usd / hourly, cand.hourly.q3_usd / hourly),
    )


def _suggestion(cand: SelfHostCandidate, s: SelfHosting) -> str | None:
    """The cheapest feasible plan with the GPU, fleet and precision left to the search, priced fully loaded."""
    f = cand.fallback
    if f is None:
        return None
    setup = f.fleet.plan.setup
    cost = "" if f.usd_per_hour is None else f", {usd(f.usd_per_hour * HOURS_PER_MONTH + fixed_monthly_usd(s))}/month"
    return (
        f"{f.fleet.gpus:,} × {f.market.gpu.id} ({f.market.pricing}, {f.precision.value}, "
        f"{f.fleet.replicas} × {setup.layout}) would serve it{cost}"
    )


def self_host_usd_at(
    cand: SelfHostCandidate, work: Workload, s: SelfHosting, tokens_per_day: float, gpu_only: bool = False
) -> float | None:
    """Monthly USD of the self-hosted fleet sized for `tokens_per_day` at the workload's shape; `gpu_only` is
    the figure usually quoted: GPU-hours of the serving replicas alone (no spare, no people, no other costs)."""
    if gpu_only:
        cand = replace(cand, spare_replicas=0)
        s = s.model_copy(update={"ops_fte": 0.0, "other_monthly_usd": 0.0})
    return price_self_host(cand, work.at_volume(tokens_per_day), s).monthly_usd


# ---------------------------------------------------------------- hybrid


def price_hybrid(cand: SelfHostCandidate, api: ApiCandidate, work: Workload, profile: Profile) -> Option | None:
    """Self-host a steady base of k replicas (no spare: the API is the failover), send the peaks to the API.

    The monthly cost is convex in k (own cost rises linearly, the overflow bill falls ever more slowly), so
    a ternary search finds the real-valued optimum and the best whole k is its floor or ceiling. When the
    self-hosted part autoscales, it runs only the replicas the demand needs below k (never fewer than
    `min_replicas`); the cost is then monotone in k between the endpoints, which the search also finds.
    """
    s = profile.self_hosting
    if isinstance(cand.plans, Infeasible) or cand.hourly is None or cand.fixed_gpus:
        return None
    plan = max(cand.plans, key=per_gpu)
    # k runs over [1, peak need - 1]: the peaks always overflow, and the range scales with the volume
    top = serving_needed(plan, work.peak_output_tokens_per_s) - 1.0
    if top < 1.0:
        return None
    prices, _ = api_prices_for(api, profile)
    curve = daily_curve(work.peak_to_average)
    hourly = cand.hourly.usd_per_gpu_hour
    people = people_items(s)
    fixed_usd = sum(i.monthly_usd for i in people)

    def share(k: float) -> float:
        """Share of the day's tokens above what k replicas carry."""
        return overflow_share(curve, k * plan.planned_output_tokens_per_s / work.mean_output_tokens_per_s)

    # what the base must run per slot when it autoscales: the demand a cold start ahead (cand.levels)
    need = [level * work.peak_output_tokens_per_s / plan.planned_output_tokens_per_s for level in cand.levels]
    least = float(max(1, cand.min_replicas))

    def replicas(k: float) -> float:
        """Mean replicas the base runs: k all day, or what demand needs below k when it autoscales."""
        if not cand.follows_demand:
            return k
        return sum(min(k, max(least, n)) for n in need) / len(need)

    def total(k: float) -> float:
        return (
            replicas(k) * plan.gpus * HOURS_PER_MONTH * hourly
            + fixed_usd
            + api_usd_at(prices, work, work.tokens_per_day * share(k))
        )

    k_real = _convex_min(total, 1.0, top)
    k = min({max(1, math.floor(k_real)), math.ceil(k_real)}, key=total)
    api_total = api_usd_at(prices, work, work.tokens_per_day * share(k))
    api_m = work.tokens_per_day * share(k) * DAYS_PER_MONTH / 1e6
    items = [
        gpu_item(cand, replicas(k) * plan.gpus * HOURS_PER_MONTH),
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
        notes=(
            (
                f"up to {k} replica(s) of {plan.setup.layout}, autoscaled ({replicas(k):.3g} on average), carry "
                if cand.follows_demand
                else f"{k} replica(s) of {plan.setup.layout} carry "
            )
            + f"the base load; {share(k):.1%} of tokens (the peaks) go to {api.id}",
        ),
        smooth_usd=total(k_real),
        step_usd=plan.gpus * HOURS_PER_MONTH * hourly,
        parts=(cand.id, api.id),
        gpu_usd=items[0].monthly_usd,
        gpu_price_range=(cand.hourly.q1_usd / hourly, cand.hourly.q3_usd / hourly),
    )


GOLDEN = (5**0.5 - 1) / 2


def _convex_min(f: Callable[[float], float], low: float, high: float) -> float:
    """Minimiser of a convex function on [low, high] by golden-section search: one new evaluation a round,
    the bracket shrinking to 0.618^n of the range (n = 50: below a millionth of a replica at 10^6)."""
    a, b = high - GOLDEN * (high - low), low + GOLDEN * (high - low)
    fa, fb = f(a), f(b)
    for _ in range(50):
        if fa <= fb:
            high, b, fb = b, a, fa
            a = high - GOLDEN * (high - low)
            fa = f(a)
        else:
            low, a, fa = a, b, fb
            b = low + GOLDEN * (high - low)
            fb = f(b)
    return (low + high) / 2

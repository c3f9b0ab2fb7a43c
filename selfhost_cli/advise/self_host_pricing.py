"""Stage 3, self-hosted part: a candidate's fleet priced per month as line items (rented GPU-hours with their
elastic part, or owned hardware's purchase, power and hosting), people and other costs, and the capacity
plan every view prints; the same at other volumes for break-even and charts.

Each option also carries `smooth_usd` (the fleet at fractional replicas) and `step_usd` (one replica more):
the bound the decision tests (docs/method.md, "Decision rules").
"""

from __future__ import annotations

from dataclasses import replace

from selfhost_cli.advise.candidates import SelfHostCandidate, purchase_unit
from selfhost_cli.advise.options import Capacity, LineItem, Option, usd
from selfhost_cli.advise.workload import Workload
from selfhost_cli.catalog import GpuHourly
from selfhost_cli.costs import HOURS_PER_MONTH
from selfhost_cli.deploy.engines import stated_error
from selfhost_cli.deploy.search import billed_gpus
from selfhost_cli.deploy.sizing import (
    Fleet,
    Infeasible,
    ReplicaPlan,
    bound_gpus,
    fixed_fleet_best,
    fleet_for_peak_best,
)
from selfhost_cli.enums import OptionKind, Pricing
from selfhost_cli.profile import SelfHosting


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
    if o is not None and o.purchase_usd is not None and o.amortized_usd_per_month is not None:  # owned lines
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
    return fleet_for_peak_best(cand.fleet_plans or plans, peak, cand.spare_replicas, levels, cand.min_replicas)


def capacity(cand: SelfHostCandidate, f: Fleet, work: Workload) -> Capacity:
    plan = f.plan
    per_replica = plan.output_tokens_per_s
    serving = f.serving_replicas
    setup = plan.setup
    error_pct, error_basis = stated_error(setup.engine, setup.precision)
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
        expected_error_pct=error_pct,
        expected_error_basis=error_basis,
        fixed_fleet=cand.fixed_gpus is not None,
        autoscaling=cand.follows_demand,
        pp=setup.pp,
        ep=setup.ep,
        nodes_per_replica=setup.nodes,
        layout=setup.layout,
        planned_utilization=plan.planned_utilization,
        planned_concurrency_per_replica=plan.planned.concurrency,
        speculative=setup.engine.speculation,
    )


def price_self_host(cand: SelfHostCandidate, work: Workload, s: SelfHosting) -> Option:
    base = Option(OptionKind.SELF_HOST, cand.id, cand.model.id, (), None, cand.model.quality)
    if isinstance(cand.plans, Infeasible):
        return replace(base, infeasible=cand.plans.reason, suggestion=_suggestion(cand, s))
    chosen = fleet(cand, cand.plans, work)
    cap = capacity(cand, chosen, work)
    if cand.hourly is None:
        owned = cand.pricing is Pricing.OWNED
        what = "purchase price (owned hardware)" if owned else f"{cand.pricing.value} price"
        fix = "self_hosting.owned.gpu_purchase_usd" if owned else "self_hosting.gpu_hourly_usd"
        return replace(
            base,
            capacity=cap,
            price_missing=f"no {what} for {cand.gpu.id} in the catalog; set {fix}",
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
    return self_host_monthly_usd(cand, work.at_volume(tokens_per_day), s)


def self_host_monthly_usd(cand: SelfHostCandidate, work: Workload, s: SelfHosting) -> float | None:
    """`price_self_host(...).monthly_usd` without the capacity plan and the decision's bounds: what the
    break-even searches and charts evaluate at hundreds of volumes."""
    if isinstance(cand.plans, Infeasible) or cand.hourly is None:
        return None
    items = [*gpu_items(cand, fleet(cand, cand.plans, work)), *people_items(s)]
    return sum(i.monthly_usd for i in items)

"""advise(profile, catalog) -> Advice: the one module that combines sizing, costs and rules."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

from selfhost_cli.catalog import Catalog, GpuHourly, gpu_hourly
from selfhost_cli.catalog.schema import ApiOffering, GpuSpec, ModelSpec, Precision
from selfhost_cli.costs import (
    DAYS_PER_MONTH,
    HOURS_PER_MONTH,
    ApiCost,
    ApiPrices,
    api_monthly_cost,
    autoscaled_replicas,
    breakeven_volume,
    daily_curve,
    overflow_share,
    self_host_monthly_cost,
)
from selfhost_cli.engines import profile_for
from selfhost_cli.profile import (
    DEFAULT_OUTPUT_TOKENS_PER_REQUEST,
    InlineApi,
    Profile,
    Redundancy,
    Residency,
    ThirdParty,
    Workload,
)
from selfhost_cli.rules import (
    RISK_MARGIN,
    STRONG_CAPABILITY_PREMIUM,
    Confidence,
    Decision,
    Effect,
    Finding,
    insurance,
    premium,
    profile_findings,
)
from selfhost_cli.sizing import (
    TARGET_PEAK_UTILIZATION,
    Fleet,
    Infeasible,
    ReplicaPlan,
    RequestShape,
    fitting_in,
    fixed_fleet_best,
    fleet_for_peak,
    fleet_for_peak_best,
    most_efficient,
    plan_replicas,
)

# A hybrid split adds a second path to operate: it must beat the best single option by this share.
HYBRID_MARGIN = 0.10
# Prices older than this are flagged as stale.
STALE_AFTER_DAYS = 365


@dataclass(frozen=True)
class Assumption:
    name: str
    value: Any
    source: str
    as_of: str | None = None


@dataclass
class Option:
    """One way to serve the workload, priced per month (None = a price is unknown, never $0)."""

    kind: str  # api | self_host | hybrid
    id: str
    eligible: bool
    excluded_by: list[str]
    monthly_usd: float | None
    breakdown: dict[str, Any]
    capacity: dict[str, Any] | None = None
    note: str | None = None


@dataclass(frozen=True)
class FlipPoint:
    parameter: str
    value: Any
    decision: str
    note: str = ""


@dataclass
class WorkloadSummary:
    tokens_per_day: float
    input_tokens_per_day: float
    output_tokens_per_day: float
    peak_output_tokens_per_s: float
    input_tokens_per_request: float
    output_tokens_per_request: float
    peak_to_average: float


@dataclass
class Advice:
    """Everything `advise` prints (SPEC §4)."""

    profile_name: str
    decision: Decision
    confidence: Confidence
    summary: str
    reasons: list[Finding]
    workload: WorkloadSummary
    options: list[Option]
    breakeven_tokens_per_day: float | None
    breakeven_note: str
    flip_points: list[FlipPoint]
    assumptions: list[Assumption]
    warnings: list[str]
    prices_as_of: str | None

    def option(self, kind: str) -> Option | None:
        return next((o for o in self.options if o.kind == kind), None)

    @property
    def chosen_monthly_usd(self) -> float | None:
        """Monthly USD of the recommended option (the cheapest eligible one of its kind)."""
        return chosen_monthly_usd(self.decision.value, self.options)


class PricedOption(Protocol):
    """What picking the recommended cost needs of an option (read-only: saved results are frozen)."""

    @property
    def kind(self) -> str: ...
    @property
    def eligible(self) -> bool: ...
    @property
    def monthly_usd(self) -> float | None: ...


def chosen_monthly_usd(decision: str, options: Sequence[PricedOption]) -> float | None:
    """The cheapest eligible option of the decided kind (None when none has a known cost); live or saved results."""
    costs = [o.monthly_usd for o in options if o.kind == decision and o.eligible and o.monthly_usd is not None]
    return min(costs) if costs else None


# ---------------------------------------------------------------- context shared by re-evaluations


@dataclass
class PlanCache:
    catalog: Catalog
    today: dt.date = field(default_factory=dt.date.today)
    plans: dict[tuple[Any, ...], list[ReplicaPlan] | Infeasible] = field(default_factory=dict)

    def plan(
        self, model: ModelSpec, gpu: GpuSpec, precision: Precision, engine_name: Any, shape: RequestShape
    ) -> list[ReplicaPlan] | Infeasible:
        key = (model.id, gpu.id, precision, engine_name, shape)
        if key not in self.plans:
            engine = profile_for(engine_name, gpu.id, model.id, precision.value)
            self.plans[key] = plan_replicas(model, gpu, precision, engine, shape)
        return self.plans[key]


def default_precision(model: ModelSpec, gpu: GpuSpec) -> Precision:
    """FP8 where the GPU runs it natively (the common serving choice, ~1% quality cost), FP4 for models
    shipped in FP4 (gpt-oss), else BF16."""
    if model.native_precision is Precision.FP4:
        return Precision.FP4
    if Precision.FP8 in gpu.tflops_dense:
        return Precision.FP8
    return Precision.BF16


def request_shape(profile: Profile) -> RequestShape:
    w = profile.workload
    return RequestShape(
        input_tokens=w.input_tokens_per_request_resolved,
        output_tokens=w.output_tokens_per_request_resolved,
        max_ttft_ms=w.latency.max_ttft_ms,
        min_output_tokens_per_s=w.latency.min_output_tokens_per_s,
    )


def summarize_workload(profile: Profile) -> WorkloadSummary:
    w = profile.workload
    total = w.tokens_per_day_resolved
    share = w.input_share_resolved
    output = total * (1 - share)
    return WorkloadSummary(
        tokens_per_day=total,
        input_tokens_per_day=total * share,
        output_tokens_per_day=output,
        peak_output_tokens_per_s=output / 86_400 * w.peak_to_average,
        input_tokens_per_request=w.input_tokens_per_request_resolved,
        output_tokens_per_request=w.output_tokens_per_request_resolved,
        peak_to_average=w.peak_to_average,
    )


# ---------------------------------------------------------------- API options


@dataclass(frozen=True)
class ApiCandidate:
    id: str
    prices: ApiPrices
    source: str
    as_of: dt.date | None


def api_candidates(profile: Profile, catalog: Catalog, model: ModelSpec) -> list[ApiCandidate]:
    """The profile's API offerings, or by default the offerings of the same model, else its size class."""
    chosen: list[ApiOffering | InlineApi]
    if profile.models.api:
        chosen = [catalog.api(a) if isinstance(a, str) else a for a in profile.models.api]
    else:
        chosen = list(catalog.apis_serving(model.id)[:3] or catalog.apis_of_size_class(model)[:3])
    return [to_api(a) for a in chosen]


def to_api(a: ApiOffering | InlineApi) -> ApiCandidate:
    prices = ApiPrices(a.input_usd_per_1m, a.output_usd_per_1m, a.cached_input_usd_per_1m, a.batch_discount)
    return ApiCandidate(a.id, prices, a.source, getattr(a, "as_of", None))


def api_cost_at(api: ApiCandidate, workload: Workload, tokens_per_day: float) -> ApiCost:
    """The offering's monthly bill for `tokens_per_day` at the workload's input, cached and batch shares."""
    return api_monthly_cost(
        api.prices, tokens_per_day, workload.input_share_resolved, workload.cached_input_share, workload.batch_share
    )


def _api_option(api: ApiCandidate, profile: Profile, excluded_by: list[str], volume: float) -> Option:
    w = profile.workload
    cost = api_cost_at(api, w, volume)
    breakdown = {
        "input_usd": round(cost.input_usd, 2),
        "cached_input_usd": round(cost.cached_input_usd, 2),
        "output_usd": round(cost.output_usd, 2),
        "batch_savings_usd": round(cost.batch_savings_usd, 2),
        "input_usd_per_1m": api.prices.input_usd_per_1m,
        "output_usd_per_1m": api.prices.output_usd_per_1m,
        "source": api.source,
        "as_of": api.as_of.isoformat() if api.as_of else None,
    }
    notes = []
    if cost.cached_price_missing:
        notes.append("no cached-input price known: cached tokens billed at the full input price")
    if cost.batch_price_missing:
        notes.append("no batch discount known: batch traffic billed at the full price")
    return Option(
        "api", api.id, not excluded_by, excluded_by, cost.monthly_usd, breakdown, note="; ".join(notes) or None
    )


# ---------------------------------------------------------------- the self-hosted option


@dataclass(frozen=True)
class SelfHostInputs:
    model: ModelSpec
    gpu: GpuSpec
    precision: Precision
    plans: list[ReplicaPlan] | Infeasible
    hourly: GpuHourly | None
    spare: int

    @property
    def plan(self) -> ReplicaPlan | Infeasible:
        """The layout with the best throughput per GPU (marginal cost, hybrid base load)."""
        return self.plans if isinstance(self.plans, Infeasible) else most_efficient(self.plans)


def _self_host_fleet(sh: SelfHostInputs, profile: Profile, peak_output_tps: float) -> tuple[ReplicaPlan, Fleet]:
    """The layout and fleet: the existing fleet's best use, or the fewest GPUs that carry the peak."""
    assert not isinstance(sh.plans, Infeasible)
    if profile.self_hosting.gpus:
        return fixed_fleet_best(sh.plans, profile.self_hosting.gpus, peak_output_tps)
    return fleet_for_peak_best(sh.plans, peak_output_tps, sh.spare)


def _gpu_hours(plan: ReplicaPlan, sh: SelfHostInputs, fleet: Fleet, profile: Profile, mean_output_tps: float) -> float:
    """GPU-hours per month: the whole fleet around the clock, or following the daily curve if autoscaling."""
    sh_profile = profile.self_hosting
    if sh_profile.gpus:
        return sh_profile.gpus * HOURS_PER_MONTH
    if sh_profile.autoscaling:
        curve = daily_curve(profile.workload.peak_to_average)
        mean_replicas = autoscaled_replicas(curve, mean_output_tps, plan.planned_output_tokens_per_s, sh.spare)
        return mean_replicas * fleet.gpus_per_replica * HOURS_PER_MONTH
    return fleet.gpus * HOURS_PER_MONTH


def self_host_cost_at(
    sh: SelfHostInputs, profile: Profile, tokens_per_day: float, gpu_only: bool = False
) -> float | None:
    """Monthly USD of the self-hosted option sized for `tokens_per_day` at the profile's shape (no fixed fleet).

    `gpu_only` is the figure usually quoted: GPU-hours of the serving replicas alone — no spare replica,
    no people, no other costs.
    """
    if isinstance(sh.plans, Infeasible) or sh.hourly is None:
        return None
    output_tps = tokens_per_day * (1 - profile.workload.input_share_resolved) / 86_400
    spare = 0 if gpu_only else sh.spare
    plan, fleet = fleet_for_peak_best(sh.plans, output_tps * profile.workload.peak_to_average, spare)
    sized = profile.model_copy(update={"self_hosting": profile.self_hosting.model_copy(update={"gpus": None})})
    hours = _gpu_hours(plan, replace(sh, spare=spare), fleet, sized, output_tps)
    s = profile.self_hosting
    cost = self_host_monthly_cost(
        hours,
        sh.hourly.usd_per_gpu_hour,
        0 if gpu_only else s.ops_fte,
        s.fte_annual_usd,
        0 if gpu_only else s.other_monthly_usd,
    )
    return cost.monthly_usd


def _self_host_option(
    sh: SelfHostInputs, profile: Profile, work: WorkloadSummary, excluded_by: list[str], warnings: list[str]
) -> Option:
    s = profile.self_hosting
    option_id = f"{sh.model.id}@{sh.gpu.id}"
    if isinstance(sh.plans, Infeasible):
        return Option(
            "self_host",
            option_id,
            False,
            _unique([*excluded_by, "deployment_infeasible"]),
            None,
            {},
            note=sh.plans.reason,
        )
    plan, fleet = _self_host_fleet(sh, profile, work.peak_output_tokens_per_s)
    mean_tps = work.output_tokens_per_day / 86_400
    hours = _gpu_hours(plan, sh, fleet, profile, mean_tps)
    capacity = _capacity(plan, sh, fleet)
    if s.gpus and fleet.peak_utilization > 1:
        warnings.append(
            f"the fixed fleet of {s.gpus} × {sh.gpu.id} carries {1 / fleet.peak_utilization:.0%} of the peak "
            f"({work.peak_output_tokens_per_s:,.0f} output tokens/s) at the latency target; "
            f"{_gpus_for_peak(plan, work.peak_output_tokens_per_s)} GPUs would carry it at the planned "
            f"{TARGET_PEAK_UTILIZATION:.0%} utilization"
        )
    if sh.hourly is None:
        excluded = [*excluded_by, "gpu_price_unknown"]
        return Option(
            "self_host",
            option_id,
            False,
            excluded,
            None,
            {"gpu_hours": round(hours, 1)},
            capacity,
            note=f"no {s.pricing.value} price for {sh.gpu.id} in the catalog; set self_hosting.gpu_hourly_usd",
        )
    cost = self_host_monthly_cost(hours, sh.hourly.usd_per_gpu_hour, s.ops_fte, s.fte_annual_usd, s.other_monthly_usd)
    breakdown = {
        "gpu_usd": round(cost.gpu_usd, 2),
        "ops_usd": round(cost.ops_usd, 2),
        "other_usd": round(cost.other_usd, 2),
        "gpu_hours": round(hours, 1),
        "gpu_hourly_usd": round(sh.hourly.usd_per_gpu_hour, 4),
        "gpu_price_basis": sh.hourly.basis,
    }
    return Option("self_host", option_id, not excluded_by, excluded_by, cost.monthly_usd, breakdown, capacity)


def _unique(rules: list[str]) -> list[str]:
    return list(dict.fromkeys(rules))


def _gpus_for_peak(plan: ReplicaPlan, peak_output_tps: float) -> int:
    return fleet_for_peak(plan, peak_output_tps, 0).gpus


def _capacity(plan: ReplicaPlan, sh: SelfHostInputs, fleet: Fleet) -> dict[str, Any]:
    return {
        "gpu": sh.gpu.id,
        "gpus": fleet.gpus,
        "gpus_per_replica": fleet.gpus_per_replica,
        "replicas": fleet.replicas,
        "serving_replicas": fleet.serving_replicas,
        "precision": sh.precision.value,
        "engine": plan.setup.engine.engine.value,
        "tp": plan.tp,
        "peak_utilization": round(fleet.peak_utilization, 3),
        "output_tokens_per_s_per_replica": round(plan.output_tokens_per_s, 1),
        "concurrency_per_replica": int(plan.state.concurrency),
        "tpot_ms": round(plan.state.tpot_ms, 1),
        "ttft_ms": round(plan.state.ttft_ms, 1),
        "weights_gb_per_gpu": round(plan.memory.weights_gb, 1),
        "kv_cache_gb_per_gpu": round(plan.memory.kv_cache_gb, 1),
        "expected_error_pct": plan.setup.engine.expected_error_pct,
    }


def _hybrid_option(
    sh: SelfHostInputs, best_api: ApiCandidate | None, profile: Profile, work: WorkloadSummary, excluded_by: list[str]
) -> Option | None:
    """Self-host a steady base (k replicas, no spare: the API is the failover), send the peaks to the API.

    Total cost is convex in k (own cost rises linearly, the overflow bill falls ever more slowly), so a
    coarse scan of at most 48 values of k and a scan of the neighbourhood of the best one find the minimum.
    """
    plan = sh.plan
    if isinstance(plan, Infeasible) or sh.hourly is None or best_api is None or profile.self_hosting.gpus:
        return None
    fleet = fleet_for_peak(plan, work.peak_output_tokens_per_s, 0)
    if fleet.serving_replicas < 2:
        return None
    mean_tps = work.output_tokens_per_day / 86_400
    curve = daily_curve(profile.workload.peak_to_average)
    s, w = profile.self_hosting, profile.workload
    hourly = sh.hourly.usd_per_gpu_hour

    def split(k: int) -> tuple[float, float, Any, Any]:
        share = overflow_share(curve, k * plan.planned_output_tokens_per_s / mean_tps)
        own = self_host_monthly_cost(
            k * plan.tp * HOURS_PER_MONTH, hourly, s.ops_fte, s.fte_annual_usd, s.other_monthly_usd
        )
        api = api_cost_at(best_api, w, work.tokens_per_day * share)
        return own.monthly_usd + api.monthly_usd, share, own, api

    top = fleet.serving_replicas - 1
    step = max(1, top // 48)
    coarse = min(range(1, top + 1, step), key=lambda k: split(k)[0])
    k = min(range(max(1, coarse - step), min(top, coarse + step) + 1), key=lambda k: split(k)[0])
    total, share, own, api = split(k)
    breakdown = {
        "gpu_usd": round(own.gpu_usd, 2),
        "ops_usd": round(own.ops_usd, 2),
        "other_usd": round(own.other_usd, 2),
        "api_usd": round(api.monthly_usd, 2),
        "api": best_api.id,
        "self_hosted_replicas": k,
        "gpus": k * plan.tp,
        "api_share_of_tokens": round(share, 4),
    }
    return Option(
        "hybrid",
        f"{sh.model.id}@{sh.gpu.id}+{best_api.id}",
        not excluded_by,
        excluded_by,
        total,
        breakdown,
        note=f"{k} replica(s) carry the base load; {share:.1%} of tokens (the peaks) go to {best_api.id}",
    )


# ---------------------------------------------------------------- evaluation


def advise(profile: Profile, catalog: Catalog, with_flips: bool = True, today: dt.date | None = None) -> Advice:
    """The recommendation for one profile; `with_flips` adds what would change it; `today` dates the
    staleness check of prices (the CLI passes the real date; tests a fixed one)."""
    ctx = PlanCache(catalog, today or dt.date.today())
    advice = _evaluate(profile, ctx)
    if with_flips:
        advice.flip_points = _flip_points(profile, ctx, advice)
    return advice


def self_host_inputs(profile: Profile, ctx: PlanCache) -> SelfHostInputs:
    s = profile.self_hosting
    model = ctx.catalog.model(profile.models.self_hosted)
    gpu = ctx.catalog.gpu(s.gpu)
    precision = s.precision or default_precision(model, gpu)
    plans: list[ReplicaPlan] | Infeasible
    if s.engine.value not in gpu.engines:
        plans = Infeasible(f"{s.engine.value} does not run on {gpu.id} (it runs: {', '.join(gpu.engines)})")
    else:
        plans = ctx.plan(model, gpu, precision, s.engine, request_shape(profile))
    if s.gpus and not isinstance(plans, Infeasible) and not fitting_in(plans, s.gpus):
        smallest = min(p.tp for p in plans)
        plans = Infeasible(
            f"the fixed fleet of {s.gpus} GPU(s) is smaller than the smallest layout that fits "
            f"and meets the latency (TP{smallest})"
        )
    hourly = gpu_hourly(gpu, s.pricing, s.gpu_hourly_usd)
    spare = 1 if s.redundancy is Redundancy.N_PLUS_1 else 0
    return SelfHostInputs(model, gpu, precision, plans, hourly, spare)


def _decision(profile: Profile, ctx: PlanCache) -> Decision:
    """Only the decision (what flip-point searches re-run many times)."""
    return _evaluate(profile, ctx, decision_only=True).decision


def _evaluate(profile: Profile, ctx: PlanCache, decision_only: bool = False) -> Advice:
    warnings: list[str] = []
    work = summarize_workload(profile)
    sh = self_host_inputs(profile, ctx)
    findings = profile_findings(profile)
    apis = api_candidates(profile, ctx.catalog, sh.model)

    hard_self = [f.rule for f in findings if f.effect is Effect.REQUIRES_SELF_HOST]
    if isinstance(sh.plans, Infeasible):
        findings.append(
            Finding(
                "deployment_infeasible",
                Effect.REQUIRES_API if not hard_self else Effect.INFO,
                f"{sh.model.id} cannot be served on {sh.gpu.id} at {sh.precision.value} within the latency target: "
                f"{sh.plans.reason}. Try a larger GPU, a lower precision or a smaller model.",
                f"self_hosting.gpu: {sh.gpu.id}; models.self_hosted: {sh.model.id}",
            )
        )
    hard_api = _unique([f.rule for f in findings if f.effect is Effect.REQUIRES_API])

    options = [_api_option(a, profile, hard_self, work.tokens_per_day) for a in apis]
    self_opt = _self_host_option(sh, profile, work, hard_api, warnings)
    options.append(self_opt)
    api_pool = [(o, a) for o, a in zip(options, apis, strict=False) if o.monthly_usd is not None]
    best_api_pair = min(api_pool, key=lambda p: p[0].monthly_usd or 0.0, default=None)
    best_api_opt = best_api_pair[0] if best_api_pair else None
    # The API half of a hybrid cannot do what only self-hosting can (custom sampling, steering...).
    api_cannot = [
        f.rule for f in findings if f.effect is Effect.FAVORS_SELF_HOST and f.premium >= STRONG_CAPABILITY_PREMIUM
    ]
    hybrid = _hybrid_option(
        sh, best_api_pair[1] if best_api_pair else None, profile, work, hard_self + hard_api + api_cannot
    )
    if hybrid:
        options.append(hybrid)

    decision, confidence, cost_finding = _decide(profile, findings, best_api_opt, self_opt, hybrid)
    if cost_finding:
        findings.append(cost_finding)
    findings.append(insurance())
    if sh.hourly is None and not profile.self_hosting.gpu_hourly_usd:
        warnings.append(f"no {profile.self_hosting.pricing.value} price for {sh.gpu.id}: self-hosted cost unknown")

    if decision_only:
        return Advice(
            profile.name or "profile",
            decision,
            confidence,
            "",
            findings,
            work,
            options,
            None,
            "",
            [],
            [],
            warnings,
            None,
        )
    breakeven, breakeven_note = _breakeven(profile, sh, apis)
    assumptions = _assumptions(profile, sh, work)
    as_of = _prices_as_of(sh, apis)
    warnings.extend(_stale(sh, apis, ctx.today))
    summary = _summary(decision, findings, best_api_opt, self_opt, hybrid, cost_finding)
    return Advice(
        profile.name or "profile",
        decision,
        confidence,
        summary,
        findings,
        work,
        options,
        breakeven,
        breakeven_note,
        [],
        assumptions,
        warnings,
        as_of,
    )


def _ratio(a: float, b: float) -> float:
    return a / b if b > 0 else math.inf


def _decide(
    profile: Profile, findings: list[Finding], api: Option | None, own: Option, hybrid: Option | None
) -> tuple[Decision, Confidence, Finding | None]:
    """Hard constraints first; then cost with a risk margin and any capability premium; hybrid if clearly cheapest."""
    effects = {f.effect for f in findings}
    if Effect.REQUIRES_SELF_HOST in effects:
        return Decision.SELF_HOST, Confidence.HIGH, _compliance_cost_note(api, own)
    if Effect.REQUIRES_API in effects or own.monthly_usd is None:
        if api is None:
            return Decision.API, Confidence.LOW, None
        why = (
            "the self-hosted cost is unknown (no GPU price)"
            if own.monthly_usd is None and own.eligible is False and "gpu_price_unknown" in own.excluded_by
            else "self-hosting is not feasible as configured"
        )
        return (
            Decision.API,
            Confidence.MEDIUM,
            Finding("cost", Effect.FAVORS_API, f"API by default: {why}.", f"{api.id}: ${api.monthly_usd:,.0f}/month"),
        )
    if api is None or api.monthly_usd is None:
        return Decision.SELF_HOST, Confidence.LOW, None
    margin = RISK_MARGIN[profile.team.inference_expertise]
    bonus = premium(findings)
    own_usd, api_usd = own.monthly_usd, api.monthly_usd
    threshold = api_usd * (1 - margin) * bonus
    evidence = f"self-hosted ${own_usd:,.0f}/month vs {api.id} ${api_usd:,.0f}/month"
    if hybrid and hybrid.eligible and hybrid.monthly_usd is not None:
        best_single = min(own_usd, api_usd)
        if hybrid.monthly_usd <= best_single * (1 - HYBRID_MARGIN) and hybrid.monthly_usd <= threshold:
            return (
                Decision.HYBRID,
                _confidence(_ratio(best_single, hybrid.monthly_usd)),
                Finding(
                    "cost",
                    Effect.INFO,
                    f"A hybrid split costs ${hybrid.monthly_usd:,.0f}/month, "
                    f"{1 - hybrid.monthly_usd / best_single:.0%} less "
                    f"than the best single option: {hybrid.note}.",
                    evidence + f"; hybrid ${hybrid.monthly_usd:,.0f}/month",
                ),
            )
    if own_usd <= threshold:
        premium_note = f" (accepting up to {bonus:.2g}× for the customization it enables)" if bonus > 1 else ""
        if own_usd <= api_usd:
            msg = (
                f"Self-hosting costs {_ratio(api_usd, own_usd):.1f}× less than the API "
                f"(${own_usd:,.0f} vs ${api_usd:,.0f} a month), beyond the {margin:.0%} risk margin{premium_note}."
            )
        else:
            msg = (
                f"Self-hosting costs {_ratio(own_usd, api_usd):.1f}× the API (${own_usd:,.0f} vs "
                f"${api_usd:,.0f} a month) but is within the premium accepted for customization{premium_note}."
            )
        conf = _confidence(_ratio(threshold, own_usd))
        return Decision.SELF_HOST, conf, Finding("cost", Effect.FAVORS_SELF_HOST, msg, evidence)
    times = _ratio(own_usd, api_usd)
    if times >= 1:
        msg = (
            f"The API is cheaper: the smallest adequate self-hosted deployment costs {times:.1f}× as much "
            f"(${own_usd:,.0f} vs ${api_usd:,.0f} a month)."
        )
    else:
        msg = (
            f"Self-hosting would save {1 - times:.0%} (${own_usd:,.0f} vs ${api_usd:,.0f} a month), "
            f"less than the {margin:.0%} risk margin a self-hosted estimate needs."
        )
    return Decision.API, _confidence(_ratio(own_usd, threshold)), Finding("cost", Effect.FAVORS_API, msg, evidence)


def _confidence(ratio: float) -> Confidence:
    """How decisively the chosen option wins: 2× or more high, 1.3× medium, else low."""
    if ratio >= 2.0:
        return Confidence.HIGH
    if ratio >= 1.3:
        return Confidence.MEDIUM
    return Confidence.LOW


def _compliance_cost_note(api: Option | None, own: Option) -> Finding | None:
    if own.monthly_usd is None:
        return None
    if api is None or api.monthly_usd is None:
        return Finding("cost", Effect.INFO, f"Self-hosting costs ${own.monthly_usd:,.0f}/month.", own.id)
    ratio = _ratio(own.monthly_usd, api.monthly_usd)
    compare = (
        "near break-even with"
        if 0.67 <= ratio <= 1.5
        else (f"{ratio:.1f}× the cost of" if ratio > 1 else f"{1 / ratio:.1f}× cheaper than")
    )
    gpu_usd = own.breakdown.get("gpu_usd")
    gpu_part = f" (GPU-hours alone: ${gpu_usd:,.0f})" if gpu_usd is not None else ""
    return Finding(
        "cost",
        Effect.INFO,
        f"For comparison only: self-hosting at ${own.monthly_usd:,.0f}/month{gpu_part} is {compare} {api.id} "
        f"(${api.monthly_usd:,.0f}/month, not allowed here). Compliance decides, not cost.",
        f"self-hosted ${own.monthly_usd:,.0f}/month vs {api.id} ${api.monthly_usd:,.0f}/month",
    )


def _summary(
    decision: Decision,
    findings: list[Finding],
    api: Option | None,
    own: Option,
    hybrid: Option | None,
    cost: Finding | None,
) -> str:
    hard = [f for f in findings if f.effect in (Effect.REQUIRES_SELF_HOST, Effect.REQUIRES_API)]
    chosen = {Decision.API: api, Decision.SELF_HOST: own, Decision.HYBRID: hybrid}[decision]
    usd = f" at ${chosen.monthly_usd:,.0f}/month" if chosen and chosen.monthly_usd is not None else ""
    label = {Decision.API: "Use the API", Decision.SELF_HOST: "Self-host", Decision.HYBRID: "Go hybrid"}[decision]
    what = f" ({chosen.id})" if chosen else ""
    if hard:
        return f"{label}{what}{usd}: required by {', '.join(sorted({f.rule for f in hard}))}."
    if (
        decision is Decision.SELF_HOST
        and api
        and api.monthly_usd
        and own.monthly_usd
        and own.monthly_usd > api.monthly_usd
    ):
        needs = ", ".join(f.rule for f in findings if f.effect is Effect.FAVORS_SELF_HOST and f.premium > 1)
        return (
            f"{label}{what}{usd}: {own.monthly_usd / api.monthly_usd:.1f}× the API's ${api.monthly_usd:,.0f}, "
            f"within the premium accepted for what the API cannot do ({needs})."
        )
    if cost is None:
        return f"{label}{what}{usd}."
    if cost.message.startswith("API by default"):
        return f"{label}{what}{usd}: {cost.message[len('API by default: ') :].rstrip('.')}."
    return f"{label}{what}{usd}: the cheapest option once a risk margin for self-hosting is priced in."


# ---------------------------------------------------------------- break-even, flips, assumptions


def _breakeven(profile: Profile, sh: SelfHostInputs, apis: list[ApiCandidate]) -> tuple[float | None, str]:
    if isinstance(sh.plans, Infeasible):
        return None, f"no break-even: {sh.model.id} cannot be deployed on {sh.gpu.id} ({sh.plans.reason})"
    if sh.hourly is None:
        return None, f"no break-even: no {profile.self_hosting.pricing.value} price for {sh.gpu.id}"
    if not apis:
        return None, "no break-even: no API offering to compare with"
    w = profile.workload
    cheapest = min(apis, key=lambda a: api_monthly_cost(a.prices, 1e9, w.input_share_resolved).monthly_usd)

    def api_usd(volume: float) -> float:
        return api_cost_at(cheapest, w, volume).monthly_usd

    volume = breakeven_volume(lambda v: self_host_cost_at(sh, profile, v), api_usd)
    if volume is None:
        marginal = _marginal_usd_per_1m_output(sh, profile)
        return None, (
            f"never: each extra replica costs ${marginal:,.2f} per 1M output tokens at the planned utilization, "
            f"more than {cheapest.id} charges for the same traffic"
        )
    return volume, f"vs {cheapest.id}, fully loaded (GPU + ops + other), fleet sized for the profile's peak"


def _marginal_usd_per_1m_output(sh: SelfHostInputs, profile: Profile) -> float:
    plan = sh.plan
    assert isinstance(plan, ReplicaPlan) and sh.hourly is not None
    per_hour = plan.tp * sh.hourly.usd_per_gpu_hour
    tokens_per_hour = plan.planned_output_tokens_per_s * 3600 / profile.workload.peak_to_average
    return per_hour / tokens_per_hour * 1e6


def _with(profile: Profile, section: str, **changes: Any) -> Profile:
    part = getattr(profile, section).model_copy(update=changes)
    return profile.model_copy(update={section: part})


def _scaled_volume(profile: Profile, factor: float) -> Profile:
    w = profile.workload
    if w.tokens_per_day is not None:
        return _with(profile, "workload", tokens_per_day=w.tokens_per_day * factor)
    return _with(profile, "workload", requests_per_minute=(w.requests_per_minute or 0) * factor)


def _search_flip(
    decide: Callable[[float], Decision], start: Decision, low: float, high: float, upward: bool
) -> tuple[float, Decision] | None:
    """Geometric scan from the current value (1.0) towards `high` (or `low`) for the first other decision."""
    steps = 48
    end = high if upward else low
    previous = 1.0
    for i in range(1, steps + 1):
        x = end ** (i / steps)
        got = decide(x)
        if got != start:
            lo, hi = previous, x
            for _ in range(30):
                mid = math.sqrt(lo * hi)
                if decide(mid) == start:
                    lo = mid
                else:
                    hi = mid
            return hi, decide(hi)
        previous = x
    return None


def _relaxed(profile: Profile) -> list[tuple[str, Any, Profile]]:
    """Each hard compliance constraint the profile sets, with the profile as it would be without it."""
    c = profile.compliance
    out: list[tuple[str, Any, Profile]] = []
    if c.third_party_processing is ThirdParty.FORBIDDEN:
        out.append(
            (
                "compliance.third_party_processing",
                "with_agreement",
                _with(profile, "compliance", third_party_processing=ThirdParty.WITH_AGREEMENT),
            )
        )
    if c.air_gapped:
        out.append(("compliance.air_gapped", False, _with(profile, "compliance", air_gapped=False)))
    if c.data_residency is Residency.ON_PREM:
        out.append(("compliance.data_residency", "any", _with(profile, "compliance", data_residency=Residency.ANY)))
    if len(out) > 1:  # several constraints: only lifting all of them lets cost decide
        lifted = profile.model_copy(
            update={
                "compliance": profile.compliance.model_copy(
                    update={
                        "third_party_processing": ThirdParty.WITH_AGREEMENT,
                        "air_gapped": False,
                        "data_residency": Residency.ANY,
                    }
                )
            }
        )
        out = [("compliance (all hard constraints)", "lifted", lifted)]
    return out


def _flip_points(profile: Profile, ctx: PlanCache, advice: Advice) -> list[FlipPoint]:
    """What change, alone, would flip the decision, and where."""
    start = advice.decision
    flips: list[FlipPoint] = []
    hard = [f.rule for f in advice.reasons if f.effect in (Effect.REQUIRES_SELF_HOST, Effect.REQUIRES_API)]
    if hard:
        for key, relaxed, profile_without in _relaxed(profile):
            decision = _decision(profile_without, ctx)
            if decision is not start:
                flips.append(
                    FlipPoint(
                        key,
                        relaxed,
                        decision.value,
                        "without this constraint cost would decide; volume and prices alone do not change the decision",
                    )
                )
    else:

        def by_volume(f: float) -> Decision:
            return _decision(_scaled_volume(profile, f), ctx)

        for upward in (True, False):
            found = _search_flip(by_volume, start, 1e-4, 1e4, upward)
            if found:
                factor, decision = found
                flips.append(
                    FlipPoint(
                        "workload.tokens_per_day",
                        round(advice.workload.tokens_per_day * factor),
                        decision.value,
                        f"{factor:.3g}× today's volume",
                    )
                )
        own = advice.option("self_host")
        hourly = own.breakdown.get("gpu_hourly_usd") if own else None
        if hourly:

            def by_price(f: float) -> Decision:
                return _decision(_with(profile, "self_hosting", gpu_hourly_usd=hourly * f), ctx)

            for upward in (start is not Decision.API, start is Decision.API):
                found = _search_flip(by_price, start, 1e-2, 1e2, upward)
                if found:
                    factor, decision = found
                    flips.append(
                        FlipPoint(
                            "self_hosting.gpu_hourly_usd",
                            round(hourly * factor, 2),
                            decision.value,
                            f"from ${hourly:.2f}",
                        )
                    )
                    break
        ops = profile.self_hosting.ops_fte
        if start is Decision.API and ops > 0:
            found = _search_flip(
                lambda f: _decision(_with(profile, "self_hosting", ops_fte=ops * f), ctx),
                start,
                1e-3,
                1.0,
                upward=False,
            )
            if found:
                flips.append(
                    FlipPoint("self_hosting.ops_fte", round(ops * found[0], 2), found[1].value, f"from {ops:g}")
                )
    if profile.compliance.third_party_processing is not ThirdParty.FORBIDDEN and start is not Decision.SELF_HOST:
        flips.append(
            FlipPoint(
                "compliance.third_party_processing",
                "forbidden",
                Decision.SELF_HOST.value,
                "data that legally cannot leave the organisation rules out every API",
            )
        )
    return flips


def _assumptions(profile: Profile, sh: SelfHostInputs, work: WorkloadSummary) -> list[Assumption]:
    s = profile.self_hosting
    w = profile.workload
    out = [
        Assumption("hours_per_month", HOURS_PER_MONTH, "8,760 h ÷ 12 (cloud billing convention)"),
        Assumption("days_per_month", round(DAYS_PER_MONTH, 2), "730 h ÷ 24"),
        Assumption("self_hosted_model", sh.model.id, sh.model.source, sh.model.as_of.isoformat()),
        Assumption(
            "gpu",
            f"{sh.gpu.id}: {sh.gpu.memory_gb:g} GB, {sh.gpu.hbm_tb_per_s:g} TB/s",
            sh.gpu.source,
            sh.gpu.as_of.isoformat(),
        ),
        Assumption(
            "precision",
            sh.precision.value,
            "profile" if s.precision else "default: fp8 where the GPU runs it natively, else bf16",
        ),
        Assumption("engine", s.engine.value, "profile" if "engine" in s.model_fields_set else "default"),
        Assumption(
            "engine_constants",
            profile_for(s.engine, sh.gpu.id, sh.model.id, sh.precision.value).provenance,
            "docs/estimation.md",
        ),
        Assumption(
            "input_tokens_per_request",
            round(work.input_tokens_per_request, 1),
            "profile"
            if w.input_tokens_per_request
            else f"default: {DEFAULT_OUTPUT_TOKENS_PER_REQUEST} output tokens/request at the input share",
        ),
        Assumption(
            "output_tokens_per_request",
            round(work.output_tokens_per_request, 1),
            "profile" if w.output_tokens_per_request else "default",
        ),
        Assumption("peak_to_average", w.peak_to_average, _src(w, "peak_to_average")),
        Assumption("max_ttft_ms", w.latency.max_ttft_ms, _src(w.latency, "max_ttft_ms")),
        Assumption(
            "min_output_tokens_per_s", w.latency.min_output_tokens_per_s, _src(w.latency, "min_output_tokens_per_s")
        ),
        Assumption("target_peak_utilization", TARGET_PEAK_UTILIZATION, "selfhost planning headroom (docs/method.md)"),
        Assumption("redundancy", s.redundancy.value, _src(s, "redundancy")),
        Assumption("autoscaling", s.autoscaling, _src(s, "autoscaling")),
        Assumption("ops_fte", s.ops_fte, _src(s, "ops_fte")),
        Assumption("fte_annual_usd", s.fte_annual_usd, _src(s, "fte_annual_usd")),
        Assumption("other_monthly_usd", s.other_monthly_usd, _src(s, "other_monthly_usd")),
        Assumption(
            "risk_margin",
            RISK_MARGIN[profile.team.inference_expertise],
            f"selfhost rule for team.inference_expertise={profile.team.inference_expertise.value}",
        ),
        Assumption("cached_input_share", w.cached_input_share, _src(w, "cached_input_share")),
        Assumption("batch_share", w.batch_share, _src(w, "batch_share")),
    ]
    if sh.hourly:
        out.insert(
            4,
            Assumption(
                "gpu_hourly_usd",
                round(sh.hourly.usd_per_gpu_hour, 4),
                f"{sh.hourly.basis}: {sh.hourly.source}"
                + (
                    f" (range ${sh.hourly.low_usd:.2f}–${sh.hourly.high_usd:.2f})"
                    if sh.hourly.high_usd > sh.hourly.low_usd
                    else ""
                ),
                sh.hourly.as_of.isoformat() if sh.hourly.as_of else None,
            ),
        )
    else:
        out.insert(4, Assumption("gpu_hourly_usd", None, f"unknown: no {s.pricing.value} price for {sh.gpu.id}"))
    if sh.model.modelled_on:
        out.append(
            Assumption(
                "model_note",
                f"{sh.model.id} is not a release: modelled on {sh.model.modelled_on}'s "
                "architecture (Meta's Llama 4 models are MoE)",
                sh.model.source,
                sh.model.as_of.isoformat(),
            )
        )
    return out


def _src(section: Any, key: str) -> str:
    return "profile" if key in section.model_fields_set else "default"


def _price_dates(sh: SelfHostInputs, apis: list[ApiCandidate]) -> list[dt.date]:
    dates = [a.as_of for a in apis if a.as_of]
    if sh.hourly and sh.hourly.as_of:
        dates.append(sh.hourly.as_of)
    return dates


def _prices_as_of(sh: SelfHostInputs, apis: list[ApiCandidate]) -> str | None:
    dates = _price_dates(sh, apis)
    return min(dates).isoformat() if dates else None


def _stale(sh: SelfHostInputs, apis: list[ApiCandidate], today: dt.date) -> list[str]:
    out = []
    for a in apis:
        if a.as_of and (today - a.as_of).days > STALE_AFTER_DAYS:
            out.append(f"stale price: {a.id} as of {a.as_of} ({(today - a.as_of).days} days old)")
    if sh.hourly and sh.hourly.as_of and (today - sh.hourly.as_of).days > STALE_AFTER_DAYS:
        out.append(f"stale price: {sh.gpu.id} GPU-hour as of {sh.hourly.as_of}")
    return out

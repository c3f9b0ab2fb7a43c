"""From one replica's capacity to a fleet: parallel layout at the latency target, replicas for the peak."""

from __future__ import annotations

import collections
import functools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from statistics import NormalDist

from selfhost_cli.catalog.schema import GpuSpec, ModelSpec
from selfhost_cli.deploy.engines import EngineProfile
from selfhost_cli.deploy.estimate import (
    Memory,
    SteadyState,
    concurrency_for_latency,
    layout_problem,
    memory,
    steady_state,
    tp_candidates,
)
from selfhost_cli.deploy.replica import Setup
from selfhost_cli.enums import Precision

# A fleet planned at 100% of its latency-bound capacity misses the target whenever arrivals bunch up. With Poisson
# arrivals the requests in flight at a replica are a Poisson count around their mean n (an M/G/∞ system), so the
# plan keeps that count within the latency-bound batch C for this share of the peak: n + z·√n = C, z the normal
# quantile (square-root staffing). See `headroom_concurrency`.
PEAK_LATENCY_QUANTILE = 0.95
# A larger TP is preferred only when it buys at least this much more throughput per GPU.
TP_PREFERENCE_MARGIN = 1.05


@dataclass(frozen=True)
class RequestShape:
    """Mean tokens per request, the latency each must see (inf / 0 for batch work), the longest request the
    KV cache must hold, and the share of prompt tokens a prefix cache serves."""

    input_tokens: float
    output_tokens: float
    max_ttft_ms: float
    min_output_tokens_per_s: float
    longest_tokens: float = 0.0
    longest_given: bool = False  # the profile set it (else it is a default, capped at the model's context)
    cached_share: float = 0.0

    @property
    def max_tpot_ms(self) -> float:
        return 1000.0 / self.min_output_tokens_per_s if self.min_output_tokens_per_s > 0 else math.inf


def headroom_concurrency(bound: float, quantile: float = PEAK_LATENCY_QUANTILE) -> float:
    """The mean number of requests in flight whose Poisson count stays at or below `bound` (the latency-bound
    batch) with probability `quantile`, in the normal approximation: n + z·√n = bound. A large replica keeps
    most of its batch (C = 800: 94% at p95); a small one much less (C = 8: 56%), as queueing theory has it."""
    z = NormalDist().inv_cdf(quantile)
    root = (-z + math.sqrt(z * z + 4 * bound)) / 2
    return root * root


@dataclass(frozen=True)
class ReplicaPlan:
    """The chosen layout of one replica, what it carries at the latency target (`state`), and what it is planned
    to carry at the peak (`planned`: the batch Poisson arrivals leave it, see `headroom_concurrency`)."""

    setup: Setup
    state: SteadyState
    memory: Memory
    planned: SteadyState

    @property
    def tp(self) -> int:
        return self.setup.tp

    @property
    def gpus(self) -> int:
        """GPUs of one replica."""
        return self.setup.gpus

    @property
    def output_tokens_per_s(self) -> float:
        """Latency-bound output tokens/s of one replica."""
        return self.state.output_tokens_per_s

    @property
    def planned_output_tokens_per_s(self) -> float:
        """What a replica is planned to carry at the peak (with headroom)."""
        return self.planned.output_tokens_per_s

    @property
    def planned_utilization(self) -> float:
        """The planned throughput as a share of the latency-bound one."""
        return self.planned.output_tokens_per_s / self.state.output_tokens_per_s


@dataclass(frozen=True)
class Infeasible:
    """Why no replica layout works."""

    reason: str


@dataclass(frozen=True)
class Layout:
    """How one replica is spread: TP within a scale-up domain, PP stages across nodes, or EP over GPUs."""

    tp: int = 1
    pp: int = 1
    ep: int = 1

    @property
    def gpus(self) -> int:
        return self.ep if self.ep > 1 else self.tp * self.pp


def plan_replicas(
    model: ModelSpec,
    gpu: GpuSpec,
    precision: Precision,
    engine: EngineProfile,
    shape: RequestShape,
    layouts: Sequence[Layout] | None = None,
) -> list[ReplicaPlan] | Infeasible:
    """Every layout (default: TP within one node) that fits and meets the latency target, fewest GPUs first."""
    plans: list[ReplicaPlan] = []
    reasons: list[str] = []
    length = shape.input_tokens + shape.output_tokens
    if length > model.context_length:
        return Infeasible(f"a {length:,.0f}-token request exceeds {model.id}'s {model.context_length:,}-token context")
    if shape.longest_given and shape.longest_tokens > model.context_length:
        return Infeasible(
            f"max_context_tokens {shape.longest_tokens:,.0f} exceeds "
            f"{model.id}'s {model.context_length:,}-token context"
        )
    longest = min(max(shape.longest_tokens, length), model.context_length)
    for lay in layouts if layouts is not None else [Layout(tp) for tp in tp_candidates(gpu)]:
        setup = Setup(model, gpu, precision, engine, lay.tp, pp=lay.pp, ep=lay.ep)
        problem = layout_problem(setup, length)
        if problem:
            reasons.append(f"{setup.layout}: {problem}")
            continue
        mem = memory(setup, shape.input_tokens, shape.output_tokens, longest)
        if not mem.fits:
            reasons.append(
                f"{setup.layout}: {mem.weights_gb:.0f} GB of weights per GPU leave no room for a "
                f"{longest:,.0f}-token KV cache on {gpu.memory_gb:g} GB"
            )
            continue
        state = concurrency_for_latency(
            setup,
            shape.input_tokens,
            shape.output_tokens,
            shape.max_tpot_ms,
            shape.max_ttft_ms,
            shape.cached_share,
            longest,
        )
        if state is None:
            reasons.append(f"{setup.layout}: even one request misses the latency target")
            continue
        plans.append(ReplicaPlan(setup, state, mem, planned_state(setup, shape, state)))
    if not plans:
        return Infeasible(_first_and_last(reasons) or f"no parallel layout on {gpu.id}")
    return sorted(plans, key=lambda p: p.gpus)


def planned_state(setup: Setup, shape: RequestShape, at_bound: SteadyState) -> SteadyState:
    """What a replica carries at the peak: with a latency target, the batch Poisson arrivals leave it
    (`headroom_concurrency`); without one (batch work waits in its own queue), the whole batch."""
    if math.isinf(shape.max_tpot_ms) and math.isinf(shape.max_ttft_ms):
        return at_bound
    n = headroom_concurrency(at_bound.concurrency)
    return steady_state(setup, shape.input_tokens, shape.output_tokens, n, shape.cached_share)


def _first_and_last(reasons: list[str]) -> str:
    """The reasons of the smallest and the largest layout tried (the middle ones say the same)."""
    return "; ".join(reasons if len(reasons) <= 2 else [reasons[0], reasons[-1]])


def most_efficient(plans: list[ReplicaPlan]) -> ReplicaPlan:
    """The layout with the best throughput per GPU; a smaller TP wins unless a larger one is 5% better."""
    best = plans[0]
    for plan in plans[1:]:
        if per_gpu(plan) > per_gpu(best) * TP_PREFERENCE_MARGIN:
            best = plan
    return best


def per_gpu(plan: ReplicaPlan) -> float:
    return plan.output_tokens_per_s / plan.gpus


def fitting_in(plans: list[ReplicaPlan], gpus: int) -> list[ReplicaPlan]:
    """The layouts one replica of which fits on `gpus` GPUs."""
    return [plan for plan in plans if plan.gpus <= gpus]


# ---------------------------------------------------------------- fleets


@dataclass(frozen=True)
class Fleet:
    """Replicas of one layout for a peak demand: whole replicas, and the same at fractional replicas.

    `serving_replicas` carry traffic (their mean over the day when the fleet follows demand); spares do not.
    `mean_gpus` is what is provisioned on average; `smooth_gpus` the same with fractional replicas, a lower
    bound that grows no faster than the demand (what the decision's bound is built on)."""

    plan: ReplicaPlan
    replicas: int  # provisioned at the peak, spares included
    serving_replicas: float
    spare_replicas: int
    peak_output_tokens_per_s: float
    mean_gpus: float
    smooth_gpus: float
    floor_gpus: float = 0.0  # the fewest provisioned at any time of day (the rest is the elastic part)

    @property
    def gpus_per_replica(self) -> int:
        return self.plan.gpus

    @property
    def gpus(self) -> int:
        return self.replicas * self.plan.gpus

    @property
    def peak_utilization(self) -> float:
        """Peak demand ÷ the latency-bound capacity of the replicas serving at the peak (inf if none)."""
        capacity = (self.replicas - self.spare_replicas) * self.plan.output_tokens_per_s
        return self.peak_output_tokens_per_s / capacity if capacity else math.inf


def serving_needed(plan: ReplicaPlan, peak_output_tokens_per_s: float) -> float:
    """Fractional replicas that carry the peak at the planned utilization."""
    return peak_output_tokens_per_s / plan.planned_output_tokens_per_s


def _whole(replicas: float) -> int:
    return max(1, math.ceil(replicas - 1e-9))


def fleet_for_peak(
    plan: ReplicaPlan,
    peak_output_tokens_per_s: float,
    spare: int,
    levels: Sequence[float] = (1.0,),
    min_replicas: int = 1,
) -> Fleet:
    """Fewest replicas that carry the peak at the planned utilization, plus `spare`; with `levels` (demand
    as shares of the peak through the day) the serving replicas follow demand, never below `min_replicas`
    (and never below one)."""
    least = max(1, min_replicas)
    scale = serving_needed(plan, peak_output_tokens_per_s)  # replicas at the peak, fractional
    values, counts, lowest = _distinct(tuple(levels))
    whole_sum, frac_sum = 0, 0.0
    for level, count in zip(values, counts, strict=True):  # called for every layout at every volume a search tries
        n = level * scale
        whole_sum += count * max(least, math.ceil(n - 1e-9))
        frac_sum += count * (n if n > least else least)
    floor = max(least, math.ceil(lowest * scale - 1e-9))
    whole = whole_sum / len(levels)
    frac = frac_sum / len(levels)
    peak = max(least, _whole(scale))
    g = plan.gpus
    return Fleet(
        plan,
        peak + spare,
        whole,
        spare,
        peak_output_tokens_per_s,
        (whole + spare) * g,
        (frac + spare) * g,
        (floor + spare) * g,
    )


@functools.lru_cache(maxsize=64)
def _distinct(levels: tuple[float, ...]) -> tuple[tuple[float, ...], tuple[int, ...], float]:
    """A day's levels once each with how often they occur (a daily curve repeats most of its values), and
    the lowest."""
    counted = collections.Counter(levels)
    return tuple(counted), tuple(counted.values()), min(levels)


def fixed_fleet(plan: ReplicaPlan, gpus: int, peak_output_tokens_per_s: float) -> Fleet:
    """An existing fleet of `gpus`: the replicas that fit; those the peak needs serve, the rest are spares."""
    replicas = gpus // plan.gpus
    spare = max(0, replicas - _whole(serving_needed(plan, peak_output_tokens_per_s)))
    return Fleet(plan, replicas, replicas - spare, spare, peak_output_tokens_per_s, gpus, gpus, gpus)


def fleet_for_peak_best(
    plans: Sequence[ReplicaPlan],
    peak_output_tokens_per_s: float,
    spare: int,
    levels: Sequence[float] = (1.0,),
    min_replicas: int = 1,
) -> Fleet:
    """The layout whose fleet for this peak needs the fewest GPUs on average (ties: the smaller replica)."""
    fleets = [
        fleet_for_peak(plan, peak_output_tokens_per_s, spare, levels, min_replicas) for plan in undominated(plans)
    ]
    return min(fleets, key=lambda f: (f.mean_gpus, f.plan.gpus))


def undominated(plans: Sequence[ReplicaPlan]) -> list[ReplicaPlan]:
    """The layouts some peak could choose. A replica of g GPUs is never better than one of a divisor of g that
    carries more per GPU: k = g/g' of the smaller ones carry as much in whole replicas, with finer steps and an
    equal or lower floor, at every level and peak (by a margin of 1e-6, so the rounding in `fleet_for_peak`
    cannot tip it). Pruning them leaves `fleet_for_peak_best`'s answer as it was, at a fraction of the work the
    break-even searches do at hundreds of volumes."""
    rated = [(p, p.gpus, p.planned_output_tokens_per_s / p.gpus) for p in plans]
    return [
        b for b, gb, rb in rated if not any(ga < gb and gb % ga == 0 and ra >= rb * (1 + 1e-6) for _, ga, ra in rated)
    ]


def fixed_fleet_best(plans: Sequence[ReplicaPlan], gpus: int, peak_output_tokens_per_s: float) -> Fleet:
    """The layout that carries the most on a fleet of `gpus` (ties: the smaller TP); `plans` must hold
    at least one layout of at most `gpus` GPUs (see `fitting_in`)."""
    fleets = [fixed_fleet(plan, gpus, peak_output_tokens_per_s) for plan in fitting_in(list(plans), gpus)]
    return max(fleets, key=lambda f: (f.replicas * f.plan.output_tokens_per_s, -f.plan.gpus))


def bound_gpus(
    plans: Sequence[ReplicaPlan],
    peak_output_tokens_per_s: float,
    spare: int,
    levels: Sequence[float] = (1.0,),
    min_replicas: int = 1,
) -> tuple[float, int]:
    """The cheapest layout's GPUs at fractional replicas, and one replica of it (GPUs): never below the
    whole-replica fleet's GPUs, and growing no faster than the demand."""
    fleets = [fleet_for_peak(plan, peak_output_tokens_per_s, spare, levels, min_replicas) for plan in plans]
    best = min(fleets, key=lambda f: f.smooth_gpus + f.plan.gpus)
    return best.smooth_gpus, best.plan.gpus

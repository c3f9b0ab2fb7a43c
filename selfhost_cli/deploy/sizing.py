"""From one replica's capacity to a fleet: parallel layout at the latency target, replicas for the peak."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from selfhost_cli.catalog.schema import GpuSpec, ModelSpec
from selfhost_cli.deploy.engines import EngineProfile
from selfhost_cli.deploy.estimate import (
    Memory,
    Setup,
    SteadyState,
    concurrency_for_latency,
    memory,
    tp_candidates,
)
from selfhost_cli.enums import Precision

# A fleet planned to run at 100% of its latency-bound capacity at the peak minute misses the target
# whenever arrivals bunch up (Poisson traffic); keep 15% headroom at the peak.
TARGET_PEAK_UTILIZATION = 0.85
# A larger TP is preferred only when it buys at least this much more throughput per GPU.
TP_PREFERENCE_MARGIN = 1.05


@dataclass(frozen=True)
class RequestShape:
    """Mean tokens per request and the latency each must see."""

    input_tokens: float
    output_tokens: float
    max_ttft_ms: float
    min_output_tokens_per_s: float

    @property
    def max_tpot_ms(self) -> float:
        return 1000.0 / self.min_output_tokens_per_s


@dataclass(frozen=True)
class ReplicaPlan:
    """The chosen layout of one replica and what it carries at the latency target."""

    setup: Setup
    state: SteadyState
    memory: Memory

    @property
    def tp(self) -> int:
        return self.setup.tp

    @property
    def output_tokens_per_s(self) -> float:
        """Latency-bound output tokens/s of one replica."""
        return self.state.output_tokens_per_s

    @property
    def planned_output_tokens_per_s(self) -> float:
        """What a replica is planned to carry at the peak (with headroom)."""
        return self.output_tokens_per_s * TARGET_PEAK_UTILIZATION


@dataclass(frozen=True)
class Infeasible:
    """Why no replica layout works."""

    reason: str


def plan_replicas(
    model: ModelSpec,
    gpu: GpuSpec,
    precision: Precision,
    engine: EngineProfile,
    shape: RequestShape,
    tp: int | None = None,
) -> list[ReplicaPlan] | Infeasible:
    """Every tensor-parallel layout (within one node) that fits and meets the latency target, smallest TP first."""
    plans: list[ReplicaPlan] = []
    reasons: list[str] = []
    length = shape.input_tokens + shape.output_tokens
    if length > model.context_length:
        return Infeasible(f"a {length:,.0f}-token request exceeds {model.id}'s {model.context_length:,}-token context")
    for degree in [tp] if tp else tp_candidates(gpu):
        setup = Setup(model, gpu, precision, engine, degree)
        mem = memory(setup, shape.input_tokens, shape.output_tokens)
        if not mem.fits:
            reasons.append(
                f"TP{degree}: {mem.weights_gb:.0f} GB of weights per GPU leave no room for a "
                f"{shape.input_tokens + shape.output_tokens:.0f}-token KV cache on {gpu.memory_gb:g} GB"
            )
            continue
        state = concurrency_for_latency(
            setup, shape.input_tokens, shape.output_tokens, shape.max_tpot_ms, shape.max_ttft_ms
        )
        if state is None:
            reasons.append(f"TP{degree}: even one request misses the latency target")
            continue
        plans.append(ReplicaPlan(setup, state, mem))
    if not plans:
        return Infeasible("; ".join(reasons) or f"no tensor-parallel layout on {gpu.id}")
    return plans


def most_efficient(plans: list[ReplicaPlan]) -> ReplicaPlan:
    """The layout with the best throughput per GPU; a smaller TP wins unless a larger one is 5% better."""
    best = plans[0]
    for plan in plans[1:]:
        if per_gpu(plan) > per_gpu(best) * TP_PREFERENCE_MARGIN:
            best = plan
    return best


def per_gpu(plan: ReplicaPlan) -> float:
    return plan.output_tokens_per_s / plan.tp


def fitting_in(plans: list[ReplicaPlan], gpus: int) -> list[ReplicaPlan]:
    """The layouts one replica of which fits on `gpus` GPUs."""
    return [plan for plan in plans if plan.tp <= gpus]


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

    @property
    def gpus_per_replica(self) -> int:
        return self.plan.tp

    @property
    def gpus(self) -> int:
        return self.replicas * self.plan.tp

    @property
    def peak_utilization(self) -> float:
        """Peak demand ÷ the latency-bound capacity of the replicas serving at the peak (inf if none)."""
        capacity = (self.replicas - self.spare_replicas) * self.plan.output_tokens_per_s
        return self.peak_output_tokens_per_s / capacity if capacity else math.inf


def serving_needed(plan: ReplicaPlan, peak_output_tokens_per_s: float, level: float = 1.0) -> float:
    """Fractional replicas that carry `level` × the peak at the planned utilization."""
    return level * peak_output_tokens_per_s / plan.planned_output_tokens_per_s


def _whole(replicas: float) -> int:
    return max(1, math.ceil(replicas - 1e-9))


def fleet_for_peak(
    plan: ReplicaPlan, peak_output_tokens_per_s: float, spare: int, levels: Sequence[float] = (1.0,)
) -> Fleet:
    """Fewest replicas that carry the peak at the planned utilization, plus `spare`; with `levels` (demand
    as shares of the peak through the day) the serving replicas follow demand, at least one at a time."""
    need = [serving_needed(plan, peak_output_tokens_per_s, level) for level in levels]
    whole = sum(_whole(n) for n in need) / len(need)
    frac = sum(max(1.0, n) for n in need) / len(need)
    peak = _whole(serving_needed(plan, peak_output_tokens_per_s))
    tp = plan.tp
    return Fleet(plan, peak + spare, whole, spare, peak_output_tokens_per_s, (whole + spare) * tp, (frac + spare) * tp)


def fixed_fleet(plan: ReplicaPlan, gpus: int, peak_output_tokens_per_s: float) -> Fleet:
    """An existing fleet of `gpus`: the replicas that fit; those the peak needs serve, the rest are spares."""
    replicas = gpus // plan.tp
    spare = max(0, replicas - _whole(serving_needed(plan, peak_output_tokens_per_s)))
    return Fleet(plan, replicas, replicas - spare, spare, peak_output_tokens_per_s, gpus, gpus)


def fleet_for_peak_best(
    plans: Sequence[ReplicaPlan], peak_output_tokens_per_s: float, spare: int, levels: Sequence[float] = (1.0,)
) -> Fleet:
    """The layout whose fleet for this peak needs the fewest GPUs on average (ties: the smaller TP)."""
    fleets = [fleet_for_peak(plan, peak_output_tokens_per_s, spare, levels) for plan in plans]
    return min(fleets, key=lambda f: (f.mean_gpus, f.plan.tp))


def fixed_fleet_best(plans: Sequence[ReplicaPlan], gpus: int, peak_output_tokens_per_s: float) -> Fleet:
    """The layout that carries the most on a fleet of `gpus` (ties: the smaller TP); `plans` must hold
    at least one layout of at most `gpus` GPUs (see `fitting_in`)."""
    fleets = [fixed_fleet(plan, gpus, peak_output_tokens_per_s) for plan in fitting_in(list(plans), gpus)]
    return max(fleets, key=lambda f: (f.replicas * f.plan.output_tokens_per_s, -f.plan.tp))


def bound_gpus(
    plans: Sequence[ReplicaPlan], peak_output_tokens_per_s: float, spare: int, levels: Sequence[float] = (1.0,)
) -> tuple[float, int]:
    """The cheapest layout's GPUs at fractional replicas, and one replica of it (GPUs): never below the
    whole-replica fleet's GPUs, and growing no faster than the demand."""
    fleets = [fleet_for_peak(plan, peak_output_tokens_per_s, spare, levels) for plan in plans]
    best = min(fleets, key=lambda f: f.smooth_gpus + f.plan.tp)
    return best.smooth_gpus, best.plan.tp

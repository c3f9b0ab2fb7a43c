"""sizing.py: replica layouts at a latency target and fleets for a peak."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from selfhost_cli.catalog import bundled
from selfhost_cli.deploy.engines import ENGINES
from selfhost_cli.deploy.estimate import SteadyState, Step, memory
from selfhost_cli.deploy.replica import Setup
from selfhost_cli.deploy.sizing import (
    PEAK_LATENCY_QUANTILE,
    TP_PREFERENCE_MARGIN,
    Infeasible,
    Layout,
    ReplicaPlan,
    RequestShape,
    fixed_fleet,
    fixed_fleet_best,
    fleet_for_peak,
    fleet_for_peak_best,
    headroom_concurrency,
    most_efficient,
    plan_replicas,
)
from selfhost_cli.enums import Engine, Precision

CATALOG = bundled()
SHAPE = RequestShape(input_tokens=1000, output_tokens=200, max_ttft_ms=2000, min_output_tokens_per_s=20)


PLANNED = 0.85  # the fake plans' planned share of their latency-bound capacity (for clean arithmetic)


def fake_plan(tp: int, output_tokens_per_s: float) -> ReplicaPlan:
    """A plan whose latency-bound throughput is exactly `output_tokens_per_s`, planned at 85% of it."""
    s = Setup(CATALOG.model("llama-3.1-8b"), CATALOG.gpu("h100-sxm"), Precision.BF16, ENGINES[Engine.VLLM], tp)
    state = SteadyState(16, Step(1, 1, 1, 1, 0), 20.0, 200.0, output_tokens_per_s)
    planned = SteadyState(16 * PLANNED, Step(1, 1, 1, 1, 0), 20.0, 200.0, output_tokens_per_s * PLANNED)
    return ReplicaPlan(s, state, memory(s, 1000, 200), planned)


def test_request_shape_tpot_from_streaming_speed():
    assert SHAPE.max_tpot_ms == pytest.approx(50.0)  # 1000 ms / 20 tokens/s


# ---------------------------------------------------------------- fleet_for_peak


def test_fleet_for_peak_worked_example():
    # one TP2 replica carries 1,000 tok/s at the latency target, planned at 85% = 850 tok/s.
    # peak 2,000 tok/s: ceil(2000 / 850) = ceil(2.35) = 3 serving + 1 spare = 4 replicas = 8 GPUs;
    # utilization at the peak = 2000 / (3 × 1000) = 0.667
    plan = fake_plan(2, 1000.0)
    assert plan.planned_output_tokens_per_s == pytest.approx(1000 * PLANNED)
    fleet = fleet_for_peak(plan, 2000.0, spare=1)
    assert fleet.serving_replicas == 3
    assert fleet.replicas == 4
    assert fleet.gpus_per_replica == 2
    assert fleet.gpus == 8
    assert fleet.peak_utilization == pytest.approx(2000 / 3000)


def test_fleet_for_peak_exact_multiple_needs_no_extra_replica():
    # 1,700 tok/s = exactly 2 × 850: two serving replicas, not three (no float round-up)
    fleet = fleet_for_peak(fake_plan(1, 1000.0), 1700.0, spare=0)
    assert fleet.serving_replicas == 2 and fleet.replicas == 2
    assert fleet.peak_utilization == pytest.approx(0.85)


def test_fleet_for_peak_at_least_one_serving_replica():
    fleet = fleet_for_peak(fake_plan(1, 1000.0), 0.0, spare=1)
    assert fleet.serving_replicas == 1 and fleet.replicas == 2


@given(
    capacity=st.floats(1.0, 1e5), peak=st.floats(0.0, 1e7), spare=st.integers(0, 1), tp=st.sampled_from([1, 2, 4, 8])
)
def test_fleet_for_peak_formula(capacity, peak, spare, tp):
    fleet = fleet_for_peak(fake_plan(tp, capacity), peak, spare)
    expected = max(1, math.ceil(peak / (capacity * PLANNED) - 1e-9))
    assert fleet.serving_replicas == expected
    assert fleet.replicas == expected + spare
    assert fleet.gpus == fleet.replicas * tp
    # the serving replicas carry the peak within the planned headroom; one fewer would not
    assert fleet.peak_utilization <= PLANNED * (1 + 1e-6)
    if expected > 1:
        assert peak / ((expected - 1) * capacity) > PLANNED * (1 - 1e-6)


# ---------------------------------------------------------------- queueing headroom


def _poisson_cdf(k: int, mean: float) -> float:
    """P(Poisson(mean) ≤ k), summed in log space (e^-800 underflows)."""
    logs = [i * math.log(mean) - mean - math.lgamma(i + 1) for i in range(k + 1)]
    top = max(logs)
    return math.exp(top) * sum(math.exp(v - top) for v in logs)


@pytest.mark.parametrize("bound", [8, 32, 128, 800])
def test_headroom_keeps_the_poisson_count_within_the_batch_at_the_quantile(bound):
    # n + z·√n = C: the normal approximation of P(Poisson(n) ≤ C) = 95%; the exact Poisson probability is
    # close to it (95.9% at C = 8, 95.1% at C = 800)
    n = headroom_concurrency(bound)
    z = 1.6448536
    assert n + z * math.sqrt(n) == pytest.approx(bound)
    assert _poisson_cdf(bound, n) == pytest.approx(PEAK_LATENCY_QUANTILE, abs=0.01)


def test_headroom_is_larger_in_share_for_larger_batches():
    # square-root staffing: a replica holding 800 requests keeps 94% of them planned, one holding 8 keeps 56%
    assert headroom_concurrency(800) / 800 == pytest.approx(0.943, abs=0.001)
    assert headroom_concurrency(8) / 8 == pytest.approx(0.564, abs=0.001)
    shares = [headroom_concurrency(c) / c for c in (1, 2, 8, 64, 512, 4096)]
    assert shares == sorted(shares)


@given(bound=st.floats(1.0, 1e5), q=st.floats(0.6, 0.999))
def test_headroom_never_exceeds_the_batch_and_falls_with_the_quantile(bound, q):
    n = headroom_concurrency(bound, q)
    assert 0 < n < bound
    assert headroom_concurrency(bound, min(q + 0.0005, 0.9995)) <= n


def test_a_plan_with_a_latency_target_is_planned_below_its_bound_and_batch_work_at_it():
    model, gpu = CATALOG.model("llama-3.1-8b"), CATALOG.gpu("h100-sxm")
    engine = ENGINES[Engine.VLLM]
    online = plan_replicas(model, gpu, Precision.BF16, engine, SHAPE)
    batch_shape = RequestShape(input_tokens=1000, output_tokens=200, max_ttft_ms=math.inf, min_output_tokens_per_s=0)
    offline = plan_replicas(model, gpu, Precision.BF16, engine, batch_shape)
    assert not isinstance(online, Infeasible) and not isinstance(offline, Infeasible)
    plan = online[0]
    assert plan.planned.concurrency == pytest.approx(headroom_concurrency(plan.state.concurrency))
    assert 0.5 < plan.planned_utilization < 1
    assert offline[0].planned_utilization == 1.0


# ---------------------------------------------------------------- fixed fleets


def test_fixed_fleet_under_provisioned_utilization_above_one():
    # 4 GPUs at TP2 = 2 replicas × 1,000 = 2,000 tok/s against a 3,000 tok/s peak: 150%
    fleet = fixed_fleet(fake_plan(2, 1000.0), 4, 3000.0)
    assert fleet.replicas == 2 and fleet.serving_replicas == 2
    assert fleet.peak_utilization == pytest.approx(1.5)
    assert fleet.peak_utilization > 1


def test_fixed_fleet_too_small_for_one_replica_is_infinitely_loaded():
    fleet = fixed_fleet(fake_plan(8, 1000.0), 4, 100.0)
    assert fleet.replicas == 0 and math.isinf(fleet.peak_utilization)


def test_fixed_fleet_best_carries_the_most():
    # 8 GPUs: TP1 → 8 × 100 = 800 tok/s; TP2 → 4 × 1,000 = 4,000 tok/s
    fleet = fixed_fleet_best([fake_plan(1, 100.0), fake_plan(2, 1000.0)], 8, 1000.0)
    plan = fleet.plan
    assert plan.tp == 2 and fleet.replicas == 4
    # the peak needs ceil(1,000 / 850) = 2 serving replicas; the other 2 are spares, and utilization is of
    # the serving replicas alone (one definition, as advise prints it): 1,000 / (2 × 1,000) = 0.5
    assert fleet.serving_replicas == 2 and fleet.spare_replicas == 2
    assert fleet.peak_utilization == pytest.approx(0.5)


# ---------------------------------------------------------------- choosing a layout


def test_fleet_for_peak_best_picks_fewest_gpus():
    # TP1 carries 100 tok/s (KV-starved), TP2 carries 1,000 tok/s.
    tp1, tp2 = fake_plan(1, 100.0), fake_plan(2, 1000.0)
    # peak 500: TP1 needs ceil(500/85) = 6 + 1 = 7 GPUs; TP2 needs (1 + 1) × 2 = 4 GPUs
    fleet = fleet_for_peak_best([tp1, tp2], 500.0, spare=1)
    plan = fleet.plan
    assert plan.tp == 2 and fleet.gpus == 4
    # peak 50: TP1 needs 1 + 1 = 2 GPUs; TP2 needs 4
    fleet = fleet_for_peak_best([tp1, tp2], 50.0, spare=1)
    plan = fleet.plan
    assert plan.tp == 1 and fleet.gpus == 2


@settings(max_examples=200, deadline=None)
@given(
    caps=st.lists(st.floats(10.0, 1e4), min_size=4, max_size=4),
    peak=st.floats(0.0, 1e6),
    spare=st.integers(0, 1),
    least=st.integers(1, 3),
    levels=st.lists(st.floats(0.05, 1.0), min_size=1, max_size=24),
)
def test_pruning_dominated_layouts_never_changes_the_choice(caps, peak, spare, least, levels):
    from selfhost_cli.deploy.sizing import undominated

    plans = [fake_plan(tp, cap) for tp, cap in zip((1, 2, 4, 8), caps, strict=True)]
    everything = [fleet_for_peak(p, peak, spare, tuple(levels), least) for p in plans]
    best = min(everything, key=lambda f: (f.mean_gpus, f.plan.gpus))
    chosen = fleet_for_peak_best(plans, peak, spare, tuple(levels), least)
    assert (chosen.plan.tp, chosen.mean_gpus) == (best.plan.tp, best.mean_gpus)
    assert chosen.plan in undominated(plans)


def test_fleet_for_peak_best_ties_go_to_smaller_tp():
    # both layouts need 2 GPUs for this peak: TP1 (2 replicas, no spare) and TP2 (1 replica)
    fleet = fleet_for_peak_best([fake_plan(1, 100.0), fake_plan(2, 200.0)], 150.0, spare=0)
    plan = fleet.plan
    assert plan.tp == 1 and fleet.gpus == 2


@settings(max_examples=50)
@given(caps=st.lists(st.floats(10.0, 1e4), min_size=1, max_size=4), peak=st.floats(0.0, 1e6), spare=st.integers(0, 1))
def test_fleet_for_peak_best_is_the_minimum(caps, peak, spare):
    plans = [fake_plan(2**i, c) for i, c in enumerate(caps)]
    fleet = fleet_for_peak_best(plans, peak, spare)
    assert fleet.gpus == min(fleet_for_peak(p, peak, spare).gpus for p in plans)


def test_most_efficient_prefers_smaller_tp_unless_clearly_better():
    tp1 = fake_plan(1, 1000.0)  # 1,000 per GPU
    tp2_same = fake_plan(2, 2000.0 * TP_PREFERENCE_MARGIN * 0.99)  # < 5% better per GPU
    tp2_better = fake_plan(2, 2000.0 * TP_PREFERENCE_MARGIN * 1.01)
    assert most_efficient([tp1, tp2_same]).tp == 1
    assert most_efficient([tp1, tp2_better]).tp == 2


# ---------------------------------------------------------------- plan_replicas on real models


def test_plan_replicas_real_model_meets_latency_target():
    plans = plan_replicas(
        CATALOG.model("llama-3.1-8b"), CATALOG.gpu("h100-sxm"), Precision.BF16, ENGINES[Engine.VLLM], SHAPE
    )
    assert not isinstance(plans, Infeasible)
    assert [p.tp for p in plans] == sorted(p.tp for p in plans)  # smallest TP first
    for p in plans:
        assert p.state.tpot_ms <= SHAPE.max_tpot_ms
        assert p.state.ttft_ms <= SHAPE.max_ttft_ms
        assert p.state.concurrency >= 1 and p.output_tokens_per_s > 0


def test_plan_replicas_infeasible_when_nothing_fits():
    # 405B at bf16 is 810 GB: even TP8 leaves 101 GB per 24 GB L4
    result = plan_replicas(
        CATALOG.model("llama-3.1-405b"), CATALOG.gpu("l4"), Precision.BF16, ENGINES[Engine.VLLM], SHAPE
    )
    assert isinstance(result, Infeasible)
    assert "TP1" in result.reason and "TP8" in result.reason
    assert "GB of weights" in result.reason


def test_plan_replicas_infeasible_when_latency_cannot_be_met():
    too_fast = RequestShape(1000, 200, max_ttft_ms=2000, min_output_tokens_per_s=5000)  # 0.2 ms per token
    result = plan_replicas(
        CATALOG.model("llama-3.1-8b"), CATALOG.gpu("h100-sxm"), Precision.BF16, ENGINES[Engine.VLLM], too_fast
    )
    assert isinstance(result, Infeasible)
    assert "latency target" in result.reason


def test_plan_replicas_fixed_tp():
    plans = plan_replicas(
        CATALOG.model("llama-3.1-70b"),
        CATALOG.gpu("h100-sxm"),
        Precision.FP8,
        ENGINES[Engine.VLLM],
        SHAPE,
        [Layout(tp=4)],
    )
    assert not isinstance(plans, Infeasible) and [p.tp for p in plans] == [4]
    assert isinstance(most_efficient(plans), ReplicaPlan)

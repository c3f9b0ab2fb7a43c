"""The deployment search (deploy/search.py) and what advise builds on it: layouts beyond one node, the
cheapest plan among all enumerated, owned hardware worked by hand, autoscaling that costs something,
prefix caching, batch work, the longest request, and the issue's "done when" cases."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from selfhost_cli.advise import advise, evaluate
from selfhost_cli.advise.candidates import PlanCache, auto_precisions
from selfhost_cli.advise.ownership import demand_levels
from selfhost_cli.advise.workload import workload
from selfhost_cli.catalog import bundled, gpu_hourly
from selfhost_cli.costs import HOURS_PER_MONTH
from selfhost_cli.deploy.engines import BUNDLED_ENGINES, ENGINES
from selfhost_cli.deploy.estimate import memory, steady_state
from selfhost_cli.deploy.replica import Setup
from selfhost_cli.deploy.search import LayoutCache, Market, Target, layouts, search
from selfhost_cli.deploy.sizing import (
    Infeasible,
    Layout,
    RequestShape,
    fleet_for_peak_best,
    plan_replicas,
)
from selfhost_cli.enums import Decision, Engine, OptionKind, Precision, Pricing, WarningCode
from selfhost_cli.profile import Profile

CATALOG = bundled()
TODAY = dt.date(2026, 12, 1)
SHAPE = RequestShape(1200, 400, 2000, 20, 6400)
VLLM = ENGINES[Engine.VLLM]


def make(**sections: Any) -> Profile:
    doc: dict[str, Any] = {"version": 1, "workload": {"tokens_per_day": 1e9}}
    for section, values in sections.items():
        doc.setdefault(section, {}).update(values)
    return Profile.model_validate(doc)


def run(p: Profile) -> Any:
    return evaluate(p, CATALOG, BUNDLED_ENGINES, PlanCache())


def own(ev: Any) -> Any:
    return next(o for o in ev.options if o.kind is OptionKind.SELF_HOST)


def on_demand_markets() -> list[Market]:
    out = []
    for g in CATALOG.gpus.values():
        h = gpu_hourly(g, Pricing.ON_DEMAND)
        if h is not None:
            out.append(Market(g, "on_demand", h.usd_per_gpu_hour))
    return out


# ---------------------------------------------------------------- layouts


def test_layouts_follow_the_hardware():
    dense, moe = CATALOG.model("llama-3.1-405b"), CATALOG.model("deepseek-v3")
    h100, rtx = CATALOG.gpu("h100-sxm"), CATALOG.gpu("rtx-4090")
    assert Layout(tp=8, pp=2) in layouts(dense, h100) and Layout(tp=16) in layouts(dense, h100)
    assert not any(lay.ep > 1 for lay in layouts(dense, h100))  # EP only for MoE models
    assert Layout(ep=16) in layouts(moe, h100) and Layout(ep=256) in layouts(moe, h100)
    # a workstation card has no scale-out network: one box, TP over PCIe only
    assert all(lay.gpus <= rtx.max_gpus_per_node for lay in layouts(dense, rtx))
    assert max(lay.gpus for lay in layouts(moe, h100, max_gpus=32)) == 32


def test_pipeline_stages_split_weights_and_kv_but_not_the_latency():
    model, gpu = CATALOG.model("llama-3.1-405b"), CATALOG.gpu("h100-sxm")
    one = Setup(model, gpu, Precision.FP8, VLLM, 8)
    two = Setup(model, gpu, Precision.FP8, VLLM, 8, pp=2)
    m1, m2 = memory(one, 1200, 400), memory(two, 1200, 400)
    assert m2.weights_gb == pytest.approx(m1.weights_gb / 2)
    assert m2.kv_per_sequence_gb == pytest.approx(m1.kv_per_sequence_gb / 2)
    # one request still crosses every layer in turn: PP2 is no faster per token than TP8 alone (chunked
    # prefill pipelines the prompts of the others, the 0.2% left)
    assert steady_state(two, 1200, 400, 1).tpot_ms >= 0.99 * steady_state(one, 1200, 400, 1).tpot_ms


def test_expert_parallel_holds_the_dense_part_whole_and_a_share_of_the_experts():
    model, gpu = CATALOG.model("deepseek-v3"), CATALOG.gpu("h100-sxm")
    ep16 = memory(Setup(model, gpu, Precision.FP8, VLLM, 1, ep=16), 1200, 400)
    ep32 = memory(Setup(model, gpu, Precision.FP8, VLLM, 1, ep=32), 1200, 400)
    assert ep16.weights_gb > ep32.weights_gb > 20  # dense layers, attention and tables stay on every GPU
    assert ep32.max_sequences > ep16.max_sequences  # each GPU holds its own sequences' MLA cache


# ---------------------------------------------------------------- the search


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    tokens=st.floats(1e7, 5e10),
    tpot=st.sampled_from([10.0, 20.0, 40.0]),
    model=st.sampled_from(["llama-3.1-8b", "llama-3.3-70b", "qwen3-235b-a22b", "gpt-oss-120b"]),
)
def test_search_returns_the_cheapest_plan_it_enumerated(tokens: float, tpot: float, model: str) -> None:
    spec = CATALOG.model(model)
    shape = RequestShape(1200, 400, 2000, tpot, 6400)
    peak = tokens * 0.25 / 86_400 * 2
    markets = on_demand_markets()
    target = Target(peak, 1)
    found = search(
        spec,
        markets,
        lambda g: auto_precisions(spec, g),
        lambda g, p: VLLM,
        shape,
        target,
        LayoutCache(),
    )
    # brute force: every market × precision × layout, each sized for the same peak
    costs = []
    for m in markets:
        for p in auto_precisions(spec, m.gpu):
            plans = plan_replicas(spec, m.gpu, p, VLLM, shape, layouts(spec, m.gpu))
            if isinstance(plans, Infeasible):
                continue
            fleet = fleet_for_peak_best(plans, peak, 1)
            assert m.usd_per_gpu_hour is not None
            costs.append(fleet.mean_gpus * m.usd_per_gpu_hour)
    if not costs:
        assert found.best is None
        return
    assert found.best is not None and found.best.usd_per_hour == pytest.approx(min(costs))
    priced = [f.usd_per_hour for f in found.found]
    assert priced == sorted(priced)  # type: ignore[type-var]


def test_a_full_search_is_well_under_a_second_of_work():
    # counted, not timed: one plan per GPU × precision however many tiers and re-runs
    cache = LayoutCache()
    spec = CATALOG.model("deepseek-v3")
    for _ in range(3):
        search(
            spec,
            on_demand_markets(),
            lambda g: auto_precisions(spec, g),
            lambda g, p: VLLM,
            SHAPE,
            Target(1e4, 1),
            cache,
        )
    gpus = {m.gpu.id for m in on_demand_markets()}
    assert len(cache.plans) <= 2 * len(gpus)


# ---------------------------------------------------------------- the cases


def test_a_profile_naming_only_model_and_volume_gets_the_cheapest_plan_and_alternatives():
    a = advise(make(models={"self_hosted": "llama-3.3-70b"}), CATALOG, today=TODAY, with_flips=False)
    plan = a.option(OptionKind.SELF_HOST)
    assert plan is not None and plan.monthly_usd is not None
    feasible = [x for x in a.alternatives if x.feasible and x.monthly_usd is not None]
    assert len({x.gpu for x in feasible}) >= 3
    assert min(x.monthly_usd for x in feasible) == pytest.approx(plan.monthly_usd)  # type: ignore[type-var]
    assert plan.capacity is not None and feasible[0].gpu == plan.capacity.gpu


def test_deepseek_v3_is_priced_on_hardware_that_holds_it_and_the_api_wins_wide():
    a = advise(make(workload={"tokens_per_day": 3e6}, models={"self_hosted": "deepseek-v3"}), CATALOG, today=TODAY)
    plan = a.option(OptionKind.SELF_HOST)
    assert plan is not None and plan.monthly_usd and plan.capacity
    assert plan.capacity.gpus_per_replica * CATALOG.gpu(plan.capacity.gpu).memory_gb >= 690
    assert a.decision is Decision.API and a.chosen_monthly_usd
    assert plan.monthly_usd > 100 * a.chosen_monthly_usd


def test_deepseek_v3_on_h100_spans_nodes():
    ev = run(
        make(workload={"tokens_per_day": 1e9}, models={"self_hosted": "deepseek-v3"}, self_hosting={"gpu": "h100-sxm"})
    )
    cap = own(ev).capacity
    assert cap is not None and cap.nodes_per_replica >= 2 and own(ev).monthly_usd


def test_llama_405b_bf16_on_h100_gets_a_two_node_replica():
    ev = run(make(models={"self_hosted": "llama-3.1-405b"}, self_hosting={"gpu": "h100-sxm", "precision": "bf16"}))
    cap = own(ev).capacity
    assert cap is not None and cap.nodes_per_replica == 2 and cap.gpus_per_replica == 16


def test_mistral_large_3_on_premises_is_priced_as_owned_hardware():
    ev = run(
        make(
            workload={"tokens_per_day": 5e8},
            compliance={"data_residency": "on_prem"},
            models={"self_hosted": "mistral-large-3"},
        )
    )
    o = own(ev)
    assert o.capacity.pricing == "owned" and o.monthly_usd
    assert {i.name for i in o.items} >= {"gpu", "power", "hosting", "ops", "other"}
    assert ev.verdict.decision is Decision.SELF_HOST


def test_on_site_data_priced_as_rentals_is_warned_about():
    p = make(compliance={"air_gapped": True}, self_hosting={"pricing": "on_demand"})
    a = advise(p, CATALOG, today=TODAY, with_flips=False)
    assert a.warned(WarningCode.ON_SITE_RENTED)
    assert not advise(make(compliance={"air_gapped": True}), CATALOG, today=TODAY, with_flips=False).warned(
        WarningCode.ON_SITE_RENTED
    )


def test_deepseek_production_day_lands_near_the_gpus_deepseek_reported():
    # DeepSeek "V3/R1 Inference System Overview" (2025-03-01): 608B input (56.3% cached) + 168B output tokens
    # a day at 20-22 tokens/s per user on H800 nodes, 226.75 nodes (1,814 GPUs) on average, autoscaled
    p = make(
        workload={
            "tokens_per_day": 776e9,
            "input_share": 0.7835,
            "cached_input_share": 0.563,
            "peak_to_average": 1.23,
            "latency": {"min_output_tokens_per_s": 20},
        },
        models={"self_hosted": "deepseek-v3"},
        self_hosting={
            "gpu": "h800",
            "gpu_hourly_usd": 2.0,
            "precision": "fp8",
            "engine": "sglang",
            "autoscaling": True,
            "redundancy": "none",
        },
    )
    o = own(run(p))
    mean_gpus = o.item("gpu").quantity / HOURS_PER_MONTH
    assert 1814 / 2 < mean_gpus < 1814 * 2
    assert o.capacity.ep > 1  # wide expert parallelism, as DeepSeek serves it


def test_an_infeasible_fixed_gpu_names_the_cheapest_feasible_change():
    a = advise(
        make(models={"self_hosted": "deepseek-v3"}, self_hosting={"gpu": "rtx-4090", "precision": "bf16"}),
        CATALOG,
        today=TODAY,
        with_flips=False,
    )
    plan = a.option(OptionKind.SELF_HOST)
    assert plan is not None and plan.infeasible and plan.suggestion
    assert "would serve it, $" in plan.suggestion and "Self-hosting cannot as configured" in a.summary


def test_max_gpus_caps_the_search():
    capped = run(make(workload={"tokens_per_day": 3e10}, self_hosting={"max_gpus": 16}))
    o = own(capped)
    assert o.infeasible is None or "max_gpus" in o.infeasible
    if o.capacity:
        assert o.capacity.gpus <= 16


def test_a_huge_fleet_is_flagged():
    a = advise(
        make(
            workload={"tokens_per_day": 5e9}, models={"self_hosted": "llama-3.3-70b"}, self_hosting={"gpu": "rtx-4090"}
        ),
        CATALOG,
        today=TODAY,
        with_flips=False,
    )
    cap = a.option(OptionKind.SELF_HOST).capacity  # type: ignore[union-attr]
    assert cap is not None and cap.gpus > 64 and a.warned(WarningCode.FLEET_UNUSUAL)


# ---------------------------------------------------------------- owned hardware, worked by hand


def test_owned_line_items_worked_by_hand():
    owned = {
        "gpu_purchase_usd": 40_000,
        "amortization_years": 4,
        "power_w_per_gpu": 1000,
        "pue": 1.5,
        "usd_per_kwh": 0.10,
        "hosting_usd_per_gpu_month": 150,
    }
    o = own(run(make(self_hosting={"gpu": "h100-sxm", "pricing": "owned", "owned": owned})))
    gpus = o.capacity.gpus
    gpu, power, hosting = o.item("gpu"), o.item("power"), o.item("hosting")
    assert gpu.unit_usd == pytest.approx(40_000 / (4 * 12))  # $833.33 per GPU-month
    assert power.unit_usd == pytest.approx(1.0 * 1.5 * 730 * 0.10)  # kW × PUE × hours × $/kWh = $109.50
    assert hosting.unit_usd == 150
    bought = gpu.quantity  # whole 8-GPU servers: at least the fleet
    assert bought % 8 == 0 and bought >= gpus
    assert gpu.monthly_usd + power.monthly_usd + hosting.monthly_usd == pytest.approx(
        bought * (833.333 + 109.5 + 150), rel=1e-4
    )


def test_owned_defaults_come_from_sourced_catalog_rows():
    o = own(run(make(self_hosting={"gpu": "h100-sxm", "pricing": "owned"})))
    power = o.item("power")
    assert "DGX H100" in power.source and "Uptime" in power.source and "EIA" in power.source
    assert "CBRE" in o.item("hosting").source


# ---------------------------------------------------------------- autoscaling, caching, batch, long requests


@settings(max_examples=20, deadline=None)
@given(peak=st.floats(1.0, 8.0), tokens=st.floats(1e8, 2e10))
def test_autoscaling_never_bills_less_than_the_mean_load_needs(peak: float, tokens: float) -> None:
    # Following demand, the fleet still runs whole replicas in every slot: on average at least what the mean
    # load needs at the planned utilization, with the layout it chose. (Not "at least the fleet sized for the
    # mean": that one rounds up once, the autoscaled one in every slot, and can carry up to a replica more.)
    profile = make(
        workload={"tokens_per_day": tokens, "peak_to_average": peak},
        self_hosting={"gpu": "h100-sxm", "autoscaling": True, "redundancy": "none"},
    )
    scaled = own(run(profile))
    cap = scaled.capacity
    planned = cap.output_tokens_per_s_per_replica * cap.planned_utilization
    mean_gpus = workload(profile).mean_output_tokens_per_s / planned * cap.gpus_per_replica
    assert scaled.item("gpu").quantity >= mean_gpus * HOURS_PER_MONTH * (1 - 1e-9)


def test_cold_start_makes_the_fleet_start_ahead_of_the_ramp():
    p = make(workload={"peak_to_average": 4.0}, self_hosting={"autoscaling": {"cold_start_s": 3600}})
    q = make(workload={"peak_to_average": 4.0}, self_hosting={"autoscaling": {"cold_start_s": 0}})
    model = CATALOG.model("llama-3.3-70b")
    slow, _ = demand_levels(workload(p), p.self_hosting, model)
    fast, _ = demand_levels(workload(q), q.self_hosting, model)
    assert sum(slow) > sum(fast) and all(s >= f for s, f in zip(slow, fast, strict=True))


def test_elastic_part_of_a_reserved_fleet_is_billed_on_demand():
    o = own(
        run(
            make(
                workload={"peak_to_average": 3.0},
                self_hosting={"gpu": "h100-sxm", "pricing": "reserved_1y", "autoscaling": {"min_replicas": 1}},
            )
        )
    )
    elastic = o.item("gpu_elastic")
    assert elastic is not None and elastic.unit_usd > o.item("gpu").unit_usd


def test_prefix_caching_lowers_the_self_hosted_cost_except_without_a_prefix_cache():
    def cost(share: float, engine: str) -> float:
        w = {"tokens_per_day": 2e9, "input_share": 0.9, "cached_input_share": share}
        return own(run(make(workload=w, self_hosting={"gpu": "h100-sxm", "engine": engine}))).item("gpu").monthly_usd

    assert cost(0.8, "vllm") < cost(0.0, "vllm")
    assert cost(0.8, "llama.cpp") == cost(0.0, "llama.cpp")


def test_batch_work_is_sized_for_throughput_and_billed_at_batch_prices():
    inter = run(make(models={"api": ["openai/gpt-4.1-mini"]}, self_hosting={"gpu": "h100-sxm"}))
    batch = run(
        make(workload={"class": "batch"}, models={"api": ["openai/gpt-4.1-mini"]}, self_hosting={"gpu": "h100-sxm"})
    )
    assert own(batch).capacity.output_tokens_per_s_per_replica > own(inter).capacity.output_tokens_per_s_per_replica
    api = next(o for o in batch.options if o.kind is OptionKind.API)
    assert api.item("batch_savings") is not None


def test_the_longest_request_decides_memory_fit():
    fits = own(run(make(models={"self_hosted": "llama-3.1-8b"}, self_hosting={"gpu": "l4", "precision": "fp8"})))
    long = own(
        run(
            make(
                workload={"max_context_tokens": 131_072},
                models={"self_hosted": "llama-3.1-8b"},
                self_hosting={"gpu": "l4", "precision": "fp8", "max_gpus": 1},
            )
        )
    )
    assert fits.infeasible is None and long.infeasible is not None
    too_long = own(run(make(workload={"max_context_tokens": 10**7}, self_hosting={"gpu": "h100-sxm"})))
    assert "exceeds" in (too_long.infeasible or "")


def test_an_autoscaled_hybrid_runs_its_base_only_when_needed():
    w = {"peak_to_average": 4.0}
    api = {"api": ["openai/gpt-4.1"]}
    flat = run(make(workload=w, models=api, self_hosting={"gpu": "h100-sxm"}))
    scaled = run(make(workload=w, models=api, self_hosting={"gpu": "h100-sxm", "autoscaling": True}))

    def hybrid(ev: Any) -> Any:
        return next(o for o in ev.options if o.kind is OptionKind.HYBRID)

    assert "autoscaled" in hybrid(scaled).notes[0] and "autoscaled" not in hybrid(flat).notes[0]
    assert hybrid(scaled).monthly_usd <= hybrid(flat).monthly_usd


def test_breakeven_rows_run_on_the_same_search_as_advise():
    from selfhost_cli.breakeven import breakeven, suitable_gpus

    p = make(models={"self_hosted": "deepseek-v3"})
    table = breakeven(p, CATALOG, suitable_gpus(CATALOG), [Pricing.ON_DEMAND])
    a = advise(p, CATALOG, today=TODAY, with_flips=False)
    feasible = {(x.gpu, x.pricing) for x in a.alternatives if x.feasible}
    rows = {(r.gpu, r.pricing): r for r in table.rows}
    for key, row in rows.items():
        assert (row.gpus_min is not None) == (key in feasible), key
    # a GPU that needs two nodes for one replica is a breakeven row too (not "does not fit")
    assert rows[("h100-sxm", "on_demand")].gpus_min == 16


def test_h100_nvl_bridges_pairs_only_so_tp4_all_reduces_over_pcie():
    from selfhost_cli.deploy.replica import allreduce_ms

    model = CATALOG.model("llama-3.3-70b")
    nvl, sxm = CATALOG.gpu("h100-nvl"), CATALOG.gpu("h100-sxm")
    pair = allreduce_ms(Setup(model, nvl, Precision.FP8, VLLM, 2), 256)
    four = allreduce_ms(Setup(model, nvl, Precision.FP8, VLLM, 4), 256)
    assert four > 5 * allreduce_ms(Setup(model, sxm, Precision.FP8, VLLM, 4), 256)
    assert four > 3 * pair  # beyond the bridged pair the buffer crosses PCIe Gen4 (32 GB/s, not 300)


def test_owned_hardware_is_bought_in_whole_servers():
    o = own(run(make(self_hosting={"gpu": "b200", "pricing": "owned"})))
    gpu = o.item("gpu")
    assert gpu.quantity % 8 == 0 and gpu.quantity >= o.capacity.gpus
    gb = own(run(make(self_hosting={"gpu": "gb200", "pricing": "owned"})))
    assert gb.item("gpu").quantity % 72 == 0  # an NVL72 rack is the unit

"""The deployment search: GPU × price tier × precision × parallel layout, cheapest feasible fleet first.

For each GPU the search builds the layouts one replica can take (TP within the scale-up domain, pipeline
stages across nodes over the scale-out network, expert parallelism for MoE models), keeps those whose
weights and longest request fit and that meet the latency target (`sizing.plan_replicas`), sizes a fleet for
the peak in each market the GPU is sold in, and ranks every market's best fleet by its cost per hour.

Pure and below `advise/`: prices come in as `Market`s (what a GPU-hour costs in a tier), the demand as a
`Target`; nothing here reads a profile or the clock. Layout plans are cached on the values that decide them,
so re-runs at another volume (flip points, break-even) only redo the fleet arithmetic.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from selfhost_cli.catalog.schema import GpuSpec, ModelSpec
from selfhost_cli.deploy.engines import EngineProfile
from selfhost_cli.deploy.estimate import tp_candidates
from selfhost_cli.deploy.sizing import (
    Fleet,
    Infeasible,
    Layout,
    ReplicaPlan,
    RequestShape,
    fitting_in,
    fixed_fleet_best,
    fleet_for_peak_best,
    plan_replicas,
)
from selfhost_cli.enums import Precision

# Pipeline stages tried across nodes (a replica of 2, 4 or 8 nodes).
PIPELINE_STAGES = (2, 4, 8)
# Tensor parallelism across this many nodes (SGLang's and vLLM's documented Llama 3.1 405B BF16 layout is
# TP16 over two 8-GPU nodes): lower latency than pipeline stages, at the cost of all-reduces over the network.
CROSS_NODE_TP = (2,)
# Expert-parallel widths tried: powers of two up to this many GPUs (DeepSeek decodes V3 on EP144).
MAX_EXPERT_PARALLEL = 256


@dataclass(frozen=True)
class Market:
    """One way to buy one GPU: a pricing tier and what an hour of it costs (None: no price known).
    `elastic_usd_per_gpu_hour` prices the autoscaled part above the day's floor (on-demand), if different."""

    gpu: GpuSpec
    pricing: str
    usd_per_gpu_hour: float | None
    elastic_usd_per_gpu_hour: float | None = None
    follows_demand: bool = True  # owned hardware costs the same idle or busy: its fleet never shrinks
    unit_gpus: int = 1  # GPUs bought together (owned: a whole server, or a GB200 NVL72 rack)


@dataclass(frozen=True)
class Target:
    """What the fleet must carry: the peak, spare replicas, demand through the day as shares of the peak
    (one level = sized for the peak all day), an existing fleet, a cap."""

    peak_output_tokens_per_s: float
    spare_replicas: int
    levels: tuple[float, ...] = (1.0,)
    min_replicas: int = 1
    fixed_gpus: int | None = None
    max_gpus: int | None = None


@dataclass(frozen=True)
class Found:
    """The cheapest fleet of one GPU × tier × precision, and the layouts it chose among."""

    market: Market
    precision: Precision
    engine: EngineProfile
    plans: tuple[ReplicaPlan, ...]
    fleet: Fleet

    @property
    def usd_per_hour(self) -> float | None:
        """Average cost of the fleet's GPUs per hour: the day's floor at the tier's price, the rest elastic."""
        price = self.market.usd_per_gpu_hour
        if price is None:
            return None
        elastic = self.market.elastic_usd_per_gpu_hour or price
        if self.market.unit_gpus > 1:  # bought whole: every GPU of the last server is paid for
            return billed_gpus(self.fleet.mean_gpus, self.market.unit_gpus) * price
        floor = min(self.fleet.floor_gpus, self.fleet.mean_gpus)
        return floor * price + (self.fleet.mean_gpus - floor) * elastic


def billed_gpus(gpus: float, unit: int) -> int:
    """GPUs paid for when they come `unit` at a time."""
    return unit * math.ceil(gpus / unit - 1e-9)


@dataclass(frozen=True)
class Rejected:
    """A GPU × tier (× precision) that cannot serve, and why."""

    gpu: GpuSpec
    pricing: str
    precision: Precision | None
    reason: str


@dataclass(frozen=True)
class SearchResult:
    """Every market's best fleet, cheapest first (unpriced ones last), and what could not serve."""

    found: tuple[Found, ...]
    rejected: tuple[Rejected, ...]

    @property
    def best(self) -> Found | None:
        """The cheapest priced plan, else the first unpriced one (its cost unknown), else None."""
        return self.found[0] if self.found else None


@dataclass
class LayoutCache:
    """Feasible replica layouts keyed on the values that decide them; shared by every re-run of one advice."""

    plans: dict[tuple[object, ...], tuple[ReplicaPlan, ...] | Infeasible] = field(default_factory=dict)

    def plan(
        self,
        model: ModelSpec,
        gpu: GpuSpec,
        precision: Precision,
        engine: EngineProfile,
        shape: RequestShape,
        max_gpus: int | None,
    ) -> tuple[ReplicaPlan, ...] | Infeasible:
        key = (model.id, gpu.id, precision, engine, shape, max_gpus)
        if key not in self.plans:
            found = plan_replicas(model, gpu, precision, engine, shape, layouts(model, gpu, max_gpus))
            self.plans[key] = found if isinstance(found, Infeasible) else tuple(found)
        return self.plans[key]


def layouts(model: ModelSpec, gpu: GpuSpec, max_gpus: int | None = None) -> list[Layout]:
    """The replica layouts worth trying on this GPU, fewest GPUs first.

    TP: powers of two within the scale-up domain, and over two nodes. PP: one stage per node, the node's
    GPUs in TP, over the scale-out network (only where the catalog knows one). EP (MoE): powers of two
    within the domain, or whole nodes across the scale-out network.
    """
    cap = max_gpus or 1 << 30
    found = [Layout(tp=tp) for tp in tp_candidates(gpu)]
    node = gpu.node_gpus
    node_tp = max(t for t in tp_candidates(gpu) if t <= node)
    if gpu.multi_node:
        found += [Layout(tp=node_tp, pp=pp) for pp in PIPELINE_STAGES]
        found += [Layout(tp=node_tp * n) for n in CROSS_NODE_TP if node_tp * n > gpu.max_gpus_per_node]
    if model.moe:
        ep = 2
        while ep <= min(MAX_EXPERT_PARALLEL, model.moe.experts):
            within = ep <= gpu.max_gpus_per_node
            if within or (gpu.multi_node and ep % node == 0):
                found.append(Layout(ep=ep))
            ep *= 2
    return sorted((lay for lay in found if lay.gpus <= cap), key=lambda lay: (lay.gpus, lay.ep, lay.pp))


def search(
    model: ModelSpec,
    markets: Sequence[Market],
    precisions: Callable[[GpuSpec], Sequence[Precision]],
    engine: Callable[[GpuSpec, Precision], EngineProfile | str],
    shape: RequestShape,
    target: Target,
    cache: LayoutCache,
) -> SearchResult:
    """The cheapest fleet per market × precision that carries the target; each market keeps its best precision.

    `engine` gives the engine's constants for a GPU and format, or a string saying why it does not run there.
    Layouts are planned once per GPU × precision whatever the number of markets, and a GPU whose every
    market is unpriced is still planned (its plan is shown, its cost is unknown).
    """
    found: list[Found] = []
    rejected: list[Rejected] = []
    by_gpu: dict[str, list[Market]] = {}
    for m in markets:
        by_gpu.setdefault(m.gpu.id, []).append(m)
    for group in by_gpu.values():
        gpu = group[0].gpu
        best: dict[str, Found] = {}
        reasons: dict[str, str] = {}
        for precision in precisions(gpu):
            eng = engine(gpu, precision)
            if isinstance(eng, str):
                reasons.setdefault("", eng)
                continue
            plans = cache.plan(model, gpu, precision, eng, shape, target.max_gpus)
            if isinstance(plans, Infeasible):
                reasons.setdefault("", f"{precision.value}: {plans.reason}")
                continue
            for market in group:
                fleet = _fleet(plans, target, market)
                if isinstance(fleet, str):
                    reasons.setdefault(market.pricing, fleet)
                    continue
                cand = Found(market, precision, eng, plans, fleet)
                if market.pricing not in best or _rank(cand) < _rank(best[market.pricing]):
                    best[market.pricing] = cand
        found += best.values()
        for market in group:
            if market.pricing not in best:
                why = reasons.get(market.pricing) or reasons.get("") or "no precision to try"
                rejected.append(Rejected(gpu, market.pricing, None, why))
    found.sort(key=_rank)
    return SearchResult(tuple(found), tuple(rejected))


def _fleet(plans: tuple[ReplicaPlan, ...], target: Target, market: Market) -> Fleet | str:
    peak = target.peak_output_tokens_per_s
    if target.fixed_gpus:
        if not fitting_in(list(plans), target.fixed_gpus):
            return (
                f"the fixed fleet of {target.fixed_gpus} GPU(s) is smaller than the smallest layout that fits "
                f"and meets the latency ({plans[0].setup.layout}, {plans[0].gpus} GPUs)"
            )
        return fixed_fleet_best(plans, target.fixed_gpus, peak)
    levels = target.levels if market.follows_demand else (1.0,)
    fleet = fleet_for_peak_best(plans, peak, target.spare_replicas, levels, target.min_replicas)
    if target.max_gpus and fleet.gpus > target.max_gpus:
        return f"needs {fleet.gpus:,} GPUs at the peak, over max_gpus {target.max_gpus:,}"
    return fleet


def _rank(f: Found) -> tuple[bool, float, float]:
    """Priced before unpriced, then by cost per hour, then by GPUs (for unpriced ones)."""
    cost = f.usd_per_hour
    return (cost is None, cost if cost is not None else 0.0, f.fleet.mean_gpus)

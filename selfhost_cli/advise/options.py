"""The typed values the pricing stage produces and every later stage reads: line items, capacity, options."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from selfhost_cli.catalog.schema import Capabilities, Quality
from selfhost_cli.deploy.engines import Speculation
from selfhost_cli.enums import Confidence, OptionKind, WarningCode


def usd(value: float | None) -> str:
    """`$25,002` in sentences (or `unknown`: a missing price is never $0)."""
    return "unknown" if value is None else f"${value:,.0f}"


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
    expected_error_basis: str
    fixed_fleet: bool
    autoscaling: bool
    # The queueing headroom: the share of the latency-bound capacity planned at the peak, and the mean requests in
    # flight per replica it leaves (sizing.headroom_concurrency).
    planned_utilization: float
    planned_concurrency_per_replica: float
    speculative: Speculation | None  # the profile's speculative decoding, as the estimate ran it
    pp: int = 1
    ep: int = 1
    nodes_per_replica: int = 1
    layout: str = ""  # `TP8`, `TP8×PP2`, `EP16`


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
    suggestion: str | None = None  # infeasible as configured: the cheapest feasible change, priced
    price_missing: str | None = None  # why the cost is unknown
    smooth_usd: float | None = None  # non-API: the fleet at fractional replicas
    step_usd: float = 0.0  # non-API: one more replica a month (0 for a fixed fleet)
    parts: tuple[str, ...] = ()  # hybrid: the self-host and API option ids
    gpu_usd: float = 0.0  # the GPU-hours share of monthly_usd (what the estimate's error scales)
    gpu_price_range: tuple[float, float] = (1.0, 1.0)  # interquartile price rows ÷ the price used
    price_confidence: Confidence | None = None  # API: how far its price row can be trusted
    price_gaps: tuple[tuple[WarningCode, str], ...] = ()  # API: prices missing for part of the traffic
    retired: str | None = None  # API: shut down by its provider, with when and the successor named
    excluded_by: tuple[str, ...] = field(default=())

    @property
    def eligible(self) -> bool:
        return not self.excluded_by and self.monthly_usd is not None

    @property
    def bound_usd(self) -> float | None:
        """What the decision tests for a non-API option: fractional fleet plus one replica."""
        return None if self.smooth_usd is None else self.smooth_usd + self.step_usd

    @property
    def remarks(self) -> tuple[str, ...]:
        """Everything worth saying about the option: its notes and its missing prices."""
        return self.notes + tuple(message for _, message in self.price_gaps)

    def item(self, name: str) -> LineItem | None:
        return next((i for i in self.items if i.name == name), None)

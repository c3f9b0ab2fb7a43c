"""What an hour of a GPU costs when it is owned, and how an autoscaled fleet follows the day.

Owned hardware (`pricing: owned`): the purchase (GPU with its share of server and network) amortized
straight-line, the power it draws with its host times the facility's PUE at the electricity price, and the
colocation space and cooling billed per kW of IT power. Every figure is the profile's `self_hosting.owned`
value when given, else a sourced catalog default (a GPU's purchase rows and system power, the catalog's
facility block). Owned GPUs cost the same idle or busy, so their fleet is sized for the peak all day.

Autoscaling: the fleet follows the daily curve in 15-minute slots but a new replica serves only after its
cold start (weights loaded, engine started), so each slot provisions for the busiest demand until the
replicas it starts are ready; never fewer than `min_replicas` serve.
"""

from __future__ import annotations

import datetime as dt
import math
import statistics
from dataclasses import dataclass

from selfhost_cli.advise.workload import Workload
from selfhost_cli.catalog import SUPERSEDED_AFTER_DAYS, GpuHourly
from selfhost_cli.catalog.schema import Facility, GpuSpec, ModelSpec
from selfhost_cli.costs import HOURS_PER_MONTH, daily_curve
from selfhost_cli.deploy.params import weight_bytes
from selfhost_cli.enums import Precision
from selfhost_cli.profile import Autoscaling, Owned, SelfHosting

HOURS_PER_YEAR = 8_760
# Without a catalog power figure, a GPU's share of its server draws this many times its TDP: DGX H100 is
# specified at 10.2 kW maximum for 8 × 700 W GPUs (1,275 W per GPU, NVIDIA DGX H100 user guide).
HOST_POWER_FACTOR = 1275 / 700
# Cold start, when `cold_start_s: auto`: the weights are read at this rate per node (a local NVMe drive or a
# model cache on the cluster network; object-storage pulls are slower), after the engine has started (CUDA
# graph capture and warm-up take about a minute in vLLM and SGLang). Assumptions, stated in the output.
WEIGHT_LOAD_GB_PER_S = 2.0
ENGINE_START_S = 60.0
# The autoscaler acts on a metric averaged over this long before it starts a replica.
SCALE_REACTION_S = 60.0
SLOT_S = 900.0  # the daily curve's 15-minute slots


@dataclass(frozen=True)
class Figure:
    """One input of the owned cost and where it came from."""

    value: float
    source: str
    as_of: dt.date | None = None


@dataclass(frozen=True)
class OwnedCost:
    """What one owned GPU costs per month, by component (None = unknown, never $0)."""

    gpu: str
    purchase_usd: Figure | None
    amortization_years: Figure
    power_w: Figure
    pue: Figure
    usd_per_kwh: Figure
    hosting_usd_per_gpu_month: Figure
    purchase_q1_usd: float | None = None
    purchase_q3_usd: float | None = None

    @property
    def amortized_usd_per_month(self) -> float | None:
        if self.purchase_usd is None:
            return None
        return self.purchase_usd.value / (self.amortization_years.value * 12)

    @property
    def power_usd_per_month(self) -> float:
        return self.power_w.value / 1000 * self.pue.value * HOURS_PER_MONTH * self.usd_per_kwh.value

    @property
    def usd_per_gpu_month(self) -> float | None:
        amortized = self.amortized_usd_per_month
        if amortized is None:
            return None
        return amortized + self.power_usd_per_month + self.hosting_usd_per_gpu_month.value

    def at_purchase(self, purchase_usd: float) -> float:
        """USD per GPU-month with another purchase price (the price range's ends)."""
        return (
            purchase_usd / (self.amortization_years.value * 12)
            + self.power_usd_per_month
            + (self.hosting_usd_per_gpu_month.value)
        )


def owned_cost(gpu: GpuSpec, owned: Owned, facility: Facility | None) -> OwnedCost | None:
    """The owned cost of one GPU from the profile's figures and the catalog's defaults; None when a facility
    figure is missing from both (a user catalog without the facility block and a profile without them)."""
    profile = "profile: self_hosting.owned."
    purchase: Figure | None = None
    q1 = q3 = None
    if owned.gpu_purchase_usd is not None:
        purchase = Figure(owned.gpu_purchase_usd, profile + "gpu_purchase_usd")
    elif gpu.purchases:
        newest = max(p.as_of for p in gpu.purchases)
        rows = [p for p in gpu.purchases if (newest - p.as_of).days <= SUPERSEDED_AFTER_DAYS]
        values = [p.usd_per_gpu for p in rows]
        oldest = min(p.as_of for p in rows)
        basis = f"median of {len(values)} purchase rows" if len(values) > 1 else rows[0].what
        purchase = Figure(statistics.median(values), f"{basis}: " + "; ".join(p.source for p in rows), oldest)
        if len(values) > 1:
            q1, _, q3 = statistics.quantiles(values, n=4, method="inclusive")
    if owned.power_w_per_gpu is not None:
        power = Figure(owned.power_w_per_gpu, profile + "power_w_per_gpu")
    elif gpu.system_power is not None:
        sp = gpu.system_power
        power = Figure(sp.w_per_gpu, f"{sp.basis}: {sp.source}", sp.as_of)
    elif gpu.tdp_w is not None:
        power = Figure(
            gpu.tdp_w * HOST_POWER_FACTOR, f"{gpu.tdp_w:g} W TDP × {HOST_POWER_FACTOR:.2f} host share (DGX H100 ratio)"
        )
    else:
        return None

    def pick(given: float | None, name: str, default: object) -> Figure | None:
        if given is not None:
            return Figure(given, profile + name)
        if default is None:
            return None
        f = default  # a FacilityFigure
        return Figure(f.value, f"{f.what}: {f.source}", f.as_of)  # type: ignore[attr-defined]

    fac = facility
    years = pick(owned.amortization_years, "amortization_years", fac.amortization_years if fac else None)
    pue = pick(owned.pue, "pue", fac.pue if fac else None)
    kwh = pick(owned.usd_per_kwh, "usd_per_kwh", fac.usd_per_kwh if fac else None)
    if owned.hosting_usd_per_gpu_month is not None:
        hosting: Figure | None = Figure(owned.hosting_usd_per_gpu_month, profile + "hosting_usd_per_gpu_month")
    elif fac is not None:
        rate = fac.hosting_usd_per_kw_month
        hosting = Figure(
            rate.value * power.value / 1000,
            f"${rate.value:g}/kW-month × {power.value / 1000:.2f} kW ({rate.what}: {rate.source})",
            rate.as_of,
        )
    else:
        hosting = None
    if years is None or pue is None or kwh is None or hosting is None:
        return None
    return OwnedCost(gpu.id, purchase, years, power, pue, kwh, hosting, q1, q3)


def owned_hourly(cost: OwnedCost | None, override_usd: float | None) -> GpuHourly | None:
    """The all-in owned cost as a price per GPU-hour (the form the search compares with rentals)."""
    if override_usd is not None:
        v = override_usd
        return GpuHourly(v, "the profile / command line", None, "given (all-in owned cost)", v, v, v, v)
    if cost is None or cost.usd_per_gpu_month is None or cost.purchase_usd is None:
        return None
    hourly = cost.usd_per_gpu_month / HOURS_PER_MONTH
    q1 = cost.at_purchase(cost.purchase_q1_usd) / HOURS_PER_MONTH if cost.purchase_q1_usd else hourly
    q3 = cost.at_purchase(cost.purchase_q3_usd) / HOURS_PER_MONTH if cost.purchase_q3_usd else hourly
    return GpuHourly(
        hourly,
        cost.purchase_usd.source,
        cost.purchase_usd.as_of,
        f"owned: ${cost.purchase_usd.value:,.0f} over {cost.amortization_years.value:g} years + power + hosting",
        min(q1, hourly),
        max(q3, hourly),
        min(q1, hourly),
        max(q3, hourly),
    )


# ---------------------------------------------------------------- autoscaling


def cold_start_s(model: ModelSpec, s: SelfHosting) -> float:
    """Seconds before a new replica serves: the profile's figure, else engine start + weights ÷ load rate."""
    auto = s.autoscaling
    if auto is not None and auto.cold_start_s != "auto":
        return float(auto.cold_start_s)
    precision = s.precisions[0] if s.precisions else Precision.FP8
    return ENGINE_START_S + weight_bytes(model, precision) / 1e9 / WEIGHT_LOAD_GB_PER_S


def demand_levels(
    work: Workload, s: SelfHosting, model: ModelSpec, serverless: bool = False
) -> tuple[tuple[float, ...], int]:
    """Demand as shares of the peak, per 15-minute slot, that an autoscaled fleet provisions for, and the
    fewest serving replicas; (1.0,) and 1 without autoscaling (sized for the peak all day). A serverless
    tier bills only running workers, so it always follows demand (with the default autoscaling settings).

    A slot provisions for the busiest slot until a replica started in it is ready (reaction + cold start),
    so the fleet is up before the ramp arrives."""
    if serverless and s.autoscaling is None:
        s = s.model_copy(update={"autoscaling": Autoscaling()})
    if s.autoscaling is None or work.peak_to_average <= 1.0:
        return (1.0,), 1
    curve = [level / work.peak_to_average for level in daily_curve(work.peak_to_average)]
    ahead = math.ceil((SCALE_REACTION_S + cold_start_s(model, s)) / SLOT_S)
    n = len(curve)
    levels = tuple(max(curve[(i + j) % n] for j in range(ahead + 1)) for i in range(n))
    return levels, s.autoscaling.min_replicas

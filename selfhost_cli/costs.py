"""Monthly cost of an API offering and of a self-hosted fleet, the daily traffic curve, break-even search. Pure."""

from __future__ import annotations

import bisect
import functools
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

HOURS_PER_MONTH = 730.0  # 8,760 h / 12, the convention cloud price sheets use
DAYS_PER_MONTH = HOURS_PER_MONTH / 24  # 30.42


@dataclass(frozen=True)
class ApiPrices:
    """USD per 1M tokens; cached input None = no cached price known; batch discount None = no batch API."""

    input_usd_per_1m: float
    output_usd_per_1m: float
    cached_input_usd_per_1m: float | None = None
    batch_discount: float | None = None


@dataclass(frozen=True)
class ApiCost:
    """USD per month by line item."""

    input_usd: float
    cached_input_usd: float
    output_usd: float
    batch_savings_usd: float  # subtracted (>= 0)
    cached_price_missing: bool  # cached tokens were billed at the full input price
    batch_price_missing: bool  # batch traffic was billed at the full price

    @property
    def monthly_usd(self) -> float:
        return self.input_usd + self.cached_input_usd + self.output_usd - self.batch_savings_usd


def api_monthly_cost(
    prices: ApiPrices,
    tokens_per_day: float,
    input_share: float,
    cached_input_share: float = 0.0,
    batch_share: float = 0.0,
) -> ApiCost:
    """USD per month for `tokens_per_day` (input + output) at 30.42 days a month; 0 when the volume is 0.

    Cached input tokens are billed at the cached price (the full input price when none is known: never
    $0); the `batch_share` of all traffic gets the batch discount where the offering has one.
    """
    month_m = tokens_per_day * DAYS_PER_MONTH / 1e6
    input_m = month_m * input_share
    output_m = month_m * (1 - input_share)
    cached_m = input_m * cached_input_share
    cached_price = prices.cached_input_usd_per_1m
    cached_missing = cached_price is None and cached_m > 0
    input_usd = (input_m - cached_m) * prices.input_usd_per_1m
    cached_usd = cached_m * (cached_price if cached_price is not None else prices.input_usd_per_1m)
    output_usd = output_m * prices.output_usd_per_1m
    gross = input_usd + cached_usd + output_usd
    discount = prices.batch_discount or 0.0
    savings = gross * batch_share * discount
    batch_missing = prices.batch_discount is None and batch_share > 0
    return ApiCost(input_usd, cached_usd, output_usd, savings, cached_missing, batch_missing)


@dataclass(frozen=True)
class SelfHostCost:
    """USD per month: GPU-hours, people, everything else."""

    gpu_usd: float
    ops_usd: float
    other_usd: float
    gpu_hours: float

    @property
    def monthly_usd(self) -> float:
        return self.gpu_usd + self.ops_usd + self.other_usd


def self_host_monthly_cost(
    gpu_hours_per_month: float, gpu_hourly_usd: float, ops_fte: float, fte_annual_usd: float, other_monthly_usd: float
) -> SelfHostCost:
    """GPU-hours × hourly price + ops_fte × salary ÷ 12 + other; USD per month."""
    return SelfHostCost(
        gpu_usd=gpu_hours_per_month * gpu_hourly_usd,
        ops_usd=ops_fte * fte_annual_usd / 12,
        other_usd=other_monthly_usd,
        gpu_hours=gpu_hours_per_month,
    )


# ---------------------------------------------------------------- traffic shape


@functools.lru_cache(maxsize=256)
def daily_curve(peak_to_average: float, samples: int = 96) -> tuple[float, ...]:
    """Demand through a day as multiples of the mean (mean 1, max = peak_to_average), every 15 min.

    A von Mises bump, exp(κ·cos θ): one busy period a day, never negative, and peak ÷ mean = e^κ / I0(κ)
    rises from 1 (κ = 0, flat) without bound, so any peak_to_average >= 1 has exactly one κ.
    """
    if peak_to_average >= samples:
        raise ValueError(f"peak_to_average {peak_to_average:g} needs more than {samples} samples a day")
    if peak_to_average <= 1.0 + 1e-9:
        return (1.0,) * samples
    low, high = 0.0, 1.0
    while _peak_ratio(high, samples) < peak_to_average:
        high *= 2
    for _ in range(60):
        mid = (low + high) / 2
        if _peak_ratio(mid, samples) < peak_to_average:
            low = mid
        else:
            high = mid
    return tuple(_normalized(high, samples))


def _normalized(kappa: float, samples: int) -> list[float]:
    raw = [math.exp(kappa * (math.cos(2 * math.pi * i / samples) - 1)) for i in range(samples)]
    mean = sum(raw) / samples
    return [r / mean for r in raw]


def _peak_ratio(kappa: float, samples: int) -> float:
    return max(_normalized(kappa, samples))


def autoscaled_replicas(
    curve: Sequence[float], mean_output_tokens_per_s: float, replica_output_tokens_per_s: float, spare: int
) -> float:
    """Mean replicas over the day when the fleet follows demand (at least one serving, plus spare)."""
    total = 0.0
    for level in curve:
        need = level * mean_output_tokens_per_s / replica_output_tokens_per_s
        total += max(1, math.ceil(need - 1e-9)) + spare
    return total / len(curve)


def overflow_share(curve: Sequence[float], base_level: float) -> float:
    """Share of the day's traffic above `base_level` (in multiples of the mean): what a hybrid sends out."""
    levels, above_sums = _sorted_sums(tuple(curve))
    i = bisect.bisect_right(levels, base_level)  # levels[i:] lie above the base
    return max(above_sums[i] - base_level * (len(levels) - i), 0.0) / above_sums[0]


@functools.lru_cache(maxsize=64)
def _sorted_sums(curve: tuple[float, ...]) -> tuple[list[float], list[float]]:
    """The curve's levels ascending with the sum of each tail (`above_sums[i]` = sum of levels[i:]): the hybrid
    split asks for the share above hundreds of bases of one curve, each now a bisection, not a pass."""
    levels = sorted(curve)
    above_sums = [0.0] * (len(levels) + 1)
    for i in range(len(levels) - 1, -1, -1):
        above_sums[i] = above_sums[i + 1] + levels[i]
    return levels, above_sums


# ---------------------------------------------------------------- break-even


def breakeven_volume(
    self_host_usd: Callable[[float], float | None],
    api_usd: Callable[[float], float],
    low: float = 1e4,
    high: float = 1e13,
) -> float | None:
    """Smallest tokens/day from which self-hosting stays at or below the API cost up to `high`.

    Both costs are monthly USD as functions of tokens/day, both nondecreasing in it. Self-hosting is a staircase
    (whole replicas), the API a line, so after the first crossing self-hosting can still pop above just past a
    step: we scan a geometric grid of 401 volumes from the top down for the last point where self-hosting costs
    more, then bisect to the crossing. None when self-hosting is dearer even at `high` (or cannot be sized); when it
    is cheaper at every volume down to `low`, the scan goes on from 1 token/day to `low` (1.0: cheaper at any).

    The scan skips what it can prove: where self-hosting costs `c` at one grid volume, it costs at most `c` at
    every lower one, so every lower grid volume whose API cost is still at least `c` is not dearer either (found
    by bisecting the API cost, which is cheap). The answer is the one the whole grid gives (tests/test_costs.py).
    """

    def dearer(volume: float) -> bool:
        cost = self_host_usd(volume)
        return cost is None or cost > api_usd(volume)

    grid: list[float] = [low * (high / low) ** (i / 400) for i in range(400)] + [high]
    last_dearer: int | None = None  # index of the highest grid volume where self-hosting is dearer
    i = len(grid) - 1
    while i >= 0:
        cost = self_host_usd(grid[i])
        if cost is None or cost > api_usd(grid[i]):
            if i == len(grid) - 1:
                return None
            last_dearer = i
            break
        if not math.isfinite(cost):
            i -= 1  # nothing to prove with: take the next volume
            continue
        # (an API cost that is not a number never covers: the bisection then lands at i, and the scan steps on)
        i = min(bisect.bisect_left(range(i + 1), True, key=lambda j: api_usd(grid[j]) >= cost), i) - 1
    if last_dearer is None:  # no dearer volume down to `low`: the crossing, if any, lies below it
        return breakeven_volume(self_host_usd, api_usd, 1.0, low) if low > 1.0 else low
    lo, hi = grid[last_dearer], grid[last_dearer + 1]
    while hi - lo > max(0.01, hi * 1e-12):  # a hundredth of a token/day (~30 halvings): whole tokens exact
        mid = math.sqrt(lo * hi)
        if dearer(mid):
            lo = mid
        else:
            hi = mid
    return hi

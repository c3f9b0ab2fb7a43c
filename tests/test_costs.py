"""costs.py: API and self-host monthly cost, the daily curve, overflow, and the break-even search."""

from __future__ import annotations

import math
import statistics

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from selfhost_cli.costs import (
    DAYS_PER_MONTH,
    HOURS_PER_MONTH,
    ApiPrices,
    api_monthly_cost,
    autoscaled_replicas,
    breakeven_volume,
    daily_curve,
    overflow_share,
    self_host_monthly_cost,
)

FRONTIER = ApiPrices(input_usd_per_1m=2.50, output_usd_per_1m=10.00)


def test_month_conventions():
    assert HOURS_PER_MONTH == 730.0  # 8,760 h / 12
    assert DAYS_PER_MONTH == pytest.approx(30.4166667)


# ---------------------------------------------------------------- API cost


def test_api_monthly_cost_worked_example():
    # 1e9 tokens/day × 730/24 days = 30,416.667M tokens a month;
    # input 0.75 → 22,812.5M × $2.50 = $57,031.25; output 7,604.1667M × $10 = $76,041.67;
    # total $133,072.92
    cost = api_monthly_cost(FRONTIER, 1e9, 0.75)
    assert cost.input_usd == pytest.approx(22_812.5 * 2.50)
    assert cost.input_usd == pytest.approx(57_031.25)
    assert cost.output_usd == pytest.approx(7_604.1666667 * 10.0)
    assert cost.output_usd == pytest.approx(76_041.6666667)
    assert cost.cached_input_usd == 0.0 and cost.batch_savings_usd == 0.0
    assert cost.monthly_usd == pytest.approx(133_072.9166667)
    assert not cost.cached_price_missing and not cost.batch_price_missing


def test_api_cost_zero_volume_is_zero():
    assert api_monthly_cost(FRONTIER, 0.0, 0.75).monthly_usd == 0.0


def test_cached_share_billed_at_cached_price():
    # 30% of the 22,812.5M input tokens are cached: 6,843.75M × $1.25 and 15,968.75M × $2.50
    prices = ApiPrices(2.50, 10.00, cached_input_usd_per_1m=1.25)
    cost = api_monthly_cost(prices, 1e9, 0.75, cached_input_share=0.3)
    assert cost.cached_input_usd == pytest.approx(6_843.75 * 1.25)
    assert cost.input_usd == pytest.approx(15_968.75 * 2.50)
    assert cost.monthly_usd == pytest.approx(6_843.75 * 1.25 + 15_968.75 * 2.50 + 76_041.6666667)
    assert not cost.cached_price_missing


def test_cached_price_missing_billed_at_input_price_never_zero():
    cost = api_monthly_cost(FRONTIER, 1e9, 0.75, cached_input_share=0.3)
    assert cost.cached_price_missing is True
    assert cost.cached_input_usd == pytest.approx(6_843.75 * 2.50)
    assert cost.cached_input_usd > 0
    # same total as no caching at all
    assert cost.monthly_usd == pytest.approx(api_monthly_cost(FRONTIER, 1e9, 0.75).monthly_usd)


def test_cached_price_missing_not_flagged_without_cached_traffic():
    assert api_monthly_cost(FRONTIER, 1e9, 0.75, cached_input_share=0.0).cached_price_missing is False


def test_batch_discount():
    # 40% of the traffic at half price: savings = $133,072.92 × 0.4 × 0.5 = $26,614.58
    prices = ApiPrices(2.50, 10.00, batch_discount=0.5)
    cost = api_monthly_cost(prices, 1e9, 0.75, batch_share=0.4)
    assert cost.batch_savings_usd == pytest.approx(133_072.9166667 * 0.4 * 0.5)
    assert cost.monthly_usd == pytest.approx(133_072.9166667 * (1 - 0.2))
    assert not cost.batch_price_missing


def test_batch_share_without_a_batch_api_is_full_price_and_flagged():
    cost = api_monthly_cost(FRONTIER, 1e9, 0.75, batch_share=0.4)
    assert cost.batch_price_missing is True
    assert cost.batch_savings_usd == 0.0
    assert cost.monthly_usd == pytest.approx(133_072.9166667)


prices_st = st.builds(
    ApiPrices,
    st.floats(0, 100),
    st.floats(0, 200),
    st.one_of(st.none(), st.floats(0, 100)),
    st.one_of(st.none(), st.floats(0, 0.99)),
)
share = st.floats(0, 1)
volume = st.floats(0, 1e12)


@given(prices=prices_st, v=volume, s=st.floats(0.01, 0.99), cached=share, batch=share)
def test_api_cost_never_negative(prices, v, s, cached, batch):
    cost = api_monthly_cost(prices, v, s, cached, batch)
    assert cost.monthly_usd >= 0
    assert min(cost.input_usd, cost.cached_input_usd, cost.output_usd, cost.batch_savings_usd) >= 0


def _ge(a: float, b: float) -> bool:
    return a >= b - 1e-9 * max(abs(a), abs(b), 1.0)


@given(prices=prices_st, v=volume, more=volume, s=st.floats(0.01, 0.99), cached=share, batch=share)
def test_api_cost_monotone_in_volume(prices, v, more, s, cached, batch):
    low = api_monthly_cost(prices, v, s, cached, batch).monthly_usd
    high = api_monthly_cost(prices, v + more, s, cached, batch).monthly_usd
    assert _ge(high, low)


@given(
    prices=prices_st,
    bump=st.floats(0, 50),
    field=st.sampled_from(["input", "output", "cached"]),
    v=volume,
    s=st.floats(0.01, 0.99),
    cached=share,
    batch=share,
)
def test_api_cost_monotone_in_each_price(prices, bump, field, v, s, cached, batch):
    if field == "input":
        dearer = ApiPrices(
            prices.input_usd_per_1m + bump,
            prices.output_usd_per_1m,
            prices.cached_input_usd_per_1m,
            prices.batch_discount,
        )
    elif field == "output":
        dearer = ApiPrices(
            prices.input_usd_per_1m,
            prices.output_usd_per_1m + bump,
            prices.cached_input_usd_per_1m,
            prices.batch_discount,
        )
    else:
        cached_price = (prices.cached_input_usd_per_1m or 0.0) + bump
        prices = ApiPrices(
            prices.input_usd_per_1m,
            prices.output_usd_per_1m,
            prices.cached_input_usd_per_1m or 0.0,
            prices.batch_discount,
        )
        dearer = ApiPrices(prices.input_usd_per_1m, prices.output_usd_per_1m, cached_price, prices.batch_discount)
    assert _ge(
        api_monthly_cost(dearer, v, s, cached, batch).monthly_usd,
        api_monthly_cost(prices, v, s, cached, batch).monthly_usd,
    )


@given(v=st.floats(1, 1e12), k=st.floats(0, 1e3), s=st.floats(0.01, 0.99))
def test_api_cost_linear_in_volume(v, k, s):
    assert api_monthly_cost(FRONTIER, v * k, s).monthly_usd == pytest.approx(
        k * api_monthly_cost(FRONTIER, v, s).monthly_usd, rel=1e-9, abs=1e-9
    )


# ---------------------------------------------------------------- self-host cost


def test_self_host_monthly_cost_worked_example():
    # 8 GPUs × 730 h × $4.28 = $24,995.20; 1 FTE × $200,000 / 12 = $16,666.67; + $2,000 other
    cost = self_host_monthly_cost(8 * HOURS_PER_MONTH, 4.28, 1.0, 200_000, 2_000)
    assert cost.gpu_hours == 5_840
    assert cost.gpu_usd == pytest.approx(24_995.20)
    assert cost.ops_usd == pytest.approx(16_666.6667)
    assert cost.other_usd == 2_000
    assert cost.monthly_usd == pytest.approx(24_995.20 + 16_666.6667 + 2_000)


@given(
    hours=st.floats(0, 1e6),
    more_hours=st.floats(0, 1e6),
    price=st.floats(0, 100),
    more_price=st.floats(0, 100),
    fte=st.floats(0, 10),
    salary=st.floats(0, 1e6),
    other=st.floats(0, 1e5),
)
def test_self_host_cost_monotone_in_hours_and_price(hours, more_hours, price, more_price, fte, salary, other):
    base = self_host_monthly_cost(hours, price, fte, salary, other).monthly_usd
    assert base >= 0
    assert _ge(self_host_monthly_cost(hours + more_hours, price, fte, salary, other).monthly_usd, base)
    assert _ge(self_host_monthly_cost(hours, price + more_price, fte, salary, other).monthly_usd, base)


# ---------------------------------------------------------------- the daily curve


def test_daily_curve_flat_at_one():
    assert list(daily_curve(1.0)) == [1.0] * 96
    assert list(daily_curve(1.0, samples=24)) == [1.0] * 24


@settings(max_examples=50, deadline=None)
@given(p=st.floats(1.0, 50.0))
def test_daily_curve_mean_one_max_peak_to_average(p):
    curve = daily_curve(p)
    assert len(curve) == 96
    assert statistics.fmean(curve) == pytest.approx(1.0, rel=1e-9)
    assert max(curve) == pytest.approx(p, rel=1e-6)
    assert min(curve) >= 0


@pytest.mark.parametrize("p", [1.3, 2.0, 3.0, 5.0, 10.0])
def test_daily_curve_examples(p):
    curve = daily_curve(p)
    assert statistics.fmean(curve) == pytest.approx(1.0)
    assert max(curve) == pytest.approx(p)


@settings(max_examples=50, deadline=None)
@given(p=st.floats(1.0, 20.0), base=st.floats(0.0, 30.0))
def test_overflow_share_in_unit_interval(p, base):
    curve = daily_curve(p)
    share = overflow_share(curve, base)
    assert 0.0 <= share <= 1.0
    if base >= max(curve):
        assert share == 0.0


def test_overflow_share_examples():
    assert overflow_share([1.0] * 4, 1.0) == 0.0
    assert overflow_share([1.0] * 4, 0.0) == 1.0
    # demand 0.5, 1.5 (mean 1): a base of 1.0 leaves 0.5 of 2.0 total above it = 25%
    assert overflow_share([0.5, 1.5], 1.0) == pytest.approx(0.25)


def test_autoscaled_replicas_follow_demand():
    # demand 0.5×, 1.5× a mean of 100 tok/s with replicas of 50 tok/s: 1 and 3 replicas (+1 spare each) → mean 3
    assert autoscaled_replicas([0.5, 1.5], 100.0, 50.0, spare=1) == pytest.approx((2 + 4) / 2)
    # at least one serving replica even at zero demand
    assert autoscaled_replicas([0.0, 0.0], 100.0, 50.0, spare=0) == 1.0


# ---------------------------------------------------------------- break-even search


def _staircase(step_usd: float, tokens_per_step: float):
    def cost(volume: float) -> float:
        return step_usd * max(1, math.ceil(volume / tokens_per_step))

    return cost


def test_breakeven_volume_simple_crossing():
    # self-hosting: $1,000 per 2e7 tokens/day of capacity; API $2e-4 per token/day a month.
    # the API reaches $1,000 at 5e6 tokens/day; after that each step (+$1,000 per 2e7) is cheaper than the API
    # (+$4,000 per 2e7), so self-hosting stays below: break-even 5,000,000
    volume = breakeven_volume(_staircase(1_000, 2e7), lambda v: v * 2e-4)
    assert volume == pytest.approx(5e6, rel=1e-6)


def test_breakeven_volume_is_the_last_crossing_of_a_staircase():
    # self-hosting: $1,000 per 1e7 tokens/day (marginal 1e-4 $/token); API 1.3e-4 $/token.
    # first crossing 1,000 / 1.3e-4 = 7.69e6, but just past 1e7 self-hosting ($2,000) pops above the API ($1,300);
    # at the start of step n self-hosting ($1,000·n) exceeds the API ($1,300·(n−1)) while n ≤ 4;
    # within step 4 the API catches up at 4,000 / 1.3e-4 = 30,769,230.8, and from step 5 on it stays dearer.
    volume = breakeven_volume(_staircase(1_000, 1e7), lambda v: v * 1.3e-4)
    assert volume == pytest.approx(4_000 / 1.3e-4, rel=1e-6)
    assert volume > 1_000 / 1.3e-4 * 3


def test_breakeven_volume_none_when_self_hosting_always_dearer():
    # marginal self-host 1e-4 $/token > API 5e-5 $/token: no crossing at any volume
    assert breakeven_volume(_staircase(1_000, 1e7), lambda v: v * 5e-5) is None


def test_breakeven_volume_none_when_self_hosting_cannot_be_sized():
    assert breakeven_volume(lambda v: None, lambda v: v * 1e-3) is None


def test_breakeven_volume_low_end_when_self_hosting_is_always_cheaper():
    assert breakeven_volume(lambda v: 0.0, lambda v: v * 1e-3, low=1e4) == 1.0  # cheaper at any volume


def test_a_crossing_below_the_scan_floor_is_found_not_floored():
    # one $2.46/h GPU is $1,795.80 a month; the API at $0.30 per token/day a month meets it at 5,986 tokens/day,
    # below the 10,000 the scan starts from (it was reported as exactly 10,000)
    volume = breakeven_volume(lambda v: 2.46 * 730, lambda v: v * 0.30)
    assert volume == pytest.approx(2.46 * 730 / 0.30, rel=1e-6)


@settings(max_examples=50, deadline=None)
@given(step_usd=st.floats(100, 1e5), tokens_per_step=st.floats(1e6, 1e9), ratio=st.floats(1.05, 20.0))
def test_breakeven_volume_property(step_usd, tokens_per_step, ratio):
    # API price per token above the self-host marginal: a break-even exists; at and above it self-hosting
    # is no dearer, and just below it self-hosting is dearer
    self_host = _staircase(step_usd, tokens_per_step)
    per_token = ratio * step_usd / tokens_per_step

    def api(v: float) -> float:
        return v * per_token

    volume = breakeven_volume(self_host, api)
    assert volume is not None
    for v in (volume, volume * 1.5, volume * 10, volume * 1000):
        assert self_host(v) <= api(v) * (1 + 1e-9)
    assert self_host(volume * (1 - 1e-6)) > api(volume * (1 - 1e-6)) or volume <= 1e4


def test_daily_curve_beyond_the_sample_count_is_finite_or_refused():
    try:
        curve = daily_curve(100.0)
    except ValueError:
        return
    assert all(math.isfinite(x) for x in curve)
    assert max(curve) == pytest.approx(100.0)


def _whole_grid_breakeven(self_host, api, low=1e4, high=1e13):
    """The scan without its skips: every grid volume from the top down (what breakeven_volume must equal)."""

    def dearer(v: float) -> bool:
        c = self_host(v)
        return c is None or c > api(v)

    if dearer(high):
        return None
    grid = [low * (high / low) ** (i / 400) for i in range(400)] + [high]
    last = next((v for v in reversed(grid) if dearer(v)), None)
    if last is None:
        return _whole_grid_breakeven(self_host, api, 1.0, low) if low > 1.0 else low
    lo, hi = last, grid[grid.index(last) + 1]
    while hi - lo > max(0.01, hi * 1e-12):
        mid = math.sqrt(lo * hi)
        lo, hi = (mid, hi) if dearer(mid) else (lo, mid)
    return hi


@settings(max_examples=200, deadline=None, derandomize=True, database=None)
@given(
    fixed=st.floats(0, 1e5),
    steps=st.lists(st.tuples(st.floats(1e4, 1e12), st.floats(1.0, 1e5)), max_size=12),
    per_token=st.floats(1e-9, 1e-3),
    api_fixed=st.floats(0, 1e4),
    capped=st.one_of(st.none(), st.floats(1e6, 1e13)),
)
def test_the_skipping_scan_finds_what_the_whole_grid_finds(fixed, steps, per_token, api_fixed, capped):
    # any nondecreasing staircase (steps at arbitrary volumes, optionally not sizable above a cap) against any
    # nondecreasing affine API cost: the skips never change the answer
    def self_host(v: float) -> float | None:
        if capped is not None and v > capped:
            return None
        return fixed + sum(usd for at, usd in steps if v >= at)

    def api(v: float) -> float:
        return api_fixed + v * per_token

    assert breakeven_volume(self_host, api) == _whole_grid_breakeven(self_host, api)


def test_the_skipping_scan_prices_far_fewer_volumes():
    calls: list[float] = []

    def self_host(v: float) -> float:
        calls.append(v)
        return _staircase(1_000, 1e7)(v)

    volume = breakeven_volume(self_host, lambda v: v * 1.3e-4)
    assert volume == pytest.approx(4_000 / 1.3e-4, rel=1e-6)
    # the whole grid from 1e13 down to 3.08e7 is 246 volumes, and bisecting one grid step (5.3%) to 0.01
    # tokens/day 27 more: 273; the skips leave 73
    assert len(calls) < 100, len(calls)


def test_the_scan_ends_when_a_cost_is_not_a_number():
    # an API cost that overflows to NaN, or a self-hosted one to inf, proves nothing: the scan steps on instead of
    # standing still (it once looped for ever on a NaN); what it answers on such costs is not defined
    calls = [0]

    def counted(cost):
        def f(v: float) -> float:
            calls[0] += 1
            assert calls[0] < 5_000, "the scan is not moving"
            return cost(v)

        return f

    breakeven_volume(counted(lambda v: 5_000.0), lambda v: math.nan if v > 1e9 else v * 1e-3)
    calls[0] = 0
    breakeven_volume(counted(lambda v: math.inf if v > 1e12 else 10.0), lambda v: v * 1e-3)

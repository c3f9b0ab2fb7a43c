"""Stage 3: every candidate priced per month as typed line items: API offerings here, self-hosted fleets in
`self_host_pricing.py`, and the hybrid of the two.

Besides the whole-replica cost each non-API option carries `smooth_usd` (the same fleet with fractional
replicas: what the capacity itself costs) and `step_usd` (one replica more). The decision tests
`smooth_usd + step_usd`: a bound on the real cost that never rises faster than the volume, which is what
keeps the recommendation monotone in volume (docs/method.md, "Decision rules").
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import replace

from selfhost_cli.advise.candidates import ApiCandidate, Candidates, SelfHostCandidate, retirement
from selfhost_cli.advise.options import LineItem, Option
from selfhost_cli.advise.self_host_pricing import gpu_item, people_items, price_self_host
from selfhost_cli.advise.workload import Workload
from selfhost_cli.catalog.schema import Capabilities
from selfhost_cli.costs import (
    DAYS_PER_MONTH,
    HOURS_PER_MONTH,
    ApiCost,
    ApiPrices,
    api_monthly_cost,
    daily_curve,
    overflow_share,
)
from selfhost_cli.deploy.sizing import (
    Infeasible,
    per_gpu,
    serving_needed,
)
from selfhost_cli.enums import OptionKind, WarningCode
from selfhost_cli.profile import Profile


def price(cands: Candidates, work: Workload, profile: Profile) -> list[Option]:
    """API options, self-host options, and a hybrid per self-host × API pair."""
    apis = [price_api(a, work, profile) for a in cands.apis]
    own = [price_self_host(c, work, profile.self_hosting) for c in cands.self_hosts]
    hybrids = [h for c in cands.self_hosts for a in cands.apis if (h := price_hybrid(c, a, work, profile)) is not None]
    return apis + own + hybrids


# ---------------------------------------------------------------- API


def api_prices_for(api: ApiCandidate, profile: Profile) -> tuple[ApiPrices, str | None]:
    """The offering's prices, or its fine-tuned-model prices when the workload runs fine-tuned weights."""
    caps = api.capabilities
    if profile.customization.fine_tuned_weights and caps and caps.custom_weights_input_usd_per_1m is not None:
        out = caps.custom_weights_output_usd_per_1m or api.prices.output_usd_per_1m
        prices = replace(api.prices, input_usd_per_1m=caps.custom_weights_input_usd_per_1m, output_usd_per_1m=out)
        return prices, f"fine-tuned model prices ${prices.input_usd_per_1m:g}/${out:g} per 1M"
    return api.prices, None


def api_cost_at(prices: ApiPrices, work: Workload, tokens_per_day: float) -> ApiCost:
    """The offering's monthly bill at `tokens_per_day` with the workload's input, cached and batch shares."""
    return api_monthly_cost(prices, tokens_per_day, work.input_share, work.cached_input_share, work.batch_share)


def api_usd_at(prices: ApiPrices, work: Workload, tokens_per_day: float) -> float:
    """USD per month of `api_cost_at`."""
    return api_cost_at(prices, work, tokens_per_day).monthly_usd


def api_items(api: ApiCandidate, prices: ApiPrices, work: Workload, tokens_per_day: float) -> list[LineItem]:
    cost = api_cost_at(prices, work, tokens_per_day)
    month_m = tokens_per_day * DAYS_PER_MONTH / 1e6
    input_m, output_m = month_m * work.input_share, month_m * (1 - work.input_share)
    cached_m = input_m * work.cached_input_share
    cached_unit = prices.cached_input_usd_per_1m
    src, as_of = api.source, api.as_of
    items = [
        LineItem(
            "input",
            "input tokens",
            input_m - cached_m,
            "1M tokens",
            prices.input_usd_per_1m,
            cost.input_usd,
            src,
            as_of,
        ),
        LineItem(
            "cached_input",
            "cached input tokens",
            cached_m,
            "1M tokens",
            prices.input_usd_per_1m if cached_unit is None else cached_unit,
            cost.cached_input_usd,
            src if cached_unit is not None else "no cached price known: billed at the input price",
            as_of,
        ),
        LineItem(
            "output", "output tokens", output_m, "1M tokens", prices.output_usd_per_1m, cost.output_usd, src, as_of
        ),
    ]
    if cost.batch_savings_usd:
        items.append(
            LineItem(
                "batch_savings",
                "batch discount",
                work.batch_share,
                "share of traffic",
                -(prices.batch_discount or 0.0),
                -cost.batch_savings_usd,
                src,
                as_of,
            )
        )
    return items


def price_api(api: ApiCandidate, work: Workload, profile: Profile) -> Option:
    prices, price_note = api_prices_for(api, profile)
    items = api_items(api, prices, work, work.tokens_per_day)
    gaps = []
    if work.cached_input_share > 0 and prices.cached_input_usd_per_1m is None:
        gaps.append(
            (
                WarningCode.CACHED_PRICE_MISSING,
                "no cached-input price known: cached tokens billed at the full input price",
            )
        )
    if work.batch_share > 0 and prices.batch_discount is None:
        gaps.append(
            (WarningCode.BATCH_PRICE_MISSING, "no batch discount known: batch traffic billed at the full price")
        )
    return Option(
        OptionKind.API,
        api.id,
        api.model,
        tuple(items),
        sum(i.monthly_usd for i in items),
        api.quality,
        api.capabilities or Capabilities(),
        notes=(price_note,) if price_note else (),
        price_gaps=tuple(gaps),
        price_confidence=api.price_confidence,
        retired=retirement(api) if api.retired else None,
    )


# ---------------------------------------------------------------- hybrid


def price_hybrid(cand: SelfHostCandidate, api: ApiCandidate, work: Workload, profile: Profile) -> Option | None:
    """Self-host a steady base of k replicas (no spare: the API is the failover), send the peaks to the API.

    The monthly cost is convex in k (own cost rises linearly, the overflow bill falls ever more slowly), so
    a ternary search finds the real-valued optimum and the best whole k is its floor or ceiling. When the
    self-hosted part autoscales, it runs only the replicas the demand needs below k (never fewer than
    `min_replicas`); the cost is then monotone in k between the endpoints, which the search also finds.
    """
    s = profile.self_hosting
    if isinstance(cand.plans, Infeasible) or cand.hourly is None or cand.fixed_gpus:
        return None
    plan = max(cand.plans, key=per_gpu)
    # k runs over [1, peak need - 1]: the peaks always overflow, and the range scales with the volume
    top = serving_needed(plan, work.peak_output_tokens_per_s) - 1.0
    if top < 1.0:
        return None
    prices, _ = api_prices_for(api, profile)
    curve = daily_curve(work.peak_to_average)
    hourly = cand.hourly.usd_per_gpu_hour
    people = people_items(s)
    fixed_usd = sum(i.monthly_usd for i in people)

    def share(k: float) -> float:
        """Share of the day's tokens above what k replicas carry."""
        return overflow_share(curve, k * plan.planned_output_tokens_per_s / work.mean_output_tokens_per_s)

    # what the base must run per slot when it autoscales: the demand a cold start ahead (cand.levels)
    need = [level * work.peak_output_tokens_per_s / plan.planned_output_tokens_per_s for level in cand.levels]
    least = float(max(1, cand.min_replicas))

    def replicas(k: float) -> float:
        """Mean replicas the base runs: k all day, or what demand needs below k when it autoscales."""
        if not cand.follows_demand:
            return k
        return sum(min(k, max(least, n)) for n in need) / len(need)

    def total(k: float) -> float:
        return (
            replicas(k) * plan.gpus * HOURS_PER_MONTH * hourly
            + fixed_usd
            + api_usd_at(prices, work, work.tokens_per_day * share(k))
        )

    k_real = _convex_min(total, 1.0, top)
    k = min({max(1, math.floor(k_real)), math.ceil(k_real)}, key=total)
    api_total = api_usd_at(prices, work, work.tokens_per_day * share(k))
    api_m = work.tokens_per_day * share(k) * DAYS_PER_MONTH / 1e6
    items = [
        gpu_item(cand, replicas(k) * plan.gpus * HOURS_PER_MONTH),
        *people,
        LineItem(
            "api",
            f"{api.id} for the peaks",
            api_m,
            "1M tokens",
            api_total / api_m if api_m else 0.0,
            api_total,
            api.source,
            api.as_of,
        ),
    ]
    return Option(
        OptionKind.HYBRID,
        f"{cand.id}+{api.id}",
        cand.model.id,
        tuple(items),
        sum(i.monthly_usd for i in items),
        cand.model.quality,
        notes=(
            (
                f"up to {k} replica(s) of {plan.setup.layout}, autoscaled ({replicas(k):.3g} on average), carry "
                if cand.follows_demand
                else f"{k} replica(s) of {plan.setup.layout} carry "
            )
            + f"the base load; {share(k):.1%} of tokens (the peaks) go to {api.id}",
        ),
        smooth_usd=total(k_real),
        step_usd=plan.gpus * HOURS_PER_MONTH * hourly,
        parts=(cand.id, api.id),
        gpu_usd=items[0].monthly_usd,
        gpu_price_range=(cand.hourly.q1_usd / hourly, cand.hourly.q3_usd / hourly),
    )


GOLDEN = (5**0.5 - 1) / 2


def _convex_min(f: Callable[[float], float], low: float, high: float) -> float:
    """Minimiser of a convex function on [low, high] by golden-section search: one new evaluation a round,
    the bracket shrinking by 0.618 a round until it is a millionth of a replica wide (of the range, at
    millions of replicas)."""
    a, b = high - GOLDEN * (high - low), low + GOLDEN * (high - low)
    fa, fb = f(a), f(b)
    while high - low > 1e-6 * max(1.0, high):  # relative at large fleets: floats run out of digits
        if fa <= fb:
            high, b, fb = b, a, fa
            a = high - GOLDEN * (high - low)
            fa = f(a)
        else:
            low, a, fa = a, b, fb
            b = low + GOLDEN * (high - low)
            fb = f(b)
    return (low + high) / 2

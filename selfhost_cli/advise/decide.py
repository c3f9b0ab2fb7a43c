"""Stage 5: the decision among eligible options only, by the rules written down in docs/method.md.

1. Findings exclude options first; an option with an unknown cost cannot win.
2. Leaving the API (for self-hosting or a hybrid alike) needs the non-API option's bound — its fleet at
   fractional replicas plus one replica — to cost at most the cheapest eligible API × (1 − risk margin)
   (× the customization premium, for self-hosting). The bound grows no faster than the volume, so more
   volume never hands the decision back to the API.
3. Between self-hosting and a hybrid, the simpler self-hosted fleet wins unless the hybrid saves more
   than HYBRID_BAND.
4. When only one side is eligible it wins; when nothing is, the decision is `none`.
5. Confidence is the distance from the API/non-API boundary, lowered one step for each of: the estimate's
   error band straddles it, the middle half of the GPU price rows straddles it, a low-confidence API price
   decides it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from enum import Enum

from selfhost_cli.advise.options import Option
from selfhost_cli.advise.rules import RISK_MARGIN, Finding, premium
from selfhost_cli.enums import Confidence, Decision, Effect, Expertise, OptionKind

# A hybrid adds a second serving path to operate: it must save this share over self-hosting alone.
HYBRID_BAND = 0.10
# Distance from the boundary (threshold ÷ bound, or its inverse) for high and medium confidence.
HIGH_DISTANCE = 2.0
MEDIUM_DISTANCE = 1.3


class Basis(str, Enum):
    """What settled the decision."""

    COST = "cost"  # both sides eligible: cost with the risk margin
    ONLY_API = "only_api"  # no non-API option is eligible
    ONLY_OWN = "only_own"  # no API option is eligible
    NOTHING = "nothing"  # nothing is eligible


@dataclass(frozen=True)
class Verdict:
    decision: Decision
    basis: Basis
    chosen: Option | None
    best_api: Option | None  # cheapest eligible API
    best_own: Option | None  # cheapest eligible self-host or hybrid (by the simplicity band)
    contender: Option | None  # the non-API option with the lowest bound (the one the margin is tested on)
    threshold_usd: float | None  # what the contender's bound must stay under to leave the API
    risk_margin: float
    premium: float
    confidence: Confidence
    confidence_why: str
    blocked_by: tuple[str, ...] = ()  # rules that excluded options, when nothing is eligible


def exclude(options: Sequence[Option], found: Sequence[Finding]) -> list[Option]:
    """Each option with the rules that exclude it."""
    out = []
    for o in options:
        rules = tuple(dict.fromkeys(f.rule for f in found if o.id in f.excludes))
        out.append(replace(o, excluded_by=rules))
    return out


def _cheapest(options: Sequence[Option]) -> Option | None:
    return min(options, key=lambda o: o.monthly_usd or 0.0, default=None)


def best_non_api(eligible: Sequence[Option]) -> Option | None:
    """The cheapest self-hosted option, or a hybrid that saves more than the band over it."""
    own = _cheapest([o for o in eligible if o.kind is OptionKind.SELF_HOST])
    hybrid = _cheapest([o for o in eligible if o.kind is OptionKind.HYBRID])
    if own is None or own.monthly_usd is None:
        return hybrid
    if hybrid and hybrid.monthly_usd is not None and hybrid.monthly_usd < own.monthly_usd * (1 - HYBRID_BAND):
        return hybrid
    return own


def decide(options: Sequence[Option], found: Sequence[Finding], expertise: Expertise) -> Verdict:
    eligible = [o for o in options if o.eligible]
    margin = RISK_MARGIN[expertise]
    bonus = premium(found)
    apis = [o for o in eligible if o.kind is OptionKind.API]
    others = [o for o in eligible if o.kind is not OptionKind.API]
    best_api, best_own = _cheapest(apis), best_non_api(others)
    if not eligible:
        unpriced = [o for o in options if not o.excluded_by]
        if unpriced:  # what is allowed has no known price: it is still the answer, its cost is not
            o = unpriced[0]
            kind = Decision(o.kind.value)
            why = f"{o.id} is the only kind allowed, but its cost is unknown ({o.price_missing or 'no price'})"
            return Verdict(
                kind,
                Basis.ONLY_OWN if kind is not Decision.API else Basis.ONLY_API,
                o,
                None,
                None,
                None,
                None,
                margin,
                bonus,
                Confidence.MEDIUM,
                why,
            )
        blocked = tuple(dict.fromkeys(r for o in options for r in o.excluded_by))
        why = "nothing that was compared is eligible as configured"
        return Verdict(
            Decision.NONE, Basis.NOTHING, None, None, None, None, None, margin, bonus, Confidence.LOW, why, blocked
        )
    if not others:
        why = _only_why(options, OptionKind.API, found)
        return Verdict(
            Decision.API, Basis.ONLY_API, best_api, best_api, None, None, None, margin, bonus, Confidence.HIGH, why
        )
    if not apis:
        why = _only_why(options, OptionKind.SELF_HOST, found)
        kind = Decision.SELF_HOST if best_own and best_own.kind is OptionKind.SELF_HOST else Decision.HYBRID
        return Verdict(kind, Basis.ONLY_OWN, best_own, None, best_own, None, None, margin, bonus, Confidence.HIGH, why)
    assert best_api is not None and best_api.monthly_usd is not None
    api_usd = best_api.monthly_usd

    def threshold(o: Option) -> float:
        return api_usd * (1 - margin) * (bonus if o.kind is OptionKind.SELF_HOST else 1.0)

    contender = min(others, key=lambda o: safe_ratio(o.bound_usd or 0.0, threshold(o)))
    limit = threshold(contender)
    bound = contender.bound_usd or 0.0
    # each non-API option passes or fails its own test (the premium counts for self-hosting alone)
    passing = [o for o in others if (o.bound_usd or 0.0) <= threshold(o)]
    leave = bool(passing)
    decision = Decision.API
    chosen: Option | None = best_api
    if leave:
        chosen = best_own = best_non_api(passing)
        decision = Decision.SELF_HOST if chosen and chosen.kind is OptionKind.SELF_HOST else Decision.HYBRID
    confidence, why = _confidence(contender, bound, limit, leave, best_api)
    return Verdict(decision, Basis.COST, chosen, best_api, best_own, contender, limit, margin, bonus, confidence, why)


def _only_why(options: Sequence[Option], side: OptionKind, found: Sequence[Finding]) -> str:
    hard = sorted({f.rule for f in found if f.effect in (Effect.REQUIRES_SELF_HOST, Effect.REQUIRES_API)})
    rules = hard or sorted({r for o in options if o.kind is not side for r in o.excluded_by})
    what = "API" if side is OptionKind.API else "self-hosted"
    because = ", ".join(rules) or "no other option could be priced"
    return f"only {what} options are eligible ({because}): cost does not decide"


def safe_ratio(top: float, bottom: float) -> float:
    """top ÷ bottom, infinite when only the bottom is 0 (and 1 when both are: the boundary itself)."""
    if bottom > 0:
        return top / bottom
    return math.inf if top > 0 else 1.0


def _level(distance: float) -> int:
    return 0 if distance >= HIGH_DISTANCE else 1 if distance >= MEDIUM_DISTANCE else 2


def _confidence(contender: Option, bound: float, limit: float, leave: bool, api: Option) -> tuple[Confidence, str]:
    """Distance from the boundary, lowered for each uncertainty that straddles it; with the reason in one line."""
    distance = safe_ratio(limit, bound) if leave else safe_ratio(bound, limit)
    level = _level(distance)
    if math.isinf(distance):  # a $0 side (an API the profile says is free): no multiple of it means anything
        why = [f"{api.id} costs $0 a month" if not leave else "the option chosen costs $0 a month"]
    else:
        why = [
            f"leaving the API stays justified up to {distance:.3g}× this cost"
            if leave
            else f"self-hosting would need to cost {distance:.3g}× less to win"
        ]
    err = (contender.capacity.expected_error_pct / 100) if contender.capacity else 0.0
    gpu = contender.gpu_usd
    if _flips(bound, limit, leave, gpu * err):
        level += 1
        why.append(f"the estimate's ±{err:.0%} error band straddles the boundary")
    low, high = contender.gpu_price_range
    if _flips(bound, limit, leave, gpu * max(1 - low, high - 1)):
        level += 1
        why.append("the middle half of the GPU price rows straddles it")
    if api.price_confidence is Confidence.LOW:
        level += 1
        why.append(f"{api.id}'s price is a low-confidence figure")
    return [Confidence.HIGH, Confidence.MEDIUM, Confidence.LOW][min(level, 2)], "; ".join(why)


def _flips(bound: float, limit: float, leave: bool, swing_usd: float) -> bool:
    return (bound + swing_usd > limit) if leave else (bound - swing_usd <= limit)

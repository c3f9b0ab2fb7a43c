"""Stage 6a: what single change would flip the decision, found by re-running the decision in process.

Every flip point is checked the way a user would check it: the profile is changed exactly as
`--set parameter=value` changes it, and the value is rounded outward until that run gives the decision named.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from selfhost_cli.enums import Decision, Residency, ThirdParty
from selfhost_cli.limits import MAX_GPU_HOURLY_USD, MAX_TOKENS_PER_DAY
from selfhost_cli.profile import Profile, with_setting

DecideFor = Callable[[Profile], Decision]

# Coarse grid per direction before bisecting (a factor of 1e4 in 24 steps of ×1.47), then bisection to 1 part
# in 1e5 (15 rounds): two digits finer than the 3 significant figures printed, which are then checked.
GRID_STEPS = 24
BISECT_TOLERANCE = 1e-5
ROUNDING_TRIES = 12


@dataclass(frozen=True)
class FlipPoint:
    """`--set parameter=value` (and any `also` settings) gives `decision`."""

    parameter: str
    value: Any
    decision: str
    note: str = ""
    also: tuple[str, ...] = field(default=())  # further KEY=VALUE settings needed with this one

    @property
    def sets(self) -> list[str]:
        """The `--set` arguments that reproduce it."""
        return [f"{self.parameter}={_yaml(self.value)}", *self.also]


def _yaml(value: Any) -> str:
    return str(value).lower() if isinstance(value, bool) else str(value)


def _sig_round(value: float, digits: int, up: bool) -> float:
    """`value` rounded to `digits` significant figures, away from where it came from."""
    if value <= 0:
        return value
    scale = 10.0 ** (math.floor(math.log10(value)) - digits + 1)
    return float((math.ceil(value / scale) if up else math.floor(value / scale)) * scale)


def _tidy(value: float) -> float | int:
    return int(value) if value >= 1000 and float(value).is_integer() else round(value, 6)


def numeric_flip(
    profile: Profile,
    key: str,
    current: float,
    start: Decision,
    decide_for: DecideFor,
    factor_range: tuple[float, float],
    up: bool,
    digits: int = 3,
    settled_by_end: bool = False,
) -> tuple[float | int, Decision] | None:
    """The nearest value of `key` (multiplying `current` towards one end of `factor_range`) whose decision is
    not `start`, rounded outward and checked; None when the decision holds over the whole range.

    `settled_by_end`: the decision is monotone along this direction (the API, once left, is never handed back:
    tests/test_decide.py), so when the far end still gives `start` no value between does, and one run answers
    instead of the grid's 24."""

    def at(value: float) -> Decision:
        try:
            changed = with_setting(profile, key, _tidy(value))
        except ValidationError:  # beyond the key's stated limits: no flip there
            return start
        return decide_for(changed)

    end = factor_range[1] if up else factor_range[0]
    if settled_by_end and at(current * end) is start:
        return None
    previous, found = 1.0, None
    for i in range(1, GRID_STEPS + 1):
        factor = end ** (i / GRID_STEPS)
        if at(current * factor) is not start:
            found = factor
            break
        previous = factor
    if found is None:
        return None
    lo, hi = previous, found  # decision is `start` at lo, not at hi
    while max(lo, hi) > min(lo, hi) * (1 + BISECT_TOLERANCE):  # factors below 1 when searching down
        mid = math.sqrt(lo * hi)
        if at(current * mid) is start:
            lo = mid
        else:
            hi = mid
    value = _sig_round(current * hi, digits, up)
    for _ in range(ROUNDING_TRIES):
        got = at(value)
        if got is not start:
            return _tidy(value), got
        value = _sig_round(value * (1 + 10 ** (1 - digits)) if up else value * (1 - 10 ** (1 - digits)), digits, up)
    return None


def constraint_flips(profile: Profile, start: Decision, decide_for: DecideFor) -> list[FlipPoint]:
    """Each hard compliance constraint lifted alone; if none flips alone, all of them lifted together."""
    c = profile.compliance
    lifts: list[tuple[str, Any]] = []
    if c.third_party_processing is ThirdParty.FORBIDDEN:
        lifts.append(("compliance.third_party_processing", "with_agreement"))
    if c.air_gapped:
        lifts.append(("compliance.air_gapped", False))
    if c.data_residency is not Residency.ANY:
        lifts.append(("compliance.data_residency", "any"))
    note = "without this constraint cost would decide; volume and prices alone do not change the decision"
    flips = []
    for key, value in lifts:
        got = decide_for(with_setting(profile, key, value))
        if got is not start:
            flips.append(FlipPoint(key, value, got.value, note))
    if flips or len(lifts) < 2:
        return flips
    lifted = profile
    for key, value in lifts:
        lifted = with_setting(lifted, key, value)
    got = decide_for(lifted)
    if got is start:
        return []
    (key, value), *rest = lifts
    also = tuple(f"{k}={_yaml(v)}" for k, v in rest)
    return [FlipPoint(key, value, got.value, "only lifting every hard constraint lets cost decide", also)]


def flip_points(
    profile: Profile,
    start: Decision,
    cost_decides: bool,
    gpu_hourly_usd: float | None,
    tokens_per_day: float,
    decide_for: DecideFor,
    pinned: Sequence[tuple[str, Any]] = (),
) -> list[FlipPoint]:
    """What change, alone, would flip the decision, and where. `pinned` are the settings a GPU price needs
    (the GPU and tier the search chose, when the profile leaves them open): a price is of one GPU."""
    flips = [] if cost_decides else constraint_flips(profile, start, decide_for)
    if cost_decides:
        settled = start is Decision.API  # each search below moves towards self-hosting
        for up in (True, False):
            span = (max(1e-4, 1 / tokens_per_day), min(1e4, MAX_TOKENS_PER_DAY / tokens_per_day))
            got = numeric_flip(
                profile, "workload.tokens_per_day", tokens_per_day, start, decide_for, span, up, settled_by_end=settled
            )
            if got:
                value, decision = got
                flips.append(
                    FlipPoint(
                        "workload.tokens_per_day",
                        value,
                        decision.value,
                        f"{value / tokens_per_day:.3g}× today's volume",
                    )
                )
        if gpu_hourly_usd:
            up = start is not Decision.API
            base = profile
            for key, value in pinned:
                base = with_setting(base, key, value)
            span = (1e-2, min(1e2, MAX_GPU_HOURLY_USD / gpu_hourly_usd))
            got = numeric_flip(
                base, "self_hosting.gpu_hourly_usd", gpu_hourly_usd, start, decide_for, span, up, 3, settled
            )
            if got:
                also = tuple(f"{k}={_yaml(v)}" for k, v in pinned)
                flips.append(
                    FlipPoint("self_hosting.gpu_hourly_usd", got[0], got[1].value, f"from ${gpu_hourly_usd:.2f}", also)
                )
        ops = profile.self_hosting.ops_fte
        if start is Decision.API and ops > 0:
            got = numeric_flip(profile, "self_hosting.ops_fte", ops, start, decide_for, (1e-3, 1.0), False, 2, True)
            if got:
                flips.append(FlipPoint("self_hosting.ops_fte", got[0], got[1].value, f"from {ops:g}"))
    if profile.compliance.third_party_processing is not ThirdParty.FORBIDDEN and start is not Decision.SELF_HOST:
        forbidden = decide_for(with_setting(profile, "compliance.third_party_processing", "forbidden"))
        if forbidden is not start:
            flips.append(
                FlipPoint(
                    "compliance.third_party_processing",
                    "forbidden",
                    forbidden.value,
                    "data that legally cannot leave the organisation rules out every API",
                )
            )
    return flips

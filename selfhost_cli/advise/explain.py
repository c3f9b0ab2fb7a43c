"""Stage 6: the decision in words and figures — summary, the cost reason, break-even, assumptions,
alternatives and coded warnings — drawn from the typed values, never from message text."""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

from selfhost_cli.advise.candidates import Candidates
from selfhost_cli.advise.decide import Basis, Verdict, safe_ratio
from selfhost_cli.advise.options import Option, usd
from selfhost_cli.advise.pricing import api_usd_at
from selfhost_cli.advise.rules import Finding
from selfhost_cli.advise.self_host_pricing import self_host_usd_at
from selfhost_cli.advise.workload import Workload
from selfhost_cli.costs import breakeven_volume
from selfhost_cli.deploy.sizing import Infeasible
from selfhost_cli.enums import Decision, Effect, OptionKind
from selfhost_cli.profile import Profile

# ---------------------------------------------------------------- what is shown


def times(a: float, b: float) -> str:
    """`a` as a multiple of `b` for a sentence: `325.6×`, `2.46e+05×` when huge; `infinitely many times` when
    only `b` is 0 (a free API)."""
    r = safe_ratio(a, b)
    if math.isinf(r):
        return "infinitely many times"
    return f"{r:.1f}×" if r < 1e4 else f"{r:.3g}×"


def _saved(own_usd: float, api_usd: float) -> float:
    """The share of the API's cost that leaving it saves (0 when the API costs nothing)."""
    return 1 - own_usd / api_usd if api_usd > 0 else 0.0


def shown_options(options: Sequence[Option]) -> list[Option]:
    """APIs and self-hosted options, and per self-hosted option its best hybrid (eligible first, then cheapest)."""
    out = [o for o in options if o.kind is not OptionKind.HYBRID]
    for own in [o for o in options if o.kind is OptionKind.SELF_HOST]:
        hybrids = [o for o in options if o.kind is OptionKind.HYBRID and o.parts[0] == own.id]
        if hybrids:
            out.append(min(hybrids, key=lambda o: (not o.eligible, o.monthly_usd or 0.0)))
    return out


# ---------------------------------------------------------------- the cost reason and the summary


def cost_finding(v: Verdict, options: Sequence[Option]) -> Finding | None:
    """The comparison the decision made, in one reason (rule `cost`); for a decision that cost did not make,
    the comparison for information."""
    api, own = v.best_api, v.best_own
    if v.basis is Basis.ONLY_OWN:
        return _for_comparison(v, options)
    if v.basis is Basis.ONLY_API and api:
        return Finding(
            "cost",
            Effect.FAVORS_API,
            "API by default: no self-hosted option is eligible as configured.",
            f"{api.id}: {usd(api.monthly_usd)}/month",
        )
    if v.basis is not Basis.COST or api is None or own is None or v.contender is None:
        return None
    api_usd, own_usd = api.monthly_usd or 0.0, own.monthly_usd or 0.0
    evidence = f"{own.id} {usd(own_usd)}/month vs {api.id} {usd(api_usd)}/month; margin {v.risk_margin:.0%}"
    premium = f" (accepting up to {v.premium:.2g}× for the customization it enables)" if v.premium > 1 else ""
    if v.decision is not Decision.API:
        if own_usd <= api_usd:
            msg = (
                f"Leaving the API saves {_saved(own_usd, api_usd):.0%}: {own.id} costs {usd(own_usd)} vs "
                f"{usd(api_usd)} a month for {api.id}, beyond the {v.risk_margin:.0%} risk margin even with one more "
                f"replica{premium}."
            )
        else:
            msg = (
                f"Self-hosting costs {times(own_usd, api_usd)} the API ({usd(own_usd)} vs {usd(api_usd)} a month) but "
                f"is within the premium accepted for customization{premium}."
            )
        return Finding("cost", Effect.FAVORS_SELF_HOST, msg, evidence)
    contender = v.contender
    c_usd = contender.monthly_usd or 0.0
    threshold = v.threshold_usd or 0.0
    if c_usd <= threshold:
        msg = (
            f"{contender.id} at {usd(c_usd)}/month is inside the {v.risk_margin:.0%} margin at exactly this "
            f"volume, but one more replica (+{usd(contender.step_usd)}) — a few percent more traffic — puts it "
            "outside: the API stays "
            "the recommendation until the volume clears that step."
        )
    elif c_usd >= api_usd:
        msg = (
            f"The API is cheaper: the best non-API option ({contender.id}) costs {times(c_usd, api_usd)} as much "
            f"({usd(c_usd)} vs {usd(api_usd)} a month)."
        )
    else:
        msg = (
            f"Leaving the API would save {1 - c_usd / api_usd:.0%} ({contender.id} {usd(c_usd)} vs {usd(api_usd)} a "
            f"month), less than the {v.risk_margin:.0%} risk margin a self-hosted estimate needs."
        )
    return Finding("cost", Effect.FAVORS_API, msg, evidence)


def _for_comparison(v: Verdict, options: Sequence[Option]) -> Finding | None:
    own = v.chosen
    priced = [o for o in options if o.kind is OptionKind.API and o.monthly_usd]
    if own is None or own.monthly_usd is None or not priced:
        return None
    api = min(priced, key=lambda o: o.monthly_usd or 0.0)
    api_usd, own_usd = api.monthly_usd or 0.0, own.monthly_usd
    ratio = own_usd / api_usd
    compare = (
        "near break-even with"
        if 0.67 <= ratio <= 1.5
        else (f"{times(own_usd, api_usd)} the cost of" if ratio > 1 else f"{times(api_usd, own_usd)} cheaper than")
    )
    gpu = own.item("gpu")
    gpu_part = f" (GPU-hours alone: {usd(gpu.monthly_usd)})" if gpu else ""
    return Finding(
        "cost",
        Effect.INFO,
        f"For comparison only: self-hosting at {usd(own_usd)}/month{gpu_part} is {compare} {api.id} "
        f"({usd(api_usd)}/month, not allowed here). The requirement decides, not cost.",
        f"{own.id} {usd(own_usd)}/month vs {api.id} {usd(api_usd)}/month",
    )


LABEL = {Decision.API: "Use the API", Decision.SELF_HOST: "Self-host", Decision.HYBRID: "Go hybrid"}


def summary(v: Verdict, found: Sequence[Finding], options: Sequence[Option] = ()) -> str:
    change = next((o.suggestion for o in options if o.kind is OptionKind.SELF_HOST and o.suggestion), None)
    tail = f" Self-hosting cannot as configured; {change}." if change else ""
    if v.decision is Decision.NONE:
        blocked = ", ".join(v.blocked_by)
        return f"No option is feasible as configured (excluded by {blocked}): see what would make one feasible." + tail
    chosen = v.chosen
    what = f" ({chosen.id}) at {usd(chosen.monthly_usd)}/month" if chosen else ""
    label = LABEL[v.decision]
    hard = sorted({f.rule for f in found if f.effect in (Effect.REQUIRES_SELF_HOST, Effect.REQUIRES_API)})
    if v.basis is Basis.ONLY_OWN:
        return f"{label}{what}: required by {', '.join(hard) or 'the exclusions of every API'}."
    if v.basis is Basis.ONLY_API:
        return f"{label}{what}: no self-hosted option is eligible ({', '.join(hard) or 'see the reasons'})." + tail
    api = v.best_api
    if v.decision is Decision.API:
        best = v.best_own or v.contender
        if best and best.monthly_usd and chosen and chosen.monthly_usd:
            ratio = best.monthly_usd / chosen.monthly_usd
            if ratio >= 1:
                return f"{label}{what}: the best alternative to it ({best.id}) costs {times(ratio, 1.0)} as much."
            return (
                f"{label}{what}: leaving it would save {1 - ratio:.0%} ({best.id}), less than the "
                f"{v.risk_margin:.0%} risk margin."
            )
        return f"{label}{what}: leaving it does not save the {v.risk_margin:.0%} risk margin."
    assert api is not None and chosen is not None
    ratio = (chosen.monthly_usd or 0.0) / (api.monthly_usd or 1.0)
    if ratio > 1:
        return (
            f"{label}{what}: {times(ratio, 1.0)} {api.id}'s {usd(api.monthly_usd)}, within the premium accepted for "
            "what the API cannot do."
        )
    margin = f"{v.risk_margin:.0%} risk margin"
    return f"{label}{what}: it saves {1 - ratio:.0%} against {api.id} ({usd(api.monthly_usd)}), beyond the {margin}."


# ---------------------------------------------------------------- break-even


@dataclass(frozen=True)
class Curve:
    """Monthly cost against tokens/day for the first self-hosted option (fleet sized afresh at each volume)
    and the cheapest API compared: what break-even and the charts are drawn from."""

    api: str
    own: str
    points: tuple[tuple[float, float, float | None], ...]  # (tokens/day, API USD, self-hosted USD)


# Volumes a curve is drawn at: 1M .. 100B tokens/day, 8 a decade (the self-hosted staircase shows).
CURVE_VOLUMES = tuple(1e6 * 10 ** (i / 8) for i in range(0, 41))


def _sides(
    cands: Candidates, work: Workload, profile: Profile, options: Sequence[Option]
) -> tuple[Callable[[float], float | None], Callable[[float], float], str, str] | str:
    """The self-hosted and API cost functions of volume, with their ids; or why there are none."""
    apis = [o for o in options if o.kind is OptionKind.API]
    cand = cands.self_hosts[0] if cands.self_hosts else None
    if cand is None:
        return "no break-even: no self-hosted model to compare"
    if isinstance(cand.plans, Infeasible):
        return f"no break-even: {cand.id} cannot be deployed ({cand.plans.reason})"
    if cand.hourly is None:
        return f"no break-even: no {cand.pricing.value} price for {cand.gpu.id}"
    api_cands = [a for a in cands.apis if a.id in {o.id for o in apis}]
    if not api_cands:
        return "no break-even: no API offering to compare with"
    cheapest = min(api_cands, key=lambda a: api_usd_at(a.prices, work, 1e9))
    sized = replace(cand, fixed_gpus=None)
    s = profile.self_hosting.model_copy(update={"gpus": None})
    own = functools.partial(self_host_usd_at, sized, work, s)
    api = functools.partial(api_usd_at, cheapest.prices, work)
    return own, api, sized.id, cheapest.id


def curve(cands: Candidates, work: Workload, profile: Profile, options: Sequence[Option]) -> Curve | None:
    sides = _sides(cands, work, profile, options)
    if isinstance(sides, str):
        return None
    own, api, own_id, api_id = sides
    return Curve(api_id, own_id, tuple((v, api(v), own(v)) for v in CURVE_VOLUMES))


def breakeven(
    cands: Candidates, work: Workload, profile: Profile, options: Sequence[Option]
) -> tuple[float | None, str]:
    """Tokens/day from which the first self-hosted option, fully loaded, stays at or below the cheapest API
    (costs equal: no risk margin; the volume flip point is where the decision changes)."""
    sides = _sides(cands, work, profile, options)
    if isinstance(sides, str):
        return None, sides
    own, api, own_id, api_id = sides
    volume = breakeven_volume(own, api)
    if volume is None:
        return None, f"never: even at 10T tokens/day {own_id} costs more than {api_id} per token"
    return (
        volume,
        f"vs {api_id}, fully loaded (GPU + ops + other), fleet sized for the profile's peak; no risk margin",
    )

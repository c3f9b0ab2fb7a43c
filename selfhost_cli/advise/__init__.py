"""`advise`: Profile → Workload → Candidates → priced Options → Findings → Verdict → Explanation → Advice.

Each stage is a pure function in its own module; this one only wires them. Nothing here reads the clock,
the environment or files: the CLI passes `today`, the catalog and the engine set in.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field

from selfhost_cli.advise import explain as ex
from selfhost_cli.advise import notes
from selfhost_cli.advise.candidates import Candidates, PlanCache, candidates
from selfhost_cli.advise.decide import Basis, Verdict, decide, exclude
from selfhost_cli.advise.flips import FlipPoint, flip_points
from selfhost_cli.advise.options import Option
from selfhost_cli.advise.pricing import price
from selfhost_cli.advise.rules import Finding, findings
from selfhost_cli.advise.self_host_pricing import fixed_monthly_usd
from selfhost_cli.advise.workload import Workload, workload
from selfhost_cli.catalog import Catalog
from selfhost_cli.deploy.engines import BUNDLED_ENGINES, EngineSet
from selfhost_cli.enums import Confidence, Decision, OptionKind, WarningCode
from selfhost_cli.profile import Profile


@dataclass(frozen=True)
class Evaluation:
    """One pass of the pipeline up to the decision (what flip points re-run)."""

    workload: Workload
    candidates: Candidates
    options: list[Option]
    findings: list[Finding]
    verdict: Verdict


@dataclass(frozen=True)
class Advice:
    """Everything `advise` prints (SPEC §4)."""

    profile_name: str
    decision: Decision
    confidence: Confidence
    confidence_why: str
    summary: str
    reasons: list[Finding]
    workload: Workload
    options: list[Option]
    chosen: Option | None
    breakeven_tokens_per_day: float | None
    breakeven_note: str
    flip_points: list[FlipPoint]
    assumptions: list[notes.Assumption]
    alternatives: list[notes.Alternative]
    warning_items: list[notes.Warning] = field(default_factory=list)
    prices_as_of: str | None = None
    curve: ex.Curve | None = None  # monthly cost against tokens/day (charts), when there is a comparison

    @property
    def warnings(self) -> list[str]:
        return [w.message for w in self.warning_items]

    def warned(self, *codes: WarningCode) -> list[notes.Warning]:
        return [w for w in self.warning_items if w.code in codes]

    def option(self, kind: OptionKind | str) -> Option | None:
        """The first shown option of a kind (the self-hosted one, the best hybrid, the first API)."""
        return next((o for o in self.options if o.kind == kind), None)

    @property
    def chosen_monthly_usd(self) -> float | None:
        return None if self.chosen is None else self.chosen.monthly_usd


def evaluate(profile: Profile, catalog: Catalog, engines: EngineSet, cache: PlanCache) -> Evaluation:
    work = workload(profile)
    cands = candidates(profile, work, catalog, engines, cache)
    priced = price(cands, work, profile)
    found = findings(profile, work, priced)
    options = exclude(priced, found)
    return Evaluation(work, cands, options, found, decide(options, found, profile.team.inference_expertise))


def _pinned(profile: Profile, own: Option | None) -> tuple[tuple[str, str], ...]:
    """The GPU and tier a price flip must name when the profile leaves them to the search."""
    s = profile.self_hosting
    if own is None or own.capacity is None or (len(s.gpu_ids) == 1 and len(s.pricings) == 1):
        return ()
    return (("self_hosting.gpu", own.capacity.gpu), ("self_hosting.pricing", own.capacity.pricing))


def advise(
    profile: Profile,
    catalog: Catalog,
    *,
    today: dt.date,
    engines: EngineSet = BUNDLED_ENGINES,
    with_flips: bool = True,
    with_curve: bool = False,
) -> Advice:
    """The recommendation for one profile; `with_flips` adds what single change would flip it, `with_curve` the
    monthly cost against tokens/day the charts draw."""
    cache = PlanCache()
    catalog = catalog.current(today)
    ev = evaluate(profile, catalog, engines, cache)
    v = ev.verdict
    cost = ex.cost_finding(v, ev.options)
    last = [f for f in ev.findings if f.rule == "strategic_insurance"]
    reasons = [f for f in ev.findings if f not in last] + ([cost] if cost else []) + last
    flips: list[FlipPoint] = []
    if with_flips:

        def decide_for(p: Profile) -> Decision:
            return evaluate(p, catalog, engines, cache).verdict.decision

        own = next((o for o in ev.options if o.kind is OptionKind.SELF_HOST and o.item("gpu") and o.capacity), None)
        hourly = own.item("gpu") if own else None
        flips = flip_points(
            profile,
            v.decision,
            v.basis is Basis.COST,
            hourly.unit_usd if hourly and own and own.capacity and own.capacity.pricing != "owned" else None,
            ev.workload.tokens_per_day,
            decide_for,
            _pinned(profile, own),
        )
    volume, note = ex.breakeven(ev.candidates, ev.workload, profile, ev.options)
    shown: Sequence[Option] = ex.shown_options(ev.options)
    return Advice(
        profile_name=profile.name or "profile",
        decision=v.decision,
        confidence=v.confidence,
        confidence_why=v.confidence_why,
        summary=ex.summary(v, ev.findings, ev.options),
        reasons=reasons,
        workload=ev.workload,
        options=list(shown),
        chosen=v.chosen,
        breakeven_tokens_per_day=volume,
        breakeven_note=note,
        flip_points=flips,
        assumptions=notes.assumptions(profile, ev.workload, ev.candidates, ev.options, v),
        alternatives=notes.alternatives(ev.candidates, fixed_monthly_usd(profile.self_hosting)),
        warning_items=notes.warnings(profile, ev.workload, ev.options, ev.candidates, v, today),
        prices_as_of=notes.prices_as_of(ev.candidates),
        curve=ex.curve(ev.candidates, ev.workload, profile, ev.options) if with_curve else None,
    )

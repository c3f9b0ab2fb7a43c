"""CI gates over advise results: monthly budget, increase over a baseline, decision change, stale prices."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from selfhost_cli.advise import Advice
from selfhost_cli.enums import Decision, WarningCode


@dataclass(frozen=True)
class Gate:
    name: str
    limit: Any
    value: Any
    passed: bool


@dataclass(frozen=True)
class Baseline:
    """What a profile was before: from a saved advise JSON or a re-evaluated profile."""

    decision: str
    monthly_usd: float | None
    source: str


@dataclass(frozen=True)
class Limits:
    max_monthly_usd: float | None = None
    max_increase_usd: float | None = None
    max_increase_pct: float | None = None
    fail_on_decision_change: bool = False
    strict: bool = False


@dataclass
class GateResult:
    profile: str
    decision: str
    monthly_usd: float | None
    gates: list[Gate] = field(default_factory=list)
    baseline: str = "none"  # "matched": compared with its baseline; "new": the baseline has no such profile
    baseline_decision: str | None = None
    baseline_monthly_usd: float | None = None
    change_usd: float | None = None
    change_pct: float | None = None

    @property
    def passed(self) -> bool:
        return all(g.passed for g in self.gates)


def evaluate_gates(advice: Advice, limits: Limits, baseline: Baseline | None) -> GateResult:
    """Each configured gate, pass or fail; an unknown cost fails a budget gate (never treated as $0), and a
    profile with no feasible option (`none`) fails whatever its budgets."""
    cost = advice.chosen_monthly_usd
    result = GateResult(advice.profile_name, advice.decision.value, _r(cost))
    if baseline is not None:
        result.baseline = "matched"
        result.baseline_decision = baseline.decision
        result.baseline_monthly_usd = _r(baseline.monthly_usd)
        now, before = _r(cost), _r(baseline.monthly_usd)  # compared as printed: cents, not float noise
        if now is not None and before is not None:
            result.change_usd = _r(now - before)
            result.change_pct = _r(100 * (now - before) / before) if before else None
    if advice.decision is Decision.NONE:
        result.gates.append(Gate("feasible_option", "api, self_host or hybrid", "none", False))
    if limits.max_monthly_usd is not None:
        ok = cost is not None and cost <= limits.max_monthly_usd
        result.gates.append(Gate("max_monthly_usd", limits.max_monthly_usd, _r(cost), ok))
    if baseline is not None:
        base_usd = _r(baseline.monthly_usd)
        increase = result.change_usd
        if limits.max_increase_usd is not None:
            ok = increase is not None and increase <= limits.max_increase_usd
            result.gates.append(Gate("max_increase_usd", limits.max_increase_usd, _r(increase), ok))
        if limits.max_increase_pct is not None:
            pct = None if increase is None or not base_usd else 100 * increase / base_usd
            ok = pct is not None and pct <= limits.max_increase_pct
            result.gates.append(Gate("max_increase_pct", limits.max_increase_pct, _r(pct), ok))
    if baseline is not None and limits.fail_on_decision_change:
        result.gates.append(
            Gate(
                "decision_unchanged",
                baseline.decision,
                advice.decision.value,
                baseline.decision == advice.decision.value,
            )
        )
    if limits.strict:
        codes = (WarningCode.STALE_PRICE, WarningCode.PRICE_UNKNOWN, WarningCode.RETIRING)
        stale = [w.message for w in advice.warned(*codes)]
        result.gates.append(
            Gate("prices_known_and_fresh", "no stale, unknown or retiring prices", stale or "ok", not stale)
        )
    return result


def _r(value: float | None) -> float | None:
    return None if value is None else round(value, 2) + 0.0  # + 0.0: never -0.0

"""Tables and Markdown for `selfhost check` and `selfhost diff`."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from rich.console import RenderableType

from selfhost_cli.budget import GateResult
from selfhost_cli.render.format import signed_usd, usd, value
from selfhost_cli.render.markdown import md_table
from selfhost_cli.render.table import simple_table


def _change(r: GateResult) -> str:
    """Against its baseline: the signed change, `new` when the baseline has no such profile, else empty."""
    if r.baseline == "new":
        return "new (no baseline)"
    if r.baseline != "matched":
        return ""
    if r.change_usd is None:
        return f"from {usd(r.baseline_monthly_usd)}: unknown"
    pct = f", {r.change_pct:+.1f}%" if r.change_pct is not None else ""
    return f"{signed_usd(r.change_usd)}{pct} (from {usd(r.baseline_monthly_usd)})"


def _gate_rows(results: list[GateResult], removed: Sequence[str] = ()) -> list[tuple[str, ...]]:
    rows: list[tuple[str, ...]] = []
    for r in results:
        change = _change(r)
        if not r.gates:
            rows.append((r.profile, r.decision, usd(r.monthly_usd), change, "(no gates configured)", "", "", "PASS"))
        for g in r.gates:
            rows.append(
                (
                    r.profile,
                    r.decision,
                    usd(r.monthly_usd),
                    change,
                    g.name,
                    _shown_value(g.name, g.limit),
                    _shown_value(g.name, g.value),
                    "PASS" if g.passed else "FAIL",
                )
            )
    rows += [(name, "", "", "removed (in the baseline only)", "", "", "", "") for name in removed]
    return rows


def _shown_value(gate: str, v: Any) -> str:
    """A gate's limit or value: money with `$`, percentages with `%`, everything else as `format.value`."""
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        if gate.endswith("_usd"):
            return usd(v)
        if gate.endswith("_pct"):
            return f"{v:+,.1f}%" if gate == "max_increase_pct" and v != 0 else f"{v:,.1f}%"
    if isinstance(v, list):
        return "; ".join(map(str, v))
    return value(v)


HEADERS = ["profile", "decision", "USD/month", "change", "gate", "limit", "value", "result"]


def table(results: list[GateResult], passed: bool, removed: Sequence[str] = ()) -> RenderableType:
    return simple_table(f"selfhost check: {'PASSED' if passed else 'FAILED'}", HEADERS, _gate_rows(results, removed))


def markdown(results: list[GateResult], passed: bool, removed: Sequence[str] = ()) -> str:
    icon = "✅ passed" if passed else "❌ failed"
    return f"## selfhost check: {icon}\n\n" + md_table(HEADERS, _gate_rows(results, removed))


def immaterial(results: list[GateResult], removed: Sequence[str], min_usd: float | None, min_pct: float | None) -> bool:
    """Every profile passed, had a baseline, kept its decision and moved less than both thresholds given."""
    if (min_usd is None and min_pct is None) or removed or not results:
        return False
    for r in results:
        if not r.passed or r.baseline != "matched" or r.decision != r.baseline_decision or r.change_usd is None:
            return False
        if min_usd is not None and abs(r.change_usd) >= min_usd:
            return False
        if min_pct is not None and (r.change_pct is None or abs(r.change_pct) >= min_pct):
            return False
    return True


def no_change(results: list[GateResult], min_usd: float | None, min_pct: float | None) -> str:
    limits = " and ".join(
        x
        for x in (f"±{usd(min_usd)}" if min_usd is not None else "", f"±{min_pct:g}%" if min_pct is not None else "")
        if x
    )
    total = sum(r.monthly_usd or 0.0 for r in results)
    return (
        f"## selfhost check: ✅ passed\n\nNo material change: {len(results)} profile(s), each within {limits} of its "
        f"baseline, decisions unchanged ({usd(total)}/month in all).\n"
    )


def diff_rows(base: dict[str, Any], proposed: dict[str, Any]) -> list[dict[str, Any]]:
    """One row per compared field: before, after, change."""
    rows = []
    for key in ("decision", "monthly_usd", "self_host_gpus", "self_host_monthly_usd"):
        before, after = base.get(key), proposed.get(key)
        change: Any = None
        if isinstance(before, (int, float)) and isinstance(after, (int, float)):
            change = round(after - before, 2)
        elif before is None or after is None:
            change = None  # one side has no figure (a `none` decision has no cost): nothing to subtract
        elif before != after:
            change = f"{before} → {after}"
        rows.append({"field": key, "base": before, "proposed": after, "change": change})
    return rows


def _shown(row: dict[str, Any]) -> tuple[str, ...]:
    money = row["field"].endswith("_usd")

    def fmt(v: Any) -> str:
        if isinstance(v, (int, float)) and not isinstance(v, bool):
            return usd(v) if money else f"{v:,}"
        return "—" if v is None else str(v)

    change = row["change"]
    if isinstance(change, (int, float)) and not isinstance(change, bool):
        shown = signed_usd(change) if money else f"{change:+,}"
    else:
        shown = "" if change is None else str(change)
    return row["field"], fmt(row["base"]), fmt(row["proposed"]), shown


def diff_table(rows: list[dict[str, Any]], base: str, proposed: str) -> RenderableType:
    return simple_table(
        f"selfhost diff: {base} → {proposed}", ["field", "base", "proposed", "change"], [_shown(r) for r in rows]
    )


def diff_markdown(rows: list[dict[str, Any]], base: str, proposed: str) -> str:
    return f"## selfhost diff: `{base}` → `{proposed}`\n\n" + md_table(
        ["field", "base", "proposed", "change"], [_shown(r) for r in rows]
    )

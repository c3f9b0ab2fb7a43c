"""Tables and Markdown for `selfhost check` and `selfhost diff`."""

from __future__ import annotations

from typing import Any

from rich.console import RenderableType

from selfhost_cli.budget import GateResult
from selfhost_cli.render.markdown import md_table
from selfhost_cli.render.table import simple_table, usd


def _gate_rows(results: list[GateResult]) -> list[tuple[str, ...]]:
    rows: list[tuple[str, ...]] = []
    for r in results:
        if not r.gates:
            rows.append((r.profile, r.decision, usd(r.monthly_usd), "(no gates configured)", "", "", "PASS"))
        for g in r.gates:
            rows.append(
                (
                    r.profile,
                    r.decision,
                    usd(r.monthly_usd),
                    g.name,
                    str(g.limit),
                    str(g.value),
                    "PASS" if g.passed else "FAIL",
                )
            )
    return rows


HEADERS = ["profile", "decision", "USD/month", "gate", "limit", "value", "result"]


def table(results: list[GateResult], passed: bool) -> RenderableType:
    return simple_table(f"selfhost check: {'PASSED' if passed else 'FAILED'}", HEADERS, _gate_rows(results))


def markdown(results: list[GateResult], passed: bool) -> str:
    icon = "✅ passed" if passed else "❌ failed"
    return f"## selfhost check: {icon}\n\n" + md_table(HEADERS, _gate_rows(results))


def diff_rows(base: dict[str, Any], proposed: dict[str, Any]) -> list[dict[str, Any]]:
    """One row per compared field: before, after, change."""
    rows = []
    for key in ("decision", "monthly_usd", "self_host_gpus", "self_host_monthly_usd"):
        before, after = base.get(key), proposed.get(key)
        change: Any = None
        if isinstance(before, (int, float)) and isinstance(after, (int, float)):
            change = round(after - before, 2)
        elif before != after:
            change = f"{before} → {after}"
        rows.append({"field": key, "base": before, "proposed": after, "change": change})
    return rows


def _shown(row: dict[str, Any]) -> tuple[str, ...]:
    def fmt(v: Any) -> str:
        return usd(v) if isinstance(v, float) else ("—" if v is None else str(v))

    change = row["change"]
    shown = f"{change:+,.2f}" if isinstance(change, float) else ("" if change is None else str(change))
    return row["field"], fmt(row["base"]), fmt(row["proposed"]), shown


def diff_table(rows: list[dict[str, Any]], base: str, proposed: str) -> RenderableType:
    return simple_table(
        f"selfhost diff: {base} → {proposed}", ["field", "base", "proposed", "change"], [_shown(r) for r in rows]
    )


def diff_markdown(rows: list[dict[str, Any]], base: str, proposed: str) -> str:
    return f"## selfhost diff: `{base}` → `{proposed}`\n\n" + md_table(
        ["field", "base", "proposed", "change"], [_shown(r) for r in rows]
    )

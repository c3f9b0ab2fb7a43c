"""Rich tables for people (stdout); the only module besides chart.py that imports rich."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from rich.console import Group, RenderableType
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from selfhost_cli.advisor import Advice

DECISION_STYLE = {"api": "bold cyan", "self_host": "bold green", "hybrid": "bold magenta"}
EFFECT_STYLE = {
    "requires_self_host": "bold green",
    "requires_api": "bold cyan",
    "favors_self_host": "green",
    "favors_api": "cyan",
    "info": "dim",
}


def usd(value: float | None) -> str:
    """`$25,002` (or `unknown`, never $0 for a missing price)."""
    if value is None:
        return "unknown"
    return f"${value:,.0f}" if abs(value) >= 100 else f"${value:,.2f}"


def tokens(value: float | None) -> str:
    """Human-readable token counts: 2.5M, 1.08B."""
    if value is None:
        return "never"
    for unit, size in (("T", 1e12), ("B", 1e9), ("M", 1e6), ("k", 1e3)):
        if abs(value) >= size:
            return f"{value / size:.3g}{unit}"
    return f"{value:.3g}"


def simple_table(title: str, headers: Sequence[str], rows: Sequence[Sequence[Any]], right: Sequence[int] = ()) -> Table:
    """A plain table; `right` lists the columns to right-align (numbers)."""
    table = Table(title=title, title_justify="left", expand=False)
    for i, header in enumerate(headers):
        table.add_column(header, justify="right" if i in right else "left", overflow="fold")
    for row in rows:
        table.add_row(*[r if isinstance(r, Text) else str(r) for r in row])
    return table


def advice_view(advice: Advice) -> RenderableType:
    decision = advice.decision.value
    head = Text.assemble(
        ("Recommendation: ", "bold"),
        (decision, DECISION_STYLE[decision]),
        f"   confidence: {advice.confidence.value}\n",
        advice.summary,
    )
    w = advice.workload
    head.append(
        f"\nWorkload: {tokens(w.tokens_per_day)} tokens/day ({tokens(w.input_tokens_per_day)} in, "
        f"{tokens(w.output_tokens_per_day)} out); peak {w.peak_output_tokens_per_s:,.0f} output tokens/s "
        f"({w.peak_to_average:g}× mean); {w.input_tokens_per_request:,.0f} in / {w.output_tokens_per_request:,.0f} "
        "out tokens per request"
    )
    be = advice.breakeven_tokens_per_day
    head.append(f"\nBreak-even: {tokens(be) + ' tokens/day' if be else 'none'} — {advice.breakeven_note}")
    parts: list[RenderableType] = [Panel(head, title=f"selfhost advise: {advice.profile_name}", expand=False)]
    reasons = simple_table(
        "Reasons",
        ["rule", "effect", "why"],
        [(f.rule, Text(f.effect.value, EFFECT_STYLE[f.effect.value]), f.message) for f in advice.reasons],
    )
    parts.append(reasons)
    parts.append(_options_table(advice))
    own = advice.option("self_host")
    if own and own.capacity:
        c = own.capacity
        parts.append(
            simple_table(
                "Capacity plan (self-hosted)",
                ["item", "value"],
                [
                    (
                        "fleet",
                        f"{c['gpus']} × {c['gpu']} = {c['replicas']} replica(s) of TP{c['tp']} "
                        f"({c['serving_replicas']} serving)",
                    ),
                    ("precision / engine", f"{c['precision']} / {c['engine']}"),
                    (
                        "per replica",
                        f"{c['output_tokens_per_s_per_replica']:,.0f} output tokens/s at "
                        f"{c['concurrency_per_replica']} "
                        f"concurrent requests (TPOT {c['tpot_ms']} ms, TTFT {c['ttft_ms']} ms)",
                    ),
                    ("memory per GPU", f"{c['weights_gb_per_gpu']} GB weights, {c['kv_cache_gb_per_gpu']} GB KV cache"),
                    ("peak utilization", f"{c['peak_utilization']:.0%}"),
                    ("estimate error", f"±{c['expected_error_pct']:g}% (median, selfhost accuracy)"),
                ],
            )
        )
    if advice.flip_points:
        parts.append(
            simple_table(
                "What would flip it",
                ["change", "to", "decision", "note"],
                [(f.parameter, _value(f.value), f.decision, f.note) for f in advice.flip_points],
            )
        )
    parts.append(
        simple_table(
            "Assumptions",
            ["name", "value", "source", "as of"],
            [(a.name, _value(a.value), a.source, a.as_of or "") for a in advice.assumptions],
        )
    )
    return Group(*parts)


def _options_table(advice: Advice) -> Table:
    rows = []
    for o in advice.options:
        b = o.breakdown
        if o.kind == "api":
            detail = (
                f"in {usd(b.get('input_usd'))} + cached {usd(b.get('cached_input_usd'))} "
                f"+ out {usd(b.get('output_usd'))}"
            )
            if b.get("batch_savings_usd"):
                detail += f" − batch {usd(b['batch_savings_usd'])}"
            detail += f" (${b['input_usd_per_1m']:g}/${b['output_usd_per_1m']:g} per 1M; {b.get('as_of') or 'undated'})"
        elif o.kind == "self_host" and "gpu_usd" in b:
            detail = (
                f"GPU {usd(b['gpu_usd'])} ({b['gpu_hours']:,.0f} h × ${b['gpu_hourly_usd']:.2f}) + ops "
                f"{usd(b['ops_usd'])} + other {usd(b['other_usd'])}"
            )
        elif o.kind == "hybrid":
            detail = (
                f"GPU {usd(b['gpu_usd'])} + ops {usd(b['ops_usd'])} + other {usd(b['other_usd'])} + API "
                f"{usd(b['api_usd'])} ({b['api_share_of_tokens']:.1%} of tokens)"
            )
        else:
            detail = o.note or ""
        eligible = "yes" if o.eligible else "no: " + ", ".join(o.excluded_by)
        rows.append((o.kind, o.id, usd(o.monthly_usd), eligible, detail))
    return simple_table(
        "Monthly cost by option", ["kind", "option", "USD/month", "eligible", "breakdown"], rows, right=(2,)
    )


def _value(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:,.4g}" if abs(value) < 1e6 else tokens(value)
    if isinstance(value, int) and abs(value) >= 1_000_000:
        return tokens(value)
    if isinstance(value, list):
        return ", ".join(map(str, value))
    return str(value)

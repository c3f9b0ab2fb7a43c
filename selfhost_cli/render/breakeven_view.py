"""Table, chart and Markdown for `selfhost breakeven`."""

from __future__ import annotations

from typing import Any

from rich.console import Group, RenderableType
from rich.text import Text

from selfhost_cli.breakeven import Breakeven
from selfhost_cli.render.chart import Series, mermaid, terminal
from selfhost_cli.render.format import tokens, usd
from selfhost_cli.render.json_ import plain
from selfhost_cli.render.markdown import md_table
from selfhost_cli.render.table import simple_table


def payload(result: Breakeven) -> dict[str, Any]:
    return {
        "model": result.model,
        "model_note": result.model_note,
        "rows": [
            plain(r)
            | {
                "breakeven_tokens_per_day": None
                if r.breakeven_tokens_per_day is None
                else round(r.breakeven_tokens_per_day),
                "breakeven_gpu_only_tokens_per_day": None
                if r.breakeven_gpu_only_tokens_per_day is None
                else round(r.breakeven_gpu_only_tokens_per_day),
            }
            for r in result.rows
        ],
        "chart": {
            "title": result.chart_title,
            "points": [
                {
                    "tokens_per_day": round(p.tokens_per_day),
                    "api_usd": round(p.api_usd, 2),
                    "self_host_usd": None if p.self_host_usd is None else round(p.self_host_usd, 2),
                }
                for p in result.chart
            ],
        },
    }


def _row(r: Any) -> tuple[str, ...]:
    return (
        r.gpu,
        f"{r.pricing} / {r.precision}" if r.precision else r.pricing,
        "unknown" if r.gpu_hourly_usd is None else f"${r.gpu_hourly_usd:.2f}",
        r.api + (" (frontier, for scale)" if r.reference else ""),
        "—" if r.gpus_min is None else str(r.gpus_min),
        tokens(r.breakeven_tokens_per_day),
        tokens(r.breakeven_gpu_only_tokens_per_day),
        r.note.split(" rows (")[0] + (" rows" if " rows (" in r.note else ""),
    )


def _rows(result: Breakeven, collapse: bool = True) -> list[tuple[str, ...]]:
    """Rows that break even at least on GPU-hours; those that never do, one line per API saying which GPUs
    and why (the full list is in JSON and with --all)."""
    never = [r for r in result.rows if r.breakeven_gpu_only_tokens_per_day is None and r.gpus_min is not None]
    unfit = [r for r in result.rows if r.gpus_min is None]
    shown = [r for r in result.rows if not (collapse and (r in never or r in unfit))]
    out = [_row(r) for r in shown]
    if collapse:
        for rows, why in (
            (never, "a replica costs more per token than the API"),
            (unfit, "cannot serve it at the latency target (JSON says why)"),
        ):
            by_api: dict[str, list[str]] = {}
            for r in rows:
                by_api.setdefault(r.api, []).append(r.gpu)
            for api, gpus in by_api.items():
                out.append(("…", "", "", api, "", "never", "never", f"{', '.join(sorted(set(gpus)))}: {why}"))
    return out


HEADERS = [
    "gpu",
    "pricing / precision",
    "USD/GPU-h",
    "api",
    "GPUs min",
    "break-even tokens/day (fully loaded)",
    "GPU-hours only",
    "note",
]


def screen(result: Breakeven) -> tuple[list[str], list[tuple[str, ...]], str]:
    """One row per GPU: its best tier against the cheapest comparable API, then the frontier reference's
    break-even; GPUs that never break even (or cannot serve) collapse into one line each. The legend names the
    two offerings, so the columns stay narrow."""
    apis = list(dict.fromkeys(r.api for r in result.rows if not r.reference))
    refs = list(dict.fromkeys(r.api for r in result.rows if r.reference))
    main_api = apis[0] if apis else ""
    ref = refs[0] if refs else ""
    by_gpu: dict[str, dict[str, Any]] = {}
    for r in result.rows:
        by_gpu.setdefault(r.gpu, {})[r.api] = r
    rows: list[tuple[str, ...]] = []
    never: list[str] = []
    unfit: list[str] = []
    for gpu, per in by_gpu.items():
        first = per.get(main_api) or per.get(ref)
        if first is None:
            continue
        if first.gpus_min is None:
            unfit.append(gpu)
            continue
        if first.breakeven_gpu_only_tokens_per_day is None and (
            ref is None or per.get(ref) is None or per[ref].breakeven_gpu_only_tokens_per_day is None
        ):
            never.append(gpu)
            continue
        other = per.get(ref)
        rows.append(
            (
                gpu,
                f"{first.pricing} {first.precision}",
                "unknown" if first.gpu_hourly_usd is None else f"${first.gpu_hourly_usd:.2f}",
                str(first.gpus_min),
                tokens(first.breakeven_tokens_per_day),
                tokens(first.breakeven_gpu_only_tokens_per_day),
                tokens(other.breakeven_tokens_per_day) if other else "—",
                tokens(other.breakeven_gpu_only_tokens_per_day) if other else "—",
            )
        )
    if never:
        rows.append((", ".join(never), "", "", "", "never", "never", "", "a replica costs more per token"))
    if unfit:
        rows.append((", ".join(unfit), "", "", "", "—", "—", "—", "cannot serve it at the latency target"))
    headers = [
        "gpu",
        "best tier, precision",
        "USD/GPU-h",
        "GPUs",
        "vs API: fully loaded",
        "vs API: GPU-hours only",
        "vs frontier: fully loaded" if ref else "frontier reference",
        "vs frontier: GPU-hours only" if ref else "",
    ]
    legend = f"API: {main_api or '—'}, the cheapest comparable offering"
    legend += f"; frontier: {ref} (a frontier model, for scale)" if ref else "; no frontier reference"
    return headers, rows, legend


def table(result: Breakeven, collapse: bool = True) -> RenderableType:
    if collapse:
        headers, rows, legend = screen(result)
        main = simple_table(
            f"Break-even for self-hosting {result.model} (tokens/day; --all for every GPU × tier × API)",
            headers,
            rows,
            right=(2, 3, 4, 5, 6, 7),
        )
        main.caption, main.caption_justify = legend, "left"
    else:
        main = simple_table(
            f"Break-even for self-hosting {result.model}",
            HEADERS,
            _rows(result, False),
            right=(2, 4, 5, 6),
            optional=("note",),
        )
    parts: list[RenderableType] = [main]
    if result.chart:
        parts.append(chart(result))
    return Group(*parts)


def series(result: Breakeven) -> list[Series]:
    api = result.chart_api or "API"
    return [
        Series(api, tuple((p.tokens_per_day, p.api_usd) for p in result.chart), "a"),
        Series(
            "self-hosted (fully loaded)",
            tuple((p.tokens_per_day, p.self_host_usd) for p in result.chart),
            "s",
            staircase=True,
        ),
    ]


def chart(result: Breakeven) -> RenderableType:
    """Monthly cost against tokens/day on log axes, as a line chart in the terminal."""
    lines = terminal(series(result), result.chart_breakeven_tokens_per_day)
    return Group(Text(result.chart_title + " (log axes, USD/month)", style="bold"), Text("\n".join(lines)))


def markdown(result: Breakeven, collapse: bool = True) -> str:
    headers, rows, legend = screen(result) if collapse else (HEADERS, _rows(result, False), "")
    out = [
        f"## Break-even for self-hosting {result.model}\n",
        *([f"{legend}.\n"] if legend else []),
        md_table(headers, rows),
    ]
    if result.chart:
        every = result.chart[::4]  # two points a decade in the table; the chart has them all
        out += [
            f"\n### {result.chart_title}\n",
            mermaid(series(result), "Monthly cost vs tokens/day"),
            "<details><summary>The points</summary>\n",
            md_table(
                ["tokens/day", "API USD/month", "self-hosted USD/month"],
                [(tokens(p.tokens_per_day), usd(p.api_usd), usd(p.self_host_usd)) for p in every],
            ),
            "</details>\n",
        ]
    return "\n".join(out)

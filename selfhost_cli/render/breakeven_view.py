"""Table, chart and Markdown for `selfhost breakeven`."""

from __future__ import annotations

from typing import Any

from rich.console import Group, RenderableType
from rich.text import Text

from selfhost_cli.breakeven import Breakeven
from selfhost_cli.render.json_ import plain
from selfhost_cli.render.markdown import md_table
from selfhost_cli.render.table import simple_table, tokens, usd

BAR_WIDTH = 40


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


def _rows(result: Breakeven) -> list[tuple[str, ...]]:
    return [
        (
            r.gpu,
            r.pricing,
            "unknown" if r.gpu_hourly_usd is None else f"${r.gpu_hourly_usd:.2f}",
            r.api,
            "—" if r.gpus_min is None else str(r.gpus_min),
            tokens(r.breakeven_tokens_per_day),
            tokens(r.breakeven_gpu_only_tokens_per_day),
            r.note,
        )
        for r in result.rows
    ]


HEADERS = [
    "gpu",
    "pricing",
    "USD/GPU-h",
    "api",
    "GPUs min",
    "break-even tokens/day (fully loaded)",
    "GPU-hours only",
    "note",
]


def table(result: Breakeven) -> RenderableType:
    parts: list[RenderableType] = [
        simple_table(f"Break-even for self-hosting {result.model}", HEADERS, _rows(result), right=(2, 4, 5, 6))
    ]
    if result.chart:
        parts.append(chart(result))
    return Group(*parts)


def chart(result: Breakeven) -> RenderableType:
    """Monthly cost vs tokens/day as paired horizontal bars on a log-scaled cost axis."""
    import math

    values = [v for p in result.chart for v in (p.api_usd, p.self_host_usd) if v]
    top, bottom = math.log10(max(values)), math.log10(max(min(values), 1.0))
    span = max(top - bottom, 1e-9)

    def bar(value: float | None, style: str) -> Text:
        if not value:
            return Text("n/a", style="dim")
        length = max(1, round(BAR_WIDTH * (math.log10(max(value, 1.0)) - bottom) / span))
        return Text("█" * length, style=style).append(f" {usd(value)}", style="")

    rows = []
    for p in result.chart:
        rows.append((tokens(p.tokens_per_day), bar(p.api_usd, "cyan"), bar(p.self_host_usd, "green")))
    return simple_table(result.chart_title + " (log scale)", ["tokens/day", "API", "self-hosted"], rows)


def markdown(result: Breakeven) -> str:
    out = [f"## Break-even for self-hosting {result.model}\n", md_table(HEADERS, _rows(result))]
    if result.chart:
        out += [
            f"\n{result.chart_title}\n",
            md_table(
                ["tokens/day", "API USD/month", "self-hosted USD/month"],
                [(tokens(p.tokens_per_day), usd(p.api_usd), usd(p.self_host_usd)) for p in result.chart],
            ),
        ]
    return "\n".join(out)

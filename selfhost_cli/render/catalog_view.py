"""Tables for `selfhost catalog models|gpus|apis`."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from rich.console import RenderableType

from selfhost_cli.catalog import Catalog
from selfhost_cli.render.format import first_source, unit_usd
from selfhost_cli.render.table import simple_table

CATALOG_SOURCE_CHARS = 28  # a listing shows the first reference only


def select(catalog: Catalog, kind: str, query: str | None) -> list[Any]:
    """Entries of one catalog whose id or name contains `query` (case-insensitive), by id."""
    entries: dict[str, Any] = getattr(catalog, kind)
    found = [
        e
        for k, e in sorted(entries.items())
        if not query or query.lower() in k.lower() or query.lower() in _name(e).lower()
    ]
    return found


def _name(entry: Any) -> str:
    return str(getattr(entry, "name", None) or getattr(entry, "model_name", ""))


def oldest(entries: Sequence[Any]) -> str | None:
    """Oldest as-of date among the prices listed (API offerings, GPU price rows); None for models."""
    dates = [e.as_of for e in entries if hasattr(e, "input_usd_per_1m")]
    for e in entries:
        dates += [p.as_of for p in getattr(e, "prices", [])]
    return min(dates).isoformat() if dates else None


def table(kind: str, entries: Sequence[Any]) -> RenderableType:
    rows: list[tuple[str, ...]]
    if kind == "models":
        rows = [
            (
                m.id,
                f"{m.params_total_b:g}B" + (f" ({m.params_active_b:g}B active)" if m.moe else ""),
                f"{m.layers}×{m.hidden_size}",
                f"{m.attention_heads}/{m.kv_heads}" + (" MLA" if m.mla else ""),
                f"{m.moe.experts}e top-{m.moe.top_k}" if m.moe else "dense",
                f"{m.context_length:,}",
                m.licence,
                m.as_of.isoformat(),
            )
            for m in entries
        ]
        return simple_table(
            f"Models ({len(rows)})",
            ["id", "params", "layers×hidden", "heads/kv", "MoE", "context", "licence", "as of"],
            rows,
            optional=("licence", "layers×hidden", "heads/kv", "MoE", "context"),
        )
    if kind == "gpus":
        rows = []
        for g in entries:
            prices = sorted(g.prices, key=lambda p: p.usd_per_gpu_hour)
            price = (
                f"${prices[0].usd_per_gpu_hour:.2f}–${prices[-1].usd_per_gpu_hour:.2f} ({len(prices)} rows)"
                if prices
                else "unknown"
            )
            tf = ", ".join(f"{k.value} {v:g}" for k, v in g.tflops_dense.items())
            if g.power_compute_share < 1:
                tf += f"; ×{g.power_compute_share:.2f} sustained (power-capped)"
            rows.append(
                (
                    g.id,
                    f"{g.memory_gb:g} GB",
                    f"{g.hbm_tb_per_s:g} TB/s",
                    tf,
                    f"{g.interconnect.kind} {g.interconnect.gb_per_s:g} GB/s",
                    price,
                    g.as_of.isoformat(),
                )
            )
        return simple_table(
            f"GPUs ({len(rows)})",
            ["id", "memory", "bandwidth", "dense TFLOPS", "link", "USD/GPU-hour", "as of"],
            rows,
            optional=("dense TFLOPS", "link", "bandwidth"),
        )
    rows = [
        (
            a.id,
            a.tier,
            a.open_weight_model or "closed",
            unit_usd(a.input_usd_per_1m),
            unit_usd(a.output_usd_per_1m),
            "—" if a.cached_input_usd_per_1m is None else unit_usd(a.cached_input_usd_per_1m),
            "—" if a.batch_discount is None else f"{a.batch_discount:.0%}",
            a.as_of.isoformat(),
            a.retires.date.isoformat() if a.retires else "—",
            first_source(a.source, CATALOG_SOURCE_CHARS),
        )
        for a in entries
    ]
    return simple_table(
        f"API offerings ({len(rows)}), USD per 1M tokens",
        ["id", "tier", "serves", "input", "output", "cached", "batch", "as of", "retires", "source"],
        rows,
        optional=("source", "batch", "cached", "serves", "tier", "retires"),
    )

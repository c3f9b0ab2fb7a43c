"""How numbers read in tables, charts and Markdown: one place, so every view prints the same value the same way.

Money with `$` and separators (cents below $100), token volumes as 3M / 1.2B, signed changes, plain values
without scientific notation or Python literals. JSON keeps the raw numbers.
"""

from __future__ import annotations

from typing import Any


def usd(value: float | None) -> str:
    """`$25,002` (or `unknown`, never $0 for a missing price)."""
    if value is None:
        return "unknown"
    return f"${value:,.0f}" if abs(value) >= 100 else f"${value:,.2f}"


def unit_usd(value: float) -> str:
    """A unit price as price pages print it: `$0.40`, `$2.50`, `$0.125`, `$0.0275` (cents always shown, no digit
    of the price dropped up to four decimals; below a cent, three significant digits)."""
    if value < 0.01:
        return f"${value:.3g}"
    whole, _, cents = f"{value:,.4f}".rstrip("0").partition(".")
    return f"${whole}.{cents.ljust(2, '0')}"


def rate(tokens_per_s: float) -> str:
    """Tokens/s to a tenth below 1,000 (a single stream's 4.8), whole above (a tenth of 128,148 is noise)."""
    return f"{tokens_per_s:,.0f}" if tokens_per_s >= 1000 else f"{tokens_per_s:,.1f}"


def tokens(value: float | None) -> str:
    """Human-readable token counts: 2.5M, 1.08B."""
    if value is None:
        return "never"
    for unit, size in (("T", 1e12), ("B", 1e9), ("M", 1e6), ("k", 1e3)):
        if abs(value) >= size:
            return f"{value / size:.3g}{unit}"
    return f"{value:.3g}"


def value(v: Any) -> str:
    """A value as a person reads it: no scientific notation, no Python literals (None, True, lists)."""
    if v is None:
        return "—"
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, (int, float)) and abs(v) >= 1_000_000:
        return tokens(v)
    if isinstance(v, float):
        if v.is_integer():
            return f"{int(v):,}"
        return f"{v:,.4f}".rstrip("0").rstrip(".") if abs(v) < 1000 else f"{v:,.0f}"
    if isinstance(v, int):
        return f"{v:,}"
    if isinstance(v, list):
        return ", ".join(value(x) for x in v)
    return str(v)


def signed_usd(change: float | None) -> str:
    """`+$1,200` / `−$35.20` for a change, `unknown` when it is."""
    if change is None:
        return "unknown"
    return ("+" if change >= 0 else "−") + usd(abs(change))


def first_source(source: str, limit: int) -> str:
    """A source as a listing's cell: its first reference without the scheme, cut to `limit` with `…` when it is
    longer or is not the whole source (the full text is in JSON)."""
    first = source.split(";")[0].split(" (")[0].strip()
    first = first.removeprefix("https://").removeprefix("http://").removeprefix("www.")
    return first if len(first) <= limit and first == source else first[: limit - 1] + "…"


def source_cell(source: str, limit: int) -> str:
    """A source as a table cell: its references (split at `;`) whole, as many as fit in `limit` characters, then
    `+N more`; one reference longer than the limit is cut with `…`. The full text is in JSON."""
    parts = [p.strip() for p in source.split(";") if p.strip()]
    kept: list[str] = []
    for part in parts:
        if kept and len("; ".join([*kept, part])) > limit:
            break
        kept.append(part)
    text = "; ".join(kept)
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    rest = len(parts) - len(kept)
    return text + (f"; +{rest} more" if rest else "")


def prices(kind: str, values: tuple[float | None, ...]) -> str:
    """An imported entry's prices: `$0.20 / $0.40, cached $0.05` per 1M tokens (api), `$2.40 / $1.52/GPU-h` (gpu)."""
    if not values:
        return ""
    if kind == "api":
        text = " / ".join(unit_usd(v) for v in values[:2] if v is not None)
        return text + (f", cached {unit_usd(values[2])}" if len(values) > 2 and values[2] is not None else "")
    return " / ".join(unit_usd(v) for v in values if v is not None) + "/GPU-h"

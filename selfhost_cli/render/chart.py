"""Monthly cost against tokens/day, on log axes: a terminal line chart, a Mermaid `xychart-beta` block for
Markdown, and a PNG/SVG through matplotlib (the optional `plot` extra).

A chart is a list of series of (tokens/day, USD/month) points; the break-even, where the self-hosted line
meets the API's, is marked. One function per target, all drawing the same numbers.
"""

from __future__ import annotations

import math
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from selfhost_cli.errors import UsageError
from selfhost_cli.render.format import tokens


@dataclass(frozen=True)
class Series:
    label: str
    points: tuple[tuple[float, float | None], ...]  # (tokens/day, USD/month); None: unknown there
    mark: str  # the character drawn in the terminal
    staircase: bool = False  # whole replicas: drawn as steps (matplotlib)


def _log(v: float) -> float:
    return math.log10(max(v, 1e-12))


def terminal(series: Sequence[Series], breakeven: float | None, width: int = 64, height: int = 14) -> list[str]:
    """The chart as lines of text: y = log10 USD/month, x = log10 tokens/day; `×` marks the break-even."""
    xs = [x for s in series for x, _ in s.points]
    ys = [y for s in series for _, y in s.points if y]
    if not xs or not ys:
        return ["(nothing to chart)"]
    x0, x1 = _log(min(xs)), _log(max(xs))
    y0, y1 = math.floor(_log(min(ys))), math.ceil(_log(max(ys)))
    y1 = max(y1, y0 + 1)
    grid = [[" "] * width for _ in range(height)]

    def cell(x: float, y: float) -> tuple[int, int]:
        col = round((_log(x) - x0) / max(x1 - x0, 1e-9) * (width - 1))
        row = height - 1 - round((_log(y) - y0) / (y1 - y0) * (height - 1))
        return min(max(row, 0), height - 1), min(max(col, 0), width - 1)

    for s in series:
        known = [(x, y) for x, y in s.points if y]
        for (xa, ya), (xb, yb) in zip(known, known[1:], strict=False):  # dense steps between the points
            for k in range(8):
                t = k / 8
                x = 10 ** (_log(xa) + t * (_log(xb) - _log(xa)))
                y = 10 ** (_log(ya) + t * (_log(yb) - _log(ya)))
                r, c = cell(x, y)
                grid[r][c] = s.mark
        for x, y in known[-1:]:
            r, c = cell(x, y)
            grid[r][c] = s.mark
    if breakeven:
        at = [y for s in series for x, y in s.points if y and x >= breakeven]
        if at:
            r, c = cell(breakeven, min(at))
            grid[r][c] = "×"
    label_w = 9
    ticks = {height - 1 - round((d - y0) / (y1 - y0) * (height - 1)): f"${tokens(10**d)}" for d in range(y0, y1 + 1)}
    lines = []
    for i, row in enumerate(grid):
        lines.append(f"{ticks.get(i, ''):>{label_w}} │" + "".join(row))
    lines.append(" " * label_w + " └" + "─" * width)
    left, mid, right = tokens(10**x0), tokens(10 ** ((x0 + x1) / 2)), tokens(10**x1)
    axis = left + mid.center(width - len(left) - len(right)) + right
    lines.append(" " * (label_w + 2) + axis + "  tokens/day")
    legend = "   ".join(f"{s.mark} {s.label}" for s in series) + ("   × break-even" if breakeven else "")
    lines.append(" " * (label_w + 2) + legend)
    return lines


def mermaid(series: Sequence[Series], title: str) -> str:
    """A Mermaid `xychart-beta` block (GitHub renders it): one line per series, volumes as categories, the
    cost axis in log10 USD/month (Mermaid has no log axis: the labels say so)."""
    stride = max(1, math.ceil(len(series[0].points) / 21)) if series else 1  # ≤ 21 categories stay legible
    series = [Series(s.label, s.points[::stride], s.mark, s.staircase) for s in series]
    volumes = [x for x, _ in series[0].points] if series else []
    lines = [
        "```mermaid",
        "xychart-beta",
        f'    title "{title.replace(chr(34), chr(39))}"',
        "    x-axis [" + ", ".join(f'"{tokens(v)}"' for v in volumes) + "]",
        '    y-axis "log10 USD/month"',
    ]
    for s in series:
        values = [f"{_log(y):.2f}" if y else "0" for _, y in s.points]
        lines.append(f"    line [{', '.join(values)}]")
    lines.append("```")
    legend = "; ".join(f"line {i + 1}: {s.label}" for i, s in enumerate(series))
    return "\n".join(lines) + f"\n\n_{legend}; y is log10 of USD/month._\n"


def save(series: Sequence[Series], breakeven: float | None, title: str, path: Path) -> None:
    """A PNG or SVG (by the file's suffix) through matplotlib: `pip install 'selfhost[plot]'`."""
    if path.suffix.lower() not in (".png", ".svg"):
        raise UsageError(f"--plot {path}: the file must end in .png or .svg")
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise UsageError(
            "--plot needs matplotlib, which is not installed",
            hint="pip install 'selfhost[plot]' (or pip install matplotlib)",
        ) from None
    fig, ax = plt.subplots(figsize=(8, 5))
    for s in series:
        known = [(x, y) for x, y in s.points if y]
        xs, ys = [x for x, _ in known], [y for _, y in known]
        if s.staircase:
            ax.step(xs, ys, where="post", label=s.label)
        else:
            ax.plot(xs, ys, label=s.label)
    if breakeven:
        ax.axvline(breakeven, linestyle="--", color="grey", label=f"break-even {tokens(breakeven)} tokens/day")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("tokens/day")
    ax.set_ylabel("USD/month")
    # a long title wraps, never clipped; a `$` in a name is a dollar sign, not matplotlib's mathtext
    ax.set_title("\n".join(textwrap.wrap(title, 72)).replace("$", r"\$"), fontsize=10)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend()
    fig.tight_layout()
    try:
        fig.savefig(path)
    except OSError as exc:
        raise UsageError(f"--plot {path}: cannot write it ({exc.strerror or exc})") from None
    finally:
        plt.close(fig)


def curve_series(curve: Any) -> list[Series]:
    """An advise `Curve` as the two series every chart draws."""
    return [
        Series(curve.api, tuple((v, a) for v, a, _ in curve.points), "a"),
        Series(f"{curve.own} (fully loaded)", tuple((v, o) for v, _, o in curve.points), "s", staircase=True),
    ]

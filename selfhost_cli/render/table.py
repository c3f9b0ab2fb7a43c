"""Rich tables for people (stdout); the only module besides chart.py that imports rich."""

from __future__ import annotations

import math
import textwrap
from collections.abc import Sequence
from typing import Any

from rich.console import Group, RenderableType
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from selfhost_cli.advise import Advice
from selfhost_cli.advise.options import Capacity, Option
from selfhost_cli.render.format import source_cell, tokens, unit_usd, usd
from selfhost_cli.render.format import value as _value

DECISION_STYLE = {"api": "bold cyan", "self_host": "bold green", "hybrid": "bold magenta", "none": "bold red"}
EFFECT_STYLE = {
    "requires_self_host": "bold green",
    "requires_api": "bold cyan",
    "favors_self_host": "green",
    "favors_api": "cyan",
    "info": "dim",
}


# Cells up to this long with no space in them (ids, dates, money) are kept whole when the width allows.
ATOMIC_MAX = 48
PROSE_MIN = 12  # the narrowest a wrapping column is squeezed to
PROSE_COMFORT = 24  # below this width a column of long prose reads better as records...
TALL_ROW_LINES = 3  # ...when its rows would average more than this many lines
SOURCE_CHARS = 160  # an assumption's source in the table (JSON carries it whole)


class FitTable(Table):
    """A table that, at render time, keeps ids, dates and figures whole (no wrap) as far as the console width
    allows, and wraps the prose columns around them. When the console is too narrow for that (80 columns and
    many id columns), the table first leaves out its `optional` columns, in order, saying so in its caption; if
    it still does not fit, each row is shown as a record — one `header  value` line per column — so no id or
    date is broken across lines. What still cannot fit folds rather than being cut."""

    def __init__(self, *args: Any, optional: Sequence[str] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.optional = tuple(optional)

    def __rich_console__(self, console: Any, options: Any) -> Any:
        width = options.max_width
        table: FitTable = self
        dropped: list[str] = []
        for header in ("", *self.optional):
            if header:
                dropped.append(header)
                table = self._without(dropped)
            if table._fits(width):
                break
        else:
            if len(self.columns) > 2 and self.row_count:
                yield from self._records().__rich_console__(console, options)  # records have room for every field
                return
        if dropped:
            note = f"not shown at this width: {', '.join(dropped)} (widen the terminal, or --format json)"
            table.caption = f"{self.caption}\n{note}" if self.caption else note
            table.caption_justify = "left"
        yield from Table.__rich_console__(table, console, options)

    def _fits(self, width: int) -> bool:
        """Whether every id-like column fits whole with room left for the prose ones; sets their widths."""
        cells = [[_plain(c).removesuffix(" ◀") for c in col.cells] for col in self.columns]
        atomic = [bool(cs) and all(" " not in c and len(c) <= ATOMIC_MAX for c in cs) for cs in cells]
        need = [  # a header wraps between its words: only its longest word must fit
            max([len(c) for c in cs] + [max(map(len, str(col.header).split()), default=0) if atomic[i] else 0])
            for i, (col, cs) in enumerate(zip(self.columns, cells, strict=True))
        ]
        budget = width - 3 * len(self.columns) - 1 - sum(PROSE_MIN for a in atomic if not a)
        whole = True
        for i in sorted(range(len(self.columns)), key=lambda k: (k != 0, need[k])):  # the id column, then narrow ones
            if not atomic[i]:
                continue
            if need[i] <= budget:
                col = self.columns[i]
                col.no_wrap = True
                col.min_width = need[i]
                if len(str(col.header)) > need[i]:  # a header longer than the cells wraps between its words
                    col.header = "\n".join(textwrap.wrap(str(col.header), need[i]))
                budget -= need[i]
            else:
                whole = False
        prose = [i for i, a in enumerate(atomic) if not a]
        share = max(1.0, (budget + PROSE_MIN * len(prose)) / len(prose)) if prose else float(width)
        tall = [max((math.ceil(len(cells[i][r]) / share) for i in prose), default=1) for r in range(self.row_count)]
        squeezed = share < PROSE_COMFORT and sum(tall) > TALL_ROW_LINES * len(tall)  # prose in a tall narrow column
        return (whole and not squeezed) or len(self.columns) <= 2 or not self.row_count

    def _without(self, headers: Sequence[str]) -> FitTable:
        """A copy of this table without the named columns."""
        table = FitTable(title=self.title, title_justify="left", caption=self.caption, expand=False)
        kept = [col for col in self.columns if _label(col) not in headers]
        for col in kept:
            table.add_column(_label(col), justify=col.justify, overflow=col.overflow)
        for r in range(self.row_count):
            table.add_row(*[col._cells[r] for col in kept])
        return table

    def _records(self) -> Table:
        """The same rows as records: a two-column table, one section per row."""
        records = Table(
            title=self.title,
            title_justify="left",
            caption=self.caption,
            caption_justify="left",
            show_header=False,
            expand=False,
        )
        labels = [_label(c) for c in self.columns]
        whole = [
            len(v) for col in self.columns for c in col.cells if " " not in (v := _plain(c)) and len(v) <= ATOMIC_MAX
        ]
        records.add_column("field", style="bold", overflow="fold", max_width=max(PROSE_MIN, max(map(len, labels)) // 2))
        records.add_column("value", overflow="fold", min_width=max(whole, default=0))
        for r in range(self.row_count):
            fields = [(labels[i], col._cells[r]) for i, col in enumerate(self.columns) if _plain(col._cells[r])]
            for k, (label, value) in enumerate(fields):
                records.add_row(label, value, end_section=k == len(fields) - 1)
        return records


def _label(col: Any) -> str:
    """A column's header as written (a header wrapped to fit its column is joined again)."""
    return " ".join(str(col.header).split())


def _plain(cell: Any) -> str:
    return cell.plain if isinstance(cell, Text) else str(cell)


def simple_table(
    title: str,
    headers: Sequence[str],
    rows: Sequence[Sequence[Any]],
    right: Sequence[int] = (),
    optional: Sequence[str] = (),
) -> Table:
    """A plain table; `right` lists the columns to right-align (numbers), `optional` the headers of columns to
    leave out, in that order, when the console is too narrow to show them with every id whole."""
    table = FitTable(title=title, title_justify="left", expand=False, optional=optional)
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
        f"   confidence: {advice.confidence.value} ({advice.confidence_why})\n",
        advice.summary,
    )
    w = advice.workload
    head.append(
        f"\nWorkload: {tokens(w.tokens_per_day)} tokens/day ({tokens(w.input_tokens_per_day)} in, "
        f"{tokens(w.output_tokens_per_day)} out); peak {w.peak_output_tokens_per_s:,.0f} output tokens/s "
        f"({w.peak_to_average:g}× mean); {w.shape.input_tokens:,.0f} in / {w.shape.output_tokens:,.0f} "
        "out tokens per request"
    )
    be = advice.breakeven_tokens_per_day
    head.append(f"\nBreak-even: {tokens(be) + ' tokens/day' if be else 'none'} — {advice.breakeven_note}")
    parts: list[RenderableType] = [Panel(head, title=Text(f"selfhost advise: {advice.profile_name}"), expand=False)]
    reasons = simple_table(
        "Reasons",
        ["rule", "effect", "why"],
        [(f.rule, Text(f.effect.value, EFFECT_STYLE[f.effect.value]), f.message) for f in advice.reasons],
    )
    parts.append(reasons)
    parts.append(_options_table(advice))
    own = advice.option("self_host")
    if own and own.capacity:
        parts.append(simple_table("Capacity plan (self-hosted)", ["item", "value"], capacity_rows(own.capacity)))
    if any(a.feasible for a in advice.alternatives) and len(advice.alternatives) > 1:
        parts.append(
            simple_table(
                "Deployments compared (cheapest per GPU × tier, fully loaded)",
                ALTERNATIVE_HEADERS,
                alternatives_rows(advice),
                right=(3, 5),
            )
        )
    if advice.flip_points:
        parts.append(
            simple_table(
                "What would flip it",
                ["change", "to", "decision", "note"],
                [(" + ".join([f.parameter, *f.also]), _value(f.value), f.decision, f.note) for f in advice.flip_points],
            )
        )
    parts.append(
        simple_table(
            "Assumptions",
            ["name", "value", "source", "as of"],
            [(a.name, _value(a.value), source_cell(a.source, SOURCE_CHARS), a.as_of or "") for a in advice.assumptions],
        )
    )
    return Group(*parts)


ALTERNATIVE_HEADERS = ["gpu", "pricing", "precision", "GPUs", "layout", "USD/month", "plan"]


def capacity_rows(c: Capacity) -> list[tuple[str, str]]:
    spare = f", {c.spare_replicas:,} spare" if c.spare_replicas else ", no spare"
    fixed = " (the existing fleet)" if c.fixed_fleet else ""
    unused = c.gpus - c.replicas * c.gpus_per_replica
    idle = f"; {unused:,} GPU(s) idle: no whole replica fits on them, still billed" if unused > 0 else ""
    serving = f"{c.serving_replicas:,g} serving" + (" on average" if c.autoscaling else "")
    return [
        ("fleet", f"{c.gpus:,} × {c.gpu}{fixed} = {c.replicas:,} replica(s) of {c.layout} ({serving}{spare}{idle})"),
        ("replica layout", _layout_words(c)),
        ("pricing / precision / engine", f"{c.pricing} / {c.precision} / {c.engine}"),
        (
            "per replica",
            f"{c.output_tokens_per_s_per_replica:,.0f} output tokens/s at {c.concurrency_per_replica} concurrent "
            f"requests (TPOT {c.tpot_ms:.1f} ms, TTFT {c.ttft_ms:.1f} ms)",
        ),
        ("memory per GPU", f"{c.weights_gb_per_gpu:.1f} GB weights, {c.kv_cache_gb_per_gpu:.1f} GB KV cache"),
        *([("speculative decoding", c.speculative.label)] if c.speculative else []),
        (
            "utilization",
            f"{c.mean_utilization:.0%} mean, {c.peak_utilization:.0%} at the peak (of the serving replicas; "
            f"planned {c.planned_utilization:.0%})",
        ),
        ("estimate error", f"±{c.expected_error_pct:g}% ({c.expected_error_basis}; selfhost accuracy)"),
    ]


def _layout_words(c: Capacity) -> str:
    nodes = f"{c.nodes_per_replica} node(s)" if c.nodes_per_replica > 1 else "one node"
    if c.ep > 1:
        return f"{c.gpus_per_replica} GPUs on {nodes}: experts over {c.ep} GPUs, attention data-parallel"
    if c.pp > 1:
        return f"{c.gpus_per_replica} GPUs on {nodes}: {c.pp} pipeline stages of TP{c.tp}"
    return f"{c.gpus_per_replica} GPU(s) on {nodes}: tensor parallel TP{c.tp}"


def alternatives_rows(advice: Advice, limit: int = 8) -> list[tuple[str, ...]]:
    """The search's best plan per GPU × tier (cheapest first, the first `limit`), and a count of the rest."""
    feasible = [a for a in advice.alternatives if a.feasible]
    rows: list[tuple[str, ...]] = [
        (a.gpu, a.pricing, a.precision, f"{a.gpus:,}" if a.gpus else "—", _alt_layout(a), usd(a.monthly_usd), a.reason)
        for a in feasible[:limit]
    ]
    out = len(advice.alternatives) - len(feasible)
    hidden = len(feasible) - len(rows)
    if hidden or out:
        more = [f"{hidden} more feasible" if hidden else "", f"{out} GPU × tier cannot serve" if out else ""]
        rows.append(("…", "", "", "", "", "", "; ".join(m for m in more if m) + " (JSON `alternatives` lists all)"))
    return rows


def _alt_layout(a: Any) -> str:
    if a.ep > 1:
        return f"EP{a.ep}"
    return f"TP{a.tp}" + (f"×PP{a.pp}" if a.pp > 1 else "") if a.tp else "—"


def line_items(o: Option) -> str:
    """The option's line items as one line: `GPU $24,995 (5,840 GPU-hour × $4.28) + ops ...`."""
    parts = []
    for i in o.items:
        if not i.monthly_usd:
            continue
        if i.name == "batch_savings":
            parts.append(f"− batch {usd(-i.monthly_usd)}")
        elif i.unit == "1M tokens":
            parts.append(f"{i.label} {usd(i.monthly_usd)} ({tokens(i.quantity * 1e6)} × {unit_usd(i.unit_usd)})")
        elif i.unit == "GPU-hour":
            what = "autoscaled GPU" if i.name == "gpu_elastic" else "GPU"
            parts.append(f"{what} {usd(i.monthly_usd)} ({i.quantity:,.0f} h × ${i.unit_usd:.2f})")
        elif i.unit == "GPU-month":
            what = {"gpu": "owned GPUs", "power": "power", "hosting": "hosting"}.get(i.name, i.name)
            parts.append(f"{what} {usd(i.monthly_usd)} ({i.quantity:,.4g} × ${i.unit_usd:,.2f}/month)")
        else:
            parts.append(f"{i.name} {usd(i.monthly_usd)}")
    return " + ".join(parts).replace("+ −", "−")


def _options_table(advice: Advice) -> Table:
    rows = []
    for o in advice.options:
        detail = line_items(o) if o.items else "; ".join(n for n in (o.infeasible, o.price_missing) if n)
        if o.remarks:
            detail += ("; " if detail else "") + "; ".join(o.remarks)
        eligible = "yes" if o.eligible else "no: " + (", ".join(o.excluded_by) or "cost unknown")
        q = f"{o.quality.score:.0f}" if o.quality else "—"
        mark = " ◀" if advice.chosen and o.id == advice.chosen.id else ""
        rows.append((o.kind.value, o.id + mark, usd(o.monthly_usd), q, eligible, detail))
    return simple_table(
        "Monthly cost by option (quality: LMArena text score)",
        ["kind", "option", "USD/month", "quality", "eligible", "breakdown"],
        rows,
        right=(2, 3),
    )

"""Markdown for pull requests and reports."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from selfhost_cli.advise import Advice
from selfhost_cli.render.chart import curve_series, mermaid
from selfhost_cli.render.format import tokens, usd
from selfhost_cli.render.format import value as _value
from selfhost_cli.render.table import ALTERNATIVE_HEADERS, alternatives_rows, capacity_rows, line_items


def md_text(value: Any) -> str:
    """Text from a file, safe in a pull-request comment: `<` and `>` as entities, so a name cannot open an HTML
    comment or tag (`<!-- selfhost:check -->`, `</details>`) in the rendered page."""
    return str(value).replace("<", "&lt;").replace(">", "&gt;")


def md_table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """A GitHub-flavoured Markdown table; pipes in cells are escaped, and `<` `>` (see `md_text`)."""

    def cell(value: Any) -> str:
        return md_text(value).replace("|", "\\|").replace("\n", " ")

    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def _breakeven(value: float | None) -> str:
    return f"{tokens(value)} tokens/day" if value else "none"


def details(summary: str, body: str) -> str:
    """A collapsed section (GitHub renders <details>): what a reviewer opens only when they need it."""
    return f"<details><summary>{summary}</summary>\n\n{body}\n</details>\n"


def advice_markdown(advice: Advice) -> str:
    """A pull-request comment: the headline (decision, cost, confidence), the reasons and a short table of
    options in view; line items, capacity, the deployments compared and the assumptions in <details>."""
    chosen = f" at {usd(advice.chosen_monthly_usd)}/month" if advice.chosen_monthly_usd is not None else ""
    out = [
        f"## selfhost advise: {md_text(advice.profile_name)} — `{advice.decision.value}`{chosen}\n",
        f"**Recommendation: `{advice.decision.value}`** (confidence {advice.confidence.value}: "
        f"{advice.confidence_why}). {advice.summary}\n",
        f"Break-even: {_breakeven(advice.breakeven_tokens_per_day)} — {advice.breakeven_note}\n",
        "### Reasons\n",
        md_table(["rule", "effect", "why"], [(f.rule, f.effect.value, f.message) for f in advice.reasons]),
        "### Monthly cost by option\n",
        md_table(
            ["kind", "option", "USD/month", "quality", "eligible"],
            [
                (
                    o.kind.value,
                    o.id + (" ◀" if advice.chosen and o.id == advice.chosen.id else ""),
                    usd(o.monthly_usd),
                    f"{o.quality.score:.0f}" if o.quality else "—",
                    "yes" if o.eligible else "no: " + (", ".join(o.excluded_by) or "cost unknown"),
                )
                for o in advice.options
            ],
        ),
        details(
            "Cost breakdown (line items)",
            md_table(
                ["option", "breakdown"],
                [(o.id, line_items(o) or o.infeasible or o.price_missing or "") for o in advice.options],
            ),
        ),
    ]
    own = advice.option("self_host")
    if own and own.capacity:
        out.append(details("Capacity plan (self-hosted)", md_table(["item", "value"], capacity_rows(own.capacity))))
    if any(a.feasible for a in advice.alternatives) and len(advice.alternatives) > 1:
        out.append(details("Deployments compared", md_table(ALTERNATIVE_HEADERS, alternatives_rows(advice))))
    if advice.flip_points:
        out += [
            "### What would flip it\n",
            md_table(
                ["change", "to", "decision", "note"],
                [(" + ".join([f.parameter, *f.also]), _value(f.value), f.decision, f.note) for f in advice.flip_points],
            ),
        ]
    out.append(
        details(
            "Assumptions (with sources and dates)",
            md_table(
                ["name", "value", "source", "as of"],
                [(a.name, _value(a.value), a.source, a.as_of or "") for a in advice.assumptions],
            ),
        )
    )
    if advice.curve is not None:
        c = advice.curve
        title = f"Monthly cost vs tokens/day: {c.own} vs {c.api}"
        out.append(details("Cost against volume (chart)", mermaid(curve_series(c), title)))
    if advice.warnings:
        out += ["### Warnings\n", "".join(f"- {w}\n" for w in advice.warnings)]
    return "\n".join(out)

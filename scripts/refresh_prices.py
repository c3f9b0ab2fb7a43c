"""Release check of the bundled prices against public price files: what changed, what is gone, what is old.

    python scripts/refresh_prices.py --litellm model_prices_and_context_window.json \
        --genai-prices data.json --as-of 2026-11-30 [--today 2026-12-01] > report.md

Reads the public files with the same converters as `selfhost prices import` (so $0 rows, region variants and
time-of-day prices are handled as there), and prints a Markdown report for the maintainer:

1. bundled API offerings whose price in a public file differs (input, output or cached input);
2. bundled offerings still sold that no public file given lists (their vendor pages must be re-read by hand);
3. bundled rows older than the stale threshold on `--today` (API offerings and GPU price rows).

It changes nothing: the maintainer edits the YAML by hand (source and as_of with each figure), then runs the
steps in docs/data.md. Exit 0 always; the report is the output.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from collections.abc import Sequence
from pathlib import Path

from selfhost_cli import catalog as catalog_mod
from selfhost_cli.advise.notes import STALE_AFTER_DAYS
from selfhost_cli.catalog import Catalog
from selfhost_cli.prices_import import changes, convert
from selfhost_cli.render.format import prices


def report(cat: Catalog, files: Sequence[tuple[str, Path]], as_of: dt.date, today: dt.date) -> str:
    """The Markdown report for these public files (kind, path) against `cat` on `today`."""
    live = cat.current(today)
    changed: list[str] = []
    listed: set[str] = set()
    for kind, path in files:
        result = convert(path.read_text(encoding="utf-8"), str(path), kind, cat, as_of)
        listed |= {a.id for a in result.file.apis}
        for c in changes(result.file, cat):
            if c.kind == "api" and c.status == "changed":
                before, after = prices(c.kind, c.before), prices(c.kind, c.after)
                changed.append(f"| `{c.id}` | {before} | {after} | {kind} | {cat.apis[c.id].as_of} |")
    missing = [
        f"| `{a.id}` | {a.as_of} | {a.source.splitlines()[0][:90]} |" for a in live.offered() if a.id not in listed
    ]
    stale = [
        f"| api | `{a.id}` | {a.as_of} | {(today - a.as_of).days} |"
        for a in live.offered()
        if (today - a.as_of).days > STALE_AFTER_DAYS
    ]
    stale += [
        f"| gpu | `{g.id}` {p.provider} {p.pricing.value} | {p.as_of} | {(today - p.as_of).days} |"
        for g in cat.gpus.values()
        for p in g.prices
        if (today - p.as_of).days > STALE_AFTER_DAYS
    ]
    out = [
        f"# Bundled prices against public files ({', '.join(str(p) for _, p in files)}, as of {as_of})",
        "",
        f"## Prices that differ ({len(changed)})",
        "",
        "| offering | bundled | public file | file | bundled as of |",
        "| --- | --- | --- | --- | --- |",
        *changed,
        "",
        f"## Bundled offerings no file lists ({len(missing)}): re-read the vendor page",
        "",
        "| offering | as of | source |",
        "| --- | --- | --- |",
        *missing,
        "",
        f"## Rows older than {STALE_AFTER_DAYS} days on {today} ({len(stale)})",
        "",
        "| kind | row | as of | days |",
        "| --- | --- | --- | --- |",
        *stale,
        "",
    ]
    return "\n".join(out)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--litellm", type=Path, help="BerriAI/litellm model_prices_and_context_window.json")
    parser.add_argument("--genai-prices", type=Path, help="pydantic/genai-prices prices/data.json")
    parser.add_argument("--as-of", required=True, type=dt.date.fromisoformat, help="when the files were published")
    parser.add_argument("--today", type=dt.date.fromisoformat, default=dt.date.today(), help="the release date")
    args = parser.parse_args(argv)
    files = [(kind, path) for kind, path in (("litellm", args.litellm), ("genai-prices", args.genai_prices)) if path]
    if not files:
        parser.error("give at least one public file: --litellm and/or --genai-prices")
    sys.stdout.write(report(catalog_mod.bundled(), files, args.as_of, args.today))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

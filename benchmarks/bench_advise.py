"""Speed of `advise` and `breakeven`, reported as ratios against a baseline measured in the same run.

Baseline: parsing and validating the profile (what any run must do). Not part of the test suite:
    python benchmarks/bench_advise.py [--repeat N]
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import time
from collections.abc import Callable
from pathlib import Path

from selfhost_cli import catalog
from selfhost_cli.advise import advise
from selfhost_cli.breakeven import breakeven
from selfhost_cli.enums import Pricing
from selfhost_cli.profile import load_profile

TODAY = dt.date(2026, 12, 1)

ROOT = Path(__file__).resolve().parent.parent


def timed(func: Callable[[], object], repeat: int) -> float:
    """Median seconds of `repeat` runs."""
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        func()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    cat = catalog.bundled()
    profiles = sorted((ROOT / "profiles").glob("*.yaml"))
    loaded = {p: load_profile(p)[0] for p in profiles}

    baseline = timed(lambda: [load_profile(p) for p in profiles], args.repeat)
    search_all = {"pricing": [Pricing.SPOT, Pricing.ON_DEMAND, Pricing.RESERVED_1Y, Pricing.OWNED]}
    deepseek = loaded[ROOT / "profiles" / "which-gpu.yaml"].model_copy(
        update={
            "models": loaded[ROOT / "profiles" / "which-gpu.yaml"].models.model_copy(
                update={"self_hosted": "deepseek-v3"}
            ),
            "self_hosting": loaded[ROOT / "profiles" / "which-gpu.yaml"].self_hosting.model_copy(update=search_all),
        }
    )
    cases = {
        "advise (no flip points), all profiles": lambda: [
            advise(pr, cat, today=TODAY, with_flips=False) for pr in loaded.values()
        ],
        "advise (with flip points), all profiles": lambda: [advise(pr, cat, today=TODAY) for pr in loaded.values()],
        "breakeven llama-4-70b, h100-sxm × all tiers": lambda: breakeven(
            loaded[ROOT / "profiles" / "startup.yaml"].model_copy(), cat, ["h100-sxm"], list(Pricing)
        ),
        "full deployment search, deepseek-v3 (every GPU × tier × precision × layout, cold cache)": lambda: advise(
            deepseek, cat, today=TODAY, with_flips=False
        ),
    }
    print(f"baseline: load + validate {len(profiles)} profiles: {baseline * 1000:.1f} ms (median of {args.repeat})")
    for name, func in cases.items():
        seconds = timed(func, args.repeat)
        print(f"{name}: {seconds * 1000:.1f} ms = {seconds / baseline:.1f}× baseline")


if __name__ == "__main__":
    main()

"""Start-up time of the CLI against the floor any Typer + rich + pydantic CLI pays, measured interleaved.

    python benchmarks/bench_startup.py [--repeat N]

Each round runs every command once, in turn, so machine noise hits all of them alike; the report is the
median of the rounds and each command's ratio to its floor (issue 8's targets: `--version` ≤ 1.2× the
bare `import typer.main`, `advise` ≤ 1.2× and `breakeven` ≤ 1.3× the Typer + rich + yaml + pydantic floor).
Not part of the test suite.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable
SELFHOST = str(Path(PY).with_name("selfhost"))
FLOOR = "import typer.main, rich.console, yaml\nfrom pydantic import BaseModel\nclass M(BaseModel):\n    x: int = 1\n"
COMMANDS: dict[str, list[str]] = {
    "floor: import typer.main": [PY, "-c", "import typer.main"],
    "floor: typer + rich + yaml + pydantic model": [PY, "-c", FLOOR],
    "selfhost --version": [SELFHOST, "--version"],
    "selfhost --help": [SELFHOST, "--help"],
    "selfhost advise profiles/startup.yaml": [SELFHOST, "advise", str(ROOT / "profiles" / "startup.yaml")],
    "selfhost breakeven --model llama-4-70b --gpu h100-sxm": [
        SELFHOST,
        "breakeven",
        "--model",
        "llama-4-70b",
        "--gpu",
        "h100-sxm",
    ],
}
TARGETS = {
    "selfhost --version": ("floor: import typer.main", 1.2),
    "selfhost --help": ("floor: typer + rich + yaml + pydantic model", None),
    "selfhost advise profiles/startup.yaml": ("floor: typer + rich + yaml + pydantic model", 1.2),
    "selfhost breakeven --model llama-4-70b --gpu h100-sxm": ("floor: typer + rich + yaml + pydantic model", 1.3),
}


def once(argv: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    samples: dict[str, list[float]] = {name: [] for name in COMMANDS}
    for argv in COMMANDS.values():  # warm the file cache once
        once(argv)
    for _ in range(args.repeat):
        for name, argv in COMMANDS.items():
            samples[name].append(once(argv))
    median = {name: statistics.median(values) for name, values in samples.items()}
    print(f"median of {args.repeat} interleaved rounds, {sys.platform}, Python {sys.version.split()[0]}")
    for name, seconds in median.items():
        line = f"{name}: {seconds * 1000:.0f} ms"
        if name in TARGETS:
            floor, target = TARGETS[name]
            ratio = seconds / median[floor]
            line += f" = {ratio:.2f}× {floor.removeprefix('floor: ')}"
            if target:
                line += f" (target ≤ {target}×: {'met' if ratio <= target else 'not met'})"
        print(line)


if __name__ == "__main__":
    main()

"""Fit the estimator's constants and print them with the error they reach (run by hand; see docs/estimation.md).

    python scripts/fit_constants.py hardware   # ideal engine vs shared/reference/gpu-measurements.md
    python scripts/fit_constants.py engines    # each engine's software factor vs the calibration set
"""

from __future__ import annotations

import dataclasses
import itertools
import statistics
import sys
from importlib import resources

import yaml

from selfhost_cli import catalog
from selfhost_cli.calibration import accuracy, bundled_rows
from selfhost_cli.catalog.schema import Precision
from selfhost_cli.engines import ENGINES, HARDWARE, Hardware
from selfhost_cli.estimate import Setup, step
from selfhost_cli.profile import Engine


def limits() -> dict:
    ref = resources.files("selfhost_cli").joinpath("data", "gpu_limits.yaml")
    return yaml.safe_load(ref.read_text())


def ideal_errors(hw: Hardware) -> list[tuple[str, float, float, float]]:
    """(label, measured ms, predicted ms, error %) for every decode and prefill row of our H100 measurements."""
    cat = catalog.bundled()
    engine = ENGINES[Engine.IDEAL]
    data = limits()
    out = []
    for row in data["decode"]:
        setup = Setup(cat.model(row["shape"]), cat.gpu(row["gpu"]), Precision(row["precision"]), engine, 1, hw)
        predicted = step(setup, row["batch"], row["ctx"]).total_ms
        label = f"decode {row['shape']} {row['precision']} b{row['batch']} ctx{row['ctx']}"
        out.append((label, row["step_ms"], predicted, 100 * (predicted - row["step_ms"]) / row["step_ms"]))
    for row in data["prefill"]:
        setup = Setup(cat.model(row["shape"]), cat.gpu(row["gpu"]), Precision(row["precision"]), engine, 1, hw)
        tokens = row["batch"] * row["seq"]
        predicted = step(setup, 0, 0, prefill_tokens=tokens, prefill_context_tokens=row["seq"] / 2).total_ms
        label = f"prefill {row['shape']} {row['precision']} b{row['batch']} seq{row['seq']}"
        out.append((label, row["ms"], predicted, 100 * (predicted - row["ms"]) / row["ms"]))
    return out


def fit_hardware() -> None:
    best = None
    grid = itertools.product(
        [0.90, 0.91, 0.92, 0.93, 0.94, 0.95],  # mem_efficiency
        [0.020, 0.025, 0.030, 0.035],  # per_layer_ms
        [0.040, 0.045, 0.050, 0.055, 0.060],  # per_layer_quantized_ms
        [0.45, 0.55, 0.65, 0.74],  # decode_compute_efficiency
        [1.5, 2.0, 3.0],  # overlap_p
        [0.70, 0.74, 0.78],  # prefill 16-bit
        [0.54, 0.56, 0.58, 0.60],  # prefill 8-bit
    )
    for mem, layer, qlayer, dce, p, pf, pf8 in grid:
        hw = dataclasses.replace(HARDWARE, mem_efficiency=mem, per_layer_ms=layer, per_layer_quantized_ms=qlayer,
                                 decode_compute_efficiency=dce, overlap_p=p, prefill_efficiency=pf,
                                 prefill_efficiency_8bit=pf8)
        errs = [abs(e[3]) for e in ideal_errors(hw)]
        score = (max(errs), statistics.mean(errs))
        if best is None or score < best[0]:
            best = (score, hw)
    assert best is not None
    print(f"best: max |error| {best[0][0]:.1f}%, mean {best[0][1]:.1f}%\n{best[1]}")
    for label, measured, predicted, err in ideal_errors(best[1]):
        print(f"  {label:45} measured {measured:8.2f} ms  predicted {predicted:8.2f} ms  {err:+6.1f}%")


def fit_engines() -> None:
    cat = catalog.bundled()
    rows = tuple(r for r in bundled_rows() if r.use == "calibrate")
    for engine in Engine:
        if engine is Engine.IDEAL:
            continue
        mine = tuple(r for r in rows if r.engine is engine)
        if not mine:
            print(f"{engine.value}: no calibration rows")
            continue
        best = None
        for eff, per_step in itertools.product([x / 100 for x in range(40, 101, 2)], [0.0, 0.5, 1, 2, 3, 4, 6, 8]):
            engines = dict(ENGINES)
            engines[engine] = dataclasses.replace(ENGINES[engine], software_efficiency=eff, per_step_ms=per_step)
            acc = accuracy(cat, mine, engines)
            score = acc.by_engine.get(engine.value, 1e9)
            if best is None or score < best[0]:
                best = (score, eff, per_step)
        print(f"{engine.value}: {len(mine)} rows, best median |error| {best[0]:.1f}% at software_efficiency={best[1]}, "
              f"per_step_ms={best[2]}")


if __name__ == "__main__":
    {"hardware": fit_hardware, "engines": fit_engines}[sys.argv[1] if len(sys.argv) > 1 else "hardware"]()

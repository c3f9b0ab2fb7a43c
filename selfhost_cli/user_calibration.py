"""Users' own calibrations: a software efficiency fitted to their benchmark (`calibrate import`), saved to a
file and applied on top of the bundled engine constants."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from pathlib import Path
from typing import Literal

from pydantic import Field

from selfhost_cli.benchfile import BenchResult
from selfhost_cli.catalog import Catalog
from selfhost_cli.catalog.schema import Strict
from selfhost_cli.deploy.engines import Calibration, EngineSet
from selfhost_cli.deploy.estimate import max_concurrency, steady_state
from selfhost_cli.deploy.replica import Setup
from selfhost_cli.enums import Engine, Precision
from selfhost_cli.errors import InputFileError, UsageError, did_you_mean
from selfhost_cli.paths import default_calibration_path
from selfhost_cli.yamlio import load_file, validate


class UserCalibration(Strict):
    """A fitted efficiency for one engine on one GPU (and optionally one model), from the user's benchmark."""

    engine: Engine
    gpu: str
    model: str | None = None
    precision: Precision | None = None
    software_efficiency: float = Field(ge=0.05, le=2)  # the range calibrate import fits over
    fitted_from: str
    measured_output_tokens_per_s: float = Field(gt=0)
    predicted_before_output_tokens_per_s: float = Field(gt=0)
    fitted_at: dt.date


class UserCalibrationFile(Strict):
    schema_version: Literal[1] = 1
    calibrations: list[UserCalibration] = Field(default_factory=list)


def load_user_calibration(path: Path | None, catalog: Catalog | None = None) -> UserCalibrationFile:
    """The given file, else the default location if it exists, else nothing. With `catalog`, every entry must
    name a known GPU and model and a real engine: an entry that matches nothing would change nothing, silently."""
    target = path or default_calibration_path()
    if path is None and not target.exists():
        return UserCalibrationFile()
    doc = load_file(target, "calibration")
    file = validate(UserCalibrationFile, doc, "calibration file")
    for i, c in enumerate(file.calibrations):
        if c.engine is Engine.IDEAL:
            line = doc.line_of(("calibrations", i, "engine"))
            raise InputFileError(
                f"{doc.path}:{line}: calibrations[{i}].engine: the ideal engine has no software to calibrate",
                hint="name the engine that was benchmarked",
            )
        if catalog is None:
            continue
        for key, value, known in (("gpu", c.gpu, catalog.gpus), ("model", c.model, catalog.models)):
            if value is not None and value not in known:
                line = doc.line_of(("calibrations", i, key))
                guess = did_you_mean(value, known)
                raise InputFileError(
                    f"{doc.path}:{line}: calibrations[{i}].{key}: unknown {key} id '{value}'"
                    + (f"; {guess}" if guess else ""),
                    hint=f"`selfhost catalog {key}s` lists the known ids",
                )
    return file


def engine_set(calibrations: UserCalibrationFile) -> EngineSet:
    """The engine constants with these user calibrations applied (passed to the core, never global)."""
    return EngineSet(
        tuple(
            Calibration(c.engine, c.gpu, c.model, c.precision.value if c.precision else None, c.software_efficiency)
            for c in calibrations.calibrations
        )
    )


def fit_efficiency(bench: BenchResult, setup: Setup, gpus: int) -> tuple[float, float]:
    """The software efficiency at which the estimate matches the measurement; returns (fitted, predicted_before).

    Throughput rises monotonically with efficiency, so bisect on it (0.05 .. 2.0).
    """
    replicas = max(gpus // setup.tp, 1)

    def predicted(eff: float) -> float:
        s = replace(setup, engine=replace(setup.engine, software_efficiency=eff))
        c = (
            bench.concurrency / replicas
            if bench.concurrency
            else max_concurrency(s, bench.input_tokens, bench.output_tokens)
        )
        if c < 1:
            raise UsageError(f"the model does not fit {setup.gpu.id} at TP{setup.tp}", hint="pass --gpus/--tp as run")
        return steady_state(s, bench.input_tokens, bench.output_tokens, c).output_tokens_per_s * replicas

    if bench.concurrency is None and bench.request_rate is not None:
        raise UsageError(
            f"the run was at a fixed request rate ({bench.request_rate:g} req/s): its throughput is the offered "
            "load, not the deployment's capacity",
            hint="rerun the benchmark with a fixed concurrency (vllm bench serve --max-concurrency N, "
            "genai-perf --concurrency N) and import that",
        )
    before = predicted(setup.engine.software_efficiency)
    lo, hi = 0.05, 2.0
    if predicted(hi) < bench.output_tokens_per_s or predicted(lo) > bench.output_tokens_per_s:
        raise UsageError(
            f"the measurement ({bench.output_tokens_per_s:,.0f} output tokens/s) is outside what any efficiency "
            f"explains for this setup (predicted {before:,.0f})",
            hint="check --model, --gpu, --gpus, --tp and --precision match the benchmarked deployment",
        )
    for _ in range(50):
        mid = (lo + hi) / 2
        if predicted(mid) < bench.output_tokens_per_s:
            lo = mid
        else:
            hi = mid
    return round((lo + hi) / 2, 4), before


def with_entry(path: Path, entry: UserCalibration) -> tuple[UserCalibrationFile, str]:
    """The calibration file at `path` with `entry` added (or replacing the one for the same
    engine/gpu/model/precision), and its YAML text: the caller writes it."""
    import yaml

    existing = load_user_calibration(path) if path.exists() else UserCalibrationFile()
    key = (entry.engine, entry.gpu, entry.model, entry.precision)
    kept = [c for c in existing.calibrations if (c.engine, c.gpu, c.model, c.precision) != key]
    updated = UserCalibrationFile(calibrations=[*kept, entry])
    return updated, yaml.safe_dump(updated.model_dump(mode="json"), sort_keys=False)


def save_user_calibration(path: Path, entry: UserCalibration) -> UserCalibrationFile:
    """Add (or replace) the entry and write the file, creating its folder."""
    updated, text = with_entry(path, entry)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return updated

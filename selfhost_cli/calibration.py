"""The calibration set (published measurements) and the estimator's accuracy on it; users' own calibrations are in
`user_calibration.py`."""

from __future__ import annotations

import functools
import statistics
from dataclasses import dataclass, field
from importlib import resources
from typing import Any, Literal

from pydantic import Field

from selfhost_cli.cache import cached
from selfhost_cli.catalog import Catalog
from selfhost_cli.catalog.schema import Sourced, Strict
from selfhost_cli.deploy.deployment import decode_steps_ms
from selfhost_cli.deploy.engines import ENGINES, HARDWARE, EngineProfile, Hardware
from selfhost_cli.deploy.estimate import (
    SteadyState,
    concurrency_for_latency,
    max_concurrency,
    prefill_ms,
    smallest_fitting_tp,
    steady_state,
)
from selfhost_cli.deploy.replica import Setup
from selfhost_cli.deploy.sizing import headroom_concurrency
from selfhost_cli.enums import Engine, Precision
from selfhost_cli.yamlio import parse, validate

Scenario = Literal["offline", "server", "online", "static_batch", "single_stream"]
# A precision's own held-out median is stated from this many rows: fewer may all be one engine's (fp16's 2 are TGI's).
MIN_PRECISION_ROWS = 5


class LatencyBound(Strict):
    """A latency-bounded run's limits, and the percentile of the run's requests they apply to (MLPerf: p99)."""

    ttft_ms: float = Field(gt=0)
    tpot_ms: float = Field(gt=0)
    quantile: float = Field(gt=0.5, lt=1)


class CalibrationRow(Sourced):
    """One published measurement, with the public source it was read from."""

    id: str
    gpu: str
    gpus: int = Field(gt=0)
    tp: int | None = Field(default=None, gt=0)
    engine: Engine | None
    engine_version: str | None = None
    model: str
    precision: Precision
    scenario: Scenario
    input_tokens: float | None = Field(default=None, gt=0)
    input_tokens_estimated: bool = False
    output_tokens: float | None = Field(default=None, gt=0)
    concurrency: float | None = Field(default=None, gt=0)
    measured_output_tokens_per_s: float = Field(gt=0)
    measured_tpot_ms: float | None = None
    # The source's TPOT divides the whole request time, prefill included, by the tokens generated (TGI's
    # time_per_token), instead of the decode time after the first token by the tokens after it (vLLM's, SGLang's,
    # LMDeploy's and genai-perf's TPOT, the default).
    tpot_includes_prefill: bool = False
    measured_ttft_ms: float | None = None
    latency_stat: str | None = None
    latency_bound: LatencyBound | None = None
    use: Literal["calibrate", "validate", "reference_only"]
    note: str | None = None


class CalibrationFile(Strict):
    schema_version: Literal[1]
    dataset_notes: dict[str, str] = Field(default_factory=dict)
    rows: list[CalibrationRow]


@functools.cache
def bundled_rows() -> tuple[CalibrationRow, ...]:
    """The shipped calibration set, parsed once."""
    text = resources.files("selfhost_cli").joinpath("data", "calibration.yaml").read_text(encoding="utf-8")

    def build() -> tuple[CalibrationRow, ...]:
        doc = parse(text, "selfhost_cli/data/calibration.yaml")
        return tuple(validate(CalibrationFile, doc, "calibration set").rows)

    return cached("calibration", [text], build, tuple)


# ---------------------------------------------------------------- predictions


@dataclass(frozen=True)
class Prediction:
    row: CalibrationRow
    predicted_output_tokens_per_s: float | None
    predicted_tpot_ms: float | None
    tp: int | None
    why_not: str | None = None
    predicted_ttft_ms: float | None = None

    @property
    def error_pct(self) -> float | None:
        """Signed error of output tokens/s, % of the measurement (None for rate-limited rows)."""
        if self.predicted_output_tokens_per_s is None or self.row.scenario == "online":
            return None
        measured = self.row.measured_output_tokens_per_s
        return 100 * (self.predicted_output_tokens_per_s - measured) / measured

    @property
    def tpot_error_pct(self) -> float | None:
        if self.predicted_tpot_ms is None or not self.row.measured_tpot_ms:
            return None
        return 100 * (self.predicted_tpot_ms - self.row.measured_tpot_ms) / self.row.measured_tpot_ms

    @property
    def ttft_error_pct(self) -> float | None:
        """Signed error of TTFT, where the run measured it and the estimator predicts it (not for offline runs,
        whose TTFT is the queue of every request sent at once)."""
        if self.predicted_ttft_ms is None or not self.row.measured_ttft_ms:
            return None
        return 100 * (self.predicted_ttft_ms - self.row.measured_ttft_ms) / self.row.measured_ttft_ms


def predict(
    row: CalibrationRow,
    catalog: Catalog,
    engines: dict[Engine, EngineProfile] | None = None,
    hardware: Hardware = HARDWARE,
) -> Prediction:
    """What the estimator says for one measured setup (whole system output tokens/s, and TPOT)."""
    if row.engine is None or row.input_tokens is None or row.output_tokens is None:
        return Prediction(row, None, None, row.tp, "engine or request lengths unknown")
    engine = (engines or ENGINES)[row.engine]
    model, gpu = catalog.model(row.model), catalog.gpu(row.gpu)
    i, o = row.input_tokens, row.output_tokens
    pipeline = row.tp is None and row.gpus > 1  # llama.cpp layer split: GPUs take turns
    tp = (
        row.gpus
        if pipeline
        else row.tp or smallest_fitting_tp(Setup(model, gpu, row.precision, engine, 1, hardware), i, o)
    )
    if tp is None:
        return Prediction(row, None, None, None, "does not fit")
    setup = Setup(model, gpu, row.precision, engine, tp, hardware)
    replicas = 1 if pipeline else row.gpus // tp
    if row.scenario in ("single_stream", "static_batch"):
        batch = row.concurrency or 1
        stages = tp if pipeline else 1  # llama.cpp's stages run one after another at batch 1: no speed-up
        # the batch's prompts are prefilled together before any of them emits its first token
        ttft = prefill_ms(setup, i, prompts=batch) if i > 1 else None
        decode_ms = decode_steps_ms(setup, batch, i, o)
        whole_ms = decode_ms + (ttft or 0.0)
        # TPOT as the source defines it: the decode steps alone, or the whole batch's time per token
        tpot = (whole_ms if row.tpot_includes_prefill else decode_ms) * stages / o
        return Prediction(row, batch * o / (whole_ms * stages) * 1000 * replicas, tpot, tp, predicted_ttft_ms=ttft)
    if row.scenario == "server" and row.latency_bound:
        # Poisson arrivals keep the batch below the latency-bound maximum: the fleet planner's queueing headroom
        # (sizing.headroom_concurrency, at the bound's own percentile) is exactly the claim these rows test.
        bound = row.latency_bound
        state = concurrency_for_latency(setup, i, o, bound.tpot_ms, bound.ttft_ms)
        if state is None:
            return Prediction(row, 0.0, None, tp, "latency bound not met")
        planned = steady_state(setup, i, o, headroom_concurrency(state.concurrency, bound.quantile))
        held = server_state(row, setup, i, o, replicas, planned)
        return Prediction(row, planned.output_tokens_per_s * replicas, held.tpot_ms, tp, predicted_ttft_ms=held.ttft_ms)
    if row.scenario == "online":
        # Fixed request rate: by Little's law concurrency = rate × time in system; iterate to a fixed point.
        per_replica_rate = row.measured_output_tokens_per_s / o / replicas
        c = 1.0
        for _ in range(50):
            s = steady_state(setup, i, o, c)
            c = max(per_replica_rate * (s.ttft_ms + o * s.tpot_ms) / 1000, 1e-3)
        s = steady_state(setup, i, o, c)
        # The throughput of a rate-limited run is the offered load, not something the estimator predicts:
        # only its TPOT at that load is compared.
        return Prediction(
            row, None, s.tpot_ms, tp, "rate-limited: the throughput is the offered load", predicted_ttft_ms=s.ttft_ms
        )
    c = row.concurrency / replicas if row.concurrency else max_concurrency(setup, i, o)
    if c < 1:
        return Prediction(row, None, None, tp, "KV cache does not fit")
    state = steady_state(setup, i, o, c)
    return Prediction(row, state.output_tokens_per_s * replicas, state.tpot_ms, tp)


def server_state(
    row: CalibrationRow, setup: Setup, input_tokens: float, output_tokens: float, replicas: int, planned: SteadyState
) -> SteadyState:
    """A latency-bounded (server) run's steady state at the batch it held: its TPOT and TTFT are compared there.

    A run whose bounds do not bind (MLPerf's H200 at a 146 ms p99 TPOT under a 200 ms bound) sits on the
    compute plateau, where throughput hardly changes with the batch, so neither the bound nor the throughput
    says which batch it ran. Little's law does: decoding sequences = output tokens/s × mean TPOT (each emits
    one token per TPOT), per replica. TPOT is then a step-time prediction at a known batch, as for
    fixed-concurrency rows. Without a measured mean TPOT, the state the queueing headroom predicts. Its TTFT (the
    prompt's prefill plus one step) leaves out the wait in the arrival queue, which a Poisson-loaded run's TTFT
    includes."""
    if not row.measured_tpot_ms or row.latency_stat != "mean":
        return planned
    batch = row.measured_output_tokens_per_s / replicas * row.measured_tpot_ms / 1000
    return steady_state(setup, input_tokens, output_tokens, batch)


@dataclass(frozen=True)
class Split:
    """Median absolute % error of one group of rows, overall and per engine, with the row counts behind them."""

    overall: float | None
    rows: int
    by_engine: dict[str, tuple[float, int]]  # engine -> (median |error| %, rows)
    tpot: float | None
    tpot_rows: int
    by_precision: dict[str, tuple[float, int]] = field(default_factory=dict)  # precision -> (median |error| %, rows)
    ttft: float | None = None
    ttft_rows: int = 0

    @property
    def overall_figure(self) -> tuple[float, int] | None:
        """(median |error| %, rows), or None when the group is empty."""
        return None if self.overall is None else (self.overall, self.rows)

    @property
    def tpot_figure(self) -> tuple[float, int] | None:
        return None if self.tpot is None else (self.tpot, self.tpot_rows)

    @property
    def ttft_figure(self) -> tuple[float, int] | None:
        return None if self.ttft is None else (self.ttft, self.ttft_rows)


@dataclass(frozen=True)
class Accuracy:
    predictions: list[Prediction]
    by_engine: dict[str, float]  # median |error| %, per engine (every row)
    overall: float
    tpot_overall: float | None
    fitted: Split  # rows the constants were fitted to (`use: calibrate`)
    held_out: Split  # rows kept out of the fit (`use: validate`): the error a new setup should expect


def same_setup(row: CalibrationRow) -> tuple[Any, ...]:
    """What makes two rows the same measured setup but for the engine: rows sharing it are an engine comparison."""
    return (
        row.gpu,
        row.gpus,
        row.model,
        row.precision,
        row.scenario,
        row.input_tokens,
        row.output_tokens,
        row.concurrency,
    )


def source_family(source: str) -> str:
    """The family a row's source belongs to, for splitting fitted from held-out rows: the repository
    (`mlcommons/inference_results_v4.1`, also from a github.com URL), else the site."""
    text = source.strip().strip("'\"")
    first = text.split()[0] if text else ""
    for prefix in ("https://github.com/", "http://github.com/", "https://raw.githubusercontent.com/"):
        if first.startswith(prefix):
            return "/".join(first.removeprefix(prefix).split("/")[:2])
    return first.removeprefix("https://").removeprefix("http://").removeprefix("www.")


def _median(values: list[float]) -> float | None:
    return statistics.median(values) if values else None


def _split(predictions: list[Prediction]) -> Split:
    errors: dict[str, list[float]] = {}
    by_precision: dict[str, list[float]] = {}
    for p in predictions:
        if p.error_pct is not None and p.row.engine is not None:
            errors.setdefault(p.row.engine.value, []).append(abs(p.error_pct))
            by_precision.setdefault(p.row.precision.value, []).append(abs(p.error_pct))
    every = [e for values in errors.values() for e in values]
    tpot = [abs(p.tpot_error_pct) for p in predictions if p.tpot_error_pct is not None]
    ttft = [abs(p.ttft_error_pct) for p in predictions if p.ttft_error_pct is not None]
    return Split(
        _median(every),
        len(every),
        {k: (statistics.median(v), len(v)) for k, v in sorted(errors.items())},
        _median(tpot),
        len(tpot),
        {k: (statistics.median(v), len(v)) for k, v in sorted(by_precision.items())},
        _median(ttft),
        len(ttft),
    )


def accuracy(
    catalog: Catalog,
    rows: tuple[CalibrationRow, ...] | None = None,
    engines: dict[Engine, EngineProfile] | None = None,
    hardware: Hardware = HARDWARE,
) -> Accuracy:
    """Predictions for every calibrate/validate row; median absolute % error per engine and overall, on every
    row and separately on the fitted and the held-out rows."""
    used = [r for r in (rows or bundled_rows()) if r.use != "reference_only"]
    predictions = [predict(r, catalog, engines, hardware) for r in used]
    every = _split(predictions)
    return Accuracy(
        predictions,
        {k: v for k, (v, _) in every.by_engine.items()},
        every.overall or 0.0,
        every.tpot,
        _split([p for p in predictions if p.row.use == "calibrate"]),
        _split([p for p in predictions if p.row.use == "validate"]),
    )


def expected_error_pct(held_out: Split, engine: str, fallback: float) -> tuple[float, str]:
    """The error to state for an engine: the median over every held-out row, or the engine's own held-out
    median when that is higher (a new setup must not be promised less than the whole held-out set shows, nor
    less than the engine's own held-out rows show, however few); `fallback` with no held-out rows. With the
    basis in words."""
    if held_out.overall is None:
        return fallback, "no held-out rows"
    own = held_out.by_engine.get(engine)
    if own and own[0] >= held_out.overall:
        if own[1] == 1:
            return own[0], f"the error of its one held-out {engine} row"
        return own[0], f"held-out median of {own[1]} {engine} rows"
    mine = f"{engine}'s own {own[0]:.1f}% on {own[1]}" if own else f"{engine} has 0"
    return held_out.overall, f"held-out median of all {held_out.rows} rows ({mine})"


def precision_errors(held_out: Split) -> dict[str, tuple[float, str]]:
    """Precisions whose own held-out rows (at least MIN_PRECISION_ROWS) show a higher median than the whole held-out
    set, with that median and its basis: a setup at such a precision is promised no less (engines.PRECISION_ERRORS)."""
    if held_out.overall is None:
        return {}
    return {
        precision: (pct, f"held-out median of {n} {precision} rows")
        for precision, (pct, n) in held_out.by_precision.items()
        if n >= MIN_PRECISION_ROWS and pct > held_out.overall
    }

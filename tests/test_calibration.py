"""calibration.py: accuracy on the published measurements (pinned), benchmark files, users' calibrations."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import statistics
from pathlib import Path
from typing import Any

import pytest

from selfhost_cli.benchfile import read_bench
from selfhost_cli.calibration import accuracy, bundled_rows, same_setup, source_family
from selfhost_cli.catalog import bundled
from selfhost_cli.deploy.engines import ENGINES, EngineProfile, EngineSet
from selfhost_cli.deploy.estimate import max_concurrency, steady_state
from selfhost_cli.deploy.replica import Setup
from selfhost_cli.enums import Engine, Precision
from selfhost_cli.errors import InputFileError, UsageError
from selfhost_cli.report import estimate_report
from selfhost_cli.user_calibration import (
    UserCalibration,
    engine_set,
    fit_efficiency,
    load_user_calibration,
    save_user_calibration,
)

_ACTIVE = [EngineSet()]


def set_user_calibrations(entries: list[Any]) -> None:
    _ACTIVE[0] = EngineSet()


def activate(calibrations: Any) -> None:
    _ACTIVE[0] = engine_set(calibrations)


def profile_for(*args: Any) -> EngineProfile:
    return _ACTIVE[0].profile(*args)


FIXTURES = Path(__file__).parent / "fixtures"
VLLM_BENCH = FIXTURES / "vllm_bench_serve.json"
GENAI_PERF = FIXTURES / "genai_perf_profile_export.json"
AIPERF = FIXTURES / "aiperf_profile_export.json"
CATALOG = bundled()

# Median |error| % of output tokens/s, pinned just above the values measured when the constants were last
# refitted on the `calibrate` rows alone (current + 1.5 points; the held-out one at today's figure) so that the
# estimator can only get better. Values at the time of writing (2026-12-02: each engine fitted to its own rows,
# TGI's first family fitted, TRT-LLM and llama.cpp with a compute ratio, TRT-LLM's KV pool of the free memory;
# later on 2026-12-02 power-capped boards run their matmuls at the full-power part's energy per FLOP, which moved
# only held-out rows, and a server row's TPOT is compared at the batch it held):
#   fitted rows: overall 9.82 on 48; vllm 8.86, sglang 5.37, lmdeploy 4.69, llama.cpp 10.82, trtllm 4.67, tgi 20.29
#   held-out rows: overall 14.00 on 36 (trtllm 12.57 on 17, vllm 14.52 on 11, tgi 34.79 on 3, llama.cpp 3.66 on 4,
#   sglang 33.43 on its 1 batch-1 row); all rows 11.87; held-out TPOT 10.18 on 13. vLLM's and SGLang's per-step
#   costs are fitted to the TPOT of their rate-limited rows (light load), which moved their held-out batch-1 rows
#   4-14 points closer and their large-batch ones 3-4 points further. (Before, 2026-12-01: fitted 6.61 on 42, held
#   out 25.5 on 41; before the power cap, held out 15.09, TGI 60.28, TPOT 37.11.)
#   Then 15 MLPerf v5.0 rows joined, held out (a new family): held out 15.34 on 51 (trtllm 15.64 on 30, vllm 15.34
#   on 13; fp4 27.02 on 9, every one over-predicted; fp8 13.51 on 34), all rows 12.83, held-out TPOT 11.36 on 21.
#   Then DataCrunch's 11 SGLang H200 rows joined, held out: held out 14.44 on 60 (sglang 12.60 on 10), all rows 12.75,
#   held-out TPOT 14.30 on 23 (its two light-load rows' TPOT is over-predicted by 43-50%).
#   Then TensorRT-LLM 1.0's 45 Blackwell FP4 rows (dense models, PP1) joined the fitted rows and fitted the 4-bit
#   tensor-core efficiency (0.34; TensorRT-LLM's own constants stay fitted to its other rows): fitted 9.48 on 93
#   (trtllm 7.5 on 60), held out 14.07 on 60 (trtllm 14.07 on 30; fp4 21.1 on 9, now under-predicted), all rows
#   10.93, held-out TPOT 10.18 on 23.
#   Then a `server` row is predicted at the batch Poisson arrivals leave it at its bound's percentile (the planner's
#   queueing headroom, sizing.headroom_concurrency), not at 85% of its latency-bound throughput: held out 11.45 on 60
#   (trtllm 10.22 on 30, vllm 14.52 on 13; fp4 13.80 on 9, bf16 13.57 on 12), all rows 10.24, held-out TPOT 10.18
#   on 23 (no fitted row is a server row: the constants are unchanged).
MAX_FITTED_ERROR_PCT = 11.4
MAX_ENGINE_ERROR_PCT = {  # on the fitted rows
    "vllm": 10.4,
    "sglang": 6.9,
    "lmdeploy": 6.2,
    "llama.cpp": 12.3,
    "trtllm": 9.0,
    "tgi": 21.8,
}
MAX_VALIDATE_ERROR_PCT = 11.46  # the held-out median today (11.451% over 60 rows): it may only improve
MAX_VALIDATE_TPOT_ERROR_PCT = 10.2  # held-out TPOT median today (10.18% over 23 rows)
MAX_OVERALL_ERROR_PCT = 11.8  # every row, fitted and held out (10.24%)
# Engine x source family held out of the fit (selfhost_cli/data/calibration.yaml header): whole families, so
# that the held-out rows are as independent of the fitted ones as the data allows.
HELD_OUT_FAMILIES = {
    ("trtllm", "mlcommons/inference_results_v4.0"),
    ("trtllm", "mlcommons/inference_results_v4.1"),
    ("vllm", "mlcommons/inference_results_v4.1"),
    ("llama.cpp", "ggml-org/llama.cpp"),
    # collected after the split, 2026-12-01: new families, held out (TGI's first family, philschmid, is fitted)
    ("tgi", "dstackai/benchmarks"),
    ("vllm", "dstackai/benchmarks"),
    ("vllm", "blogs.oracle.com/cloud-infrastructure/post/serving-llama-31-405b-model-with-amd-mi300x-gpus"),
    ("vllm", "amd.com/zh-cn/developer/resources/rocm-hub/dev-ai/performance-results.html"),
    # 2026-12-02: SGLang's first batch-1 row (the EAGLE-3 paper's baseline), a new family
    ("sglang", "arxiv.org/abs/2503.01840"),
    # 2026-12-02: MLPerf Inference v5.0 (NVIDIA's TensorRT-LLM harness, AMD's vLLM harness), a new family
    ("trtllm", "mlcommons/inference_results_v5.0"),
    ("vllm", "mlcommons/inference_results_v5.0"),
    # 2026-12-02: DataCrunch's SGLang runs on H200 (raw sglang.bench_serving output), a new family
    ("sglang", "datacrunch-research/h200-benchmarks"),
}


@pytest.fixture(scope="module")
def acc():
    return accuracy(CATALOG)


@pytest.fixture
def clean_user_calibrations():
    set_user_calibrations([])
    yield
    set_user_calibrations([])


# ---------------------------------------------------------------- accuracy on the published measurements


def test_bundled_rows_load_and_use_known_catalog_ids():
    rows = bundled_rows()
    assert len(rows) >= 20
    assert len({r.id for r in rows}) == len(rows)
    for r in rows:
        CATALOG.model(r.model)
        CATALOG.gpu(r.gpu)


def test_accuracy_overall_pinned(acc):
    print(
        f"overall median |error| {acc.overall:.2f}%; per engine "
        + ", ".join(f"{k} {v:.2f}%" for k, v in acc.by_engine.items())
    )
    assert acc.overall <= MAX_OVERALL_ERROR_PCT


def test_accuracy_every_engine_pinned(acc):
    # every calibrated engine has a pinned ceiling on the rows it was fitted to
    assert set(acc.fitted.by_engine) == set(MAX_ENGINE_ERROR_PCT)
    assert acc.fitted.overall <= MAX_FITTED_ERROR_PCT
    for engine, (error, _) in acc.fitted.by_engine.items():
        assert error <= MAX_ENGINE_ERROR_PCT[engine], f"{engine}: {error:.2f}%"


@pytest.mark.parametrize(
    ("source", "family"),
    [
        ("mlcommons/inference_results_v4.1 closed/NVIDIA/results/x.txt", "mlcommons/inference_results_v4.1"),
        ("'ggml-org/llama.cpp PR #2917 (2023-08-30)'", "ggml-org/llama.cpp"),
        ("https://github.com/ggml-org/llama.cpp/pull/2917", "ggml-org/llama.cpp"),
        ("https://lmsys.org/blog/2025-05-05-large-scale-ep", "lmsys.org/blog/2025-05-05-large-scale-ep"),
    ],
)
def test_source_family(source, family):
    assert source_family(source) == family


def test_the_calibration_set_is_split_once_by_source_family():
    """Issue 11: whole source families held out, at least a third of the scored rows, every engine with more
    than one family represented on both sides."""
    scored = [r for r in bundled_rows() if r.use != "reference_only"]
    for r in scored:
        family = (r.engine.value if r.engine else None, source_family(r.source))
        assert (r.use == "validate") == (family in HELD_OUT_FAMILIES), (r.id, family)
    assert sum(r.use == "validate" for r in scored) * 3 >= len(scored)
    for engine in {e for e, _ in HELD_OUT_FAMILIES}:
        uses = {r.use for r in scored if r.engine and r.engine.value == engine}
        assert uses == {"calibrate", "validate"}, engine


def test_expected_error_does_not_understate_the_measured_error(acc):
    # `estimate` prints a band of ±expected_error_pct: it must be at least the engine's measured median error
    for engine, error in acc.by_engine.items():
        assert ENGINES[Engine(engine)].expected_error_pct >= round(error, 1), engine


def test_accuracy_validate_rows(acc):
    errors = [abs(p.error_pct) for p in acc.predictions if p.row.use == "validate" and p.error_pct is not None]
    assert len(errors) >= 5
    print(f"validate rows: median |error| {statistics.median(errors):.2f}% over {len(errors)} rows")
    assert statistics.median(errors) <= MAX_VALIDATE_ERROR_PCT
    assert acc.held_out.tpot is not None and acc.held_out.tpot_rows >= 20
    assert acc.held_out.tpot <= MAX_VALIDATE_TPOT_ERROR_PCT


def test_a_server_rows_tpot_is_predicted_at_the_batch_it_held():
    """MLPerf's H200 server run held 450 sequences per GPU (29,228 tokens/s over 8 GPUs x 123.3 ms mean TPOT, by
    Little's law) far below its 200 ms TPOT bound: its TPOT is the step time at that batch, not at the bound."""
    from selfhost_cli.calibration import predict
    from selfhost_cli.deploy.estimate import steady_state
    from selfhost_cli.deploy.replica import Setup

    row = next(r for r in bundled_rows() if r.id == "m41-nvidia-h200x8-llama2-70b-server")
    p = predict(row, CATALOG)
    assert p.tp == 1 and row.measured_tpot_ms == 123.3
    batch = row.measured_output_tokens_per_s / 8 * row.measured_tpot_ms / 1000
    assert batch == pytest.approx(450.4, abs=0.1)
    setup = Setup(CATALOG.model(row.model), CATALOG.gpu(row.gpu), row.precision, ENGINES[Engine.TRTLLM], 1)
    assert p.predicted_tpot_ms == pytest.approx(steady_state(setup, 250, 291, batch).tpot_ms)
    assert abs(p.tpot_error_pct or 100) < 5  # it was +62% when compared at the 200 ms bound
    # no measured TPOT: the batch the queueing headroom leaves it at the bound's p99 (below the bound's 200 ms)
    headroom = predict(row.model_copy(update={"measured_tpot_ms": None}), CATALOG)
    assert headroom.predicted_tpot_ms is not None and 150 < headroom.predicted_tpot_ms < 200


def test_a_static_batchs_tpot_is_its_decode_steps_unless_the_source_counts_the_prefill():
    """vLLM's and LMDeploy's benchmarks time TPOT after the first token; TGI's time_per_token divides the whole
    request, prefill included. Each row is compared on its own source's definition."""
    from selfhost_cli.calibration import predict
    from selfhost_cli.deploy.estimate import step
    from selfhost_cli.deploy.replica import Setup

    row = next(r for r in bundled_rows() if r.id == "lmdeploy-a100x1-llama-2-7b-128-128-b64")
    assert not row.tpot_includes_prefill
    setup = Setup(CATALOG.model(row.model), CATALOG.gpu(row.gpu), row.precision, ENGINES[Engine.LMDEPLOY], 1)
    decode = step(setup, 64, 128 + 128 / 2).total_ms
    assert predict(row, CATALOG).predicted_tpot_ms == pytest.approx(decode)
    counted = predict(row.model_copy(update={"tpot_includes_prefill": True}), CATALOG).predicted_tpot_ms
    assert counted is not None and counted > decode * 1.02  # the 64 prompts' prefill spread over 128 tokens
    tgi = [r for r in bundled_rows() if r.engine is Engine.TGI and r.source.startswith("philschmid")]
    assert tgi and all(r.tpot_includes_prefill for r in tgi)


def test_a_server_row_is_predicted_at_the_batch_poisson_arrivals_leave():
    """A latency-bounded run under Poisson arrivals holds fewer sequences than the bound allows: the planner's
    queueing headroom at the bound's percentile (MLPerf: p99), and the throughput at that batch."""
    from selfhost_cli.calibration import predict
    from selfhost_cli.deploy.estimate import concurrency_for_latency, steady_state
    from selfhost_cli.deploy.replica import Setup
    from selfhost_cli.deploy.sizing import headroom_concurrency

    row = next(r for r in bundled_rows() if r.id == "m50-nvidia-b200x8-llama2-70b-interactive")
    assert row.latency_bound is not None and row.latency_bound.quantile == 0.99
    setup = Setup(CATALOG.model(row.model), CATALOG.gpu(row.gpu), row.precision, ENGINES[Engine.TRTLLM], 1)
    bound = concurrency_for_latency(setup, row.input_tokens, row.output_tokens, 40, 450)
    assert bound is not None
    n = headroom_concurrency(bound.concurrency, 0.99)
    assert 0.85 * bound.concurrency < n < bound.concurrency
    held = steady_state(setup, row.input_tokens, row.output_tokens, n)
    assert predict(row, CATALOG).predicted_output_tokens_per_s == pytest.approx(held.output_tokens_per_s * 8)


def test_accuracy_predicts_every_scored_row(acc):
    scored = [p for p in acc.predictions if p.row.engine is not None and p.row.scenario != "online"]
    missing = [p.row.id for p in scored if p.predicted_output_tokens_per_s is None]
    assert not missing, missing
    assert all(p.row.use != "reference_only" for p in acc.predictions)


def test_the_stated_error_is_the_held_out_one(acc):
    """Issue 11: what `estimate` and the capacity plan print is the median error on rows the constants were not
    fitted to — every held-out row's, or the engine's own when higher — never the fitted figure."""
    from selfhost_cli.calibration import expected_error_pct

    assert acc.held_out.rows >= 5 and acc.held_out.overall is not None
    assert acc.held_out.overall > acc.fitted.overall  # why the fitted figure would mislead
    for engine, profile in ENGINES.items():
        if engine is Engine.IDEAL:
            continue  # its own H100 measurements
        pct, basis = expected_error_pct(acc.held_out, engine.value, 0.0)
        assert profile.expected_error_pct == pytest.approx(round(pct, 1)), engine
        assert profile.error_basis == basis, engine
        assert profile.expected_error_pct >= round(acc.held_out.overall, 1)  # never less than the whole set
        own = acc.held_out.by_engine.get(engine.value)
        if own:
            assert profile.expected_error_pct >= round(own[0], 1)  # nor less than its own rows show


def test_a_precision_is_stated_at_its_own_held_out_error_where_that_is_higher(acc):
    """FP4's held-out rows (NVIDIA's Blackwell MLPerf runs) and BF16's (DataCrunch's SGLang and dstack's TGI runs) are
    missed by more than the held-out set as a whole: an estimate at those precisions states their median, not the
    engine's figure. A precision needs MIN_PRECISION_ROWS held-out rows (fewer would be one engine's: fp16's 2 are
    TGI's), and fp8's are no worse than the whole set."""
    from selfhost_cli.calibration import MIN_PRECISION_ROWS, precision_errors
    from selfhost_cli.deploy.engines import PRECISION_ERRORS, stated_error

    computed = precision_errors(acc.held_out)
    assert {k: (round(v, 1), basis) for k, (v, basis) in computed.items()} == {
        k.value: v for k, v in PRECISION_ERRORS.items()
    }
    assert set(computed) == {"fp4", "bf16"} and acc.held_out.by_precision["fp16"][1] < MIN_PRECISION_ROWS
    fp4_rows = [p for p in acc.predictions if p.row.use == "validate" and p.row.precision is Precision.FP4]
    assert len(fp4_rows) == 9
    trtllm = ENGINES[Engine.TRTLLM]
    assert stated_error(trtllm, Precision.FP4) == PRECISION_ERRORS[Precision.FP4]
    assert stated_error(trtllm, Precision.FP8) == (trtllm.expected_error_pct, trtllm.error_basis)
    tgi = ENGINES[Engine.TGI]  # an engine whose own figure is higher keeps it
    assert stated_error(tgi, Precision.FP4) == (tgi.expected_error_pct, tgi.error_basis)


def test_every_calibrated_engine_has_fitted_rows(acc):
    """Each engine's constants are fitted to its own rows (issue 11 item 3): none borrows another's."""
    for engine in ENGINES:
        if engine is not Engine.IDEAL:
            assert acc.fitted.by_engine.get(engine.value), engine


def test_tgi_ranks_below_vllm_as_published_comparisons_do():
    # TGI's own fit puts it below vLLM (the issue found it above: it had borrowed vLLM's constants)
    tgi, vllm = ENGINES[Engine.TGI], ENGINES[Engine.VLLM]
    assert tgi.software_efficiency <= vllm.software_efficiency and tgi.per_step_ms >= vllm.per_step_ms
    assert "uncalibrated" not in tgi.provenance


def test_accuracy_overall_is_the_median_of_all_engines(acc):
    every = [abs(p.error_pct) for p in acc.predictions if p.error_pct is not None and p.row.engine is not None]
    assert acc.overall == pytest.approx(statistics.median(every))


# ---------------------------------------------------------------- benchmark files


def test_read_bench_vllm():
    # 200,000 output tokens / 1,000 completed = 200 per request; 1,000,000 input / 1,000 = 1,000
    bench = read_bench(VLLM_BENCH)
    assert bench.kind == "vllm bench serve"
    assert bench.output_tokens_per_s == pytest.approx(3104.6052)
    assert bench.input_tokens == 1000 and bench.output_tokens == 200
    assert bench.concurrency == 64
    assert bench.request_rate is None  # "inf": a closed loop at max_concurrency
    assert bench.mean_tpot_ms == pytest.approx(20.02)
    assert bench.mean_ttft_ms == pytest.approx(142.37)


def test_read_bench_vllm_fixed_rate(tmp_path):
    doc = json.loads(VLLM_BENCH.read_text())
    doc.update(request_rate=12.5, max_concurrency=None)
    path = tmp_path / "rate.json"
    path.write_text(json.dumps(doc))
    bench = read_bench(path)
    assert bench.request_rate == 12.5 and bench.concurrency is None


def test_read_bench_genai_perf():
    bench = read_bench(GENAI_PERF)
    assert bench.kind == "genai-perf"
    assert bench.output_tokens_per_s == pytest.approx(3050.2)
    assert bench.input_tokens == 1000 and bench.output_tokens == pytest.approx(199.62)
    assert bench.concurrency == 64
    assert bench.mean_tpot_ms == pytest.approx(20.29)  # inter-token latency
    assert bench.mean_ttft_ms == pytest.approx(151.36)


def test_read_bench_aiperf():
    """AIPerf (genai-perf's successor): metrics as {unit, avg, ...}, the run under input_config.loadgen."""
    bench = read_bench(AIPERF)
    assert bench.kind == "AIPerf"
    assert bench.output_tokens_per_s == pytest.approx(3078.4)
    assert (bench.input_tokens, bench.output_tokens, bench.concurrency) == (1000, pytest.approx(199.8), 64)
    assert bench.request_rate is None
    assert (bench.mean_tpot_ms, bench.mean_ttft_ms) == (pytest.approx(20.07), pytest.approx(148.9))
    assert bench.model_name == "meta-llama/Llama-3.1-8B-Instruct"


def test_read_bench_aiperf_request_rate_run_is_refused(tmp_path):
    doc = json.loads(AIPERF.read_text())
    doc["input_config"]["loadgen"] = {"request_rate": 8.0, "request_rate_mode": "poisson"}
    path = tmp_path / "rate.json"
    path.write_text(json.dumps(doc))
    bench = read_bench(path)
    assert bench.concurrency is None and bench.request_rate == 8.0
    setup = Setup(CATALOG.model("llama-3.1-8b"), CATALOG.gpu("h100-sxm"), Precision.BF16, ENGINES[Engine.VLLM], 1)
    with pytest.raises(UsageError, match="fixed request rate"):
        fit_efficiency(bench, setup, 1)


def test_read_bench_vllm_append_result_reads_the_last_run(tmp_path):
    """`vllm bench serve --append-result` writes one JSON object per run into the same file."""
    first = json.loads(VLLM_BENCH.read_text())
    second = {**first, "output_throughput": 3300.0, "max_concurrency": 128}
    path = tmp_path / "appended.json"
    path.write_text(json.dumps(first) + "\n" + json.dumps(second) + "\n")
    bench = read_bench(path)
    assert (bench.output_tokens_per_s, bench.concurrency) == (3300.0, 128)
    assert bench.note == "run 2 of 2 in an appended result file (the last)"


@pytest.mark.parametrize(
    ("name", "model"),
    [
        ("meta-llama/Llama-3.1-8B-Instruct", "llama-3.1-8b"),
        ("RedHatAI/Llama-3.3-70B-Instruct-FP8-dynamic", "llama-3.3-70b"),  # never the llama-4-70b stand-in
        ("Qwen/Qwen3-32B", "qwen3-32b"),
        ("openai/gpt-oss-20b", "gpt-oss-20b"),
        ("my-org/private-finetune", None),
        (None, None),
    ],
)
def test_the_model_a_benchmark_file_names(name, model):
    from selfhost_cli.benchfile import catalog_model_for

    assert catalog_model_for(name, CATALOG) == model


def test_calibrate_import_takes_the_model_from_the_file(tmp_path):
    from typer.testing import CliRunner

    from selfhost_cli.cli import app

    save = tmp_path / "cal.yaml"
    args = ["calibrate", "import", str(AIPERF), "--gpu", "h100-sxm", "--save", str(save), "--format", "json"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["model"] == "llama-3.1-8b" and doc["benchmark"] == "AIPerf"
    unnamed = json.loads(VLLM_BENCH.read_text()) | {"model_id": "my-org/private-finetune"}
    path = tmp_path / "unnamed.json"
    path.write_text(json.dumps(unnamed))
    refused = CliRunner().invoke(app, ["calibrate", "import", str(path), "--gpu", "h100-sxm", "--save", str(save)])
    assert refused.exit_code == 2
    assert "names 'my-org/private-finetune', which matches no catalog model" in refused.output


def test_read_bench_genai_perf_config_file_layout(tmp_path):
    # newer genai-perf writes the run's config nested: input_config.perf_analyzer.stimulus.concurrency
    doc = json.loads(GENAI_PERF.read_text())
    doc["input_config"] = {"perf_analyzer": {"stimulus": {"concurrency": 32}}}
    path = tmp_path / "nested.json"
    path.write_text(json.dumps(doc))
    assert read_bench(path).concurrency == 32


@pytest.mark.parametrize(
    "content",
    [
        '{"name": "not a benchmark", "values": [1, 2, 3]}',
        "[1, 2, 3]",
        "{ not json",
        '{"output_throughput": 100.0}',  # vllm-like but incomplete
        '{"output_token_throughput": {"avg": 10}}',  # genai-perf-like but incomplete
    ],
)
def test_read_bench_rejects_non_benchmark_json(tmp_path, content):
    path = tmp_path / "other.json"
    path.write_text(content)
    with pytest.raises(InputFileError) as err:
        read_bench(path)
    assert str(path) in err.value.message


# ---------------------------------------------------------------- fitting an efficiency


def _setup_8b(precision: Precision = Precision.BF16) -> Setup:
    return Setup(CATALOG.model("llama-3.1-8b"), CATALOG.gpu("h100-sxm"), precision, ENGINES[Engine.VLLM], 1)


@pytest.mark.parametrize("path", [VLLM_BENCH, GENAI_PERF], ids=["vllm", "genai-perf"])
def test_fit_efficiency_reproduces_the_measurement(path):
    bench = read_bench(path)
    setup = _setup_8b()
    fitted, before = fit_efficiency(bench, setup, gpus=1)
    assert 0.05 < fitted < 2.0
    assert before > 0
    engine = dataclasses.replace(ENGINES[Engine.VLLM], software_efficiency=fitted)
    s = Setup(setup.model, setup.gpu, setup.precision, engine, 1)
    predicted = steady_state(s, bench.input_tokens, bench.output_tokens, bench.concurrency).output_tokens_per_s
    assert predicted == pytest.approx(bench.output_tokens_per_s, rel=0.01)
    # the fixtures measured a bit more than the bundled vLLM constants predict: the fit raises the efficiency
    assert (fitted > ENGINES[Engine.VLLM].software_efficiency) == (bench.output_tokens_per_s > before)


def test_fit_efficiency_without_concurrency_uses_max_concurrency():
    bench = read_bench(VLLM_BENCH)
    bench = dataclasses.replace(bench, concurrency=None)
    setup = _setup_8b()
    fitted, _ = fit_efficiency(bench, setup, gpus=1)
    engine = dataclasses.replace(ENGINES[Engine.VLLM], software_efficiency=fitted)
    s = Setup(setup.model, setup.gpu, setup.precision, engine, 1)
    c = max_concurrency(s, bench.input_tokens, bench.output_tokens)
    predicted = steady_state(s, bench.input_tokens, bench.output_tokens, c).output_tokens_per_s
    assert predicted == pytest.approx(bench.output_tokens_per_s, rel=0.01)


def test_fit_efficiency_rejects_an_impossible_measurement():
    bench = read_bench(VLLM_BENCH)
    impossible = dataclasses.replace(bench, output_tokens_per_s=1e7)
    with pytest.raises(UsageError):
        fit_efficiency(impossible, _setup_8b(), gpus=1)


def test_rate_limited_benchmark_is_not_fitted_as_capacity(tmp_path):
    # vllm bench serve --request-rate 5: 5 req/s × 200 tokens = 1,000 output tok/s is the offered load, and the
    # 12 ms TPOT says the server was lightly loaded; fitting capacity to 1,000 tok/s would record an efficiency
    # ~4.5× too low (0.15 instead of ~0.7) and make every later estimate that much too slow.
    doc = json.loads(VLLM_BENCH.read_text())
    doc.update(
        request_rate=5.0,
        max_concurrency=None,
        duration=200.0,
        request_throughput=5.0,
        output_throughput=1000.0,
        total_token_throughput=6000.0,
        mean_tpot_ms=12.0,
    )
    path = tmp_path / "rate5.json"
    path.write_text(json.dumps(doc))
    bench = read_bench(path)
    assert bench.request_rate == 5.0 and bench.concurrency is None
    try:
        fitted, _ = fit_efficiency(bench, _setup_8b(), gpus=1)
    except UsageError:
        return  # refusing is fine: a fixed-rate run does not measure capacity
    assert fitted >= 0.5 * ENGINES[Engine.VLLM].software_efficiency


# ---------------------------------------------------------------- saving and loading users' calibrations


def _entry(
    eff: float, model: str | None = "llama-3.1-8b", precision: Precision | None = Precision.BF16, gpu: str = "h100-sxm"
) -> UserCalibration:
    return UserCalibration(
        engine=Engine.VLLM,
        gpu=gpu,
        model=model,
        precision=precision,
        software_efficiency=eff,
        fitted_from=str(VLLM_BENCH),
        measured_output_tokens_per_s=3104.6,
        predicted_before_output_tokens_per_s=2931.8,
        fitted_at=dt.date(2026, 11, 20),
    )


def test_save_then_load_round_trips(tmp_path):
    path = tmp_path / "nested" / "calibration.yaml"
    saved = save_user_calibration(path, _entry(0.7))
    assert path.exists()
    loaded = load_user_calibration(path)
    assert loaded == saved
    assert loaded.calibrations == [_entry(0.7)]


def test_save_replaces_the_entry_with_the_same_key(tmp_path):
    path = tmp_path / "calibration.yaml"
    save_user_calibration(path, _entry(0.7))
    save_user_calibration(path, _entry(0.6, gpu="a100-80gb"))  # a different key: kept
    save_user_calibration(path, _entry(0.9))  # same engine/gpu/model/precision: replaces 0.7
    loaded = load_user_calibration(path).calibrations
    assert len(loaded) == 2
    by_gpu = {c.gpu: c.software_efficiency for c in loaded}
    assert by_gpu == {"h100-sxm": 0.9, "a100-80gb": 0.6}
    # same engine/gpu/model but another precision is another key
    save_user_calibration(path, _entry(0.8, precision=Precision.FP8))
    assert len(load_user_calibration(path).calibrations) == 3


def test_load_missing_default_is_empty(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    assert load_user_calibration(None).calibrations == []


def test_load_invalid_calibration_file_is_an_input_error(tmp_path):
    path = tmp_path / "calibration.yaml"
    path.write_text("schema_version: 1\ncalibrations:\n  - engine: vllm\n    gpu: h100-sxm\n")
    with pytest.raises(InputFileError):
        load_user_calibration(path)


def test_activate_applies_saved_calibrations(tmp_path, clean_user_calibrations):
    path = tmp_path / "calibration.yaml"
    save_user_calibration(path, _entry(0.5, model=None, precision=None))
    activate(load_user_calibration(path))
    assert profile_for(Engine.VLLM, "h100-sxm", "qwen3-32b").software_efficiency == 0.5


def test_calibration_for_another_precision_does_not_apply(tmp_path, clean_user_calibrations):
    path = tmp_path / "calibration.yaml"
    save_user_calibration(path, _entry(0.5, precision=Precision.BF16))
    save_user_calibration(path, _entry(0.9, precision=Precision.FP8))
    activate(load_user_calibration(path))
    report = estimate_report(
        CATALOG.model("llama-3.1-8b"),
        CATALOG.gpu("h100-sxm"),
        Precision.FP8,
        profile_for(Engine.VLLM, "h100-sxm", "llama-3.1-8b", "fp8"),
        1,
        1,
        1000,
        200,
        64,
    )
    assert report.estimate.setup.engine.software_efficiency == 0.9
    report = estimate_report(
        CATALOG.model("llama-3.1-8b"),
        CATALOG.gpu("h100-sxm"),
        Precision.BF16,
        profile_for(Engine.VLLM, "h100-sxm", "llama-3.1-8b", "bf16"),
        1,
        1,
        1000,
        200,
        64,
    )
    assert report.estimate.setup.engine.software_efficiency == 0.5


def test_published_engine_comparisons_are_reproduced_in_their_order(acc):
    """Issue 11: rows measured on the same setup with different engines (the SGLang repo's SGLang-vs-vLLM runs)
    rank the engines as the measurements do."""
    groups: dict[tuple, list] = {}
    for p in acc.predictions:
        r = p.row
        if p.predicted_output_tokens_per_s is None or r.engine is None:
            continue
        groups.setdefault(same_setup(r), []).append(p)
    compared = [ps for ps in groups.values() if len({p.row.engine for p in ps}) > 1]
    assert len(compared) >= 2
    for ps in compared:
        measured = sorted(ps, key=lambda p: p.row.measured_output_tokens_per_s)
        predicted = sorted(ps, key=lambda p: p.predicted_output_tokens_per_s)
        assert [p.row.engine for p in measured] == [p.row.engine for p in predicted], ps[0].row.id


def test_published_tp_scaling_is_reproduced_in_its_order(acc):
    """Issue 11: rows of one source measuring one engine, model and request shape at several tensor-parallel
    degrees (TensorRT-LLM's Llama 3.1 70B at TP2/4/8 on H100, DataCrunch's SGLang at TP4/8 on H200, held out) rank
    per-GPU throughput as the measurements do."""
    groups: dict[tuple, list] = {}
    for p in acc.predictions:
        r = p.row
        if p.predicted_output_tokens_per_s is None or r.tp is None or r.scenario == "online":
            continue
        key = (source_family(r.source), r.engine, r.gpu, r.model, r.precision, r.input_tokens, r.output_tokens)
        groups.setdefault(key, []).append(p)
    scaling = [ps for ps in groups.values() if len({p.row.tp for p in ps}) > 1]
    assert len(scaling) >= 2 and any(ps[0].row.use == "validate" for ps in scaling)

    def per_gpu(p: Any, measured: bool) -> float:
        rate = p.row.measured_output_tokens_per_s if measured else p.predicted_output_tokens_per_s
        return rate / p.row.gpus

    for ps in scaling:
        measured = [p.row.tp for p in sorted(ps, key=lambda p: per_gpu(p, True))]
        predicted = [p.row.tp for p in sorted(ps, key=lambda p: per_gpu(p, False))]
        assert measured == predicted, [p.row.id for p in ps]


def test_ttft_is_scored_where_the_run_measured_it_and_not_for_offline_runs(acc):
    """Issue 11: `selfhost accuracy` shows TTFT beside throughput and TPOT. An offline run's TTFT is the queue of
    every request sent at once, so it is not predicted; a server row's is taken at the batch it held."""
    scored = [p for p in acc.predictions if p.ttft_error_pct is not None]
    assert acc.held_out.ttft_rows >= 20 and acc.fitted.ttft_rows >= 5
    assert all(p.row.scenario != "offline" for p in scored)
    offline = [p for p in acc.predictions if p.row.scenario == "offline" and p.row.measured_ttft_ms]
    assert offline and all(p.predicted_ttft_ms is None for p in offline)
    h200 = next(p for p in acc.predictions if p.row.id == "m41-nvidia-h200x8-llama2-70b-server")
    assert h200.predicted_ttft_ms is not None and h200.predicted_ttft_ms < h200.row.measured_ttft_ms  # no queue wait

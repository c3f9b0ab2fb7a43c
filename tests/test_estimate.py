"""estimate.py: bytes, KV cache, MoE reads, step times, memory fit, the ideal engine vs our H100 measurements."""

from __future__ import annotations

import math
from importlib import resources

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from selfhost_cli.catalog import bundled
from selfhost_cli.deploy.deployment import estimate_deployment
from selfhost_cli.deploy.engines import ENGINES
from selfhost_cli.deploy.estimate import memory, step
from selfhost_cli.deploy.params import (
    BYTES_PER_WEIGHT,
    decode_weight_bytes,
    experts_touched,
    kv_bytes_per_token_per_gpu,
    param_split,
    weight_bytes,
)
from selfhost_cli.deploy.replica import Setup
from selfhost_cli.enums import Engine, Precision
from selfhost_cli.report import estimate_report

CATALOG = bundled()


def model(model_id: str):
    return CATALOG.model(model_id)


def gpu(gpu_id: str):
    return CATALOG.gpu(gpu_id)


def setup(
    model_id: str,
    gpu_id: str = "h100-sxm",
    precision: Precision = Precision.BF16,
    engine: Engine = Engine.VLLM,
    tp: int = 1,
) -> Setup:
    return Setup(model(model_id), gpu(gpu_id), precision, ENGINES[engine], tp)


# ---------------------------------------------------------------- bytes per weight and weight bytes


def test_bytes_per_weight_covers_every_precision():
    assert set(BYTES_PER_WEIGHT) == set(Precision)


@pytest.mark.parametrize(
    ("precision", "expected"),
    [
        (Precision.BF16, 2.0),
        (Precision.FP16, 2.0),
        (Precision.FP8, 1.0),
        (Precision.INT8, 1.0),
        (Precision.INT4, 4.5 / 8),  # 4 bits + group scales/zeros: 4.5 bits = 0.5625 B
        (Precision.FP4, 4.25 / 8),  # MXFP4: 4 bits + one 8-bit scale per 32 weights = 4.25 bits
    ],
)
def test_bytes_per_weight_values(precision, expected):
    assert BYTES_PER_WEIGHT[precision] == pytest.approx(expected)


def test_weight_bytes_llama_3_1_8b_bf16_is_about_16_gb():
    # 8.03e9 params × 2 B = 16.06e9 B: at bf16 every weight, tables included, is 2 bytes.
    m = model("llama-3.1-8b")
    assert weight_bytes(m, Precision.BF16) == pytest.approx(8.03e9 * 2, rel=1e-9)
    assert weight_bytes(m, Precision.BF16) / 1e9 == pytest.approx(16.06, abs=0.01)


def test_weight_bytes_fp8_is_half_plus_16_bit_embeddings():
    # Tables: embedding + untied lm_head = 2 × 128,256 × 4,096 = 1,050,673,152 params.
    # body = 8.03e9 − 1,050,673,152 = 6,979,326,848 params.
    # fp8: body × 1 B + tables × 2 B = 6,979,326,848 + 2,101,346,304 = 9,080,673,152 B
    #    = bf16 / 2 (8.03e9) + tables × 1 B extra (1,050,673,152).
    m = model("llama-3.1-8b")
    tables = 2 * 128_256 * 4_096
    assert tables == 1_050_673_152
    assert weight_bytes(m, Precision.FP8) == pytest.approx(9_080_673_152, rel=1e-9)
    assert weight_bytes(m, Precision.FP8) == pytest.approx(weight_bytes(m, Precision.BF16) / 2 + tables, rel=1e-9)
    assert 0.5 < weight_bytes(m, Precision.FP8) / weight_bytes(m, Precision.BF16) < 0.6


def test_param_split_adds_back_to_the_published_total():
    for m in CATALOG.models.values():
        split = param_split(m)
        tables = split.embedding + (0 if m.tied_embeddings else split.lm_head)
        total = split.body + split.routed_experts + tables
        # body is floored at 5% of the total; otherwise the split is exact
        assert total >= m.params_total_b * 1e9 * (1 - 1e-9), m.id


@pytest.mark.parametrize("model_id", sorted(CATALOG.models))
def test_weight_bytes_fall_with_precision(model_id):
    m = model(model_id)
    assert weight_bytes(m, Precision.BF16) > weight_bytes(m, Precision.FP8) > weight_bytes(m, Precision.INT4)
    assert weight_bytes(m, Precision.INT4) > weight_bytes(m, Precision.FP4) > 0


# ---------------------------------------------------------------- KV cache per token


def test_kv_bytes_gqa_llama_3_1_8b():
    # 2 (K and V) · 32 layers · 8 KV heads · 128 head dim · 2 B = 131,072 B per token
    m = model("llama-3.1-8b")
    assert 2 * 32 * 8 * 128 * 2 == 131_072
    assert kv_bytes_per_token_per_gpu(m, 1, 2.0, 4096) == 131_072
    # the heads split over TP: TP2 → 4 heads per GPU, TP8 → 1 head per GPU
    assert kv_bytes_per_token_per_gpu(m, 2, 2.0, 4096) == 65_536
    assert kv_bytes_per_token_per_gpu(m, 8, 2.0, 4096) == 16_384
    # fp8 KV cache halves it
    assert kv_bytes_per_token_per_gpu(m, 1, 1.0, 4096) == 65_536


def test_kv_bytes_gqa_replicated_once_tp_exceeds_kv_heads():
    # 8 KV heads over 16 GPUs: each GPU still holds one whole head (replicated), same as TP8
    m = model("llama-3.1-8b")
    assert kv_bytes_per_token_per_gpu(m, 16, 2.0, 4096) == kv_bytes_per_token_per_gpu(m, 8, 2.0, 4096) == 16_384


def test_kv_bytes_gqa_do_not_depend_on_context_without_a_window():
    m = model("llama-3.1-8b")
    assert kv_bytes_per_token_per_gpu(m, 1, 2.0, 1) == kv_bytes_per_token_per_gpu(m, 1, 2.0, 100_000)
    assert kv_bytes_per_token_per_gpu(m, 1, 2.0, 0) == 0.0


def test_kv_bytes_mla_deepseek_v3_not_divided_by_tp():
    # MLA: 61 layers · (kv_lora_rank 512 + rope dim 64) · 2 B = 70,272 B, the same latent on every GPU
    m = model("deepseek-v3")
    assert 61 * (512 + 64) * 2 == 70_272
    for tp in (1, 2, 8, 16):
        assert kv_bytes_per_token_per_gpu(m, tp, 2.0, 4096) == pytest.approx(70_272)


def test_kv_bytes_sliding_window_caps_gemma_3_27b():
    # gemma-3-27b: 62 layers, 52 of them with a 1,024-token window; 16 KV heads × 128 dim.
    # full attention: 2 · 62 · 16 · 128 · 2 = 507,904 B/token.
    # at 32,768 tokens: layers per token = 10 + 52 · 1,024 / 32,768 = 11.625
    # → 2 · 11.625 · 16 · 128 · 2 = 95,232 B/token.
    m = model("gemma-3-27b")
    full = 2 * 62 * 16 * 128 * 2
    assert full == 507_904
    at_32k = kv_bytes_per_token_per_gpu(m, 1, 2.0, 32_768)
    assert at_32k == pytest.approx(95_232)
    assert at_32k < full
    # within the window nothing is capped
    assert kv_bytes_per_token_per_gpu(m, 1, 2.0, 1_024) == pytest.approx(full)


# ---------------------------------------------------------------- MoE


def test_experts_touched_worked_example():
    # 8 experts, top-2, 2 tokens: 8 · (1 − (1 − 2/8)²) = 8 · (1 − 0.5625) = 3.5
    assert experts_touched(8, 2, 2) == pytest.approx(3.5)
    assert experts_touched(8, 2, 0) == 0.0


@pytest.mark.parametrize(("experts", "top_k"), [(8, 2), (16, 1), (128, 8), (256, 8)])
def test_experts_touched_at_one_token_is_top_k_and_approaches_all(experts, top_k):
    assert experts_touched(experts, top_k, 1) == pytest.approx(top_k)
    assert experts_touched(experts, top_k, 100_000) == pytest.approx(experts, rel=1e-6)


@given(experts=st.integers(2, 512), data=st.data(), tokens=st.floats(0.5, 1e4))
def test_experts_touched_bounded_and_monotone(experts, data, tokens):
    top_k = data.draw(st.integers(1, experts))
    touched = experts_touched(experts, top_k, tokens)
    assert touched <= min(experts, top_k * max(tokens, 1)) * (1 + 1e-9)
    assert experts_touched(experts, top_k, tokens * 2) >= touched - 1e-9


def test_moe_decode_reads_more_weights_as_batch_grows():
    m = model("deepseek-v3")
    reads = [decode_weight_bytes(m, Precision.FP8, b) for b in (1, 8, 64, 256, 4096)]
    assert reads == sorted(reads) and len(set(reads)) == len(reads)
    # one token reads top-8 of 256 experts; a huge batch reads (almost) every expert,
    # but never more than the weights held (the input table is looked up, not streamed)
    assert reads[0] < 0.15 * weight_bytes(m, Precision.FP8)
    assert reads[-1] <= weight_bytes(m, Precision.FP8)


def test_dense_decode_reads_do_not_depend_on_batch():
    m = model("llama-3.1-8b")
    assert decode_weight_bytes(m, Precision.BF16, 1) == decode_weight_bytes(m, Precision.BF16, 256)


# ---------------------------------------------------------------- step time


STEP_SETUPS = {
    "llama-3.1-8b bf16 vllm": lambda: setup("llama-3.1-8b"),
    "llama-3.1-70b fp8 trtllm tp4": lambda: setup("llama-3.1-70b", precision=Precision.FP8, engine=Engine.TRTLLM, tp=4),
    "qwen3-30b-a3b (MoE) fp8": lambda: setup("qwen3-30b-a3b", precision=Precision.FP8),
    "deepseek-v3 (MLA) fp8 h200 tp8": lambda: setup("deepseek-v3", "h200", Precision.FP8, tp=8),
    "gemma-3-27b (window) bf16 sglang": lambda: setup("gemma-3-27b", engine=Engine.SGLANG),
}


@pytest.mark.parametrize("name", sorted(STEP_SETUPS))
@settings(max_examples=25, deadline=None)
@given(batch=st.integers(1, 512), extra=st.integers(1, 512), ctx=st.integers(1, 32_768), more=st.integers(1, 32_768))
def test_step_time_monotone_in_batch_and_context(name, batch, extra, ctx, more):
    s = STEP_SETUPS[name]()
    base = step(s, batch, ctx).total_ms
    assert base > 0
    assert step(s, batch + extra, ctx).total_ms >= base * (1 - 1e-12)
    assert step(s, batch, ctx + more).total_ms >= base * (1 - 1e-12)


def test_step_breakdown_adds_up():
    s = setup("llama-3.1-70b", precision=Precision.FP8, engine=Engine.TRTLLM, tp=4)
    st_ = step(s, 64, 2048)
    assert st_.total_ms == pytest.approx(st_.overlap_ms + st_.overhead_ms + st_.communication_ms)
    # the overlap is never shorter than either part alone, never longer than both in series
    assert max(st_.memory_ms, st_.compute_ms) <= st_.overlap_ms <= st_.memory_ms + st_.compute_ms
    assert st_.communication_ms > 0  # TP4 all-reduces
    assert step(setup("llama-3.1-8b", tp=1), 64, 2048).communication_ms == 0.0  # one GPU: nothing to all-reduce


# ---------------------------------------------------------------- the ideal engine vs our H100 measurements


def _limits() -> dict:
    ref = resources.files("selfhost_cli").joinpath("data", "gpu_limits.yaml")
    return yaml.safe_load(ref.read_text(encoding="utf-8"))


DECODE_ROWS = _limits()["decode"]


def _row_id(row: dict) -> str:
    return f"{row['gpu']}-{row['shape']}-{row['precision']}-b{row['batch']}-ctx{row['ctx']}-{row['step_ms']}ms"


def test_decode_rows_present():
    assert len(DECODE_ROWS) >= 20


@pytest.mark.parametrize("row", DECODE_ROWS, ids=[_row_id(r) for r in DECODE_ROWS])
def test_ideal_engine_matches_measured_decode_step(row):
    s = Setup(model(row["shape"]), gpu(row["gpu"]), Precision(row["precision"]), ENGINES[Engine.IDEAL], 1)
    predicted = step(s, row["batch"], row["ctx"]).total_ms
    assert predicted == pytest.approx(row["step_ms"], rel=0.10), f"predicted {predicted:.2f} ms"


@pytest.mark.parametrize("row", DECODE_ROWS, ids=[_row_id(r) for r in DECODE_ROWS])
def test_kv_bytes_match_the_measurement_table(row):
    # kv_gb = batch · ctx · KV bytes per token (bf16 KV in every row, fp8 ones included)
    m = model(row["shape"])
    kv_gb = row["batch"] * row["ctx"] * kv_bytes_per_token_per_gpu(m, 1, 2.0, row["ctx"]) / 1e9
    assert kv_gb == pytest.approx(row["kv_gb"], rel=0.01, abs=0.006)


@pytest.mark.parametrize(
    "row",
    [r for r in DECODE_ROWS if r["precision"] == "bf16"],
    ids=[_row_id(r) for r in DECODE_ROWS if r["precision"] == "bf16"],
)
def test_bf16_weight_bytes_match_the_measurement_table(row):
    # bf16: every parameter at 2 B (the table's fp8 rows count params × 1 B and leave the 16-bit tables out,
    # so only the bf16 rows are comparable)
    assert weight_bytes(model(row["shape"]), Precision.BF16) / 1e9 == pytest.approx(row["weights_gb"], rel=0.01)


# ---------------------------------------------------------------- memory


def test_memory_worked_example_llama_3_1_8b_on_h100_vllm():
    # 80 GiB = 85.899 GB; vLLM keeps 10% back → 77.309 GB usable; weights 16.06 GB → 61.249 GB of KV cache.
    # A 1,000-in/200-out request holds on average 1,000 + 100 = 1,100 tokens × 131,072 B = 0.14418 GB.
    # 61.249 / 0.14418 = 424.8 → 424 sequences.
    mem = memory(setup("llama-3.1-8b"), 1000, 200)
    assert mem.gpu_gb == pytest.approx(80 * 2**30 / 1e9)
    assert mem.usable_gb == pytest.approx(0.9 * 80 * 2**30 / 1e9)
    assert mem.weights_gb == pytest.approx(16.06)
    assert mem.kv_cache_gb == pytest.approx(61.2494, abs=1e-3)
    assert mem.kv_per_sequence_gb == pytest.approx(1100 * 131_072 / 1e9)
    assert mem.max_sequences == 424
    assert mem.fits


def test_trtllm_kv_pool_is_a_share_of_the_memory_the_weights_leave():
    # TensorRT-LLM: KV = 0.9 × (device − weights); vLLM: KV = 0.9 × device − weights. 70B FP8 on one 80 GB H100.
    s = Setup(model("llama-3.1-70b"), gpu("h100-sxm"), Precision.FP8, ENGINES[Engine.TRTLLM], 1)
    v = Setup(model("llama-3.1-70b"), gpu("h100-sxm"), Precision.FP8, ENGINES[Engine.VLLM], 1)
    trt, vllm = memory(s, 128, 128), memory(v, 128, 128)
    device = 80 * 2**30 / 1e9
    assert trt.kv_cache_gb == pytest.approx(0.9 * (device - trt.weights_gb))
    assert vllm.kv_cache_gb == pytest.approx(0.9 * device - vllm.weights_gb)
    assert trt.kv_cache_gb > 2 * vllm.kv_cache_gb  # weights fill the card: the two rules differ most here
    assert trt.reserve_gb == pytest.approx(device - trt.weights_gb - trt.kv_cache_gb)


def test_concurrency_beyond_the_engine_batch_limit_queues_and_says_so():
    report = estimate_report(
        model("llama-3.1-8b"), gpu("h100-sxm"), Precision.FP8, ENGINES[Engine.LLAMA_CPP], 1, 1, 1000, 200, 32
    )
    assert report.estimate.running == ENGINES[Engine.LLAMA_CPP].max_batch
    assert any("wait" in w and "at most 8" in w for w in report.warnings)
    capped = estimate_report(
        model("llama-3.1-8b"), gpu("h100-sxm"), Precision.FP8, ENGINES[Engine.LLAMA_CPP], 1, 1, 1000, 200, 8
    )
    assert report.estimate.output_tokens_per_s == pytest.approx(capped.estimate.output_tokens_per_s)


def test_405b_bf16_does_not_fit_one_h100():
    mem = memory(setup("llama-3.1-405b"), 1000, 200)
    assert mem.weights_gb == pytest.approx(810, rel=0.01)  # 405e9 × 2 B
    assert not mem.fits and mem.max_sequences == 0


def test_405b_fits_tp8_in_fp8_but_not_in_bf16():
    # fp8: ~409 GB / 8 = 51 GB per GPU of 77 GB usable; bf16: 810 GB / 8 = 101 GB per GPU
    assert memory(setup("llama-3.1-405b", precision=Precision.FP8, tp=8), 1000, 200).fits
    assert not memory(setup("llama-3.1-405b", precision=Precision.BF16, tp=8), 1000, 200).fits


def test_estimate_deployment_says_why_not():
    est = estimate_deployment(setup("llama-3.1-405b"), 1, 1000, 200, None)
    assert est.fits is False
    assert est.why_not and "GB of weights" in est.why_not
    assert est.state is None and est.output_tokens_per_s == 0.0


def test_estimate_deployment_too_few_gpus_for_one_replica():
    est = estimate_deployment(setup("llama-3.1-8b", tp=8), 4, 1000, 200, None)
    assert est.fits is False
    assert "cannot hold one TP8 replica" in (est.why_not or "")


def test_estimate_deployment_concurrency_beyond_memory_is_flagged():
    s = setup("llama-3.1-8b")
    est = estimate_deployment(s, 1, 1000, 200, 10_000)
    assert est.fits is False and "KV" in (est.why_not or "")


def test_estimate_deployment_replicas_multiply_throughput():
    s = setup("llama-3.1-8b", precision=Precision.FP8)
    one = estimate_deployment(s, 1, 1000, 200, 64)
    four = estimate_deployment(s, 4, 1000, 200, 256)
    assert four.replicas == 4
    assert four.output_tokens_per_s == pytest.approx(4 * one.output_tokens_per_s)
    assert four.output_tokens_per_s_per_gpu == pytest.approx(one.output_tokens_per_s_per_gpu)


# published TensorRT-LLM 0.17 perf overview (published-measurements.md T17): Llama-3.1-70B FP8 on H100,
# 128 in / 2048 out, max throughput: 3,085 / 2,878 / 2,133 output tok/s per GPU at TP2 / TP4 / TP8
PUBLISHED_PER_GPU = {2: 3085, 4: 2878, 8: 2133}


def _per_gpu_70b(tp: int) -> float:
    s = setup("llama-3.1-70b", precision=Precision.FP8, engine=Engine.TRTLLM, tp=tp)
    est = estimate_deployment(s, tp, 128, 2048, None)
    assert est.fits, est.why_not
    return est.output_tokens_per_s_per_gpu


def test_output_per_gpu_falls_as_tp_rises_llama_70b_fp8_trtllm():
    per_gpu = {tp: _per_gpu_70b(tp) for tp in (2, 4, 8)}
    assert per_gpu[2] > per_gpu[4] > per_gpu[8]


@pytest.mark.parametrize("tp", sorted(PUBLISHED_PER_GPU))
def test_output_per_gpu_near_published_trtllm(tp):
    assert _per_gpu_70b(tp) == pytest.approx(PUBLISHED_PER_GPU[tp], rel=0.25)


# ---------------------------------------------------------------- report.estimate_report chooses the layout


def test_estimate_report_picks_smallest_fitting_tp():
    r = estimate_report(
        model("llama-3.1-405b"), gpu("h100-sxm"), Precision.FP8, ENGINES[Engine.VLLM], None, None, 1000, 200, None
    )
    assert r.estimate.setup.tp == 8 and r.estimate.fits
    r = estimate_report(
        model("llama-3.1-8b"), gpu("h100-sxm"), Precision.BF16, ENGINES[Engine.VLLM], None, None, 1000, 200, None
    )
    assert r.estimate.setup.tp == 1 and r.estimate.fits


def test_estimate_report_payload_band_matches_expected_error():
    r = estimate_report(
        model("llama-3.1-8b"), gpu("h100-sxm"), Precision.BF16, ENGINES[Engine.VLLM], 1, 1, 1000, 200, 64
    )
    p = r.payload()
    band = p["output_tokens_per_s_band"]
    err = ENGINES[Engine.VLLM].expected_error_pct / 100
    assert band["low"] == pytest.approx(p["output_tokens_per_s"] * (1 - err), abs=0.2)
    assert band["high"] == pytest.approx(p["output_tokens_per_s"] * (1 + err), abs=0.2)
    assert p["fits"] is True and p["why_not"] is None
    assert math.isfinite(p["tpot_ms"]) and p["tpot_ms"] > 0


def test_a_power_capped_board_is_slower_only_where_compute_binds():
    """The H100 NVL is the H100 SXM's die at 400 W: its matmuls run at 0.68 of its spec rate, its weight streaming
    at its own 3.9 TB/s. A big batch (compute-bound) slows; a single stream (memory-bound) does not."""
    nvl = setup("llama-2-70b", "h100-nvl", Precision.FP8, Engine.TRTLLM)
    uncapped = Setup(nvl.model, nvl.gpu.model_copy(update={"full_power": None}), nvl.precision, nvl.engine, nvl.tp)
    assert nvl.compute_tflops == pytest.approx(1670.5 * 0.6764, rel=1e-3)
    big, single = (
        (step(s, 512, 400, prefill_tokens=400) for s in (nvl, uncapped)),
        (step(s, 1, 400) for s in (nvl, uncapped)),
    )
    capped_big, free_big = big
    assert capped_big.compute_ms == pytest.approx(free_big.compute_ms / 0.6764, rel=1e-3)
    assert capped_big.total_ms > 1.2 * free_big.total_ms
    capped_one, free_one = single
    assert capped_one.total_ms == pytest.approx(free_one.total_ms, rel=0.02)


def test_4_bit_tensor_cores_run_at_their_own_fitted_efficiency():
    """Blackwell FP4 matmuls at prefill_efficiency_4bit of the FP4 peak (fitted to TensorRT-LLM 1.0's FP4 rows), not
    at the 8-bit efficiency; FP4 weights on a GPU without FP4 tensor cores compute at 16 bits as before."""
    from selfhost_cli.deploy.engines import HARDWARE

    b200 = setup("llama-3.3-70b", "b200", Precision.FP4, Engine.TRTLLM)
    assert b200.compute_precision is Precision.FP4 and HARDWARE.prefill_efficiency_4bit is not None
    assert b200.prefill_efficiency == HARDWARE.prefill_efficiency_4bit
    assert setup("llama-3.3-70b", "b200", Precision.FP8, Engine.TRTLLM).prefill_efficiency == (
        HARDWARE.prefill_efficiency_8bit
    )
    h100 = setup("gpt-oss-20b", "h100-sxm", Precision.FP4, Engine.VLLM)
    assert h100.compute_precision is Precision.BF16 and h100.prefill_efficiency == HARDWARE.prefill_efficiency

"""Serving engines as named sets of efficiency constants, each with where it came from.

Two layers, so that the physics is calibrated once and the software on top of it separately:

* `HARDWARE` — how close a kernel stack with no serving software gets to a GPU's spec sheet,
  fitted to our own H100 measurements (selfhost_cli/data/gpu_limits.yaml) by
  `scripts/fit_constants.py`. This *is* the `ideal` engine.
* `ENGINES` — per serving engine: a software efficiency factor on the hardware figures, a fixed
  per-step cost (scheduler, sampling, detokenize), the KV-cache format and batch limits, fitted to
  the published measurements in `selfhost_cli/data/calibration.yaml` by the same script.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from selfhost_cli.enums import DraftMethod, Engine, Precision


@dataclass(frozen=True)
class Hardware:
    """Achievable fractions of spec-sheet peaks, and fixed per-layer kernel costs (the ideal engine)."""

    mem_efficiency: float  # share of spec HBM bandwidth reached streaming weights and KV cache
    prefill_efficiency: float  # share of dense peak TFLOPS reached by prefill matmuls, 16-bit
    prefill_efficiency_8bit: float  # the same at fp8/int8 (scaling and quantize kernels cost more)
    decode_compute_efficiency: float  # share of peak reached by decode-batch matmuls (small M)
    overlap_p: float  # step = (t_mem^p + t_compute^p)^(1/p): how memory and compute time overlap
    per_layer_ms: float  # launch/sync cost per transformer layer per step, 16-bit weights
    per_layer_quantized_ms: float  # the same with fp8/int8/4-bit weights (scale + quantize kernels)
    allreduce_latency_us: float  # fixed cost of one tensor-parallel all-reduce over NVLink/xGMI
    pcie_allreduce_latency_us: float  # the same over PCIe (no NVLink)
    link_efficiency: float  # share of the GPU link's bandwidth an all-reduce achieves (NCCL bus bandwidth)
    moe_efficiency: float  # expert (grouped) GEMMs relative to dense GEMMs: few tokens per expert
    unified_memory_efficiency: float  # Apple silicon: share of spec bandwidth the GPU reaches
    # The same on 4-bit tensor cores (Blackwell NVFP4/MXFP4, block scales), relative to the FP4 peak; fitted to the
    # TensorRT-LLM perf overview's Blackwell FP4 rows (the only 4-bit tensor-core rows fitted). None: the 8-bit figure.
    prefill_efficiency_4bit: float | None = None
    # Beyond one node (not fitted: no multi-node row of our own; see docs/method.md, "Layouts"):
    scale_out_efficiency: float = 0.8  # share of the NIC rate RDMA all-to-all reaches (DeepEP: 39-46 of 50 GB/s)
    scale_out_latency_us: float = 25.0  # fixed cost of one cross-node transfer (DeepEP EP16 dispatch 118 µs
    #                                     for 128 tokens, ~92 µs of which is bytes at 40 GB/s)


@dataclass(frozen=True)
class Speculation:
    """Speculative decoding: each step drafts `draft_tokens` per sequence, the target model checks them in one
    forward pass, and `acceptance_length` tokens come out on average (the accepted drafts plus the target's own
    next token, so 1 <= acceptance_length <= draft_tokens + 1). How many are accepted depends on the task, the
    draft and the sampling temperature: it is the deployment's measured figure, never a default."""

    method: DraftMethod
    draft_tokens: int
    acceptance_length: float

    def __post_init__(self) -> None:
        if not 1 <= self.acceptance_length <= self.draft_tokens + 1:
            raise ValueError(
                f"acceptance_length {self.acceptance_length:g} must lie between 1 and draft_tokens + 1 "
                f"({self.draft_tokens + 1})"
            )

    @property
    def label(self) -> str:
        return f"{self.method.value}, {self.draft_tokens} drafted, {self.acceptance_length:g} accepted per step"


@dataclass(frozen=True)
class EngineProfile:
    """One serving engine's constants; `provenance` says where each came from."""

    engine: Engine
    software_efficiency: float  # multiplies the hardware efficiencies (1.0 = ideal kernels)
    per_step_ms: float  # scheduler, sampling, detokenization per decode step
    reserve_fraction: float  # GPU memory kept back from weights + KV (activations, graphs, fragmentation)
    max_batch: int  # most sequences decoded together by default
    kv_bytes_fp8_weights: float  # KV-cache bytes per value when the weights are 8-bit or less
    expected_error_pct: float  # the error to expect on a new setup: the held-out median (selfhost accuracy)
    provenance: str
    error_basis: str = ""  # what expected_error_pct is the median of
    quantized_lm_head: bool = False  # GGUF quantizes lm_head with the weights (Q6_K in Q4_K_M files)
    prefix_cache: bool = True  # reuses the KV cache of a prompt prefix it has seen (vLLM, SGLang, TRT-LLM, ...)
    # The engine's matmul kernels relative to its memory-bound ones: software_efficiency × compute_ratio scales the
    # hardware's compute efficiencies (a kernel library's GEMMs and its attention/weight streaming differ: TRT-LLM's
    # FP8 GEMMs run faster than the per-tensor-scaled FP8 matmuls our hardware figures were measured with). Fitted.
    compute_ratio: float = 1.0
    # reserve_fraction is of the memory left after the weights (TensorRT-LLM's free_gpu_memory_fraction), not of the
    # whole card (vLLM's gpu_memory_utilization, SGLang's mem_fraction_static): it matters when weights fill the card.
    reserve_of_free: bool = False
    speculation: Speculation | None = None  # the deployment runs speculative decoding (a profile or CLI choice)


# NOTE: fitted by scripts/fit_constants.py to the decode and prefill rows of
# selfhost_cli/data/gpu_limits.yaml (our H100 SXM measurements, Nov 2026); see docs/estimation.md.
HARDWARE = Hardware(
    mem_efficiency=0.91,  # 3.05 TB/s of 3.35; our device copy measured 3.02 TB/s
    prefill_efficiency=0.74,  # measured linear layers 697-749 TFLOP/s of 989 (bf16)
    prefill_efficiency_8bit=0.58,  # measured 1059-1167 of 1979 (fp8, per-tensor scales)
    prefill_efficiency_4bit=0.34,  # fitted: TensorRT-LLM 1.0's Blackwell FP4 rows (B200, GB200, RTX PRO 6000)
    decode_compute_efficiency=0.74,
    overlap_p=2.0,
    per_layer_ms=0.035,
    per_layer_quantized_ms=0.055,
    allreduce_latency_us=30.0,
    pcie_allreduce_latency_us=35.0,
    link_efficiency=0.4,
    moe_efficiency=0.6,
    unified_memory_efficiency=0.9,
)

# NOTE: software_efficiency, per_step_ms and compute_ratio of each engine were fitted to that engine's own
# `use: calibrate` rows of selfhost_cli/data/calibration.yaml by `scripts/fit_constants.py engines --engines-only`
# (2026-12-02): an exhaustive grid minimizing the rows' median plus mean |error|, keeping the published
# same-setup comparisons in their order; per_step_ms only where a fitted row runs a small batch (else it cannot be
# told from the software factor and keeps its value; a rate-limited row's TPOT counts), compute_ratio only with
# 10+ fitted rows. The shared physics
# above (link_efficiency, allreduce_latency_us, moe_efficiency, unified_memory_efficiency) was fitted earlier by
# the same script without `--engines-only` and held here. Whole source families are held out.
# expected_error_pct is the median absolute error on the `use: validate` rows, which the fit never saw: the
# median over every held-out row, or the engine's own when higher (tests/test_calibration.py keeps these equal
# to what `selfhost accuracy` computes). The fitted rows' error (9.8%) would understate it. TGI's per_step_ms
# (8 ms) and llama.cpp's compute_ratio (0.7) sit at the ends of the plausible ranges the grid allows: the model
# misses something there (TGI 1.0.3's Python router at 50-token outputs; llama.cpp's prompt kernels).
ENGINES: dict[Engine, EngineProfile] = {
    Engine.IDEAL: EngineProfile(
        engine=Engine.IDEAL,
        software_efficiency=1.0,
        per_step_ms=0.0,
        reserve_fraction=0.03,
        max_batch=4096,
        kv_bytes_fp8_weights=2.0,
        expected_error_pct=5.5,
        error_basis="median of the 26 H100 decode and prefill measurements it was fitted to (gpu_limits.yaml)",
        provenance="our H100 measurements (selfhost_cli/data/gpu_limits.yaml): CUDA-graph decode of Llama-shaped "
        "stacks, no serving software",
    ),
    Engine.VLLM: EngineProfile(
        engine=Engine.VLLM,
        software_efficiency=0.68,
        per_step_ms=1.0,
        # NOTE: vLLM's default gpu_memory_utilization is 0.9.
        reserve_fraction=0.10,
        max_batch=256,
        kv_bytes_fp8_weights=2.0,
        expected_error_pct=14.5,
        error_basis="held-out median of 13 vllm rows",
        provenance="fitted to the vllm calibration rows (SGLang repo's vLLM 0.6 runs, vLLM blog Intel Arc B60); "
        "MLPerf v4.1 AMD MI300X held out",
    ),
    Engine.SGLANG: EngineProfile(
        engine=Engine.SGLANG,
        software_efficiency=0.64,
        per_step_ms=0.0,
        # NOTE: SGLang's default mem_fraction_static is about 0.88 on 80 GB GPUs.
        reserve_fraction=0.12,
        max_batch=512,
        kv_bytes_fp8_weights=2.0,
        expected_error_pct=12.6,
        error_basis="held-out median of 10 sglang rows",
        provenance="fitted to the sglang calibration rows (SGLang repo benchmark_vllm_060); its batch-1 row "
        "(EAGLE-3 paper) and DataCrunch's H200 runs held out",
    ),
    Engine.TRTLLM: EngineProfile(
        engine=Engine.TRTLLM,
        software_efficiency=0.6,
        compute_ratio=1.6,
        per_step_ms=1.0,
        # NOTE: KvCacheConfig.free_gpu_memory_fraction defaults to 0.9 of the memory free after loading the model
        # (https://nvidia.github.io/TensorRT-LLM/examples/kvcacheconfig.html); activations come out of the rest.
        reserve_fraction=0.10,
        reserve_of_free=True,
        max_batch=2048,
        # NOTE: NVIDIA's MLPerf and trtllm-bench FP8 runs use an FP8 KV cache.
        kv_bytes_fp8_weights=1.0,
        expected_error_pct=11.5,
        error_basis="held-out median of all 60 rows (trtllm's own 10.2% on 30)",
        provenance="fitted to the trtllm calibration rows (TensorRT-LLM 0.17 perf overview; 1.0's Blackwell FP4 rows "
        "fit the 4-bit efficiency); MLPerf v4.0/v4.1/v5.0 held out",
    ),
    Engine.TGI: EngineProfile(
        engine=Engine.TGI,
        software_efficiency=0.44,
        per_step_ms=8.0,
        reserve_fraction=0.10,
        max_batch=256,
        kv_bytes_fp8_weights=2.0,
        expected_error_pct=34.8,
        error_basis="held-out median of 3 tgi rows",
        provenance="fitted to the tgi calibration rows (TGI 1.0.3 on A10G/A100, "
        "philschmid/text-generation-inference-tests); dstack's TGI runs on 8 x MI300X held out",
    ),
    Engine.LLAMA_CPP: EngineProfile(
        engine=Engine.LLAMA_CPP,
        software_efficiency=0.94,
        compute_ratio=0.7,
        per_step_ms=4.0,
        reserve_fraction=0.05,
        max_batch=8,
        kv_bytes_fp8_weights=2.0,
        quantized_lm_head=True,
        expected_error_pct=11.5,
        error_basis="held-out median of all 60 rows (llama.cpp's own 3.7% on 4)",
        provenance="fitted to the llama.cpp calibration rows (GPU-Benchmarks-on-LLM-Inference); PR #2917 Apple rows "
        "held out",
        # NOTE: llama-server reuses a slot's own previous prompt only, not a shared prefix cache across requests.
        prefix_cache=False,
    ),
    Engine.LMDEPLOY: EngineProfile(
        engine=Engine.LMDEPLOY,
        software_efficiency=0.82,
        per_step_ms=0.0,
        reserve_fraction=0.10,
        max_batch=256,
        kv_bytes_fp8_weights=2.0,
        expected_error_pct=11.5,
        error_basis="held-out median of all 60 rows (lmdeploy has 0)",
        provenance="fitted to the lmdeploy calibration rows (InternLM/lmdeploy A100 benchmark); no family held out",
    ),
}


# A precision whose own held-out rows show more error than the whole held-out set is stated at its own median, when
# that is above the engine's figure (tests/test_calibration.py keeps this equal to calibration.precision_errors).
# FP4's held-out rows are NVIDIA's Blackwell MLPerf runs: its tuned harness runs Llama 2 70B 10-22% faster than the
# 4-bit efficiency fitted to TensorRT-LLM 1.0's perf overview, and which layers the submissions kept in FP8 is not
# published. BF16's are DataCrunch's SGLang runs on H200 (4,096-token prompts over-predicted by 15-45%) and dstack's TGI
# runs on MI300X (14-48%).
PRECISION_ERRORS: dict[Precision, tuple[float, str]] = {
    Precision.BF16: (13.6, "held-out median of 12 bf16 rows"),
    Precision.FP4: (13.8, "held-out median of 9 fp4 rows"),
}


def stated_error(engine: EngineProfile, precision: Precision) -> tuple[float, str]:
    """The error to state for an engine at a precision, with its basis: the engine's held-out figure, or the
    precision's own when that is higher."""
    own = PRECISION_ERRORS.get(precision)
    if own is not None and own[0] > engine.expected_error_pct:
        pct, basis = own
    else:
        pct, basis = engine.expected_error_pct, engine.error_basis
    if engine.speculation:
        basis += SPECULATION_BASIS
    return pct, basis


# Speculative decoding has no absolute row in the calibration set: its model is checked against the published
# speedups over the same engine without it (docs/estimation.md, tests/test_speculative.py).
SPECULATION_BASIS = "; speculative decoding: published speedups reproduced within 14%, not scored on rows of its own"


@dataclass(frozen=True)
class Calibration:
    """A user's fitted software efficiency for an engine on a GPU (optionally one model, one precision)."""

    engine: Engine
    gpu: str
    model: str | None
    precision: str | None
    software_efficiency: float


@dataclass(frozen=True)
class EngineSet:
    """The engine constants in force: the bundled ones plus users' calibrations. A value passed in by the
    CLI, never module state, so that the core is deterministic given its arguments."""

    calibrations: tuple[Calibration, ...] = ()

    def profile(
        self, engine: Engine, gpu_id: str | None = None, model_id: str | None = None, precision: str | None = None
    ) -> EngineProfile:
        """The constants for an engine, with a user calibration for this GPU (model, precision) applied if one
        exists; the most specific match wins (model and precision over GPU-wide)."""
        base = ENGINES[engine]
        matches = [
            c
            for c in self.calibrations
            if c.engine is engine
            and c.gpu == gpu_id
            and c.model in (None, model_id)
            and c.precision in (None, precision)
        ]
        if not matches:
            return base
        best = max(matches, key=lambda c: (c.model is not None, c.precision is not None))
        return replace(
            base,
            software_efficiency=best.software_efficiency,
            provenance=f"user calibration for {engine.value} on {gpu_id}" + (f" / {best.model}" if best.model else ""),
        )


BUNDLED_ENGINES = EngineSet()

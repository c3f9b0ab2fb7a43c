"""`selfhost estimate`: choose the layout for a model on a GPU, run the estimator, and shape the result."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from selfhost_cli.catalog.schema import GpuSpec, ModelSpec
from selfhost_cli.deploy.deployment import Estimate, estimate_deployment
from selfhost_cli.deploy.engines import EngineProfile, stated_error
from selfhost_cli.deploy.estimate import smallest_fitting_tp, tp_candidates
from selfhost_cli.deploy.replica import Setup
from selfhost_cli.enums import Precision


@dataclass
class EstimateReport:
    estimate: Estimate
    model: ModelSpec
    gpu: GpuSpec
    warnings: list[str] = field(default_factory=list)

    @property
    def error_pct(self) -> float:
        return self.stated_error[0]

    @property
    def stated_error(self) -> tuple[float, str]:
        setup = self.estimate.setup
        return stated_error(setup.engine, setup.precision)

    def payload(self) -> dict[str, Any]:
        """`estimate`'s keys (SPEC §4) plus the layout, the band and the memory breakdown."""
        e, s = self.estimate, self.estimate.setup
        mem = e.memory
        tps = e.output_tokens_per_s
        band = self.error_pct / 100
        step = e.state.step if e.state else None
        return {
            "model": self.model.id,
            "gpu": self.gpu.id,
            "gpus": e.gpus,
            "tp": s.tp,
            "replicas": e.replicas,
            "precision": s.precision.value,
            "engine": s.engine.engine.value,
            "input_tokens": e.input_tokens,
            "output_tokens": e.output_tokens,
            "concurrency": round(e.concurrency, 2),
            # what decodes at once: the concurrency, or the engine's batch limit × replicas when it is lower
            "running_concurrency": round(e.concurrency if e.running is None else e.running, 2),
            "fits": e.fits,
            "why_not": e.why_not,
            "output_tokens_per_s": round(tps, 1),
            "output_tokens_per_s_per_gpu": round(e.output_tokens_per_s_per_gpu, 1),
            "output_tokens_per_s_band": {
                "low": round(tps * (1 - band), 1),
                "expected": round(tps, 1),
                "high": round(tps * (1 + band), 1),
            },
            "expected_error_pct": self.error_pct,
            "expected_error_basis": self.stated_error[1],
            "ttft_ms": None if not e.state else round(e.state.ttft_ms, 2),
            "tpot_ms": None if not e.state else round(e.state.tpot_ms, 2),
            "decode_step_ms": None if e.decode_step_ms is None else round(e.decode_step_ms, 3),
            "step_breakdown_ms": None
            if not step
            else {
                "memory": round(step.memory_ms, 3),
                "compute": round(step.compute_ms, 3),
                "overlapped": round(step.overlap_ms, 3),
                "overhead": round(step.overhead_ms, 3),
                "communication": round(step.communication_ms, 3),
            },
            "memory": {
                "gpu_gb": round(mem.gpu_gb, 2),
                "weights_gb_per_gpu": round(mem.weights_gb, 2),
                "reserve_gb_per_gpu": round(mem.reserve_gb, 2),
                "kv_cache_gb_per_gpu": round(mem.kv_cache_gb, 2),
                "kv_cache_gb_per_sequence": round(mem.kv_per_sequence_gb, 4),
                "max_sequences_per_replica": mem.max_sequences,
            },
            "engine_constants": s.engine.provenance,
            "speculative": None
            if s.engine.speculation is None
            else {
                "method": s.engine.speculation.method.value,
                "draft_tokens": s.engine.speculation.draft_tokens,
                "acceptance_length": s.engine.speculation.acceptance_length,
            },
        }


def estimate_report(
    model: ModelSpec,
    gpu: GpuSpec,
    precision: Precision,
    engine: EngineProfile,
    gpus: int | None,
    tp: int | None,
    input_tokens: float,
    output_tokens: float,
    concurrency: float | None,
) -> EstimateReport:
    base = Setup(model, gpu, precision, engine, tp or 1)
    warnings: list[str] = []
    if tp is None:
        # the smallest TP that holds the load; else the largest allowed, and the estimate says why it fails
        allowed = [t for t in tp_candidates(gpu) if gpus is None or (t <= gpus and gpus % t == 0)] or [1]
        tp = smallest_fitting_tp(base, input_tokens, output_tokens, gpus, concurrency) or allowed[-1]
    if tp > gpu.max_gpus_per_node and gpu.multi_node:
        warnings.append(
            f"TP{tp} spans nodes ({gpu.id} nodes hold {gpu.max_gpus_per_node}): all-reduces cross the "
            f"{gpu.scale_out.kind} network ({gpu.scale_out.gb_per_s:g} GB/s per GPU)"
        )
    setup = Setup(model, gpu, precision, base.engine, tp)
    total = gpus or tp
    if total % tp:
        warnings.append(f"{total} GPUs is not a multiple of TP{tp}: {total % tp} GPU(s) idle")
    if precision not in gpu.tflops_dense and precision not in (Precision.BF16, Precision.FP16):
        warnings.append(
            f"{gpu.id} has no native {precision.value} tensor cores: weights are dequantized and "
            f"computed at {setup.compute_precision.value}"
        )
    if gpu.full_power and gpu.power_compute_share < 1:
        warnings.append(
            f"{gpu.id} is power-capped ({gpu.tdp_w:,g} W; the same die runs at {gpu.full_power.tdp_w:,g} W in "
            f"{gpu.full_power.gpu}): its matmuls are taken at {gpu.power_compute_share:.0%} of the spec-sheet rate"
        )
    if engine.engine.value not in gpu.engines:
        warnings.append(
            f"{engine.engine.value} does not run on {gpu.id} (it runs: {', '.join(gpu.engines)}); "
            "the estimate is hypothetical"
        )
    if model.modelled_on:
        warnings.append(f"{model.id} is not a release: modelled on {model.modelled_on}'s architecture")
    est = estimate_deployment(setup, total, input_tokens, output_tokens, concurrency)
    if est.running is not None and est.running < est.concurrency:
        warnings.append(
            f"{engine.engine.value} decodes at most {engine.max_batch} sequences at once per replica (its default "
            f"batch limit): of {est.concurrency:g} concurrent requests, {est.concurrency - est.running:g} wait; "
            f"throughput and TPOT are those of {est.running:g} running"
        )
    return EstimateReport(est, model, gpu, warnings)

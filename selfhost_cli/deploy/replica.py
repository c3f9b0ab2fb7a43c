"""One replica's configuration (`Setup`: model, GPU, precision, engine constants, layout), what each of its GPUs
holds, and the time its GPUs spend talking to each other (tensor-parallel all-reduces, pipeline hops, the
expert-parallel all-to-all). The step-time model that uses them is in `estimate.py`.

Units are in the names: bytes, GB (1e9 bytes), ms.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

from selfhost_cli.catalog.schema import GpuSpec, ModelSpec
from selfhost_cli.deploy.engines import HARDWARE, EngineProfile, Hardware
from selfhost_cli.deploy.params import (
    BYTES_PER_WEIGHT,
    KV_BYTES_16BIT,
    draft_head_model,
    param_split,
    weight_bytes,
)
from selfhost_cli.enums import DraftMethod, Precision

# GPU memory sizes are sold in binary units: an "80 GB" H100 has 80 GiB (nvidia-smi: 81,559 MiB).
BYTES_PER_CATALOG_GB = 2**30
# No serving stack's matmuls reach the spec sheet's dense peak: the best published GEMM rates on Hopper are
# ~80% of it (cuBLAS FP8/BF16 large-shape benchmarks), so a fitted compute factor is never taken beyond that.
MAX_COMPUTE_SHARE = 0.8


def weight_bytes_per_gpu(setup: Setup) -> float:
    """Weight bytes one GPU holds: everything ÷ (TP·PP); with EP the dense part whole and 1/ep of the experts.
    A speculative draft head adds its one layer (its tables are the model's)."""
    total = weight_bytes(setup.model, setup.precision) + draft_layer_bytes(setup)
    if setup.ep <= 1:
        return total / (setup.tp * setup.pp)
    routed = param_split(setup.model).routed_experts * BYTES_PER_WEIGHT[setup.precision]
    return total - routed + routed / setup.ep


def draft_layer_bytes(setup: Setup) -> float:
    """Bytes of the draft head's one decoder layer (0 without one)."""
    if not setup.draft_head:
        return 0.0
    return param_split(draft_head_model(setup.model)).body * BYTES_PER_WEIGHT[setup.precision]


# ---------------------------------------------------------------- the setup


@dataclass(frozen=True)
class Setup:
    """One replica's configuration: what runs where, and with which efficiency constants."""

    model: ModelSpec
    gpu: GpuSpec
    precision: Precision
    engine: EngineProfile
    tp: int
    hardware: Hardware = HARDWARE
    pp: int = 1  # pipeline stages, one per node, over the scale-out network
    ep: int = 1  # > 1: experts spread over `ep` GPUs, attention data-parallel (one copy per GPU), tp = 1

    @property
    def gpus(self) -> int:
        """GPUs of one replica."""
        return self.ep if self.ep > 1 else self.tp * self.pp

    @property
    def lanes(self) -> int:
        """Parts the replica's batch is split into: PP micro-batches, or EP's data-parallel ranks."""
        return self.ep if self.ep > 1 else self.pp

    @property
    def nodes(self) -> int:
        return math.ceil(self.gpus / self.gpu.node_gpus)

    @property
    def layout(self) -> str:
        """`TP8`, `TP8×PP2`, `EP16` (experts over 16 GPUs, data-parallel attention)."""
        if self.ep > 1:
            return f"EP{self.ep}"
        return f"TP{self.tp}" + (f"×PP{self.pp}" if self.pp > 1 else "")

    @property
    def draft_head(self) -> bool:
        """Speculative decoding drafts with a head of its own (weights, KV cache and passes to pay for)."""
        spec = self.engine.speculation
        return spec is not None and spec.method is DraftMethod.DRAFT_HEAD

    @property
    def kv_bytes(self) -> float:
        quantized = BYTES_PER_WEIGHT[self.precision] < 2
        return self.engine.kv_bytes_fp8_weights if quantized else KV_BYTES_16BIT

    @property
    def usable_memory_gb(self) -> float:
        # NOTE: for Apple silicon the catalog's memory_gb is already what macOS lets the GPU wire.
        return self.device_gb * (1 - self.engine.reserve_fraction)

    @property
    def device_gb(self) -> float:
        """The GPU's memory in decimal GB (1e9 bytes), the unit every other figure here uses."""
        return self.gpu.memory_gb * BYTES_PER_CATALOG_GB / 1e9

    @property
    def prefill_efficiency(self) -> float:
        hw = self.hardware
        if self.compute_precision is Precision.FP4 and hw.prefill_efficiency_4bit is not None:
            return hw.prefill_efficiency_4bit  # 4-bit tensor cores: fitted to published Blackwell FP4 rows
        narrow = BYTES_PER_WEIGHT[self.compute_precision] < 2
        return hw.prefill_efficiency_8bit if narrow else hw.prefill_efficiency

    @property
    def bandwidth_bytes_per_s(self) -> float:
        """Achievable memory bandwidth: spec × hardware efficiency × the engine's software factor."""
        hw = self.hardware
        share = hw.unified_memory_efficiency if self.gpu.interconnect.kind == "unified" else hw.mem_efficiency
        return self.gpu.hbm_tb_per_s * 1e12 * share * self.engine.software_efficiency

    @property
    def compute_precision(self) -> Precision:
        """The format the tensor cores run: the weights' own if supported, else 16-bit (dequantized)."""
        table = self.gpu.tflops_dense
        if self.precision in table:
            return self.precision
        return Precision.BF16 if Precision.BF16 in table else Precision.FP16

    @property
    def compute_tflops(self) -> float:
        """Dense peak for the matmuls, at the compute precision, scaled down on a power-capped board."""
        return self.gpu.tflops_dense[self.compute_precision] * self.gpu.power_compute_share


def with_tp(setup: Setup, tp: int) -> Setup:
    return replace(setup, tp=tp)


# ---------------------------------------------------------------- communication


def allreduce_ms(setup: Setup, tokens: float) -> float:
    """Tensor-parallel communication per forward pass of one stage: two all-reduces of tokens×hidden per layer.

    Ring all-reduce moves 2·(tp−1)/tp of the buffer over each GPU's link, plus a fixed latency.
    """
    if setup.tp <= 1:
        return 0.0
    link = setup.gpu.interconnect
    buffer_bytes = tokens * setup.model.hidden_size * 2.0
    local = min(setup.tp, setup.gpu.max_gpus_per_node)
    moved = 2.0 * (local - 1) / local * buffer_bytes
    beyond_bridge = link.bridge_gpus is not None and local > link.bridge_gpus  # pairs bridged, the rest PCIe
    over_pcie = link.kind in ("pcie", "none") or beyond_bridge
    rate = (link.pcie_gb_per_s or link.gb_per_s) if beyond_bridge else link.gb_per_s
    latency_us = setup.hardware.pcie_allreduce_latency_us if over_pcie else setup.hardware.allreduce_latency_us
    per_allreduce_ms = latency_us / 1000 + moved / (rate * 1e9 * setup.hardware.link_efficiency) * 1000
    if setup.tp > local:  # hierarchical: the node's share (1/local of the buffer) is all-reduced across nodes
        nodes = setup.tp // local
        per_allreduce_ms += scale_out_ms(setup, 2.0 * (nodes - 1) / nodes * buffer_bytes / local)
    return 2 * setup.model.layers / setup.pp * per_allreduce_ms


def scale_out_ms(setup: Setup, nbytes: float) -> float:
    """One transfer of `nbytes` per GPU over the scale-out network (RDMA), with its fixed latency."""
    hw = setup.hardware
    rate = (setup.gpu.scale_out.gb_per_s or 0.0) * 1e9 * hw.scale_out_efficiency
    return hw.scale_out_latency_us / 1000 + (nbytes / rate * 1000 if rate else math.inf)


def pipeline_hops_ms(setup: Setup, tokens: float) -> float:
    """A micro-batch's activations (tokens × hidden, 16-bit) crossing the pp − 1 stage boundaries."""
    if setup.pp <= 1:
        return 0.0
    return (setup.pp - 1) * scale_out_ms(setup, tokens * setup.model.hidden_size * 2.0 / setup.tp)


def all_to_all_ms(setup: Setup, tokens: float) -> float:
    """Expert-parallel dispatch (FP8) and combine (BF16) of `tokens` tokens per GPU in every MoE layer:
    top_k copies of the hidden state each way; the share bound for other nodes goes over RDMA, the rest
    over NVLink/xGMI, the two in parallel (DeepEP's kernels)."""
    model = setup.model
    if setup.ep <= 1 or not model.moe:
        return 0.0
    hw = setup.hardware
    per_layer_bytes = tokens * model.moe.top_k * model.hidden_size * (1.0 + 2.0)
    local = min(setup.gpu.node_gpus, setup.ep)
    remote_share = (setup.ep - local) / setup.ep
    nvlink = per_layer_bytes * (local - 1) / setup.ep / (setup.gpu.interconnect.gb_per_s * 1e9 * hw.link_efficiency)
    per_layer_ms = 2 * hw.allreduce_latency_us / 1000 + nvlink * 1000
    if remote_share > 0:
        per_layer_ms = max(per_layer_ms, 2 * scale_out_ms(setup, per_layer_bytes * remote_share / 2))
    return model.moe.moe_layers * per_layer_ms

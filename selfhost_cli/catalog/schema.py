"""pydantic models of the three catalogs (models, gpus, apis); bundled and user files go through them."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from selfhost_cli.enums import Confidence, Precision, Pricing
from selfhost_cli.limits import (
    MAX_API_USD_PER_1M,
    MAX_CONTEXT_TOKENS,
    MAX_DIMENSION,
    MAX_FIGURE,
    MAX_GPU_HOURLY_USD,
    MAX_GPUS,
    MAX_LINK_GB_PER_S,
    MAX_MEMORY_GB,
    MAX_PARAMS_B,
    MAX_PURCHASE_USD,
    MAX_TB_PER_S,
    MAX_TFLOPS,
    MAX_WATTS,
    MIN_GPU_HOURLY_USD,
    MIN_SPEC,
)


class Strict(BaseModel):
    """Base for every catalog and profile model: no unknown keys, immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)  # built on first use: start-up


class Sourced(Strict):
    """Anything carrying a figure from outside: where it was read and when."""

    source: str = Field(min_length=3)
    as_of: dt.date


class Quality(Sourced):
    """One public quality figure of a model or API offering, on one scale for the whole catalog."""

    score: float = Field(gt=0, le=MAX_FIGURE)
    scale: str = Field(min_length=2, description="short id of the scale, e.g. lmarena-text")
    entry: str | None = Field(default=None, description="the leaderboard entry the figure was read from")
    note: str | None = None


# ---------------------------------------------------------------- models


class Mla(Strict):
    """Multi-head latent attention (DeepSeek V2/V3): the KV cache holds one compressed latent per layer."""

    kv_lora_rank: int = Field(gt=0)
    qk_rope_head_dim: int = Field(gt=0)
    qk_nope_head_dim: int = Field(gt=0)
    v_head_dim: int = Field(gt=0)
    q_lora_rank: int | None = Field(default=None, gt=0)


class SlidingWindow(Strict):
    """Layers whose attention only sees the last `window_tokens` tokens (their KV cache is capped)."""

    window_tokens: int = Field(gt=0)
    layers: int = Field(ge=0, description="how many of the model's layers use the window")


class Moe(Strict):
    """Mixture-of-experts feed-forward: which layers, how many experts, how many each token uses."""

    experts: int = Field(gt=1, le=MAX_DIMENSION)
    top_k: int = Field(gt=0)
    shared_experts: int = Field(default=0, ge=0)
    expert_intermediate_size: int = Field(gt=0, le=MAX_DIMENSION)
    moe_layers: int = Field(gt=0, description="layers whose MLP is MoE (the rest are dense)")

    @model_validator(mode="after")
    def _top_k_within_experts(self) -> Moe:
        if self.top_k > self.experts:
            raise ValueError(f"top_k ({self.top_k}) exceeds experts ({self.experts})")
        return self


class ModelSpec(Sourced):
    """Architecture facts of one open-weight model, from its published config.json / model card."""

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9.\-]*$")
    name: str
    family: str
    hf_repo: str | None = None
    licence: str
    released: dt.date | None = None
    params_total_b: float = Field(gt=0, le=MAX_PARAMS_B, description="billions of parameters, all experts")
    params_active_b: float = Field(gt=0, le=MAX_PARAMS_B, description="billions used per token (== total for dense)")
    layers: int = Field(gt=0, le=MAX_DIMENSION)
    hidden_size: int = Field(gt=0, le=MAX_DIMENSION)
    intermediate_size: int = Field(gt=0, le=MAX_DIMENSION, description="dense MLP width (dense layers)")
    attention_heads: int = Field(gt=0, le=MAX_DIMENSION)
    kv_heads: int = Field(gt=0, le=MAX_DIMENSION)
    head_dim: int = Field(gt=0, le=MAX_DIMENSION)
    vocab_size: int = Field(gt=0, le=MAX_DIMENSION)
    context_length: int = Field(gt=0, le=MAX_CONTEXT_TOKENS)
    tied_embeddings: bool = Field(default=False, description="lm_head shares the input embedding table")
    modelled_on: str | None = Field(
        default=None, description="not a release: a stand-in with this catalog model's architecture"
    )
    native_precision: Precision = Precision.BF16
    attention: Literal["gqa", "mla"] = "gqa"
    mla: Mla | None = None
    sliding_window: SlidingWindow | None = None
    moe: Moe | None = None
    quality: Quality | None = None
    note: str | None = None

    @model_validator(mode="after")
    def _consistent(self) -> ModelSpec:
        if self.params_active_b > self.params_total_b * 1.0001:
            raise ValueError("params_active_b exceeds params_total_b")
        if (self.attention == "mla") != (self.mla is not None):
            raise ValueError("attention: mla needs an `mla:` block, and only then")
        if self.attention_heads % self.kv_heads:
            raise ValueError("attention_heads must be a multiple of kv_heads")
        if self.sliding_window and self.sliding_window.layers > self.layers:
            raise ValueError("sliding_window.layers exceeds layers")
        if self.moe and self.moe.moe_layers > self.layers:
            raise ValueError("moe.moe_layers exceeds layers")
        return self


# ---------------------------------------------------------------- gpus


class GpuPrice(Sourced):
    """One observed rental (or amortized ownership) price for one GPU."""

    provider: str
    pricing: Pricing
    usd_per_gpu_hour: float = Field(ge=MIN_GPU_HOURLY_USD, le=MAX_GPU_HOURLY_USD)
    confidence: Confidence = Confidence.HIGH
    note: str | None = None


class Interconnect(Strict):
    """GPU-to-GPU link used by tensor parallelism; `gb_per_s` is per GPU, one direction."""

    kind: Literal["nvlink", "xgmi", "pcie", "none", "unified"]
    gb_per_s: float = Field(ge=MIN_SPEC, le=MAX_LINK_GB_PER_S)
    bridge_gpus: int | None = Field(
        default=None, gt=0, description="NVLink bridges join only this many GPUs; beyond them traffic crosses PCIe"
    )
    pcie_gb_per_s: float | None = Field(
        default=None, ge=MIN_SPEC, le=MAX_LINK_GB_PER_S, description="the host link beyond a bridge group"
    )


class ScaleOut(Strict):
    """The network between nodes (pipeline and expert parallelism across nodes); `gb_per_s` per GPU, one
    direction: the node's backend NICs ÷ its GPUs. `kind: none` = the box cannot join a multi-node replica."""

    kind: Literal["infiniband", "roce", "ethernet", "none"]
    gb_per_s: float | None = Field(default=None, ge=MIN_SPEC, le=MAX_LINK_GB_PER_S)
    source: str | None = None
    as_of: dt.date | None = None
    note: str | None = None

    @property
    def usable(self) -> bool:
        """A known RDMA-class fabric a replica can span."""
        return self.kind != "none" and self.gb_per_s is not None


class Purchase(Sourced):
    """One observed purchase price of this GPU, per GPU, with its share of what `includes` says."""

    what: str
    usd_per_gpu: float = Field(ge=1, le=MAX_PURCHASE_USD)
    includes: str
    confidence: Confidence = Confidence.MEDIUM
    note: str | None = None


class SystemPower(Sourced):
    """Electrical power per GPU with its share of the host (CPUs, NICs, fans) at full load."""

    w_per_gpu: float = Field(gt=0, le=MAX_WATTS)
    basis: str
    confidence: Confidence = Confidence.MEDIUM


class FullPower(Sourced):
    """The same silicon at its full power limit (the H100 NVL and PCIe are the H100 SXM's die at 400 W and
    350 W): a board capped below it cannot sustain its spec-sheet matmul rate, whose clocks assume that power."""

    gpu: str = Field(description="catalog id of the full-power part, if the catalog has it")
    tdp_w: float = Field(gt=0, le=MAX_WATTS)
    tflops_16bit: float = Field(ge=MIN_SPEC, le=MAX_TFLOPS, description="its dense BF16/FP16 peak")


class GpuSpec(Sourced):
    """One accelerator: memory, bandwidth, dense peak TFLOPS by format, interconnect, prices."""

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9.\-]*$")
    name: str
    vendor: Literal["nvidia", "amd", "apple", "intel"]
    memory_gb: float = Field(gt=0, le=MAX_MEMORY_GB, description="usable by the model (unified: what the GPU may map)")
    hbm_tb_per_s: float = Field(ge=MIN_SPEC, le=MAX_TB_PER_S, description="memory bandwidth, spec sheet")
    tflops_dense: dict[Precision, Annotated[float, Field(ge=MIN_SPEC, le=MAX_TFLOPS)]] = Field(
        description="dense (no sparsity) tensor TFLOPS per precision the hardware runs natively"
    )
    interconnect: Interconnect
    max_gpus_per_node: int = Field(
        gt=0, le=MAX_GPUS, description="GPUs in one scale-up (NVLink/xGMI) domain: the TP limit"
    )
    gpus_per_node: int | None = Field(default=None, gt=0, le=MAX_GPUS, description="GPUs per server, if not the domain")
    scale_out: ScaleOut = Field(default_factory=lambda: ScaleOut(kind="none"))
    tdp_w: float | None = Field(default=None, gt=0, le=MAX_WATTS)
    purchases: list[Purchase] = Field(default_factory=list, description="owned: purchase prices per GPU")
    system_power: SystemPower | None = None
    full_power: FullPower | None = Field(
        default=None, description="a power-capped part: the same die at full power (tensor rate ∝ power)"
    )
    engines: list[str] = Field(
        default_factory=lambda: ["vllm", "sglang", "trtllm", "tgi", "llama.cpp", "lmdeploy", "ideal"],
        description="serving engines that run on it",
    )
    note: str | None = None
    prices: list[GpuPrice] = Field(default_factory=list)

    @property
    def node_gpus(self) -> int:
        """GPUs per server (one node)."""
        return self.gpus_per_node or self.max_gpus_per_node

    @property
    def multi_node(self) -> bool:
        return self.scale_out.usable

    @property
    def power_compute_share(self) -> float:
        """Share of the spec-sheet tensor rate this board's power limit sustains, at the full-power part's
        energy per FLOP: (TDP ÷ peak) ÷ (full-power TDP ÷ its peak), at most 1. 1 without `full_power`."""
        full = self.full_power
        if full is None or self.tdp_w is None:
            return 1.0
        peak = self.tflops_dense.get(Precision.BF16) or self.tflops_dense[Precision.FP16]
        return min(1.0, (self.tdp_w / peak) / (full.tdp_w / full.tflops_16bit))

    @model_validator(mode="after")
    def _has_bf16_or_fp16(self) -> GpuSpec:
        if not ({Precision.BF16, Precision.FP16} & set(self.tflops_dense)):
            raise ValueError("tflops_dense needs a bf16 or fp16 figure")
        if self.full_power is not None and self.tdp_w is None:
            raise ValueError("full_power needs this GPU's own tdp_w: the cap is the ratio of the two")
        return self


# ---------------------------------------------------------------- apis


class Fact(Strict):
    """One capability of an API offering: true, false, or unknown (null), with where it was read."""

    value: bool | None = None
    source: str | None = None
    note: str | None = None


class RegionsFact(Strict):
    """Regions the offering can process and store data in (`us`, `eu`, ...); null = unknown."""

    value: list[str] | None = None
    source: str | None = None
    note: str | None = None


class Capabilities(Strict):
    """What an offering can do beyond plain chat completions; each fact sourced; unknown is not false."""

    custom_weights: Fact = Field(default_factory=Fact, description="serves the customer's own fine-tuned weights")
    custom_weights_input_usd_per_1m: float | None = Field(default=None, ge=0, le=MAX_API_USD_PER_1M)
    custom_weights_output_usd_per_1m: float | None = Field(default=None, ge=0, le=MAX_API_USD_PER_1M)
    lora: Fact = Field(default_factory=Fact, description="serves LoRA adapters on the shared base model")
    custom_sampling: Fact = Field(default_factory=Fact, description="logit processors or arbitrary grammars")
    zero_data_retention: Fact = Field(default_factory=Fact, description="zero data retention or a BAA offered")
    regions: RegionsFact = Field(default_factory=RegionsFact)
    as_of: dt.date | None = None


class Retirement(Sourced):
    """A provider's announced shutdown of an offering: from `date` it cannot be bought; before, advise warns.
    (Not `on`: YAML 1.1 reads a bare `on` key as the boolean true.)"""

    date: dt.date
    replacement: str | None = Field(default=None, description="the offering the provider names as its successor")


class ApiOffering(Sourced):
    """One hosted model at one provider, priced per million tokens."""

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9.\-]*/[a-z0-9][a-z0-9.\-]*$")
    provider: str
    model_name: str
    open_weight_model: str | None = Field(default=None, description="catalog model id it serves")
    tier: Literal["frontier", "mid", "small", "open_weight"]
    input_usd_per_1m: float = Field(ge=0, le=MAX_API_USD_PER_1M)
    output_usd_per_1m: float = Field(ge=0, le=MAX_API_USD_PER_1M)
    cached_input_usd_per_1m: float | None = Field(default=None, ge=0, le=MAX_API_USD_PER_1M)
    batch_discount: float | None = Field(default=None, ge=0, lt=1, description="0.5 = half price")
    confidence: Confidence = Confidence.HIGH
    quality: Quality | None = Field(default=None, description="own figure; open-weight offerings take the model's")
    capabilities: Capabilities = Field(default_factory=Capabilities)
    retires: Retirement | None = Field(default=None, description="announced shutdown, with its source")
    note: str | None = None


class ModelCatalogFile(Strict):
    schema_version: Literal[1] = 1
    models: list[ModelSpec]


class FacilityFigure(Sourced):
    """One sourced default for owned hardware (PUE, electricity, colocation, amortization)."""

    value: float = Field(gt=0, le=MAX_FIGURE)
    what: str


class Facility(Strict):
    """Defaults for `pricing: owned` when the profile's `self_hosting.owned` leaves them out."""

    pue: FacilityFigure
    usd_per_kwh: FacilityFigure
    hosting_usd_per_kw_month: FacilityFigure
    amortization_years: FacilityFigure


class GpuCatalogFile(Strict):
    schema_version: Literal[1] = 1
    facility: Facility | None = None
    gpus: list[GpuSpec]


class ApiCatalogFile(Strict):
    schema_version: Literal[1] = 1
    apis: list[ApiOffering]


class UserCatalogFile(Strict):
    """A `--catalog FILE`: any of the three lists, merged over the bundled ones by id."""

    schema_version: Literal[1] = 1
    facility: Facility | None = None
    models: list[ModelSpec] = Field(default_factory=list)
    gpus: list[GpuSpec] = Field(default_factory=list)
    apis: list[ApiOffering] = Field(default_factory=list)

"""What a model is made of, by precision: parameters split by how decode reads them, bytes held and read, FLOPs
per token, KV-cache bytes per token. Pure functions of the architecture (catalog facts), no hardware.

Units are in the names: bytes, GB (1e9 bytes), FLOPs, tokens.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

from selfhost_cli.catalog.schema import ModelSpec
from selfhost_cli.enums import Precision

# Bytes per weight. NOTE: 4-bit formats carry block scales: MXFP4 is 4 bits + one 8-bit scale per 32
# weights = 4.25 bits (OCP MX spec); int4 group-128 AWQ/GPTQ with fp16 scales and zeros is ~4.25 bits,
# GGUF Q4_K_M averages ~4.85 bits: we take 4.5 bits for int4.
BYTES_PER_WEIGHT: dict[Precision, float] = {
    Precision.BF16: 2.0,
    Precision.FP16: 2.0,
    Precision.FP8: 1.0,
    Precision.INT8: 1.0,
    Precision.INT4: 4.5 / 8,
    Precision.FP4: 4.25 / 8,
}
# Embeddings and lm_head stay 16-bit in the common quantized checkpoints (FP8, AWQ, MXFP4).
EMBEDDING_BYTES = 2.0
KV_BYTES_16BIT = 2.0


# ---------------------------------------------------------------- parameters and bytes


@dataclass(frozen=True)
class ParamSplit:
    """Parameters (counts, not bytes) split by how decode reads them."""

    embedding: float  # input table: only the looked-up rows are read
    lm_head: float  # read every step (shared with embedding when tied)
    routed_experts: float  # all routed experts (MoE), read only where the batch routes tokens
    per_expert: float  # one routed expert in one layer
    body: float  # everything else: attention, dense MLPs, shared experts, norms


BODY_FLOOR_SHARE = 0.002


def param_split(model: ModelSpec) -> ParamSplit:
    """Split the published total by role; experts from the architecture (3 matrices of hidden×width)."""
    total = model.params_total_b * 1e9
    table = float(model.vocab_size * model.hidden_size)
    lm_head = table
    per_expert = 0.0
    routed = 0.0
    if model.moe:
        per_expert = 3.0 * model.hidden_size * model.moe.expert_intermediate_size
        routed = per_expert * model.moe.experts * model.moe.moe_layers
    stored_tables = table if model.tied_embeddings else 2 * table
    # What every token reads besides the tables and the routed experts (attention, dense layers, shared
    # experts, norms). A guard keeps it positive when a published total is rounded below the architecture's
    # sum; it must stay far under the real share of sparse MoE models (Kimi K2: 0.9% of 1,026B).
    body = max(total - stored_tables - routed, BODY_FLOOR_SHARE * total)
    return ParamSplit(table, lm_head, routed, per_expert, body)


@functools.lru_cache(maxsize=32)  # called for every speculative step the searches try
def draft_head_model(model: ModelSpec) -> ModelSpec:
    """The draft of speculative decoding as one decoder layer of the target's width with the target's
    embedding and lm_head (EAGLE heads and DeepSeek's MTP layers are one transformer layer each; MTP shares the
    tables). A MoE target's layer is taken dense at its active width: DeepSeek V3's dense layers and its 8 + 1
    experts are both 18,432 wide, the same bytes at batch 1."""
    split = param_split(model)
    per_layer = (model.params_active_b * 1e9 - split.embedding - split.lm_head) / model.layers
    tables = split.embedding + (0.0 if model.tied_embeddings else split.lm_head)
    params_b = (per_layer + tables) / 1e9
    return model.model_copy(
        update={
            "layers": 1,
            "params_total_b": params_b,
            "params_active_b": params_b,
            "moe": None,
            "sliding_window": None,
        }
    )


def weight_bytes(model: ModelSpec, precision: Precision) -> float:
    """Bytes of all weights held in GPU memory at this precision (embeddings stay 16-bit)."""
    split = param_split(model)
    per_weight = BYTES_PER_WEIGHT[precision]
    tables = split.embedding + (0.0 if model.tied_embeddings else split.lm_head)
    return (split.body + split.routed_experts) * per_weight + tables * EMBEDDING_BYTES


def experts_touched(experts: int, top_k: int, tokens: float) -> float:
    """Expected distinct experts a layer reads for `tokens` tokens routed uniformly: E·(1−(1−k/E)^B)."""
    if tokens <= 0:
        return 0.0
    return float(experts * (1.0 - (1.0 - top_k / experts) ** tokens))


def decode_weight_bytes(
    model: ModelSpec, precision: Precision, batch_tokens: float, quantized_lm_head: bool = False
) -> float:
    """Weight bytes one decode step reads (whole replica) for a batch of `batch_tokens` sequences."""
    return dense_read_bytes(model, precision, quantized_lm_head) + expert_read_bytes(model, precision, batch_tokens)


def dense_read_bytes(model: ModelSpec, precision: Precision, quantized_lm_head: bool = False) -> float:
    """Bytes every step reads whatever the batch: attention, dense MLPs, shared experts and lm_head."""
    split = param_split(model)
    lm_head_bytes = BYTES_PER_WEIGHT[precision] if quantized_lm_head else EMBEDDING_BYTES
    return split.body * BYTES_PER_WEIGHT[precision] + split.lm_head * lm_head_bytes


def expert_read_bytes(model: ModelSpec, precision: Precision, batch_tokens: float) -> float:
    """Routed-expert bytes a batch of `batch_tokens` tokens touches (all GPUs together)."""
    if not model.moe:
        return 0.0
    touched = experts_touched(model.moe.experts, model.moe.top_k, batch_tokens)
    return touched * model.moe.moe_layers * param_split(model).per_expert * BYTES_PER_WEIGHT[precision]


def flops_per_token(model: ModelSpec, context_tokens: float) -> float:
    """Forward FLOPs for one token attending to `context_tokens` earlier tokens.

    2·(active params − input table) for the matmuls, plus attention scores and values:
    GQA 4·heads·head_dim per context token per layer; MLA (absorbed) 2·heads·(2·rank + rope_dim).
    """
    split = param_split(model)
    matmul = 2.0 * (model.params_active_b * 1e9 - split.embedding)
    if model.mla:
        per_ctx = 2.0 * model.attention_heads * (2 * model.mla.kv_lora_rank + model.mla.qk_rope_head_dim)
    else:
        per_ctx = 4.0 * model.attention_heads * model.head_dim
    return matmul + per_ctx * attended_layer_tokens(model, context_tokens)


def expert_flops_per_token(model: ModelSpec) -> float:
    """The part of `flops_per_token` spent in routed experts (grouped GEMMs): 2·moe_layers·top_k·expert params."""
    if not model.moe:
        return 0.0
    return 2.0 * model.moe.moe_layers * model.moe.top_k * param_split(model).per_expert


def attended_layer_tokens(model: ModelSpec, context_tokens: float) -> float:
    """Σ over layers of the tokens each layer attends to (sliding-window layers are capped)."""
    window = model.sliding_window
    if window is None:
        return model.layers * context_tokens
    full = model.layers - window.layers
    return full * context_tokens + window.layers * min(context_tokens, window.window_tokens)


def kv_bytes_per_token_per_gpu(model: ModelSpec, tp: int, kv_bytes: float, context_tokens: float) -> float:
    """KV-cache bytes one GPU holds per token of a sequence of `context_tokens` (averaged over it).

    GQA: 2·layers·kv_heads·head_dim·bytes, heads split over TP but replicated once TP > kv_heads.
    MLA: layers·(kv_lora_rank + rope_dim)·bytes, the same latent on every GPU (not split by TP).
    Sliding-window layers keep at most `window_tokens` tokens.
    """
    if context_tokens <= 0:
        return 0.0
    layer_tokens = attended_layer_tokens(model, context_tokens) / context_tokens  # effective layers
    if model.mla:
        return layer_tokens * (model.mla.kv_lora_rank + model.mla.qk_rope_head_dim) * kv_bytes
    heads_per_gpu = math.ceil(model.kv_heads / tp)
    return layer_tokens * 2 * heads_per_gpu * model.head_dim * kv_bytes

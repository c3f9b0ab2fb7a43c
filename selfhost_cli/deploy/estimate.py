"""Memory, step times, throughput and latency of one replica (SPEC §6). Pure functions; what the model is made
of is in `params.py`, the replica's configuration and its communication in `replica.py`, one whole deployment
as `estimate` reports it in `deployment.py`.

Units are in the names: bytes, GB (1e9 bytes), ms, tokens per second. A "replica" is one copy of the
model spread over `tp` GPUs by tensor parallelism; a deployment is one or more replicas.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

from selfhost_cli.catalog.schema import GpuSpec
from selfhost_cli.deploy.params import (
    BYTES_PER_WEIGHT,
    decode_weight_bytes,
    dense_read_bytes,
    draft_head_model,
    expert_flops_per_token,
    expert_read_bytes,
    flops_per_token,
    kv_bytes_per_token_per_gpu,
)
from selfhost_cli.deploy.replica import (
    MAX_COMPUTE_SHARE,
    Setup,
    all_to_all_ms,
    allreduce_ms,
    pipeline_hops_ms,
    weight_bytes_per_gpu,
    with_tp,
)


@dataclass(frozen=True)
class Memory:
    """Per-GPU memory of one replica, GB (1e9 bytes)."""

    gpu_gb: float
    usable_gb: float
    weights_gb: float
    reserve_gb: float
    kv_cache_gb: float  # what is left for the KV cache (0 when the weights do not fit)
    kv_per_sequence_gb: float
    max_sequences: int  # sequences whose KV cache fits at the request shape

    @property
    def fits(self) -> bool:
        return self.max_sequences >= 1


def memory(setup: Setup, input_tokens: float, output_tokens: float, longest_tokens: float = 0.0) -> Memory:
    """Per-GPU memory: weights ÷ TP (and PP), reserve, and how many sequences' KV cache fit in the replica.

    With requests staggered (continuous batching, KV paged on demand), a sequence holds on average its
    prompt plus half its output: that average sets how many fit. A single sequence must still fit whole, and
    so must the longest request (`longest_tokens`). With EP each GPU holds whole sequences of its own
    (data-parallel attention): the replica holds ep × that.
    """
    weights_gb = weight_bytes_per_gpu(setup) / 1e9
    usable = setup.usable_memory_gb
    if setup.engine.reserve_of_free and weights_gb < setup.device_gb:
        # TensorRT-LLM sizes its KV pool as a fraction of the memory left once the weights are loaded
        # (KvCacheConfig.free_gpu_memory_fraction, default 0.9), not of the whole card as vLLM and SGLang do.
        usable = weights_gb + (setup.device_gb - weights_gb) * (1 - setup.engine.reserve_fraction)
    reserve = setup.device_gb - usable
    kv_gb = max(usable - weights_gb, 0.0)  # never negative: weights that do not fit leave no KV cache
    full = max(input_tokens + output_tokens, longest_tokens)
    mean = input_tokens + output_tokens / 2
    held = 1 + (1 / setup.model.layers if setup.draft_head else 0.0)  # a draft head's layer keeps its own
    per_seq = kv_per_token(setup, mean) * mean / 1e9 * held
    whole = kv_per_token(setup, full) * full / 1e9 * held
    max_seqs = int(kv_gb / per_seq) if usable > weights_gb and kv_gb >= whole and per_seq > 0 else 0
    if setup.ep > 1:
        max_seqs *= setup.ep
    return Memory(setup.device_gb, usable, weights_gb, reserve, kv_gb, per_seq, max_seqs)


def kv_per_token(setup: Setup, context_tokens: float) -> float:
    """KV bytes one GPU of the replica holds per token of one of the sequences it serves."""
    tp = 1 if setup.ep > 1 else setup.tp
    return kv_bytes_per_token_per_gpu(setup.model, tp, setup.kv_bytes, context_tokens) / setup.pp


# ---------------------------------------------------------------- step times


def layer_overhead_ms(setup: Setup) -> float:
    hw = setup.hardware
    quantized = BYTES_PER_WEIGHT[setup.precision] < 2
    per_layer = hw.per_layer_quantized_ms if quantized else hw.per_layer_ms
    return setup.model.layers * per_layer / setup.engine.software_efficiency


@dataclass(frozen=True)
class Step:
    """One forward pass of a replica: where its time goes (ms)."""

    memory_ms: float
    compute_ms: float
    overlap_ms: float  # memory and compute combined
    overhead_ms: float  # per-layer kernels + per-step software
    communication_ms: float

    @property
    def total_ms(self) -> float:
        return self.overlap_ms + self.overhead_ms + self.communication_ms

    def plus(self, other: Step, times: float = 1.0) -> Step:
        """This pass followed by `times` passes of `other` (the parts add up)."""
        return Step(
            self.memory_ms + times * other.memory_ms,
            self.compute_ms + times * other.compute_ms,
            self.overlap_ms + times * other.overlap_ms,
            self.overhead_ms + times * other.overhead_ms,
            self.communication_ms + times * other.communication_ms,
        )


def step(
    setup: Setup,
    decode_sequences: float,
    context_tokens: float,
    prefill_tokens: float = 0.0,
    prefill_context_tokens: float = 0.0,
) -> Step:
    """A forward pass of the replica that decodes `decode_sequences` tokens at `context_tokens` of context each
    and, chunked in, prefills `prefill_tokens` prompt tokens (mean context `prefill_context_tokens`).

    memory: weights touched + KV read, at spec bandwidth × efficiency; compute: FLOPs at dense peak ×
    efficiency (decode and prefill efficiencies differ); the two overlap as a p-norm.
    Pipeline parallelism splits the batch into pp micro-batches that each cross every stage in turn, so a
    step is pp stage passes (each over 1/pp of the layers) plus the hops between stages. Expert parallelism
    gives each GPU 1/ep of the batch, the dense weights whole, 1/ep of the experts and the all-to-all.
    """
    hw = setup.hardware
    sw = setup.engine.software_efficiency
    model = setup.model
    # What one stage (PP) or rank (EP) passes at once: a share of the batch, but never a fraction of a sequence.
    d = max(decode_sequences / setup.lanes, min(decode_sequences, 1.0))
    p = prefill_tokens / setup.lanes
    lm_head = setup.engine.quantized_lm_head
    if setup.ep > 1:
        whole_batch = decode_sequences + prefill_tokens
        weight_read = dense_read_bytes(model, setup.precision, lm_head) + (
            expert_read_bytes(model, setup.precision, whole_batch) / setup.ep
        )
        sharing, passes = 1, 1
        communication = all_to_all_ms(setup, d + p)
    else:
        weight_read = decode_weight_bytes(model, setup.precision, d + p, lm_head) / (setup.tp * setup.pp)
        sharing, passes = setup.tp * setup.pp, setup.pp
        communication = allreduce_ms(setup, d + p)
    kv_read = d * context_tokens * kv_per_token(setup, context_tokens)
    memory_ms = (weight_read + kv_read) / setup.bandwidth_bytes_per_s * 1000
    peak = setup.compute_tflops * 1e12 * sharing  # the GPUs of a stage share its FLOPs
    # Expert FLOPs run as grouped GEMMs at moe_efficiency of the dense rate; decode batches run at
    # decode_compute_efficiency (small M) relative to prefill's large GEMMs.
    expert = expert_flops_per_token(model)
    moe_extra = expert * (1 / hw.moe_efficiency - 1)
    decode_flops = d * (flops_per_token(model, context_tokens) + moe_extra)
    prefill_flops = p * (flops_per_token(model, prefill_context_tokens) + moe_extra)
    rate = peak * min(setup.prefill_efficiency * sw * setup.engine.compute_ratio, MAX_COMPUTE_SHARE)
    compute_ms = (decode_flops * hw.prefill_efficiency / hw.decode_compute_efficiency + prefill_flops) / rate * 1000
    q = hw.overlap_p
    overlap_ms = (memory_ms**q + compute_ms**q) ** (1 / q)
    if setup.ep > 1:  # two micro-batches hide the all-to-all behind compute as memory hides behind compute
        overlap_ms = (overlap_ms**q + communication**q) ** (1 / q)
        communication = 0.0
    overhead_ms = layer_overhead_ms(setup) / setup.pp * passes + setup.engine.per_step_ms
    return Step(
        memory_ms * passes,
        compute_ms * passes,
        overlap_ms * passes,
        overhead_ms,
        communication * passes + pipeline_hops_ms(setup, d + p),
    )


def generation_step(
    setup: Setup,
    decode_sequences: float,
    context_tokens: float,
    prefill_tokens: float = 0.0,
    prefill_context_tokens: float = 0.0,
) -> Step:
    """One decoding step of the replica, which emits `tokens_per_step(setup)` tokens per sequence: a forward pass,
    or with speculative decoding the drafts (one draft-head pass per drafted token, none for n-gram lookup) and
    the target's pass that checks them, where each sequence's drafted tokens are processed like prompt tokens
    at its context (its KV cache read once)."""
    spec = setup.engine.speculation
    if spec is None:
        return step(setup, decode_sequences, context_tokens, prefill_tokens, prefill_context_tokens)
    drafted = decode_sequences * spec.draft_tokens
    extra = prefill_tokens + drafted
    mean_context = (prefill_tokens * prefill_context_tokens + drafted * context_tokens) / extra if extra else 0.0
    verify = step(setup, decode_sequences, context_tokens, extra, mean_context)
    if not setup.draft_head:  # n-gram lookup drafts on the CPU
        return verify
    # the draft runs inside the step the scheduler already paid for, on the last pipeline stage
    head = replace(setup.engine, per_step_ms=0.0, speculation=None)
    draft = replace(setup, model=draft_head_model(setup.model), engine=head, pp=1)
    return verify.plus(step(draft, decode_sequences, context_tokens), times=spec.draft_tokens)


def tokens_per_step(setup: Setup) -> float:
    """Tokens one decoding step emits per sequence: 1, or the speculation's acceptance length."""
    spec = setup.engine.speculation
    return spec.acceptance_length if spec else 1.0


def prefill_ms(setup: Setup, input_tokens: float, prompts: float = 1.0) -> float:
    """Time to prefill `prompts` prompts of `input_tokens` together (one alone: its share of TTFT), ms."""
    return step(setup, 0, 0, prefill_tokens=prompts * input_tokens, prefill_context_tokens=input_tokens / 2).total_ms


# ---------------------------------------------------------------- steady state


@dataclass(frozen=True)
class SteadyState:
    """A replica serving `concurrency` requests at once with continuous batching."""

    concurrency: float
    step: Step
    tpot_ms: float
    ttft_ms: float
    output_tokens_per_s: float  # one replica


def steady_state(
    setup: Setup, input_tokens: float, output_tokens: float, concurrency: float, cached_share: float = 0.0
) -> SteadyState:
    """Continuous batching at concurrency C: each step decodes C tokens and, on average, prefills the
    prompts of the C/O requests that finished (C·I/O tokens), so TPOT is that mixed step's time (with
    speculative decoding a step emits A tokens per sequence: TPOT = step / A, and C·A·I/O prompt tokens).
    TTFT = the prompt's prefill alone + one mixed step of waiting for a slot. With a prefix cache,
    `cached_share` of each prompt is found in it and not prefilled again (its KV cache is still held).
    """
    c = max(concurrency, 1e-9)
    mean_context = input_tokens + output_tokens / 2
    fresh = input_tokens * (1 - cached_share)
    emitted = tokens_per_step(setup)  # requests finish, and new prompts arrive, that much sooner
    prefill_per_step = c * fresh * emitted / max(output_tokens, 1.0)
    mixed = generation_step(setup, c, mean_context, prefill_per_step, input_tokens - fresh / 2)
    tpot = mixed.total_ms / emitted
    ttft = prefill_ms(setup, fresh) + mixed.total_ms
    return SteadyState(concurrency, mixed, tpot, ttft, c / tpot * 1000)


def max_concurrency(setup: Setup, input_tokens: float, output_tokens: float, longest_tokens: float = 0.0) -> int:
    """Most requests one replica runs at once: KV cache in memory, capped by the engine's batch limit (one
    scheduler per pipeline stage set or per data-parallel rank)."""
    fit = memory(setup, input_tokens, output_tokens, longest_tokens).max_sequences
    return min(fit, setup.engine.max_batch * setup.lanes)


def concurrency_for_latency(
    setup: Setup,
    input_tokens: float,
    output_tokens: float,
    max_tpot_ms: float,
    max_ttft_ms: float,
    cached_share: float = 0.0,
    longest_tokens: float = 0.0,
) -> SteadyState | None:
    """The highest concurrency that keeps TPOT and TTFT within their limits; None if even one request misses."""
    high = max_concurrency(setup, input_tokens, output_tokens, longest_tokens)
    if high < 1:
        return None

    def ok(c: int) -> bool:
        s = steady_state(setup, input_tokens, output_tokens, c, cached_share)
        return s.tpot_ms <= max_tpot_ms and s.ttft_ms <= max_ttft_ms

    if not ok(1):
        return None
    low = 1
    while low < high:  # TPOT and TTFT grow with concurrency: bisect for the last c that is ok
        mid = (low + high + 1) // 2
        if ok(mid):
            low = mid
        else:
            high = mid - 1
    return steady_state(setup, input_tokens, output_tokens, low, cached_share)


def tp_candidates(gpu: GpuSpec) -> list[int]:
    """Tensor-parallel degrees within one node: powers of two up to the node's GPU count."""
    out, tp = [], 1
    while tp <= gpu.max_gpus_per_node:
        out.append(tp)
        tp *= 2
    return out


def smallest_fitting_tp(
    setup: Setup,
    input_tokens: float,
    output_tokens: float,
    gpus: int | None = None,
    concurrency: float | None = None,
) -> int | None:
    """Smallest power-of-two TP within the node (dividing `gpus` if given) whose per-GPU memory holds the
    weights and the KV cache of `concurrency` sequences spread over the replicas (one sequence if None)."""
    for tp in tp_candidates(setup.gpu):
        if gpus is not None and (tp > gpus or gpus % tp):
            continue
        replicas = (gpus or tp) // tp
        need = 1.0 if concurrency is None else concurrency / replicas
        if memory(with_tp(setup, tp), input_tokens, output_tokens).max_sequences >= need:
            return tp
    return None


def layout_problem(setup: Setup, request_tokens: float) -> str | None:
    """Why a layout cannot run at all, before any memory or speed: the request exceeds the model's context,
    TP does not divide the attention heads (or the KV heads evenly), or TP spans nodes the GPU cannot join."""
    model, tp = setup.model, setup.tp
    if request_tokens > model.context_length:
        return f"a {request_tokens:,.0f}-token request exceeds {model.id}'s {model.context_length:,}-token context"
    if model.attention_heads % tp:
        return f"TP{tp} does not divide {model.id}'s {model.attention_heads} attention heads"
    if not model.mla and model.kv_heads % tp and tp % model.kv_heads:
        return f"TP{tp} neither divides nor is a multiple of {model.id}'s {model.kv_heads} KV heads"
    if tp > setup.gpu.max_gpus_per_node and not setup.gpu.multi_node:
        return (
            f"TP{tp} spans {math.ceil(tp / setup.gpu.max_gpus_per_node)} boxes of {setup.gpu.max_gpus_per_node} "
            f"{setup.gpu.id}, which have no scale-out network in the catalog"
        )
    return None

"""One deployment as `selfhost estimate` reports it: `gpus` GPUs as replicas of one layout at a concurrency,
and static-batch generation as llama.cpp's `tg` test and batch benchmarks measure it (calibration)."""

from __future__ import annotations

from dataclasses import dataclass

from selfhost_cli.deploy.estimate import (
    Memory,
    SteadyState,
    generation_step,
    layout_problem,
    max_concurrency,
    memory,
    steady_state,
    tokens_per_step,
)
from selfhost_cli.deploy.replica import Setup


@dataclass(frozen=True)
class Estimate:
    """A deployment of `gpus` GPUs as `replicas` × TP`tp`, at a concurrency (whole deployment)."""

    setup: Setup
    gpus: int
    replicas: int
    input_tokens: float
    output_tokens: float
    concurrency: float  # whole deployment
    fits: bool
    why_not: str | None
    memory: Memory
    state: SteadyState | None
    decode_step_ms: float | None
    running: float | None = None  # sequences decoded at once (whole deployment): the concurrency, or the batch limit

    @property
    def output_tokens_per_s(self) -> float:
        return self.state.output_tokens_per_s * self.replicas if self.state else 0.0

    @property
    def output_tokens_per_s_per_gpu(self) -> float:
        return self.output_tokens_per_s / self.gpus if self.gpus else 0.0


def estimate_deployment(
    setup: Setup, gpus: int, input_tokens: float, output_tokens: float, concurrency: float | None
) -> Estimate:
    """Steady-state estimate; `concurrency` None = the most that fits in memory (max throughput)."""
    replicas = gpus // setup.tp
    mem = memory(setup, input_tokens, output_tokens)
    why_not = layout_problem(setup, input_tokens + output_tokens)
    if why_not:
        pass
    elif replicas < 1:
        why_not = f"{gpus} GPU(s) cannot hold one TP{setup.tp} replica"
    elif not mem.fits:
        why_not = (
            f"{mem.weights_gb:.1f} GB of weights per GPU leave {max(mem.kv_cache_gb, 0):.1f} GB of "
            f"{mem.usable_gb:.1f} GB usable for the KV cache: not one {input_tokens + output_tokens:.0f}-token "
            "sequence fits; raise TP or lower the precision"
        )
    if why_not:
        return Estimate(
            setup,
            gpus,
            max(replicas, 0),
            input_tokens,
            output_tokens,
            concurrency or 0,
            False,
            why_not,
            mem,
            None,
            None,
        )
    limit = max_concurrency(setup, input_tokens, output_tokens)
    per_replica = limit if concurrency is None else concurrency / replicas
    if per_replica > mem.max_sequences:
        why_not = (
            f"{per_replica:.0f} sequences per replica need {per_replica * mem.kv_per_sequence_gb:.1f} GB of KV "
            f"cache per GPU; {mem.kv_cache_gb:.1f} GB is free (at most {mem.max_sequences})"
        )
        return Estimate(
            setup, gpus, replicas, input_tokens, output_tokens, per_replica * replicas, False, why_not, mem, None, None
        )
    # An engine runs at most its batch limit at once; requests beyond it wait their turn (llama-server's slots,
    # vLLM's max_num_seqs): throughput and TPOT are those of the batch it runs.
    running = min(per_replica, setup.engine.max_batch * setup.lanes)
    state = steady_state(setup, input_tokens, output_tokens, running)
    decode = generation_step(setup, running, input_tokens + output_tokens / 2).total_ms
    return Estimate(
        setup,
        gpus,
        replicas,
        input_tokens,
        output_tokens,
        per_replica * replicas,
        why_not is None,
        why_not,
        mem,
        state,
        decode,
        running * replicas,
    )


def decode_steps_ms(setup: Setup, batch: float, input_tokens: float, output_tokens: float) -> float:
    """Time a static batch spends generating `output_tokens` each after its prefill (context growing from the
    prompt; with speculative decoding, output_tokens ÷ the acceptance length steps), ms."""
    steps = output_tokens / tokens_per_step(setup)
    return steps * generation_step(setup, batch, input_tokens + output_tokens / 2).total_ms

"""Speculative decoding in the estimator (estimate.generation_step, params.draft_head_model): checked against the
published speedups over the same engine without it, and wired through the profile, advise and estimate."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from selfhost_cli.catalog import bundled
from selfhost_cli.deploy.engines import ENGINES, SPECULATION_BASIS, Speculation, stated_error
from selfhost_cli.deploy.estimate import generation_step, steady_state, step
from selfhost_cli.deploy.params import draft_head_model, param_split
from selfhost_cli.deploy.replica import Setup
from selfhost_cli.enums import DraftMethod, Engine, Precision

CATALOG = bundled()
HEAD = DraftMethod.DRAFT_HEAD


def with_spec(setup: Setup, draft_tokens: int, acceptance_length: float, method: DraftMethod = HEAD) -> Setup:
    return replace(
        setup, engine=replace(setup.engine, speculation=Speculation(method, draft_tokens, acceptance_length))
    )


def speedup(setup: Setup, k: int, al: float, sequences: float, context: float) -> float:
    """Tokens per second per sequence with speculation over without, decode steps only (no prefill)."""
    base = step(setup, sequences, context).total_ms
    return al * base / generation_step(with_spec(setup, k, al), sequences, context).total_ms


# ---------------------------------------------------------------- the draft head


def test_the_draft_head_is_one_layer_of_the_targets_width_with_its_tables():
    model = CATALOG.model("llama-3.3-70b")
    head = draft_head_model(model)
    split, own = param_split(model), param_split(head)
    assert head.layers == 1 and head.moe is None
    assert own.lm_head == split.lm_head and own.embedding == split.embedding
    # one of the 80 layers' weights (attention + MLP)
    per_layer = (model.params_active_b * 1e9 - split.embedding - split.lm_head) / 80
    assert own.body == pytest.approx(per_layer)


def test_a_moe_targets_head_is_dense_at_its_active_width():
    model = CATALOG.model("deepseek-v3")
    head = draft_head_model(model)
    assert head.moe is None and head.mla == model.mla
    # 1 of 61 layers (0.6B) + the input table and lm_head (0.9B each) of the 37B active
    assert head.params_active_b == pytest.approx(2.43, abs=0.01)


# ---------------------------------------------------------------- what it reproduces


# TensorRT-LLM tech blog 1 (2025-05-16): DeepSeek-R1, 8 x B200, NVFP4 MoE, one request, 1k in / 2k out. Per-user speed
# with MTP over without, and the acceptance length each MTP depth reached.
TRTLLM_MTP = [(1, 1.92, 1.78), (2, 2.58, 2.25), (3, 2.82, 2.28), (4, 2.99, 2.21), (5, 3.01, 2.15)]


@pytest.mark.parametrize(("layout", "tolerance"), [({"tp": 1, "ep": 8}, 0.06), ({"tp": 8, "ep": 1}, 0.15)])
def test_deepseek_r1_mtp_speedups_on_b200_follow_tensorrt_llms_table(layout, tolerance):
    # the blog's layout was TP8 attention with expert parallelism for the MoE, between our EP8 and TP8
    setup = Setup(CATALOG.model("deepseek-r1"), CATALOG.gpu("b200"), Precision.FP4, ENGINES[Engine.TRTLLM], **layout)
    predicted = [speedup(setup, k, al, 1, 1000 + 1000) for k, al, _ in TRTLLM_MTP]
    for (k, _, measured), got in zip(TRTLLM_MTP, predicted, strict=True):
        assert got == pytest.approx(measured, rel=tolerance), k
    # the gain peaks at three drafted tokens and falls after: each extra draft pass costs more than it adds
    assert max(range(5), key=lambda i: predicted[i]) in (2, 3)
    assert predicted[4] < max(predicted)


def test_deepseek_v3_mtp_on_16_h200_decode_gpus_follows_lmsys():
    # LMSYS 2025-07-17: DeepSeek V3, decode on 16 x H200 (prefill on other nodes), 2 requests per GPU, 64k in /
    # 4k out: 51.0 -> 81.5 tokens/s per GPU with 3 drafted (acceptance 2.18), 82.0 with 4 (2.44)
    setup = Setup(CATALOG.model("deepseek-v3"), CATALOG.gpu("h200"), Precision.FP8, ENGINES[Engine.SGLANG], 1, ep=16)
    context = 65536 + 2048
    assert speedup(setup, 3, 2.18, 32, context) == pytest.approx(81.5 / 51.0, rel=0.08)
    assert speedup(setup, 4, 2.44, 32, context) == pytest.approx(82.0 / 51.0, rel=0.08)


def test_the_gain_falls_with_the_batch_as_eagle3_on_sglang_measured():
    # arXiv 2503.01840 Table 3 (SGLang, 1 x H100, Llama 3.1 8B, a chain of 3): 1.81x at batch 2, 1.38x at 64
    # (acceptance not published). Whatever the acceptance, the model's gain falls with the batch by about as much.
    setup = Setup(CATALOG.model("llama-3.1-8b"), CATALOG.gpu("h100-sxm"), Precision.FP16, ENGINES[Engine.SGLANG], 1)
    for al in (2.2, 2.7, 3.2):
        gains = [
            steady_state(with_spec(setup, 3, al), 80, 400, c).output_tokens_per_s
            / steady_state(setup, 80, 400, c).output_tokens_per_s
            for c in (2, 8, 32, 64)
        ]
        assert gains == sorted(gains, reverse=True)
        assert gains[-1] / gains[0] == pytest.approx(1.38 / 1.81, abs=0.06)


def test_speculation_slows_a_compute_bound_batch_down():
    # vLLM blog 2024-10-17: at high request rates speculation made Llama 3 70B on 4 x H100 1.4-1.8x slower
    setup = Setup(CATALOG.model("llama-3.3-70b"), CATALOG.gpu("h100-sxm"), Precision.FP8, ENGINES[Engine.VLLM], 4)
    busy = steady_state(setup, 1000, 200, 256)
    assert steady_state(with_spec(setup, 4, 1.8), 1000, 200, 256).output_tokens_per_s < busy.output_tokens_per_s
    light = steady_state(setup, 1000, 200, 1)
    assert steady_state(with_spec(setup, 4, 1.8), 1000, 200, 1).output_tokens_per_s > light.output_tokens_per_s


@given(k=st.integers(1, 8), c=st.sampled_from([1, 8, 64, 256]))
def test_drafts_that_are_never_accepted_never_help(k, c):
    setup = Setup(CATALOG.model("llama-3.1-8b"), CATALOG.gpu("h100-sxm"), Precision.BF16, ENGINES[Engine.VLLM], 1)
    plain = steady_state(setup, 500, 300, c)
    for method in DraftMethod:
        assert steady_state(with_spec(setup, k, 1.0, method), 500, 300, c).tpot_ms >= plain.tpot_ms


def test_ngram_drafts_cost_nothing_but_the_check():
    setup = Setup(CATALOG.model("llama-3.1-8b"), CATALOG.gpu("h100-sxm"), Precision.BF16, ENGINES[Engine.VLLM], 1)
    ngram = generation_step(with_spec(setup, 3, 2.0, DraftMethod.NGRAM), 4, 1000)
    assert ngram.total_ms == pytest.approx(step(setup, 4, 1000, 12, 1000).total_ms)
    assert generation_step(with_spec(setup, 3, 2.0), 4, 1000).total_ms > ngram.total_ms


def test_acceptance_beyond_every_draft_is_refused():
    with pytest.raises(ValueError, match="between 1 and draft_tokens"):
        Speculation(HEAD, 3, 4.5)
    assert Speculation(HEAD, 3, 4.0).label == "draft_head, 3 drafted, 4 accepted per step"


def test_a_speculative_estimate_says_its_check_is_the_published_speedups():
    engine = replace(ENGINES[Engine.VLLM], speculation=Speculation(HEAD, 3, 2.5))
    pct, basis = stated_error(engine, Precision.FP8)
    assert pct == ENGINES[Engine.VLLM].expected_error_pct and basis.endswith(SPECULATION_BASIS)


# ---------------------------------------------------------------- profile, advise, estimate


def _profile(tmp_path: Path, speculative: str) -> str:
    path = tmp_path / "spec.yaml"
    path.write_text(
        "version: 1\nworkload:\n  tokens_per_day: 2e8\n  latency:\n    min_output_tokens_per_s: 50\n"
        "models:\n  self_hosted: llama-3.3-70b\nself_hosting:\n  gpu: h100-sxm\n" + speculative,
        encoding="utf-8",
    )
    return str(path)


def _advise(path: str) -> dict:
    import json

    from typer.testing import CliRunner

    from selfhost_cli.cli import app

    result = CliRunner().invoke(app, ["advise", path, "--format", "json"])
    assert result.exit_code in (0, 1), result.output
    return json.loads(result.stdout)


def test_advise_plans_a_fast_stream_with_speculation_on_far_fewer_gpus(tmp_path):
    # 50 tokens/s per request of a 70B model: plainly 3 TP8 replicas (24 GPUs), with speculation 3 TP2 (6 GPUs)
    plain = _advise(_profile(tmp_path, ""))
    spec = _advise(
        _profile(tmp_path, "  speculative:\n    method: draft_head\n    draft_tokens: 3\n    acceptance_length: 2.5\n")
    )
    own = [o["capacity"] for o in plain["options"] if o.get("capacity")][0]
    fast = [o["capacity"] for o in spec["options"] if o.get("capacity")][0]
    assert own["speculative"] is None
    assert fast["speculative"] == {"method": "draft_head", "draft_tokens": 3, "acceptance_length": 2.5}
    assert (own["gpus"], own["tp"], fast["gpus"], fast["tp"]) == (24, 8, 6, 2)
    assert 1000 / fast["tpot_ms"] >= 50
    named = {a["name"]: a for a in spec["assumptions"]}
    assert named["speculative_decoding"]["value"] == "draft_head, 3 drafted, 2.5 accepted per step"


@pytest.mark.parametrize(
    ("block", "message"),
    [
        ("    method: draft_head\n    draft_tokens: 3\n", "acceptance_length is required"),
        ("    method: draft_head\n    draft_tokens: 3\n    acceptance_length: 4.5\n", "exceeds draft_tokens + 1"),
        ("    method: medusa\n    draft_tokens: 3\n    acceptance_length: 2\n", "must be one of draft_head, ngram"),
    ],
)
def test_a_wrong_speculative_block_is_a_clear_error(tmp_path, block, message):
    from typer.testing import CliRunner

    from selfhost_cli.cli import app

    result = CliRunner().invoke(app, ["advise", _profile(tmp_path, "  speculative:\n" + block)])
    assert result.exit_code == 3
    assert "self_hosting.speculative" in result.output and message in result.output
    assert "Traceback" not in result.output


def test_estimate_takes_the_draft_and_the_acceptance_together():
    import json

    from typer.testing import CliRunner

    from selfhost_cli.cli import app

    args = ["estimate", "--model", "llama-3.1-8b", "--gpu", "h100-sxm", "--concurrency", "1", "--format", "json"]
    runner = CliRunner()
    plain = json.loads(runner.invoke(app, args).stdout)
    fast = json.loads(runner.invoke(app, [*args, "--draft-tokens", "3", "--acceptance-length", "2.5"]).stdout)
    assert plain["speculative"] is None
    assert fast["speculative"] == {"method": "draft_head", "draft_tokens": 3, "acceptance_length": 2.5}
    assert fast["tpot_ms"] < plain["tpot_ms"] / 1.8
    alone = runner.invoke(app, [*args, "--draft-tokens", "3"])
    assert alone.exit_code == 2 and "--acceptance-length together" in alone.output

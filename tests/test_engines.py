"""engines.py: one profile per Engine, constants in sane ranges with provenance, users' calibrations."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from selfhost_cli.deploy.engines import ENGINES, HARDWARE, Calibration, EngineProfile, EngineSet
from selfhost_cli.enums import Engine

# The engine set a test works with: EngineSet is a value, so each test builds its own from entries.
_ACTIVE = [EngineSet()]


def set_user_calibrations(entries: list[tuple[Engine, str, str | None, str | None, float]]) -> None:
    _ACTIVE[0] = EngineSet(tuple(Calibration(*e) for e in entries))


def profile_for(*args: Any) -> EngineProfile:
    return _ACTIVE[0].profile(*args)


@pytest.fixture
def user_calibrations():
    """Set user calibrations for one test and always clear them afterwards."""
    yield set_user_calibrations
    set_user_calibrations([])


def test_every_engine_has_a_profile():
    assert set(ENGINES) == set(Engine)
    for engine, prof in ENGINES.items():
        assert prof.engine is engine


@pytest.mark.parametrize("engine", list(Engine), ids=lambda e: e.value)
def test_engine_constants_in_sane_ranges(engine):
    p = ENGINES[engine]
    assert 0.3 <= p.software_efficiency <= 1.0
    assert 0.0 <= p.per_step_ms <= 20.0
    assert 0.0 <= p.reserve_fraction <= 0.3
    assert 1 <= p.max_batch <= 8192
    assert p.kv_bytes_fp8_weights in (1.0, 2.0)
    assert 0.0 < p.expected_error_pct <= 100.0  # an uncalibrated engine states what its held-out rows show
    assert p.provenance.strip()


def test_ideal_engine_has_no_software_overhead():
    ideal = ENGINES[Engine.IDEAL]
    assert ideal.software_efficiency == 1.0
    assert ideal.per_step_ms == 0.0
    # every real engine is slower than the ideal one somewhere
    for engine, p in ENGINES.items():
        if engine is not Engine.IDEAL:
            assert p.software_efficiency < 1.0 or p.per_step_ms > 0.0, engine


def test_hardware_constants_in_sane_ranges():
    hw = HARDWARE
    for name in (
        "mem_efficiency",
        "prefill_efficiency",
        "prefill_efficiency_8bit",
        "decode_compute_efficiency",
        "link_efficiency",
        "moe_efficiency",
        "unified_memory_efficiency",
    ):
        assert 0.1 <= getattr(hw, name) <= 1.0, name
    # measured copy 3.02 TB/s of 3.35 spec: the fitted share stays near 0.9
    assert 0.85 <= hw.mem_efficiency <= 0.97
    # fp8 GEMMs reach a smaller share of their (doubled) peak than bf16: 1449/1979 vs 803/989
    assert hw.prefill_efficiency_8bit < hw.prefill_efficiency
    assert hw.overlap_p >= 1.0
    assert 0 < hw.per_layer_ms <= hw.per_layer_quantized_ms < 0.5
    assert 0 < hw.allreduce_latency_us <= hw.pcie_allreduce_latency_us < 500


def test_profile_for_without_calibration_is_the_bundled_profile():
    set_user_calibrations([])
    for engine in Engine:
        assert profile_for(engine, "h100-sxm", "llama-3.1-8b") is ENGINES[engine]


def test_user_calibration_changes_profile_for(user_calibrations):
    user_calibrations([(Engine.VLLM, "h100-sxm", None, None, 0.5)])
    p = profile_for(Engine.VLLM, "h100-sxm", "llama-3.1-8b")
    assert p.software_efficiency == 0.5
    assert "user calibration" in p.provenance and "h100-sxm" in p.provenance
    # everything but the efficiency and provenance is the bundled profile's
    bundled = dataclasses.replace(ENGINES[Engine.VLLM], software_efficiency=0.5, provenance=p.provenance)
    assert p == bundled
    # other GPUs and other engines are untouched
    assert profile_for(Engine.VLLM, "a100-80gb", "llama-3.1-8b") is ENGINES[Engine.VLLM]
    assert profile_for(Engine.SGLANG, "h100-sxm", "llama-3.1-8b") is ENGINES[Engine.SGLANG]


def test_model_specific_calibration_wins_over_gpu_wide(user_calibrations):
    for entries in (
        [(Engine.VLLM, "h100-sxm", None, None, 0.5), (Engine.VLLM, "h100-sxm", "llama-3.1-8b", None, 0.9)],
        [(Engine.VLLM, "h100-sxm", "llama-3.1-8b", None, 0.9), (Engine.VLLM, "h100-sxm", None, None, 0.5)],  # any order
    ):
        user_calibrations(entries)
        assert profile_for(Engine.VLLM, "h100-sxm", "llama-3.1-8b").software_efficiency == 0.9
        assert "llama-3.1-8b" in profile_for(Engine.VLLM, "h100-sxm", "llama-3.1-8b").provenance
        # another model on the same GPU falls back to the GPU-wide calibration
        assert profile_for(Engine.VLLM, "h100-sxm", "qwen3-32b").software_efficiency == 0.5
        # no model given: only the GPU-wide one applies
        assert profile_for(Engine.VLLM, "h100-sxm").software_efficiency == 0.5


def test_set_user_calibrations_replaces_not_appends(user_calibrations):
    user_calibrations([(Engine.VLLM, "h100-sxm", None, None, 0.5)])
    user_calibrations([(Engine.VLLM, "h200", None, None, 0.7)])
    assert profile_for(Engine.VLLM, "h100-sxm") is ENGINES[Engine.VLLM]
    assert profile_for(Engine.VLLM, "h200").software_efficiency == 0.7
    user_calibrations([])
    assert profile_for(Engine.VLLM, "h200") is ENGINES[Engine.VLLM]


def test_precision_specific_calibration_applies_only_to_that_precision(user_calibrations):
    user_calibrations(
        [
            (Engine.VLLM, "h100-sxm", "llama-3.1-8b", "bf16", 0.5),
            (Engine.VLLM, "h100-sxm", "llama-3.1-8b", "fp8", 0.9),
        ]
    )
    assert profile_for(Engine.VLLM, "h100-sxm", "llama-3.1-8b", "bf16").software_efficiency == 0.5
    assert profile_for(Engine.VLLM, "h100-sxm", "llama-3.1-8b", "fp8").software_efficiency == 0.9
    # a precision no calibration names gets the bundled constants
    assert profile_for(Engine.VLLM, "h100-sxm", "llama-3.1-8b", "int4") is ENGINES[Engine.VLLM]


def test_most_specific_calibration_wins(user_calibrations):
    user_calibrations(
        [
            (Engine.VLLM, "h100-sxm", None, None, 0.5),
            (Engine.VLLM, "h100-sxm", "llama-3.1-8b", "fp8", 0.9),
            (Engine.VLLM, "h100-sxm", "llama-3.1-8b", None, 0.7),
        ]
    )
    assert profile_for(Engine.VLLM, "h100-sxm", "llama-3.1-8b", "fp8").software_efficiency == 0.9
    assert profile_for(Engine.VLLM, "h100-sxm", "llama-3.1-8b", "bf16").software_efficiency == 0.7
    assert profile_for(Engine.VLLM, "h100-sxm", "qwen3-32b", "fp8").software_efficiency == 0.5

"""Tests for selfhost_cli.catalog: bundled data, schema checks, lookups, user catalogs and GPU-hour prices."""

from __future__ import annotations

import datetime as dt
import re
import statistics
from enum import Enum
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from selfhost_cli import catalog
from selfhost_cli.catalog import (
    SUPERSEDED_AFTER_DAYS,
    blended_usd_per_1m,
    gpu_hourly,
    prices_for,
    size_class,
)
from selfhost_cli.catalog.schema import ApiOffering, GpuPrice, GpuSpec, ModelSpec, Moe
from selfhost_cli.enums import Confidence, Precision, Pricing
from selfhost_cli.errors import ExitCode, InputFileError, UsageError

# SPEC §5: ids scripts rely on.
SPEC_MODELS = (
    "llama-3.1-8b llama-3.1-70b llama-3.3-70b llama-3.1-405b llama-4-70b llama-4-scout llama-4-maverick deepseek-v3 "
    "deepseek-r1 qwen3-8b qwen3-32b qwen3-235b-a22b mixtral-8x7b mixtral-8x22b gpt-oss-20b gpt-oss-120b "
    "mistral-large-2 mistral-large-3 gemma-3-27b llama-2-7b llama-2-70b gpt-j-6b"
).split()
SPEC_GPUS = (
    "h100-sxm h100-pcie h100-nvl h200 gh200 b200 gb200 a100-80gb a100-40gb l40s l4 a10g mi300x mi325x rtx-4090 "
    "rtx-5090 rtx-pro-6000 apple-m2-ultra apple-m3-max apple-m4-max"
).split()
SPEC_APIS = (
    "together/llama-3.3-70b-instruct-turbo groq/llama-3.3-70b-versatile fireworks/deepseek-v3 openai/gpt-4o "
    "openai/gpt-4o-mini openai/gpt-4.1 openai/gpt-4.1-mini openai/gpt-5 openai/gpt-5-mini "
    "anthropic/claude-sonnet-4.5 anthropic/claude-haiku-4.5 google/gemini-2.5-pro google/gemini-2.5-flash"
).split()


@pytest.fixture(scope="module")
def cat() -> Catalog:
    return catalog.bundled()


Catalog = catalog.Catalog


# ---------------------------------------------------------------- enums


@pytest.mark.parametrize(
    ("enum", "values"),
    [
        (Precision, ["bf16", "fp16", "fp8", "int8", "int4", "fp4"]),
        (Pricing, ["spot", "on_demand", "reserved_1y", "reserved_3y", "owned", "serverless"]),
        (Confidence, ["high", "medium", "low"]),
    ],
)
def test_catalog_enums_are_exhaustive(enum: type[Enum], values: list[str]) -> None:
    assert [m.value for m in enum] == values


# ---------------------------------------------------------------- bundled data


def test_bundled_is_parsed_once(cat: Catalog) -> None:
    assert catalog.bundled() is cat
    assert cat.sources == ("bundled",)


def test_bundled_entries_are_keyed_by_their_id(cat: Catalog) -> None:
    for table in (cat.models, cat.gpus, cat.apis):
        assert table
        assert all(key == entry.id for key, entry in table.items())


@pytest.mark.parametrize("model_id", SPEC_MODELS)
def test_spec_model_ids_present(cat: Catalog, model_id: str) -> None:
    assert cat.model(model_id).id == model_id


@pytest.mark.parametrize("gpu_id", SPEC_GPUS)
def test_spec_gpu_ids_present(cat: Catalog, gpu_id: str) -> None:
    assert cat.gpu(gpu_id).id == gpu_id


@pytest.mark.parametrize("api_id", SPEC_APIS)
def test_spec_api_ids_present(cat: Catalog, api_id: str) -> None:
    assert cat.api(api_id).id == api_id


def test_every_gpu_price_row_is_sourced_dated_and_positive(cat: Catalog) -> None:
    rows = [(g.id, p) for g in cat.gpus.values() for p in g.prices]
    assert len(rows) > 20
    for gpu_id, p in rows:
        assert len(p.source.strip()) >= 3, gpu_id
        assert isinstance(p.as_of, dt.date), gpu_id
        assert p.usd_per_gpu_hour > 0, gpu_id
        assert p.provider, gpu_id


def test_every_api_offering_is_sourced_dated_and_positive(cat: Catalog) -> None:
    for a in cat.apis.values():
        assert len(a.source.strip()) >= 3, a.id
        assert isinstance(a.as_of, dt.date), a.id
        assert a.input_usd_per_1m > 0, a.id
        assert a.output_usd_per_1m > 0, a.id
        assert a.cached_input_usd_per_1m is None or a.cached_input_usd_per_1m > 0, a.id
        assert a.batch_discount is None or 0 < a.batch_discount < 1, a.id


def test_every_model_and_gpu_is_sourced_and_dated(cat: Catalog) -> None:
    entries: list[ModelSpec | GpuSpec] = [*cat.models.values(), *cat.gpus.values()]
    for entry in entries:
        assert len(entry.source.strip()) >= 3, entry.id
        assert isinstance(entry.as_of, dt.date), entry.id


def test_open_weight_offerings_point_at_catalog_models(cat: Catalog) -> None:
    for a in cat.apis.values():
        if a.open_weight_model is not None:
            assert a.open_weight_model in cat.models, a.id
        if a.tier == "open_weight":
            assert a.open_weight_model is not None, a.id


def test_llama_4_70b_says_it_is_modelled_on_llama_3_3_70b(cat: Catalog) -> None:
    stand_in, original = cat.model("llama-4-70b"), cat.model("llama-3.3-70b")
    assert stand_in.note is not None
    note = " ".join(stand_in.note.split())
    assert "Llama 3.3 70B" in note
    assert "modelled exactly on Llama 3.3 70B" in note or "stands in for" in note
    assert "stands in for" in stand_in.name
    assert stand_in.modelled_on == "llama-3.3-70b"
    assert all(m.modelled_on is None for m in cat.models.values() if m.id != "llama-4-70b")
    # ... and the architecture really is Llama 3.3 70B's
    fields = [
        "params_total_b",
        "params_active_b",
        "layers",
        "hidden_size",
        "intermediate_size",
        "attention_heads",
        "kv_heads",
        "head_dim",
        "vocab_size",
        "context_length",
    ]
    assert {f: getattr(stand_in, f) for f in fields} == {f: getattr(original, f) for f in fields}
    assert stand_in.moe is None


def test_llama_3_1_8b_architecture(cat: Catalog) -> None:
    m = cat.model("llama-3.1-8b")
    assert (m.layers, m.hidden_size, m.attention_heads, m.kv_heads, m.head_dim) == (32, 4096, 32, 8, 128)
    assert (m.attention, m.mla, m.moe, m.context_length) == ("gqa", None, None, 131072)


def test_deepseek_v3_architecture(cat: Catalog) -> None:
    m = cat.model("deepseek-v3")
    assert m.attention == "mla"
    assert m.mla is not None and m.moe is not None
    assert (m.mla.kv_lora_rank, m.mla.qk_rope_head_dim) == (512, 64)
    assert (m.moe.experts, m.moe.top_k, m.moe.shared_experts, m.moe.moe_layers) == (256, 8, 1, 58)
    assert (m.layers, m.params_total_b, m.params_active_b) == (61, 671, 37)


def test_other_known_architecture_facts(cat: Catalog) -> None:
    big = cat.model("llama-3.1-405b")
    assert (big.layers, big.hidden_size, big.attention_heads, big.kv_heads) == (126, 16384, 128, 8)
    mixtral = cat.model("mixtral-8x7b")
    assert mixtral.moe is not None
    assert (mixtral.moe.experts, mixtral.moe.top_k, mixtral.layers) == (8, 2, 32)
    h100 = cat.gpu("h100-sxm")
    assert (h100.memory_gb, h100.hbm_tb_per_s, h100.tflops_dense[Precision.BF16]) == (80, 3.35, 989)


# ---------------------------------------------------------------- schema checks


def _model(**changes: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "id": "toy-1b",
        "name": "Toy",
        "family": "toy",
        "licence": "mit",
        "source": "a config.json",
        "as_of": "2025-01-01",
        "params_total_b": 1.0,
        "params_active_b": 1.0,
        "layers": 16,
        "hidden_size": 2048,
        "intermediate_size": 8192,
        "attention_heads": 16,
        "kv_heads": 4,
        "head_dim": 128,
        "vocab_size": 32000,
        "context_length": 8192,
    }
    return {**base, **changes}


_MLA = {"kv_lora_rank": 512, "qk_rope_head_dim": 64, "qk_nope_head_dim": 128, "v_head_dim": 128}
_MOE = {"experts": 8, "top_k": 2, "expert_intermediate_size": 1024, "moe_layers": 16}


def test_toy_model_is_valid() -> None:
    assert ModelSpec.model_validate(_model()).kv_heads == 4
    assert ModelSpec.model_validate(_model(attention="mla", mla=_MLA, moe=_MOE)).mla is not None


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"params_active_b": 2.0}, "params_active_b exceeds params_total_b"),
        ({"attention": "mla"}, "attention: mla needs an `mla:` block, and only then"),
        ({"mla": _MLA}, "attention: mla needs an `mla:` block, and only then"),
        ({"attention_heads": 10}, "attention_heads must be a multiple of kv_heads"),
        ({"sliding_window": {"window_tokens": 1024, "layers": 17}}, "sliding_window.layers exceeds layers"),
        ({"moe": {**_MOE, "moe_layers": 17}}, "moe.moe_layers exceeds layers"),
    ],
)
def test_model_consistency_checks(changes: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError) as info:
        ModelSpec.model_validate(_model(**changes))
    assert message in str(info.value)


def test_moe_top_k_cannot_exceed_experts() -> None:
    with pytest.raises(ValidationError, match=r"top_k \(9\) exceeds experts \(8\)"):
        Moe.model_validate({**_MOE, "top_k": 9})


@pytest.mark.parametrize("bad_id", ["Toy", "toy_1", "-toy", "toy/1"])
def test_model_id_pattern(bad_id: str) -> None:
    with pytest.raises(ValidationError):
        ModelSpec.model_validate(_model(id=bad_id))


def test_models_are_frozen_and_strict() -> None:
    m = ModelSpec.model_validate(_model())
    with pytest.raises(ValidationError):
        m.layers = 3  # type: ignore[misc]
    with pytest.raises(ValidationError, match="extra_forbidden|Extra inputs"):
        ModelSpec.model_validate(_model(layer_count=3))


def _gpu(prices: list[dict[str, Any]] | None = None, **changes: Any) -> GpuSpec:
    base: dict[str, Any] = {
        "id": "toy-gpu",
        "name": "Toy GPU",
        "vendor": "nvidia",
        "memory_gb": 80,
        "hbm_tb_per_s": 3.0,
        "tflops_dense": {"bf16": 1000},
        "interconnect": {"kind": "nvlink", "gb_per_s": 450},
        "max_gpus_per_node": 8,
        "source": "a spec sheet",
        "as_of": "2025-01-01",
        "prices": prices or [],
    }
    return GpuSpec.model_validate({**base, **changes})


def _price(
    usd: float, as_of: str, pricing: str = "on_demand", provider: str = "p", confidence: str = "high"
) -> dict[str, Any]:
    return {
        "provider": provider,
        "pricing": pricing,
        "usd_per_gpu_hour": usd,
        "source": f"{provider} page",
        "as_of": as_of,
        "confidence": confidence,
    }


def test_gpu_needs_a_bf16_or_fp16_figure() -> None:
    with pytest.raises(ValidationError, match="tflops_dense needs a bf16 or fp16 figure"):
        _gpu(tflops_dense={"fp8": 2000})


FULL = {"gpu": "big-gpu", "tdp_w": 700, "tflops_16bit": 1000, "source": "its spec sheet", "as_of": "2025-01-01"}


def test_a_power_capped_board_runs_its_matmuls_at_the_full_power_parts_energy_per_flop() -> None:
    # 400 W for 800 TFLOPS against 700 W for 1,000: 0.5 / 0.7 of the spec rate
    capped = _gpu(tdp_w=400, tflops_dense={"bf16": 800}, full_power=FULL)
    assert capped.power_compute_share == pytest.approx(0.5 / 0.7)
    assert _gpu(tdp_w=700, tflops_dense={"bf16": 800}, full_power=FULL).power_compute_share == 1.0  # never above 1
    assert _gpu(tdp_w=400).power_compute_share == 1.0  # no full-power part named: no cap


def test_full_power_needs_the_boards_own_tdp() -> None:
    with pytest.raises(ValidationError, match="full_power needs this GPU's own tdp_w"):
        _gpu(full_power=FULL)


def test_full_power_figures_are_those_of_the_catalog_gpu_they_name(cat: Catalog) -> None:
    capped = {g.id: g for g in cat.gpus.values() if g.full_power}
    assert {"h100-nvl", "h100-pcie", "b200", "mi300x"} <= set(capped)
    for g in capped.values():
        assert g.full_power is not None
        full = cat.gpu(g.full_power.gpu)
        assert (full.tdp_w, full.tflops_dense[Precision.BF16]) == (g.full_power.tdp_w, g.full_power.tflops_16bit), g.id
    assert capped["h100-nvl"].power_compute_share == pytest.approx(0.676, abs=1e-3)
    assert capped["mi300x"].power_compute_share == pytest.approx(0.75)


@pytest.mark.parametrize("usd", [0, -1.0])
def test_gpu_price_must_be_positive(usd: float) -> None:
    with pytest.raises(ValidationError):
        GpuPrice.model_validate(_price(usd, "2025-01-01"))


def test_price_row_needs_source_and_as_of() -> None:
    with pytest.raises(ValidationError):
        GpuPrice.model_validate({"provider": "p", "pricing": "spot", "usd_per_gpu_hour": 2.0, "as_of": "2025-01-01"})
    with pytest.raises(ValidationError):
        GpuPrice.model_validate({"provider": "p", "pricing": "spot", "usd_per_gpu_hour": 2.0, "source": "a page"})


# ---------------------------------------------------------------- lookups


@pytest.mark.parametrize(
    ("kind", "word", "expected"),
    [
        ("model", "llama-4-7b", "unknown model id 'llama-4-7b'; did you mean 'llama-4-70b'"),
        ("gpu", "h100-sxn", "unknown gpu id 'h100-sxn'; did you mean 'h100-sxm'"),
        ("api", "openai/gpt4o", "unknown api id 'openai/gpt4o'; did you mean 'openai/gpt-4o'"),
    ],
)
def test_unknown_id_suggests_the_close_one(cat: Catalog, kind: str, word: str, expected: str) -> None:
    with pytest.raises(UsageError) as info:
        getattr(cat, kind)(word)
    assert info.value.exit_code is ExitCode.USAGE
    assert info.value.message.startswith(expected)
    count = {"model": len(cat.models), "gpu": len(cat.gpus), "api": len(cat.apis)}[kind]
    assert info.value.hint == f"`selfhost catalog {kind}s` lists the {count} known ids"


def test_unknown_id_without_close_match(cat: Catalog) -> None:
    with pytest.raises(UsageError) as info:
        cat.model("zzzz")
    assert info.value.message == "unknown model id 'zzzz'"


# ---------------------------------------------------------------- user catalogs


USER_CATALOG = """\
schema_version: 1
gpus:
  - id: my-gpu
    name: Our cluster card
    vendor: nvidia
    memory_gb: 48
    hbm_tb_per_s: 1.0
    tflops_dense: {bf16: 400}
    interconnect: {kind: pcie, gb_per_s: 32}
    max_gpus_per_node: 4
    source: our inventory
    as_of: 2026-01-01
    prices:
      - {provider: us, pricing: owned, usd_per_gpu_hour: 0.9, source: finance sheet, as_of: 2026-01-01}
apis:
  - id: openai/gpt-4o
    provider: openai
    model_name: gpt-4o
    tier: frontier
    input_usd_per_1m: 1.0
    output_usd_per_1m: 4.0
    source: our negotiated contract
    as_of: 2026-02-01
"""


def test_user_catalog_adds_and_overrides_by_id(tmp_path: Path, cat: Catalog) -> None:
    user = tmp_path / "mine.yaml"
    user.write_text(USER_CATALOG, encoding="utf-8")
    merged = catalog.load([user])
    assert merged.sources == ("bundled", str(user))
    # added
    assert merged.gpu("my-gpu").memory_gb == 48
    assert "my-gpu" not in cat.gpus  # the bundled catalog is not mutated
    # overridden, whole entry replaced by id
    assert (merged.api("openai/gpt-4o").input_usd_per_1m, merged.api("openai/gpt-4o").output_usd_per_1m) == (1.0, 4.0)
    assert merged.api("openai/gpt-4o").source == "our negotiated contract"
    assert cat.api("openai/gpt-4o").input_usd_per_1m == 2.5
    # untouched
    assert merged.models == cat.models
    assert len(merged.gpus) == len(cat.gpus) + 1
    assert len(merged.apis) == len(cat.apis)


def test_later_user_catalog_wins(tmp_path: Path) -> None:
    first, second = tmp_path / "a.yaml", tmp_path / "b.yaml"
    first.write_text(USER_CATALOG, encoding="utf-8")
    second.write_text(USER_CATALOG.split("apis:")[0].replace("memory_gb: 48", "memory_gb: 96"), encoding="utf-8")
    merged = catalog.load([first, second])
    assert merged.gpu("my-gpu").memory_gb == 96
    assert merged.api("openai/gpt-4o").input_usd_per_1m == 1.0
    assert merged.sources == ("bundled", str(first), str(second))


def test_load_without_user_files_is_the_bundled_catalog(cat: Catalog) -> None:
    assert catalog.load() is cat


def test_invalid_user_catalog_is_located(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(USER_CATALOG.replace("usd_per_gpu_hour: 0.9", "usd_per_gpu_hour: -0.9"), encoding="utf-8")
    with pytest.raises(InputFileError) as info:
        catalog.load([bad])
    assert info.value.exit_code is ExitCode.INVALID_INPUT
    assert info.value.message == f"{bad}:14: gpus[0].prices[0].usd_per_gpu_hour: must be at least 0.0001 (got -0.9)"


def test_user_catalog_unknown_key_is_located(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(USER_CATALOG.replace("    memory_gb: 48\n", "    memory_gb: 48\n    memroy: 1\n"), encoding="utf-8")
    with pytest.raises(InputFileError) as info:
        catalog.load([bad])
    assert info.value.message.splitlines()[0] == f"{bad}:7: gpus[0].memroy: unknown key; did you mean 'memory_gb'?"


def test_user_catalog_that_is_not_a_mapping(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("- just\n- a list\n", encoding="utf-8")
    with pytest.raises(InputFileError) as info:
        catalog.load([bad])
    assert info.value.message == f"{bad}:1: the catalog must be a mapping of keys to values (got a list)"
    assert info.value.hint == "see docs/catalogs.md for the layout"


# ---------------------------------------------------------------- GPU-hour prices


def test_gpu_hourly_override_wins() -> None:
    gpu = _gpu([_price(3.0, "2025-01-01")])
    got = gpu_hourly(gpu, Pricing.ON_DEMAND, override_usd=4.28)
    assert got is not None
    assert (got.usd_per_gpu_hour, got.basis, got.as_of, got.low_usd, got.high_usd) == (4.28, "given", None, 4.28, 4.28)
    assert got.source == "the profile / command line"


def test_gpu_hourly_is_the_median_of_the_tier_rows() -> None:
    gpu = _gpu(
        [
            _price(2.0, "2025-03-01", provider="a"),
            _price(4.0, "2025-02-01", provider="b"),
            _price(9.0, "2025-01-01", provider="c"),
            _price(1.0, "2025-01-01", pricing="spot", provider="d"),  # another tier: ignored
        ]
    )
    got = gpu_hourly(gpu, Pricing.ON_DEMAND)
    assert got is not None
    assert got.usd_per_gpu_hour == 4.0  # median of 2, 4, 9
    assert (got.low_usd, got.high_usd) == (2.0, 9.0)
    assert got.as_of == dt.date(2025, 1, 1)  # the oldest row used
    assert got.basis == "median of 3 providers' on_demand prices (a, b, c)"
    assert got.source == "a page; b page; c page"


def test_gpu_hourly_median_of_an_even_count() -> None:
    got = gpu_hourly(
        _gpu([_price(2.0, "2025-01-01", provider="a"), _price(3.0, "2025-01-01", provider="b")]), Pricing.ON_DEMAND
    )
    assert got is not None and got.usd_per_gpu_hour == 2.5


def test_a_provider_with_many_rows_counts_once() -> None:
    """Five regions of one cheap provider must not outvote two others: one quote per provider, its median."""
    cheap = [_price(1.0 + i / 100, "2025-01-01", provider="cheap") for i in range(5)]
    got = gpu_hourly(
        _gpu([*cheap, _price(4.0, "2025-01-01", provider="b"), _price(5.0, "2025-01-01", provider="c")]),
        Pricing.ON_DEMAND,
    )
    assert got is not None
    assert got.usd_per_gpu_hour == 4.0  # median of 1.02, 4, 5 (rows: 1.0…1.04, 4, 5 would give 1.04)
    assert got.basis == "median of 3 providers' on_demand prices, 7 rows (b, c, cheap)"
    assert (got.low_usd, got.high_usd) == (1.02, 5.0)  # the range is over providers' quotes


def test_primary_price_pages_outweigh_third_party_tables() -> None:
    rows = [
        _price(2.0, "2025-01-01", provider="blog-a", confidence="low"),
        _price(2.1, "2025-01-01", provider="blog-b", confidence="low"),
        _price(6.0, "2025-01-01", provider="cloud", confidence="high"),
    ]
    got = gpu_hourly(_gpu(rows), Pricing.ON_DEMAND)
    assert got is not None
    assert got.usd_per_gpu_hour == 6.0  # weights 1 + 1 against 3: the provider's own page decides
    assert "weighted median of 3 providers' on_demand prices, high/low confidence counts 3/1" in got.basis


def test_weighted_median_is_the_ordinary_median_for_equal_weights() -> None:
    from selfhost_cli.catalog import weighted_median

    for values in ([3.0], [1.0, 2.0], [5.0, 1.0, 3.0], [4.0, 1.0, 3.0, 2.0]):
        assert weighted_median([(v, 2.0) for v in values]) == statistics.median(values)
    assert weighted_median([(1.0, 1.0), (2.0, 1.0), (3.0, 2.0)]) == 2.5  # the half falls between 2 and 3


def test_gpu_hourly_single_row_names_its_provider() -> None:
    got = gpu_hourly(_gpu([_price(1.5, "2025-01-01", pricing="spot", provider="vast")]), Pricing.SPOT)
    assert got is not None
    assert (got.usd_per_gpu_hour, got.basis) == (1.5, "vast")


def test_gpu_hourly_unknown_is_none_never_zero() -> None:
    gpu = _gpu([_price(2.0, "2025-01-01", pricing="spot")])
    assert gpu_hourly(gpu, Pricing.RESERVED_3Y) is None
    assert gpu_hourly(_gpu([]), Pricing.ON_DEMAND) is None


def test_bundled_gpus_without_prices_are_unknown_at_every_tier(cat: Catalog) -> None:
    unpriced = [g for g in cat.gpus.values() if not g.prices]
    assert unpriced, "the bundled catalog has GPUs with no sourced price (e.g. the Apple parts)"
    for g in unpriced:
        assert all(gpu_hourly(g, p) is None for p in Pricing), g.id


def test_superseded_rows_are_ignored() -> None:
    assert SUPERSEDED_AFTER_DAYS == 365
    gpu = _gpu(
        [
            _price(12.29, "2023-07-27", provider="launch"),  # more than a year older than the newest: superseded
            _price(3.0, "2025-01-01", provider="a"),
            _price(4.0, "2024-06-01", provider="b"),  # 214 days older: kept
        ]
    )
    assert [r.provider for r in prices_for(gpu, Pricing.ON_DEMAND)] == ["a", "b"]
    got = gpu_hourly(gpu, Pricing.ON_DEMAND)
    assert got is not None
    assert got.usd_per_gpu_hour == 3.5
    assert got.high_usd == 4.0
    assert got.as_of == dt.date(2024, 6, 1)


def test_row_exactly_a_year_older_is_kept() -> None:
    gpu = _gpu([_price(3.0, "2025-01-01"), _price(5.0, "2024-01-02")])  # 365 days apart
    assert len(prices_for(gpu, Pricing.ON_DEMAND)) == 2


def test_bundled_h100_sxm_drops_2023_launch_prices(cat: Catalog) -> None:
    h100 = cat.gpu("h100-sxm")
    all_rows = [p for p in h100.prices if p.pricing is Pricing.ON_DEMAND]
    kept = prices_for(h100, Pricing.ON_DEMAND)
    newest = max(p.as_of for p in all_rows)
    assert len(kept) < len(all_rows)
    assert all((newest - p.as_of).days <= 365 for p in kept)
    assert dt.date(2023, 7, 27) not in [p.as_of for p in kept]  # AWS's 2023 launch price
    hourly = gpu_hourly(h100, Pricing.ON_DEMAND)
    assert hourly is not None and 2.0 <= hourly.usd_per_gpu_hour <= 8.0  # SPEC §1: on-demand H100 $4–8/h-ish


# ---------------------------------------------------------------- size classes and offering order


@pytest.mark.parametrize(
    ("params_b", "expected"),
    [
        (1, "small"),
        (14.99, "small"),
        (15, "medium"),
        (49.9, "medium"),
        (50, "large"),
        (149, "large"),
        (150, "xl"),
        (671, "xl"),
    ],
)
def test_size_class_boundaries(params_b: float, expected: str) -> None:
    m = ModelSpec.model_validate(_model(params_total_b=params_b, params_active_b=1.0))
    assert size_class(m) == expected


def test_size_class_of_bundled_models(cat: Catalog) -> None:
    assert {i: size_class(cat.model(i)) for i in ["llama-3.1-8b", "qwen3-32b", "llama-4-70b", "deepseek-v3"]} == {
        "llama-3.1-8b": "small",
        "qwen3-32b": "medium",
        "llama-4-70b": "large",
        "deepseek-v3": "xl",
    }


def test_blended_price_is_a_3_to_1_mix() -> None:
    api = ApiOffering.model_validate(
        {
            "id": "x/y",
            "provider": "x",
            "model_name": "y",
            "tier": "mid",
            "input_usd_per_1m": 2.0,
            "output_usd_per_1m": 10.0,
            "source": "page",
            "as_of": "2025-01-01",
        }
    )
    # 0.75 × $2 + 0.25 × $10 = $4 per 1M tokens
    assert blended_usd_per_1m(api) == pytest.approx(4.0)
    assert blended_usd_per_1m(api, input_share=0.5) == pytest.approx(6.0)


def test_apis_serving_the_model_or_an_identical_twin_cheapest_first(cat: Catalog) -> None:
    found = cat.apis_serving("llama-3.3-70b")
    assert {a.id for a in found} >= {"together/llama-3.3-70b-instruct-turbo", "groq/llama-3.3-70b-versatile"}
    for a in found:
        assert a.open_weight_model is not None
        assert catalog.same_architecture(cat.model(a.open_weight_model), cat.model("llama-3.3-70b")), a.id
    prices = [blended_usd_per_1m(a) for a in found]
    assert prices == sorted(prices)
    # the llama-4-70b stand-in has Llama 3.3 70B's architecture, so the same offerings serve it
    assert [a.id for a in cat.apis_serving("llama-4-70b")] == [a.id for a in found]
    assert all(a.open_weight_model != "deepseek-v3" for a in found)


def test_apis_serving_unknown_or_unserved_model(cat: Catalog) -> None:
    assert cat.apis_serving("not-in-the-catalog") == []
    assert cat.apis_serving("gpt-j-6b") == []


def test_same_architecture(cat: Catalog) -> None:
    assert catalog.same_architecture(cat.model("llama-4-70b"), cat.model("llama-3.3-70b"))
    assert not catalog.same_architecture(cat.model("llama-3.1-8b"), cat.model("llama-3.3-70b"))
    assert not catalog.same_architecture(cat.model("deepseek-v3"), cat.model("mistral-large-3"))


def test_apis_of_size_class_cheapest_first(cat: Catalog) -> None:
    found = cat.apis_of_size_class(cat.model("llama-4-70b"))
    assert found
    assert all(size_class(cat.model(a.open_weight_model or "")) == "large" for a in found)
    assert {a.id for a in cat.apis_serving("llama-3.3-70b")} <= {a.id for a in found}
    prices = [blended_usd_per_1m(a) for a in found]
    assert prices == sorted(prices)
    assert all(a.open_weight_model is not None for a in found)  # closed models have no size class


def test_merged_user_offering_joins_the_order(tmp_path: Path) -> None:
    user = tmp_path / "cheap.yaml"
    user.write_text(
        "apis:\n  - id: acme/llama-3.3-70b\n    provider: acme\n    model_name: l\n    tier: open_weight\n"
        "    open_weight_model: llama-3.3-70b\n    input_usd_per_1m: 0.01\n    output_usd_per_1m: 0.02\n"
        "    source: acme page\n    as_of: 2026-01-01\n",
        encoding="utf-8",
    )
    merged = catalog.load([user])
    assert merged.apis_serving("llama-3.3-70b")[0].id == "acme/llama-3.3-70b"


def test_dense_parameter_counts_reconcile_with_the_architecture(cat: Catalog) -> None:
    """Embeddings (× 2 unless tied) + layers × (attention + gated MLP) is the published total within 2%: a
    missing `tied_embeddings` shows up as a count the architecture overshoots (issue 10)."""
    for m in cat.models.values():
        if m.moe or m.mla or m.family == "gpt-j":  # GPT-J's MLP is not gated (two matrices, not three)
            continue
        tables = m.vocab_size * m.hidden_size * (1 if m.tied_embeddings else 2)
        attention = 2 * m.hidden_size * m.attention_heads * m.head_dim + 2 * m.hidden_size * m.kv_heads * m.head_dim
        total = tables + m.layers * (attention + 3 * m.hidden_size * m.intermediate_size)
        assert total / 1e9 == pytest.approx(m.params_total_b, rel=0.02), m.id


def test_tier_order_is_sane_for_every_bundled_gpu(cat: Catalog) -> None:
    """Interruptible and committed capacity never cost more than on-demand (a mislabelled row shows up here)."""
    for g in cat.gpus.values():
        on_demand = gpu_hourly(g, Pricing.ON_DEMAND)
        for tier in (Pricing.SPOT, Pricing.RESERVED_1Y, Pricing.RESERVED_3Y):
            cheaper = gpu_hourly(g, tier)
            if on_demand and cheaper:
                assert cheaper.usd_per_gpu_hour < on_demand.usd_per_gpu_hour, (g.id, tier.value)


def test_every_price_row_cites_a_source_a_reader_can_open(cat: Catalog) -> None:
    """SPEC §5: a public URL or a public repository path, never a file only the developers have."""
    for g in cat.gpus.values():
        for p in g.prices:
            assert "shared/reference" not in p.source and "reference/" not in p.source.split()[0], (g.id, p.source)
            assert re.search(r"https?://|[\w.-]+\.[a-z]{2,}/|[\w.-]+/[\w.-]+", p.source), (g.id, p.provider, p.source)


def _sources(obj: object, where: str) -> list[tuple[str, str]]:
    """Every `source` field anywhere under a catalog entry (prices, specs, purchases, quality, capabilities, ...)."""
    from pydantic import BaseModel

    found: list[tuple[str, str]] = []
    if isinstance(obj, BaseModel):
        for name in type(obj).model_fields:
            value = getattr(obj, name)
            if name == "source" and isinstance(value, str):
                found.append((where, value))
            else:
                found += _sources(value, f"{where}.{name}")
    elif isinstance(obj, (list, tuple)):
        for i, item in enumerate(obj):
            found += _sources(item, f"{where}[{i}]")
    elif isinstance(obj, dict):
        for k, item in obj.items():
            found += _sources(item, f"{where}.{k}")
    return found


def test_every_source_in_every_catalog_is_one_a_reader_can_open(cat: Catalog) -> None:
    """Issue 10's done-when: every row's source opens — a public URL or an `owner/repo path`, never a private file,
    for GPU specs and prices, purchases, power, API prices, retirements, capabilities, quality and model facts."""
    entries = [*cat.gpus.values(), *cat.apis.values(), *cat.models.values()]
    sources = [s for e in entries for s in _sources(e, e.id)]
    assert len(sources) > 500  # it walked the nested rows, not only the entries
    for where, source in sources:
        assert "shared/reference" not in source and not source.startswith("reference/"), (where, source)
        assert re.search(r"https?://|[\w.-]+\.[a-z]{2,}/|[\w.-]+/[\w.-]+", source), (where, source)


@pytest.mark.parametrize(("model_id", "body_b"), [("deepseek-v3", 15.2), ("kimi-k2", 9.5), ("qwen3-235b-a22b", 6.7)])
def test_sparse_moe_reads_its_real_dense_share_every_step(cat: Catalog, model_id: str, body_b: float) -> None:
    """What every decode step reads besides the routed experts comes from the architecture: a floor at 5% of the
    total made Kimi K2 read 51B instead of ~9.5B per step (and DeepSeek V3 33.5B instead of ~15.2B)."""
    from selfhost_cli.deploy.params import param_split

    assert param_split(cat.model(model_id)).body / 1e9 == pytest.approx(body_b, rel=0.05)


def test_purchase_rows_carry_their_server_share(cat: Catalog) -> None:
    """Owned hardware is priced per GPU with its share of the server: a GPU-only or card-only price would understate
    it, so such figures stay out of the catalog (unknown, never a partial price)."""
    for g in cat.gpus.values():
        for p in g.purchases:
            words = p.includes.lower()
            assert "gpu only" not in words and "card only" not in words, (g.id, p.what)

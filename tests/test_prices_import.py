"""Tests for selfhost_cli.prices_import: litellm / genai-prices / SkyPilot price files -> user catalog files."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import re
from pathlib import Path

import pytest
import yaml

from selfhost_cli import catalog
from selfhost_cli.catalog import gpu_hourly
from selfhost_cli.catalog.schema import ApiOffering, UserCatalogFile
from selfhost_cli.enums import Confidence, Pricing
from selfhost_cli.errors import ExitCode, InputFileError, UsageError
from selfhost_cli.prices_import import (
    ImportResult,
    canonical_model_name,
    classify_tier,
    convert,
    dump,
    match_open_weight_model,
    normalize_id_part,
    skypilot_gpu_id,
    skypilot_provider_from_path,
)

FIXTURES = Path(__file__).parent / "fixtures" / "prices"
AS_OF = dt.date(2026, 6, 1)
ID_PATTERN = re.compile(r"^[a-z0-9][a-z0-9.\-]*/[a-z0-9][a-z0-9.\-]*$")


@pytest.fixture(scope="module")
def cat() -> catalog.Catalog:
    return catalog.bundled()


def _fixture(name: str) -> str:
    return (FIXTURES / name).read_text(encoding="utf-8")


def _apis(result: ImportResult) -> dict[str, ApiOffering]:
    return {a.id: a for a in result.file.apis}


def _round_trip(result: ImportResult, tmp_path: Path) -> catalog.Catalog:
    out = tmp_path / "imported.yaml"
    out.write_text(dump(result.file), encoding="utf-8")
    return catalog.load([out])


# ====================================================================== litellm


@pytest.fixture(scope="module")
def litellm(cat: catalog.Catalog) -> ImportResult:
    return convert(_fixture("litellm_sample.json"), "litellm_sample.json", "litellm", cat, AS_OF)


def test_litellm_counts(litellm: ImportResult) -> None:
    # 12 keys: sample_spec (ignored, not "skipped"), 7 chat entries with both prices, 3 not convertible and
    # one local runtime at $0/$0 (unknown, never $0: skipped).
    assert len(litellm.file.apis) == 7
    assert len(litellm.skipped) == 4
    assert not any("sample_spec" in line for line in litellm.skipped)
    assert litellm.file.gpus == [] and litellm.file.models == []


def test_litellm_exact_prices(litellm: ImportResult) -> None:
    apis = _apis(litellm)
    mini = apis["openai/gpt-4.1-mini"]
    # 4e-07 * 1e6 = 0.4; 1.6e-06 * 1e6 = 1.6; cache 1e-07 * 1e6 = 0.1; batch 1 - 2e-07/4e-07 = 1 - 8e-07/1.6e-06 = 0.5
    assert (mini.input_usd_per_1m, mini.output_usd_per_1m) == (0.4, 1.6)
    assert mini.cached_input_usd_per_1m == 0.1
    assert mini.batch_discount == 0.5
    gpt4o = apis["openai/gpt-4o"]
    # 2.5e-06 -> 2.5, 1e-05 -> 10, cache 1.25e-06 -> 1.25, batch 1 - 1.25e-06/2.5e-06 = 0.5
    assert (gpt4o.input_usd_per_1m, gpt4o.output_usd_per_1m, gpt4o.cached_input_usd_per_1m) == (2.5, 10.0, 1.25)
    assert gpt4o.batch_discount == 0.5
    sonnet = apis["anthropic/claude-sonnet-4-5-20250929"]
    # 3e-06 -> 3, 1.5e-05 -> 15, cache_read 3e-07 -> 0.3; no *_batches fields -> no batch discount
    assert (sonnet.input_usd_per_1m, sonnet.output_usd_per_1m, sonnet.cached_input_usd_per_1m) == (3.0, 15.0, 0.3)
    assert sonnet.batch_discount is None
    # 8.8e-07 -> 0.88 both ways; 5e-08 -> 0.05, 8e-08 -> 0.08 (exact decimals, no float noise)
    together = apis["together/llama-3.3-70b-instruct-turbo"]
    assert (together.input_usd_per_1m, together.output_usd_per_1m) == (0.88, 0.88)
    groq = apis["groq/llama-3.1-8b-instant"]
    assert (groq.input_usd_per_1m, groq.output_usd_per_1m) == (0.05, 0.08)
    flash = apis["google/gemini-2.5-flash"]
    # 3e-07 -> 0.3, 2.5e-06 -> 2.5, cache 3e-08 -> 0.03
    assert (flash.input_usd_per_1m, flash.output_usd_per_1m, flash.cached_input_usd_per_1m) == (0.3, 2.5, 0.03)
    assert apis["fireworks/deepseek-v3"].input_usd_per_1m == 0.9  # 9e-07 * 1e6


def test_litellm_source_date_confidence(litellm: ImportResult) -> None:
    for api in litellm.file.apis:
        assert api.source == "litellm_sample.json (litellm model_prices_and_context_window.json)"
        assert api.as_of == AS_OF
        assert api.confidence == Confidence.MEDIUM
        assert ID_PATTERN.match(api.id)


def test_litellm_id_normalization(litellm: ImportResult) -> None:
    by_key = {a.note.split(";")[0].removeprefix("litellm key "): a for a in litellm.file.apis if a.note}
    # provider alias together_ai -> together, org path dropped, lowercase
    assert by_key["together_ai/meta-llama/Llama-3.3-70B-Instruct-Turbo"].id == "together/llama-3.3-70b-instruct-turbo"
    assert by_key["together_ai/meta-llama/Llama-3.3-70B-Instruct-Turbo"].provider == "together"
    assert by_key["together_ai/meta-llama/Llama-3.3-70B-Instruct-Turbo"].model_name == (
        "meta-llama/Llama-3.3-70B-Instruct-Turbo"
    )
    assert by_key["fireworks_ai/accounts/fireworks/models/deepseek-v3"].id == "fireworks/deepseek-v3"
    assert by_key["gemini/gemini-2.5-flash"].id == "google/gemini-2.5-flash"
    assert by_key["gpt-4.1-mini"].id == "openai/gpt-4.1-mini"  # unprefixed key: provider from litellm_provider


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Llama-3.3-70B-Instruct-Turbo", "llama-3.3-70b-instruct-turbo"),
        ("amazon.nova-lite-v1:0", "amazon.nova-lite-v1-0"),
        ("Meta Llama_3 70B@latest", "meta-llama-3-70b-latest"),
        ("--weird//name--", "weird-name"),
        (".hidden", "hidden"),
        ("vertex_ai-language-models", "vertex-ai-language-models"),
    ],
)
def test_normalize_id_part(text: str, expected: str) -> None:
    assert normalize_id_part(text) == expected


def test_litellm_open_weight_mapping(litellm: ImportResult) -> None:
    apis = _apis(litellm)
    assert apis["together/llama-3.3-70b-instruct-turbo"].tier == "open_weight"
    assert apis["together/llama-3.3-70b-instruct-turbo"].open_weight_model == "llama-3.3-70b"
    assert apis["groq/llama-3.1-8b-instant"].open_weight_model == "llama-3.1-8b"
    assert apis["fireworks/deepseek-v3"].open_weight_model == "deepseek-v3"


def test_litellm_open_weight_match_for_new_ids(cat: catalog.Catalog) -> None:
    text = json.dumps(
        {
            "deepinfra/meta-llama/Meta-Llama-3.1-70B-Instruct": {
                "litellm_provider": "deepinfra",
                "mode": "chat",
                "input_cost_per_token": 2.3e-07,
                "output_cost_per_token": 4e-07,
            }
        }
    )
    api = convert(text, "x.json", "litellm", cat, AS_OF).file.apis[0]
    assert api.id == "deepinfra/meta-llama-3.1-70b-instruct"
    assert (api.tier, api.open_weight_model) == ("open_weight", "llama-3.1-70b")
    assert api.note is not None and "llama-3.1-70b (matched by name)" in api.note
    # 2.3e-07 * 1e6 = 0.23; 4e-07 * 1e6 = 0.4
    assert (api.input_usd_per_1m, api.output_usd_per_1m) == (0.23, 0.4)


def test_litellm_tiers(litellm: ImportResult) -> None:
    apis = _apis(litellm)
    # ids already in the catalog keep the catalog's tier (the bundled catalog calls gpt-4.1-mini "mid")
    assert apis["openai/gpt-4.1-mini"].tier == "mid"
    assert apis["openai/gpt-4o"].tier == "frontier"
    assert apis["google/gemini-2.5-flash"].tier == "mid"
    # a new id is classified by name
    assert apis["anthropic/claude-sonnet-4-5-20250929"].tier == "frontier"
    replaced = [w for w in litellm.warnings if "replace it when this file is loaded" in w]
    assert len(replaced) == 1 and "openai/gpt-4.1-mini" in replaced[0] and "6 imported offering(s)" in replaced[0]


@pytest.mark.parametrize(
    ("name", "tier"),
    [
        ("gpt-4o", "frontier"),
        ("gpt-4o-2024-08-06", "frontier"),
        ("gpt-4o-mini", "small"),
        ("gpt-4.1", "frontier"),
        ("gpt-4.1-nano", "small"),
        ("gpt-5.2", "frontier"),
        ("gpt-5-mini", "small"),
        ("o3", "frontier"),
        ("o3-mini", "small"),
        ("claude-3-5-sonnet-20241022", "frontier"),
        ("claude-opus-4-1", "frontier"),
        ("us.anthropic.claude-sonnet-4-5-20250929-v1:0", "frontier"),
        ("claude-3-5-haiku-20241022", "small"),
        ("gemini-2.5-pro", "frontier"),
        ("gemini-2.0-flash-lite", "small"),
        ("mistral-medium-2505", "mid"),
        ("gpt-4", "mid"),
        ("command-r-plus", "mid"),
    ],
)
def test_classify_tier(name: str, tier: str) -> None:
    assert classify_tier(name) == tier


@pytest.mark.parametrize(
    ("name", "model_id"),
    [
        ("meta-llama/Llama-3.3-70B-Instruct-Turbo", "llama-3.3-70b"),
        ("Meta-Llama-3.1-405B-Instruct", "llama-3.1-405b"),
        ("accounts/fireworks/models/llama-v3p1-70b-instruct", "llama-3.1-70b"),
        ("meta.llama3-1-8b-instruct-v1:0", "llama-3.1-8b"),
        ("llama3-70b-8192", "llama-3-70b"),
        ("llama-3.2-3b-preview", "llama-3.2-3b"),
        ("llama-4-maverick-17b-128e-instruct-fp8", "llama-4-maverick"),
        ("deepseek-chat", "deepseek-v3"),
        ("deepseek-reasoner", "deepseek-r1"),
        ("deepseek-ai/DeepSeek-V3-0324", "deepseek-v3"),
        ("deepseek-v3.1-terminus", "deepseek-v3.1"),
        ("deepseek-v3.2", "deepseek-v3.2"),
        ("Qwen/Qwen3-235B-A22B-Instruct-2507", "qwen3-235b-a22b"),
        ("qwen-3-32b", "qwen3-32b"),
        ("gemma3-27b-it", "gemma-3-27b"),
        ("openai/gpt-oss-120b", "gpt-oss-120b"),
        ("mixtral-8x7b-32768", "mixtral-8x7b"),
        # no match: distilled models, other versions, closed models, other families
        ("DeepSeek-R1-Distill-Llama-70B", None),
        ("deepseek-v2.5", None),
        ("mistral-large-2411", None),
        ("gpt-4o", None),
        ("codellama-34b-instruct", None),
        ("llama-3.1-nemotron-70b-instruct", None),
    ],
)
def test_match_open_weight_model(cat: catalog.Catalog, name: str, model_id: str | None) -> None:
    assert match_open_weight_model(name, cat.models) == model_id


def test_canonical_model_name() -> None:
    assert canonical_model_name("accounts/fireworks/models/llama-v3p3-70b-instruct") == "llama-3.3-70b-instruct"
    assert canonical_model_name("Meta Llama 3 8B") == "meta-llama-3-8b"


def test_litellm_skipped_reasons(litellm: ImportResult) -> None:
    skipped = "\n".join(litellm.skipped)
    assert "deepinfra/Qwen/Qwen3-32B: no output_cost_per_token" in skipped
    assert "text-embedding-3-small: mode 'embedding': only chat models are imported" in skipped
    assert "standard/1024-x-1024/dall-e-3: mode 'image_generation'" in skipped
    assert "deepinfra/qwen3-32b" not in _apis(litellm)


def test_litellm_explicit_zero_is_unknown_never_the_cheapest(litellm: ImportResult) -> None:
    # SPEC §5: a $0 price read from someone else's file is unknown (local runtimes, promotions)
    assert "ollama/llama3.1" not in _apis(litellm)
    assert any(s.startswith("ollama/llama3.1: $0 in the file") for s in litellm.skipped)


def test_litellm_long_context_noted(litellm: ImportResult) -> None:
    sonnet = _apis(litellm)["anthropic/claude-sonnet-4-5-20250929"]
    # 6e-06 * 1e6 = 6; 2.25e-05 * 1e6 = 22.5
    assert sonnet.note is not None and "above 200k tokens $6 in / $22.5 out per 1M" in sonnet.note
    assert any("claude-sonnet-4-5-20250929: long-context prices" in w for w in litellm.warnings)


def _litellm_one(cat: catalog.Catalog, entry: dict[str, object], key: str = "gpt-9") -> ImportResult:
    base: dict[str, object] = {"litellm_provider": "openai", "mode": "chat"}
    return convert(json.dumps({key: {**base, **entry}}), "one.json", "litellm", cat, AS_OF)


def test_litellm_batch_discount_rules(cat: catalog.Catalog) -> None:
    # input 1 - 1.25e-06/2.5e-06 = 0.5 but output 1 - 6e-06/1e-05 = 0.4: inconsistent -> unset, with a warning
    odd = _litellm_one(
        cat,
        {
            "input_cost_per_token": 2.5e-06,
            "output_cost_per_token": 1e-05,
            "input_cost_per_token_batches": 1.25e-06,
            "output_cost_per_token_batches": 6e-06,
        },
    )
    assert odd.file.apis[0].batch_discount is None
    assert any("different discounts" in w for w in odd.warnings)
    # only the input batch price stated: 1 - 1.5e-07/2e-07 = 0.25
    one_side = _litellm_one(
        cat, {"input_cost_per_token": 2e-07, "output_cost_per_token": 8e-07, "input_cost_per_token_batches": 1.5e-07}
    )
    assert one_side.file.apis[0].batch_discount == 0.25
    # a batch price above the regular one is not a discount
    dearer = _litellm_one(
        cat, {"input_cost_per_token": 2e-07, "output_cost_per_token": 8e-07, "input_cost_per_token_batches": 3e-07}
    )
    assert dearer.file.apis[0].batch_discount is None
    assert any("batch discount left unset" in w for w in dearer.warnings)


@pytest.mark.parametrize(
    ("entry", "reason"),
    [
        ({"output_cost_per_token": 1e-06}, "no input_cost_per_token"),
        ({}, "no input_cost_per_token or output_cost_per_token"),
        ({"input_cost_per_token": "0.5", "output_cost_per_token": 1e-06}, "input_cost_per_token is not a number"),
        ({"input_cost_per_token": -1e-06, "output_cost_per_token": 1e-06}, "input_cost_per_token is negative"),
        ({"mode": "completion", "input_cost_per_token": 1e-06, "output_cost_per_token": 1e-06}, "mode 'completion'"),
        ({"mode": None, "input_cost_per_token": 1e-06, "output_cost_per_token": 1e-06}, "no mode"),
        ({"litellm_provider": None, "input_cost_per_token": 1e-06, "output_cost_per_token": 1e-06}, "litellm_provider"),
        (
            {"deprecation_date": "2026-01-31", "input_cost_per_token": 1e-06, "output_cost_per_token": 1e-06},
            "deprecated since 2026-01-31",
        ),
    ],
)
def test_litellm_entry_skips(cat: catalog.Catalog, entry: dict[str, object], reason: str) -> None:
    result = _litellm_one(cat, entry)
    assert result.file.apis == []
    assert len(result.skipped) == 1 and result.skipped[0].startswith("gpt-9: ") and reason in result.skipped[0]


def test_litellm_future_deprecation_still_imported(cat: catalog.Catalog) -> None:
    result = _litellm_one(
        cat, {"deprecation_date": "2027-01-01", "input_cost_per_token": 1e-06, "output_cost_per_token": 2e-06}
    )
    assert [a.id for a in result.file.apis] == ["openai/gpt-9"]


def test_litellm_duplicate_ids_skipped(cat: catalog.Catalog) -> None:
    entry = {"litellm_provider": "azure", "mode": "chat", "input_cost_per_token": 1e-06, "output_cost_per_token": 2e-06}
    text = json.dumps({"azure/gpt-9": entry, "azure/openai/gpt-9": {**entry, "input_cost_per_token": 1.1e-06}})
    result = convert(text, "dup.json", "litellm", cat, AS_OF)
    assert [a.id for a in result.file.apis] == ["azure/gpt-9"]
    assert result.skipped == ["azure/openai/gpt-9: duplicate id azure/gpt-9 (already taken by 'azure/gpt-9')"]


def test_litellm_malformed_json_has_line(cat: catalog.Catalog) -> None:
    text = '{\n  "gpt-9": {\n    "mode": "chat",,\n  }\n}\n'
    with pytest.raises(InputFileError) as info:
        convert(text, "broken.json", "litellm", cat, AS_OF)
    assert info.value.message.startswith("broken.json:3: not valid JSON")
    assert info.value.exit_code == ExitCode.INVALID_INPUT
    assert info.value.hint and "litellm" in info.value.hint


def test_litellm_wrong_shape(cat: catalog.Catalog) -> None:
    with pytest.raises(InputFileError) as info:
        convert(_fixture("genai_prices_sample.json"), "prices.json", "litellm", cat, AS_OF)
    assert info.value.message.startswith("prices.json:1: expected a JSON object")
    assert info.value.hint and "--from genai-prices" in info.value.hint
    with pytest.raises(InputFileError, match=r"^empty.json:1: not valid JSON"):
        convert("", "empty.json", "litellm", cat, AS_OF)


def test_litellm_round_trip(litellm: ImportResult, tmp_path: Path) -> None:
    merged = _round_trip(litellm, tmp_path)
    together = merged.api("together/llama-3.3-70b-instruct-turbo")
    assert together.source.endswith("(litellm model_prices_and_context_window.json)")
    assert together.as_of == AS_OF
    assert merged.api("openai/gpt-4.1-mini").batch_discount == 0.5
    assert merged.api("anthropic/claude-sonnet-4-5-20250929").input_usd_per_1m == 3.0
    # the imported open-weight offering is found for its model
    assert "together/llama-3.3-70b-instruct-turbo" in {a.id for a in merged.apis_serving("llama-3.3-70b")}
    # bundled entries not in the file are still there
    assert "openai/gpt-5" in merged.apis


# ====================================================================== genai-prices


@pytest.fixture(scope="module")
def genai(cat: catalog.Catalog) -> ImportResult:
    return convert(_fixture("genai_prices_sample.json"), "data.json", "genai-prices", cat, AS_OF)


def test_genai_counts(genai: ImportResult) -> None:
    # 3 providers, 8 models: 7 with input and output prices, 1 embedding model (input only)
    assert len(genai.file.apis) == 7
    assert genai.skipped == [
        "openai/text-embedding-3-small: no output_mtok (an embedding or input-only model; both prices are needed)"
    ]


def test_genai_exact_prices_and_ids(genai: ImportResult) -> None:
    apis = _apis(genai)
    # USD per 1M tokens already: copied as-is. claude-haiku-4-5 -> the catalog's dotted id claude-haiku-4.5
    haiku = apis["anthropic/claude-haiku-4.5"]
    assert (haiku.input_usd_per_1m, haiku.output_usd_per_1m, haiku.cached_input_usd_per_1m) == (1.0, 5.0, 0.1)
    assert haiku.batch_discount is None  # genai-prices states no batch prices
    assert haiku.model_name == "claude-haiku-4-5"
    sonnet = apis["anthropic/claude-sonnet-4.5"]
    assert (sonnet.input_usd_per_1m, sonnet.output_usd_per_1m, sonnet.cached_input_usd_per_1m) == (3.0, 15.0, 0.3)
    oss = apis["groq/gpt-oss-120b"]  # model id "openai/gpt-oss-120b": the last path segment
    assert (oss.input_usd_per_1m, oss.output_usd_per_1m, oss.cached_input_usd_per_1m) == (0.15, 0.6, 0.075)
    assert (
        apis["groq/llama-3.3-70b-versatile"].input_usd_per_1m,
        apis["groq/llama-3.3-70b-versatile"].output_usd_per_1m,
    ) == (
        0.59,
        0.79,
    )
    assert apis["openai/gpt-4.1-mini"].cached_input_usd_per_1m == 0.1
    for api in genai.file.apis:
        assert api.source == "data.json (pydantic genai-prices prices/data.json)" and api.as_of == AS_OF
        assert ID_PATTERN.match(api.id)


def test_genai_open_weight_mapping(genai: ImportResult) -> None:
    apis = _apis(genai)
    assert apis["groq/gpt-oss-120b"].open_weight_model == "gpt-oss-120b"
    assert apis["groq/llama-3.3-70b-versatile"].open_weight_model == "llama-3.3-70b"
    assert apis["groq/llama-3.1-8b-instant"].tier == "open_weight"
    assert apis["anthropic/claude-sonnet-4.5"].open_weight_model is None


def test_genai_tiered_price_takes_base_with_warning(genai: ImportResult) -> None:
    tiered = [w for w in genai.warnings if w.startswith("anthropic/claude-sonnet-4-5: tiered prices")]
    assert len(tiered) == 1
    assert "input $3 ($6 from 200,000 tokens)" in tiered[0] and "output $15 ($22.5 from 200,000 tokens)" in tiered[0]


def test_genai_conditional_prices_follow_as_of(cat: catalog.Catalog, genai: ImportResult) -> None:
    opus = _apis(genai)["anthropic/claude-opus-4.6"]
    assert (opus.input_usd_per_1m, opus.output_usd_per_1m, opus.cached_input_usd_per_1m) == (5.0, 25.0, 0.5)
    assert any(
        "claude-opus-4-6: 2 conditional prices; used the price in force since 2026-03-13" in w for w in genai.warnings
    )
    # before the start date the first (unconditional, tiered) price applies: its base tier, with both warnings
    early = convert(_fixture("genai_prices_sample.json"), "data.json", "genai-prices", cat, dt.date(2026, 1, 1))
    assert _apis(early)["anthropic/claude-opus-4.6"].output_usd_per_1m == 25.0
    assert any("claude-opus-4-6: 2 conditional prices; used the unconditional price" in w for w in early.warnings)
    assert any(w.startswith("anthropic/claude-opus-4-6: tiered prices") for w in early.warnings)


def test_genai_time_of_day_price_not_used(cat: catalog.Catalog) -> None:
    data = [
        {
            "id": "deepseek",
            "name": "Deepseek",
            "api_pattern": "x",
            "models": [
                {
                    "id": "deepseek-chat",
                    "match": {"equals": "deepseek-chat"},
                    "prices": [
                        {"prices": {"input_mtok": 0.27, "cache_read_mtok": 0.07, "output_mtok": 1.1}},
                        {
                            "constraint": {"start_time": "16:30:00Z", "end_time": "00:30:00Z"},
                            "prices": {"input_mtok": 0.135, "output_mtok": 0.55},
                        },
                    ],
                }
            ],
        }
    ]
    result = convert(json.dumps(data), "ds.json", "genai-prices", cat, AS_OF)
    api = result.file.apis[0]
    assert (api.id, api.input_usd_per_1m, api.output_usd_per_1m) == ("deepseek/deepseek-chat", 0.27, 1.1)
    assert api.open_weight_model == "deepseek-v3"  # DeepSeek's API name for V3
    assert any("off-peak (time-of-day) prices not imported" in w for w in result.warnings)


def test_genai_malformed(cat: catalog.Catalog) -> None:
    with pytest.raises(InputFileError) as info:
        convert(_fixture("litellm_sample.json"), "model_prices.json", "genai-prices", cat, AS_OF)
    assert info.value.message.startswith("model_prices.json:1: expected a JSON list of providers")
    assert info.value.hint and "--from litellm" in info.value.hint
    text = '[\n  {"id": "groq", "models": []},\n  {"id": "broken", "name": "no models"}\n]\n'
    with pytest.raises(InputFileError, match=r"^bad.json:3: providers\[1\]: expected an object with an `id`"):
        convert(text, "bad.json", "genai-prices", cat, AS_OF)
    with pytest.raises(InputFileError, match=r"^bad.json:2: not valid JSON"):
        convert('[\n  {"id": }\n]', "bad.json", "genai-prices", cat, AS_OF)


def test_genai_bad_model_entries_are_skipped(cat: catalog.Catalog) -> None:
    data = [
        {
            "id": "acme",
            "models": [
                "not-an-object",
                {"id": "m1", "prices": []},
                {"id": "m2", "prices": {"input_mtok": {"tiers": []}, "output_mtok": 1}},
                {"id": "m3", "prices": {"input_mtok": 1, "output_mtok": 2}},
            ],
        }
    ]
    result = convert(json.dumps(data), "acme.json", "genai-prices", cat, AS_OF)
    assert [a.id for a in result.file.apis] == ["acme/m3"]
    assert result.skipped == [
        "acme models[0]: no model id",
        "acme/m1: no prices",
        "acme/m2: input_mtok: tiered price without a base",
    ]


def test_genai_round_trip(genai: ImportResult, tmp_path: Path) -> None:
    merged = _round_trip(genai, tmp_path)
    sonnet = merged.api("anthropic/claude-sonnet-4.5")  # replaces the bundled entry of the same id
    assert sonnet.source == "data.json (pydantic genai-prices prices/data.json)"
    assert (sonnet.input_usd_per_1m, sonnet.tier) == (3.0, "frontier")
    assert merged.api("groq/gpt-oss-120b").as_of == AS_OF


# ====================================================================== skypilot


@pytest.fixture(scope="module")
def sky(cat: catalog.Catalog) -> ImportResult:
    return convert(
        _fixture("skypilot_vms_sample.csv"),
        "skypilot_vms_sample.csv",
        "skypilot",
        cat,
        AS_OF,
        provider="aws",
        replace=True,  # the conversion alone; merging with the catalog's rows is tested below
    )


def _price(result: ImportResult, gpu: str, pricing: Pricing) -> float:
    spec = next(g for g in result.file.gpus if g.id == gpu)
    (row,) = [p for p in spec.prices if p.pricing == pricing]
    return row.usd_per_gpu_hour


def test_skypilot_counts(sky: ImportResult) -> None:
    assert [g.id for g in sky.file.gpus] == ["a100-80gb", "h100-sxm", "l4"]
    assert sum(len(g.prices) for g in sky.file.gpus) == 6  # on_demand + spot for each
    assert sky.file.apis == []


def test_skypilot_exact_prices(sky: ImportResult) -> None:
    # H100 p5.48xlarge, 8 GPUs: us-east-1 55.04/8 = 6.88 (two AZs), us-west-2 6.88, eu-north-1 58.69/8 = 7.33625
    # -> median of region medians [6.88, 6.88, 7.33625] = 6.88
    assert _price(sky, "h100-sxm", Pricing.ON_DEMAND) == 6.88
    # spot: us-east-1 median(24.5688/8, 26.0016/8) = median(3.0711, 3.2502) = 3.16065; eu-north-1 21.952/8 = 2.744;
    # us-west-2 has no SpotPrice -> median(3.16065, 2.744) = 2.952325
    assert _price(sky, "h100-sxm", Pricing.SPOT) == pytest.approx(2.952325)
    # A100-80GB p4de.24xlarge: 27.447/8 = 3.430875 in both regions; spot only us-east-1: 10.9788/8 = 1.37235
    assert _price(sky, "a100-80gb", Pricing.ON_DEMAND) == pytest.approx(3.430875)
    assert _price(sky, "a100-80gb", Pricing.SPOT) == pytest.approx(1.37235)
    # L4: us-east-1 median(g6.xlarge 0.8048/1, g6.12xlarge 4.6016/4 = 1.1504) = 0.9776; eu-west-1 0.8963;
    # us-west-2 g6.48xlarge 13.3504/8 = 1.6688 -> median(0.9776, 0.8963, 1.6688) = 0.9776
    assert _price(sky, "l4", Pricing.ON_DEMAND) == pytest.approx(0.9776)
    # L4 spot: us-east-1 median(0.3215, 1.9872/4 = 0.4968) = 0.40915; us-west-2 5.7043/8 = 0.7130375
    # -> (0.40915 + 0.7130375) / 2 = 0.56109375 (rounded to 6 places)
    assert _price(sky, "l4", Pricing.SPOT) == pytest.approx(0.561094)


def test_skypilot_rows_are_sourced(sky: ImportResult, cat: catalog.Catalog) -> None:
    h100 = next(g for g in sky.file.gpus if g.id == "h100-sxm")
    # the spec is the catalog's, only the prices are the imported ones
    assert h100.model_dump(exclude={"prices"}) == cat.gpus["h100-sxm"].model_dump(exclude={"prices"})
    for price in h100.prices:
        assert price.provider == "aws"
        assert price.source == "skypilot_vms_sample.csv (SkyPilot catalog vms.csv)"
        assert price.as_of == AS_OF and price.confidence == Confidence.MEDIUM
    on_demand = next(p for p in h100.prices if p.pricing == Pricing.ON_DEMAND)
    assert on_demand.note is not None
    assert "median over 3 regions (eu-north-1, us-east-1, us-west-2; 4 rows)" in on_demand.note
    assert "p5.48xlarge" in on_demand.note and "per-GPU range $6.88-$7.3362" in on_demand.note


def test_skypilot_skipped_and_warnings(sky: ImportResult) -> None:
    assert sky.skipped == [
        "AcceleratorName 'Inferentia2' (1 row, first at line 6): not a catalog GPU (no mapping for it)",
        "AcceleratorName 'V100' (2 rows, first at line 8): not a catalog GPU (no mapping for it)",
        "1 row without an accelerator (CPU-only instance types)",
    ]
    replaced = [w for w in sky.warnings if "--replace: loading this file with --catalog replaces the catalog's" in w]
    assert len(replaced) == 3 and any(w.startswith("h100-sxm:") for w in replaced)


def test_skypilot_rows_join_the_catalogs_by_provider_and_tier(cat: catalog.Catalog) -> None:
    """Issue 10: loading Lambda's file wiped the bundled h100-sxm spot rows. Now an imported provider × tier
    replaces only the catalog's rows for that pair; every other row is kept in the written file."""
    text = "InstanceType,AcceleratorName,AcceleratorCount,Price,Region\ngpu_8x_h100_sxm5,H100,8,23.92,us-east-1\n"
    merged = convert(text, "catalogs/v7/lambda/vms.csv", "skypilot", cat, AS_OF)
    (h100,) = merged.file.gpus
    bundled = cat.gpus["h100-sxm"].prices
    kept = [p for p in bundled if (p.provider, p.pricing) != ("lambda", Pricing.ON_DEMAND)]
    assert h100.prices[: len(kept)] == kept  # the bundled spot, reserved and other providers' rows survive
    assert [p.usd_per_gpu_hour for p in h100.prices[len(kept) :]] == [2.99]
    assert any(p.pricing is Pricing.SPOT for p in h100.prices)
    assert any("catalog row(s) for the same provider and tier are replaced" in w for w in merged.warnings)
    replaced = convert(text, "catalogs/v7/lambda/vms.csv", "skypilot", cat, AS_OF, replace=True)
    assert [p.provider for p in replaced.file.gpus[0].prices] == ["lambda"]


def test_replace_is_for_skypilot_files_only(cat: catalog.Catalog) -> None:
    with pytest.raises(UsageError, match="--replace applies only to SkyPilot files"):
        convert("{}", "x.json", "litellm", cat, AS_OF, replace=True)


def test_changes_against_the_catalog(cat: catalog.Catalog) -> None:
    from selfhost_cli.prices_import import changes

    text = "InstanceType,AcceleratorName,AcceleratorCount,Price,Region\ngpu_8x_h100_sxm5,H100,8,23.92,us-east-1\n"
    result = convert(text, "catalogs/v7/lambda/vms.csv", "skypilot", cat, AS_OF, replace=True)
    (change,) = changes(result.file, cat)
    before = [
        p.usd_per_gpu_hour
        for p in cat.gpus["h100-sxm"].prices
        if (p.provider, p.pricing.value) == ("lambda", "on_demand")
    ]
    assert (change.kind, change.id, change.status, change.after) == (
        "gpu",
        "h100-sxm lambda on_demand",
        "changed",
        (2.99,),
    )
    assert change.before == tuple(before)
    from selfhost_cli.render.format import prices

    assert prices("gpu", change.before) == " / ".join(f"${v:.2f}" for v in before) + "/GPU-h"
    assert prices("api", (0.2, 0.4, 0.05)) == "$0.20 / $0.40, cached $0.05"


@pytest.mark.parametrize(
    ("accelerator", "instance", "gpu"),
    [
        ("H100", "p5.48xlarge", "h100-sxm"),
        ("H100-MEGA", "a3-megagpu-8g", "h100-sxm"),
        ("H100", "gpu_1x_h100_pcie", "h100-pcie"),
        ("H100", "Standard_NC40ads_H100_v5", "h100-nvl"),
        ("H200", "p5en.48xlarge", "h200"),
        ("A100-80GB", "", "a100-80gb"),
        ("A100", "p4d.24xlarge", "a100-40gb"),
        ("L40S", "g6e.xlarge", "l40s"),
        ("l4", "g6.xlarge", "l4"),
        ("A10G", "g5.xlarge", "a10g"),
        ("B200", "p6-b200.48xlarge", "b200"),
        ("MI300X", "", "mi300x"),
        # accelerator names in skypilot-catalog catalogs/v8/common/accelerators.csv (RunPod, Vast, Fluidstack)
        ("A100-80GB-SXM", "", "a100-80gb"),
        ("H100-SXM", "", "h100-sxm"),
        ("H100-NVL", "", "h100-nvl"),
        ("H100-NVLINK", "", "h100-sxm"),
        ("H200-SXM", "", "h200"),
        ("RTX4090", "", "rtx-4090"),
        ("RTX5090", "", "rtx-5090"),
        ("RTXPRO6000WS", "", "rtx-pro-6000"),
        ("RTX3090", "", "rtx-3090"),
        ("V100", "p3.2xlarge", None),
        ("tpu-v6e-8", "", None),
    ],
)
def test_skypilot_gpu_names(accelerator: str, instance: str, gpu: str | None) -> None:
    assert skypilot_gpu_id(accelerator, instance) == gpu


@pytest.mark.parametrize(
    ("path", "provider"),
    [
        ("catalogs/v7/aws/vms.csv", "aws"),
        ("/tmp/skypilot-catalog/catalogs/v7/gcp/vms.csv", "gcp"),
        ("lambda_vms.csv", "lambda"),
        ("vast-vms-2026.csv", "vast.ai"),
        ("skypilot_vms_sample.csv", None),
        ("aws_vs_gcp.csv", None),
    ],
)
def test_skypilot_provider_from_path(path: str, provider: str | None) -> None:
    assert skypilot_provider_from_path(path) == provider


def test_skypilot_provider_rules(cat: catalog.Catalog) -> None:
    text = _fixture("skypilot_vms_sample.csv")
    inferred = convert(text, "catalogs/v7/aws/vms.csv", "skypilot", cat, AS_OF, replace=True)
    assert {p.provider for g in inferred.file.gpus for p in g.prices} == {"aws"}
    with pytest.raises(UsageError, match="cannot tell which cloud"):
        convert(text, "skypilot_vms_sample.csv", "skypilot", cat, AS_OF)
    named = convert(text, "catalogs/v7/aws/vms.csv", "skypilot", cat, AS_OF, provider="my-cloud", replace=True)
    assert {p.provider for g in named.file.gpus for p in g.prices} == {"my-cloud"}
    with_column = "Cloud,AcceleratorName,AcceleratorCount,Price\nlambda,H100,8,23.92\nrunpod,H100,1,2.69\n"
    per_row = convert(with_column, "mixed.csv", "skypilot", cat, AS_OF, replace=True)
    rows = {(p.provider, p.usd_per_gpu_hour) for p in per_row.file.gpus[0].prices}
    assert rows == {("lambda", 2.99), ("runpod", 2.69)}  # 23.92 / 8 = 2.99


def test_skypilot_lambda_layout(cat: catalog.Catalog) -> None:
    # Lambda's vms.csv: other column order, no AvailabilityZone, SpotPrice always empty
    text = (
        "InstanceType,AcceleratorName,AcceleratorCount,vCPUs,MemoryGiB,Price,Region,GpuInfo,SpotPrice\n"
        "cpu_4x_general,,,4.0,16.0,0.2,us-east-1,,\n"
        "gpu_8x_h100_sxm5,H100,8.0,208.0,1800.0,23.92,us-east-1,\"{'Gpus': [{'Name': 'H100', 'Count': 8.0}]}\",\n"
        "gpu_8x_h100_sxm5,H100,8.0,208.0,1800.0,23.92,us-west-1,\"{'Gpus': [{'Name': 'H100', 'Count': 8.0}]}\",\n"
        "gpu_1x_h100_pcie,H100,1.0,26.0,200.0,2.49,us-east-1,\"{'Gpus': [{'Name': 'H100', 'Count': 1.0}]}\",\n"
    )
    result = convert(text, "catalogs/v7/lambda/vms.csv", "skypilot", cat, AS_OF, replace=True)
    prices = {(g.id, p.pricing, p.usd_per_gpu_hour) for g in result.file.gpus for p in g.prices}
    assert prices == {("h100-sxm", Pricing.ON_DEMAND, 2.99), ("h100-pcie", Pricing.ON_DEMAND, 2.49)}
    assert {p.provider for g in result.file.gpus for p in g.prices} == {"lambda"}


def test_skypilot_gcp_accelerator_only_rows(cat: catalog.Catalog) -> None:
    text = (
        "InstanceType,vCPUs,MemoryGiB,AcceleratorName,AcceleratorCount,GpuInfo,Region,AvailabilityZone,Price,SpotPrice\n"
        "a2-ultragpu-1g,12.0,170.0,,,,us-central1,us-central1-a,1.09962,0.43983\n"
        ",,,A100-80GB,1,A100-80GB,us-central1,us-central1-a,5.06879,2.0276\n"
        ",,,A100-80GB,8,A100-80GB,us-central1,us-central1-c,40.55032,16.2208\n"
    )
    result = convert(text, "catalogs/v7/gcp/vms.csv", "skypilot", cat, AS_OF, replace=True)
    (spec,) = result.file.gpus
    on_demand = next(p for p in spec.prices if p.pricing == Pricing.ON_DEMAND)
    # 5.06879/1 and 40.55032/8 = 5.06879 -> 5.06879
    assert on_demand.usd_per_gpu_hour == pytest.approx(5.06879)
    assert on_demand.note is not None and "accelerator-only rows (host VM billed separately)" in on_demand.note
    assert any("accelerator-only rows" in w for w in result.warnings)


def test_skypilot_rows_without_price_or_fractional(cat: catalog.Catalog) -> None:
    text = (
        "InstanceType,AcceleratorName,AcceleratorCount,Price,SpotPrice,Region\n"
        "p5.48xlarge,H100,8,,,us-east-1\n"
        "Standard_NV6ads_A10_v5,A10G,0.166,0.454,,eastus\n"
        "g5.xlarge,A10G,1,1.006,0,us-east-1\n"
    )
    result = convert(text, "x.csv", "skypilot", cat, AS_OF, provider="aws", replace=True)
    assert result.skipped == [
        "line 2: p5.48xlarge in us-east-1: no price (empty or 0)",
        "line 3: Standard_NV6ads_A10_v5: a fractional GPU share (0.166); not imported",
    ]
    (spec,) = result.file.gpus
    # SpotPrice 0 is not a price: only the on-demand row, never a $0 spot row
    assert [(p.pricing, p.usd_per_gpu_hour) for p in spec.prices] == [(Pricing.ON_DEMAND, 1.006)]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", r"^x.csv:1: empty file"),
        ("InstanceType,Price,Region\np5.48xlarge,55.04,us-east-1\n", r"^x.csv:1: not a SkyPilot vms.csv: missing"),
        (
            "InstanceType,AcceleratorName,AcceleratorCount,Price\np5,H100,8,55.04\np5,H100,8,about 55\n",
            r"^x.csv:3: Price: 'about 55' is not a number",
        ),
        (
            "InstanceType,AcceleratorName,AcceleratorCount,Price\np5,H100,eight,55.04\n",
            r"^x.csv:2: AcceleratorCount: 'eight' is not a number",
        ),
        (
            "InstanceType,AcceleratorName,AcceleratorCount,Price\np5,H100,8,55.04\np5,H100,8,55.04,extra\n",
            r"^x.csv:3: row has 5 fields where the header has 4",
        ),
        (
            "InstanceType,AcceleratorName,AcceleratorCount,Price\np5,H100,8\n",
            r"^x.csv:2: row has 3 fields where the header has 4",
        ),
        ("InstanceType,AcceleratorName,AcceleratorCount,Price\np5,H100,,55.04\n", r"^x.csv:2: AcceleratorCount"),
        ("InstanceType,AcceleratorName,AcceleratorCount,Price\np5,H100,8,-1\n", r"^x.csv:2: Price: '-1' is not"),
    ],
)
def test_skypilot_malformed(cat: catalog.Catalog, text: str, message: str) -> None:
    with pytest.raises(InputFileError, match=message) as info:
        convert(text, "x.csv", "skypilot", cat, AS_OF, provider="aws")
    assert info.value.exit_code == ExitCode.INVALID_INPUT


def test_skypilot_round_trip(sky: ImportResult, tmp_path: Path) -> None:
    merged = _round_trip(sky, tmp_path)
    h100 = merged.gpu("h100-sxm")
    assert [p.provider for p in h100.prices] == ["aws", "aws"]
    hourly = gpu_hourly(h100, Pricing.ON_DEMAND)
    assert hourly is not None and hourly.usd_per_gpu_hour == 6.88
    assert hourly.source == "skypilot_vms_sample.csv (SkyPilot catalog vms.csv)" and hourly.as_of == AS_OF
    assert merged.gpu("h100-sxm").memory_gb == 80  # full spec carried over
    assert merged.gpu("h200").prices  # GPUs not in the file keep their catalog prices


# ====================================================================== dump, api


def test_dump_header_and_yaml(litellm: ImportResult) -> None:
    text = dump(litellm.file)
    header = [line for line in text.splitlines() if line.startswith("#")]
    assert header[0] == "# selfhost user catalog written by `selfhost prices import`."
    assert "# Converted from: litellm_sample.json (litellm model_prices_and_context_window.json)" in header
    assert "# Prices as of: 2026-06-01" in header
    data = yaml.safe_load(text)
    assert data["schema_version"] == 1 and len(data["apis"]) == 7
    assert UserCatalogFile.model_validate(data) == litellm.file


def test_dump_empty_file_loads(tmp_path: Path) -> None:
    out = tmp_path / "empty.yaml"
    out.write_text(dump(UserCatalogFile()), encoding="utf-8")
    assert "# Converted from: (no entries)" in out.read_text(encoding="utf-8")
    assert catalog.load([out]).apis.keys() == catalog.bundled().apis.keys()


def test_convert_argument_errors(cat: catalog.Catalog) -> None:
    with pytest.raises(UsageError, match="unknown price file format 'csv'"):
        convert("", "x", "csv", cat, AS_OF)  # type: ignore[arg-type]
    with pytest.raises(UsageError, match="only to SkyPilot"):
        convert("{}", "x.json", "litellm", cat, AS_OF, provider="aws")


def test_import_result_is_frozen(litellm: ImportResult) -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        litellm.skipped = []  # type: ignore[misc]


def test_json_without_out_is_one_json_document_holding_the_catalog() -> None:
    from typer.testing import CliRunner

    from selfhost_cli.cli import app

    fixture = str(Path(__file__).resolve().parent / "fixtures" / "prices" / "litellm_sample.json")
    result = CliRunner().invoke(
        app, ["prices", "import", fixture, "--from", "litellm", "--as-of", "2026-11-01", "--format", "json"]
    )
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)  # nothing but the one document on stdout
    assert doc["command"] == "prices import" and doc["catalog"]["apis"]


def test_as_of_is_required_so_an_old_file_never_looks_fresh() -> None:
    from typer.testing import CliRunner

    from selfhost_cli.cli import app

    fixture = str(Path(__file__).resolve().parent / "fixtures" / "prices" / "litellm_sample.json")
    result = CliRunner().invoke(app, ["prices", "import", fixture, "--from", "litellm"])
    assert result.exit_code == 2 and "--as-of is required" in result.output


def test_litellm_region_variants_keep_their_own_ids(cat: catalog.Catalog) -> None:
    """Issue 10: `azure/eu/…` and `bedrock/us-gov-west-1/…` collapsed onto the global id, first in the file winning
    (azure/gpt-4o-mini got the EU data-zone price). Each region or data zone is now its own offering."""

    def entry(provider: str, usd_in: float, usd_out: float) -> dict[str, object]:
        return {
            "litellm_provider": provider,
            "mode": "chat",
            "input_cost_per_token": usd_in / 1e6,
            "output_cost_per_token": usd_out / 1e6,
        }

    doc = {
        "azure/eu/gpt-4o-mini-2024-07-18": entry("azure", 0.165, 0.66),  # first in the file, as upstream
        "azure/gpt-4o-mini-2024-07-18": entry("azure", 0.15, 0.6),
        "bedrock/us-gov-west-1/anthropic.claude-3-5-sonnet-20240620-v1:0": entry("bedrock", 3.6, 18.0),
        "anthropic.claude-3-5-sonnet-20240620-v1:0": entry("bedrock", 3.0, 15.0),
        "together_ai/meta-llama/Llama-3.3-70B-Instruct-Turbo": entry("together_ai", 0.88, 0.88),  # an org, dropped
    }
    result = convert(json.dumps(doc), "x.json", "litellm", cat, AS_OF)
    prices = {a.id: a.input_usd_per_1m for a in result.file.apis}
    assert prices == {
        "azure/gpt-4o-mini-2024-07-18-eu": 0.165,
        "azure/gpt-4o-mini-2024-07-18": 0.15,
        "bedrock/anthropic.claude-3-5-sonnet-20240620-v1-0-us-gov-west-1": 3.6,
        "bedrock/anthropic.claude-3-5-sonnet-20240620-v1-0": 3.0,
        "together/llama-3.3-70b-instruct-turbo": 0.88,
    }
    eu = next(a for a in result.file.apis if a.id.endswith("-eu"))
    assert eu.note is not None and "priced for eu only" in eu.note
    assert result.skipped == []

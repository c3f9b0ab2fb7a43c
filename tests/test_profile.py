"""Tests for selfhost_cli.profile: the profile models, defaults, derived volumes, load_profile and --set."""

from __future__ import annotations

from enum import Enum
from pathlib import Path

import pytest
from pydantic import ValidationError

from selfhost_cli.enums import Pricing
from selfhost_cli.errors import ExitCode, InputFileError
from selfhost_cli.profile import (
    DEFAULT_OUTPUT_TOKENS_PER_REQUEST,
    Engine,
    Expertise,
    InlineApi,
    Profile,
    Redundancy,
    Residency,
    ThirdParty,
    Workload,
    apply_override,
    load_profile,
)
from selfhost_cli.yamlio import parse

PROFILES = Path(__file__).resolve().parent.parent / "profiles"

TPD = "version: 1\nworkload:\n  tokens_per_day: 1000\n  input_share: 0.5\n"
RPM = (
    "version: 1\nname: b\nworkload:\n  requests_per_minute: 100\n  input_tokens_per_request: 10\n"
    "  output_tokens_per_request: 5\n"
)


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def _load_error(tmp_path: Path, name: str, text: str, overrides: list[str] | None = None) -> str:
    """The full user-facing text (message + hint) of the error loading `text` from tmp_path/name."""
    path = _write(tmp_path, name, text)
    with pytest.raises(InputFileError) as info:
        load_profile(path, overrides)
    assert info.value.exit_code is ExitCode.INVALID_INPUT
    # Messages name the file as given; strip the folder so expected strings stay short.
    return str(info.value).replace(f"{tmp_path}/", "")


# ---------------------------------------------------------------- enums (one exhaustiveness test each)


@pytest.mark.parametrize(
    ("enum", "values"),
    [
        (Engine, ["vllm", "sglang", "trtllm", "tgi", "llama.cpp", "lmdeploy", "ideal"]),
        (ThirdParty, ["allowed", "with_agreement", "forbidden"]),
        (Residency, ["any", "us", "eu", "on_prem"]),
        (Redundancy, ["none", "n_plus_1"]),
        (Expertise, ["none", "some", "strong"]),
    ],
)
def test_profile_enums_are_exhaustive(enum: type[Enum], values: list[str]) -> None:
    assert [m.value for m in enum] == values


# ---------------------------------------------------------------- located errors (FILE:LINE: key.path: message)


def test_unknown_key_with_did_you_mean(tmp_path: Path) -> None:
    text = "version: 1\nname: x\nworkload:\n  tokens_per_dya: 5\n"
    msg = _load_error(tmp_path, "unknown_key.yaml", text)
    assert msg.splitlines()[0] == (
        "unknown_key.yaml:4: workload.tokens_per_dya: unknown key; did you mean 'tokens_per_day'?"
    )
    assert msg.splitlines()[1].startswith("Hint: keys allowed here: tokens_per_day, input_share, ")


def test_unknown_top_level_key(tmp_path: Path) -> None:
    msg = _load_error(tmp_path, "p.yaml", TPD + "self_hosing:\n  gpu: l4\n")
    assert msg.splitlines()[0] == "p.yaml:5: self_hosing: unknown key; did you mean 'self_hosting'?"


def test_negative_number(tmp_path: Path) -> None:
    msg = _load_error(tmp_path, "neg.yaml", "version: 1\nworkload:\n  tokens_per_day: -5\n")
    assert msg == "neg.yaml:3: workload.tokens_per_day: must be at least 1 (got -5)"


def test_wrong_enum_value_suggests_the_close_one(tmp_path: Path) -> None:
    msg = _load_error(tmp_path, "enum.yaml", TPD + "self_hosting:\n  pricing: on-demand\n")
    assert msg == (
        "enum.yaml:6: self_hosting.pricing: must be one of spot, on_demand, reserved_1y, "
        "reserved_3y, owned, serverless (got 'on-demand'); did you mean 'on_demand'?"
    )


def test_yaml_boolean_in_enum_field_hints_at_quoting(tmp_path: Path) -> None:
    msg = _load_error(tmp_path, "bool.yaml", TPD + "compliance:\n  third_party_processing: no\n")
    assert msg == (
        "bool.yaml:6: compliance.third_party_processing: must be one of allowed, with_agreement, "
        "forbidden (got the boolean false)\n"
        "Hint: YAML 1.1 reads yes/no/on/off as booleans; put the word in quotes"
    )


def test_yaml_boolean_in_number_field(tmp_path: Path) -> None:
    msg = _load_error(tmp_path, "yes.yaml", "version: 1\nworkload:\n  tokens_per_day: yes\n")
    assert msg == (
        "yes.yaml:3: workload.tokens_per_day: must be a number (got the boolean true; "
        "YAML reads yes/no/on/off as booleans)"
    )


def test_exponent_without_dot_is_a_number(tmp_path: Path) -> None:
    prof, _ = load_profile(_write(tmp_path, "e.yaml", "version: 1\nworkload:\n  tokens_per_day: 1e6\n"))
    assert prof.workload.tokens_per_day == 1000000.0


def test_underscored_number(tmp_path: Path) -> None:
    prof, _ = load_profile(_write(tmp_path, "u.yaml", "version: 1\nworkload:\n  tokens_per_day: 2_000_000\n"))
    assert prof.workload.tokens_per_day == 2_000_000


def test_quoted_number_text_is_read_as_a_number(tmp_path: Path) -> None:
    prof, _ = load_profile(_write(tmp_path, "q.yaml", "version: 1\nworkload:\n  tokens_per_day: '3_000'\n"))
    assert prof.workload.tokens_per_day == 3000.0


def test_unit_suffix_is_rejected_clearly(tmp_path: Path) -> None:
    msg = _load_error(tmp_path, "2m.yaml", "version: 1\nworkload:\n  tokens_per_day: 2M\n")
    assert msg == (
        "2m.yaml:3: workload.tokens_per_day: must be a number (got '2M'); "
        "write 2000000, 2_000_000 or 2.0e6, without units or commas"
    )


def test_duplicate_keys_name_both_lines(tmp_path: Path) -> None:
    msg = _load_error(tmp_path, "dup.yaml", "version: 1\nworkload:\n  tokens_per_day: 5\n  tokens_per_day: 6\n")
    assert msg == (
        "dup.yaml:4: workload.tokens_per_day: duplicate key (first at line 3)\n"
        "Hint: YAML keeps only the last one silently; delete one of them"
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", "empty.yaml:1: the profile is empty"),
        ("# nothing but a comment\n", "empty.yaml:1: the profile is empty"),
        ("- a\n- b\n", "empty.yaml:1: the profile must be a mapping of keys to values (got a list)"),
        ("hello\n", "empty.yaml:1: the profile must be a mapping of keys to values (got a str)"),
    ],
)
def test_whole_file_shape(tmp_path: Path, text: str, expected: str) -> None:
    msg = _load_error(tmp_path, "empty.yaml", text)
    assert msg == expected + "\nHint: `selfhost init profile.yaml` writes a commented starter profile"


def test_broken_yaml_names_the_line(tmp_path: Path) -> None:
    msg = _load_error(tmp_path, "broken.yaml", "version: 1\nworkload:\n  tokens_per_day: [1, 2\n  x: y\n")
    assert msg == (
        "broken.yaml:4: not valid YAML: did not find expected ',' or ']'\n"
        "Hint: check indentation, colons and closing brackets near that line"
    )


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(InputFileError) as info:
        load_profile(tmp_path / "nope.yaml")
    assert info.value.message == f"{tmp_path / 'nope.yaml'}: no such file"


def test_missing_volume(tmp_path: Path) -> None:
    msg = _load_error(tmp_path, "v.yaml", "version: 1\nworkload:\n  peak_to_average: 2\n")
    assert msg == (
        "v.yaml:2: workload: give the volume: tokens_per_day (with input_share) or requests_per_minute "
        "(with input_tokens_per_request and output_tokens_per_request)"
    )


def test_both_volumes(tmp_path: Path) -> None:
    msg = _load_error(tmp_path, "v.yaml", "version: 1\nworkload:\n  tokens_per_day: 5\n  requests_per_minute: 5\n")
    assert msg == "v.yaml:2: workload: give tokens_per_day or requests_per_minute, not both"


def test_requests_per_minute_needs_tokens_per_request(tmp_path: Path) -> None:
    msg = _load_error(
        tmp_path, "v.yaml", "version: 1\nworkload:\n  requests_per_minute: 5\n  input_tokens_per_request: 100\n"
    )
    assert msg == (
        "v.yaml:2: workload: requests_per_minute needs input_tokens_per_request and output_tokens_per_request"
    )


def test_input_share_contradicting_the_request_shape(tmp_path: Path) -> None:
    text = (
        "version: 1\nworkload:\n  tokens_per_day: 1000\n  input_share: 0.5\n  input_tokens_per_request: 300\n"
        "  output_tokens_per_request: 100\n"
    )
    msg = _load_error(tmp_path, "c.yaml", text)
    # 300 / (300 + 100) = 0.75 of each request is input, not 0.5
    assert msg == (
        "c.yaml:2: workload: input_share 0.5 contradicts the tokens per request (0.75 of each request "
        "is input); drop one of them"
    )


def test_input_share_agreeing_with_the_request_shape(tmp_path: Path) -> None:
    text = (
        "version: 1\nworkload:\n  tokens_per_day: 1000\n  input_share: 0.76\n  input_tokens_per_request: 300\n"
        "  output_tokens_per_request: 100\n"
    )
    prof, _ = load_profile(_write(tmp_path, "c.yaml", text))
    assert prof.workload.input_share_resolved == 0.76  # within 0.02 of 0.75: accepted, the given share wins


def test_input_share_with_request_shape_is_rejected(tmp_path: Path) -> None:
    msg = _load_error(tmp_path, "v.yaml", RPM + "  input_share: 0.5\n")
    assert msg == "v.yaml:3: workload: input_share follows from the tokens per request; drop it"


@pytest.mark.parametrize(
    ("value", "bound"),
    [("1", "1"), ("1.5", "1.5"), ("0.9999999999999999", "0.9999999999999999"), ("0", None), ("1e-320", None)],
)
def test_input_share_is_bounded_like_the_flag(tmp_path: Path, value: str, bound: str | None) -> None:
    # 0.01 … 0.99, as `breakeven --input-share`: a share of 1 - 1e-16 made 3.6e18-token requests
    msg = _load_error(tmp_path, "s.yaml", f"version: 1\nworkload:\n  tokens_per_day: 5\n  input_share: {value}\n")
    if bound is None:
        assert msg.startswith("s.yaml:4: workload.input_share: must be at least 0.01 (got ")
    else:
        assert msg == f"s.yaml:4: workload.input_share: must be at most 0.99 (got {bound})"


def test_a_request_rate_is_bounded_by_the_volume_it_gives(tmp_path: Path) -> None:
    body = "version: 1\nworkload:\n  requests_per_minute: {}\n  input_tokens_per_request: {}\n"
    body += "  output_tokens_per_request: 1\n"
    msg = _load_error(tmp_path, "r.yaml", body.format("1e10", "1e7"))
    assert msg.startswith("r.yaml:2: workload: requests_per_minute × 1,440 × tokens per request is 1.44e+20 tokens/day")
    assert "1 … 10^15" in msg
    msg = _load_error(tmp_path, "r.yaml", body.format("1e-300", "1"))
    assert "outside 1 … 10^15" in msg


def test_peak_to_average_below_one(tmp_path: Path) -> None:
    msg = _load_error(tmp_path, "p.yaml", "version: 1\nworkload:\n  tokens_per_day: 5\n  peak_to_average: 0.5\n")
    assert msg == "p.yaml:4: workload.peak_to_average: must be at least 1 (got 0.5)"


def test_missing_workload_and_wrong_version(tmp_path: Path) -> None:
    assert _load_error(tmp_path, "w.yaml", "version: 1\n") == "w.yaml:1: workload: required key is missing"
    assert _load_error(tmp_path, "w.yaml", "version: 2\nworkload:\n  tokens_per_day: 5\n") == (
        "w.yaml:1: version: must be one of 1 (got 2)"
    )


def test_whole_number_field_rejects_a_fraction(tmp_path: Path) -> None:
    msg = _load_error(tmp_path, "l.yaml", TPD + "customization:\n  lora_adapters: 1.5\n")
    assert msg == "l.yaml:6: customization.lora_adapters: must be a whole number (got 1.5)"


@pytest.mark.parametrize(("value", "shown"), [(".inf", "inf"), ("-.inf", "-inf"), (".nan", "nan")])
def test_non_finite_numbers_are_rejected(tmp_path: Path, value: str, shown: str) -> None:
    msg = _load_error(tmp_path, "inf.yaml", f"version: 1\nworkload:\n  tokens_per_day: {value}\n")
    assert msg == f"inf.yaml:3: workload.tokens_per_day: must be a finite number (got {shown})"


def test_non_finite_number_as_text_is_rejected(tmp_path: Path) -> None:
    msg = _load_error(tmp_path, "inf.yaml", "version: 1\nworkload:\n  tokens_per_day: 'inf'\n")
    assert msg == (
        "inf.yaml:3: workload.tokens_per_day: must be a number (got 'inf'); "
        "write 2000000, 2_000_000 or 2.0e6, without units or commas"
    )


def test_section_with_only_comments_takes_its_defaults(tmp_path: Path) -> None:
    prof, _ = load_profile(_write(tmp_path, "n.yaml", TPD + "budget:\n  # max_monthly_usd: 30000\nteam:\n"))
    assert prof.budget.max_monthly_usd is None
    assert prof.team.inference_expertise is Expertise.SOME


def test_null_version_is_still_an_error(tmp_path: Path) -> None:
    msg = _load_error(tmp_path, "v.yaml", "version:\nworkload:\n  tokens_per_day: 5\n")
    assert msg == "v.yaml:1: version: must be one of 1 (got nothing (null))"


def test_empty_name_falls_back_to_the_file_stem(tmp_path: Path) -> None:
    prof, _ = load_profile(_write(tmp_path, "stem.yaml", "version: 1\nname:\nworkload:\n  tokens_per_day: 5\n"))
    assert prof.name == "stem"


# ---------------------------------------------------------------- models.api: ids, inline offerings, a single string


def test_api_as_a_single_string_becomes_a_list(tmp_path: Path) -> None:
    prof, _ = load_profile(_write(tmp_path, "a.yaml", TPD + "models:\n  api: openai/gpt-4o\n"))
    assert prof.models.api == ["openai/gpt-4o"]


def test_inline_api_offerings(tmp_path: Path) -> None:
    text = TPD + (
        "models:\n  api:\n    - openai/gpt-4o\n"
        "    - {id: acme/negotiated, input_usd_per_1m: 0.5, output_usd_per_1m: 1.5}\n"
    )
    prof, _ = load_profile(_write(tmp_path, "a.yaml", text))
    assert prof.models.api is not None
    first, second = prof.models.api
    assert first == "openai/gpt-4o"
    assert second == InlineApi(id="acme/negotiated", input_usd_per_1m=0.5, output_usd_per_1m=1.5)
    assert isinstance(second, InlineApi)
    assert second.source == "the profile"
    assert second.cached_input_usd_per_1m is None


def test_single_inline_api_mapping_becomes_a_list(tmp_path: Path) -> None:
    text = TPD + "models:\n  api: {id: acme/x, input_usd_per_1m: 1, output_usd_per_1m: 2}\n"
    prof, _ = load_profile(_write(tmp_path, "a.yaml", text))
    assert prof.models.api == [InlineApi(id="acme/x", input_usd_per_1m=1, output_usd_per_1m=2)]


def test_inline_api_error_is_reported_once(tmp_path: Path) -> None:
    # not also as "models.api[0]: must be text" from the id branch of the union
    text = TPD + "models:\n  api:\n    - id: acme/x\n      input_usd_per_1m: -1\n      output_usd_per_1m: 1.5\n"
    msg = _load_error(tmp_path, "a.yaml", text)
    assert msg == "a.yaml:8: models.api[0].input_usd_per_1m: must be at least 0 (got -1)"


def test_inline_api_missing_price(tmp_path: Path) -> None:
    text = TPD + "models:\n  api:\n    - id: acme/x\n      input_usd_per_1m: 1\n"
    msg = _load_error(tmp_path, "a.yaml", text)
    # a missing key is located at the line where its mapping starts
    assert msg == "a.yaml:7: models.api[0].output_usd_per_1m: required key is missing"


# ---------------------------------------------------------------- defaults and derived volumes


def test_defaults(tmp_path: Path) -> None:
    prof, _ = load_profile(_write(tmp_path, "minimal.yaml", "version: 1\nworkload:\n  tokens_per_day: 1e9\n"))
    assert prof.name == "minimal"  # the file name's stem when the profile has no name
    w = prof.workload
    assert w.input_share is None
    assert w.input_share_resolved == 0.75
    assert w.peak_to_average == 2.0
    assert (w.cached_input_share, w.batch_share) == (0.0, 0.0)
    assert (w.latency.max_ttft_ms, w.latency.min_output_tokens_per_s) == (2000, 20)
    assert DEFAULT_OUTPUT_TOKENS_PER_REQUEST == 400
    assert w.output_tokens_per_request_resolved == 400
    # 400 output tokens at a 0.75 input share: input = 400 × 0.75 / 0.25 = 1200
    assert w.input_tokens_per_request_resolved == pytest.approx(1200)
    s = prof.self_hosting
    assert (s.gpu, s.pricing, s.engine, s.redundancy) == (
        "auto",  # SPEC §3: every GPU with a price is searched
        Pricing.ON_DEMAND,
        Engine.VLLM,
        Redundancy.N_PLUS_1,
    )
    assert (s.gpu_hourly_usd, s.gpus, s.precision, s.autoscaling, s.max_gpus) == (None, None, None, None, None)
    assert (w.workload_class.value, w.max_context_tokens, w.max_context_tokens_resolved) == ("interactive", None, 6400)
    assert (s.ops_fte, s.fte_annual_usd, s.other_monthly_usd) == (1.0, 200_000, 2_000)
    assert prof.compliance.third_party_processing is ThirdParty.ALLOWED
    assert prof.compliance.data_residency is Residency.ANY
    assert prof.models.self_hosted == "llama-3.3-70b"
    assert prof.models.api is None
    assert prof.team.inference_expertise is Expertise.SOME
    assert prof.budget.max_monthly_usd is None


def test_name_in_the_file_wins_over_the_stem(tmp_path: Path) -> None:
    prof, _ = load_profile(_write(tmp_path, "file.yaml", RPM))
    assert prof.name == "b"


def test_tokens_per_day_resolved_for_requests_per_minute() -> None:
    w = Workload(requests_per_minute=5000, input_tokens_per_request=110, output_tokens_per_request=40)
    # 5000 requests/min × (110 + 40) tokens × 1440 min/day = 5000 × 150 × 1440 = 1.08e9 tokens/day
    assert w.tokens_per_day_resolved == pytest.approx(1.08e9)
    # input share follows from the request shape: 110 / 150
    assert w.input_share_resolved == pytest.approx(110 / 150)
    assert w.input_tokens_per_request_resolved == 110
    assert w.output_tokens_per_request_resolved == 40


def test_tokens_per_day_resolved_given_directly() -> None:
    w = Workload(tokens_per_day=3e6, input_share=0.8, output_tokens_per_request=100)
    assert w.tokens_per_day_resolved == 3e6
    assert w.input_share_resolved == 0.8
    # 100 output tokens at 0.8 input: 100 × 0.8 / 0.2 = 400 input tokens per request
    assert w.input_tokens_per_request_resolved == pytest.approx(400)


def test_bundled_healthcare_profile_volume() -> None:
    prof, doc = load_profile(PROFILES / "healthcare-phi.yaml")
    assert prof.name == "clinical-notes"
    assert prof.workload.tokens_per_day_resolved == pytest.approx(1.08e9)
    assert prof.self_hosting.gpu_hourly_usd == 4.28
    assert prof.self_hosting.gpus == 8
    assert doc.lines[("workload", "requests_per_minute")] == 6


@pytest.mark.parametrize("path", sorted(PROFILES.glob("*.yaml")), ids=lambda p: p.name)
def test_every_bundled_profile_loads(path: Path) -> None:
    prof, _ = load_profile(path)
    assert prof.version == 1
    assert prof.workload.tokens_per_day_resolved > 0


def test_profile_is_frozen() -> None:
    prof = Profile.model_validate({"version": 1, "workload": {"tokens_per_day": 5}})
    with pytest.raises(ValidationError):
        prof.name = "x"  # type: ignore[misc]


# ---------------------------------------------------------------- --set overrides


def test_set_overrides_a_value(tmp_path: Path) -> None:
    prof, doc = load_profile(_write(tmp_path, "t.yaml", TPD), ["workload.tokens_per_day=2e9"])
    assert prof.workload.tokens_per_day == 2e9
    assert prof.workload.input_share == 0.5  # untouched
    assert doc.lines[("workload", "tokens_per_day")] == 0  # 0 = from the command line


def test_set_value_is_validated_like_the_file(tmp_path: Path) -> None:
    msg = _load_error(tmp_path, "t.yaml", TPD, ["workload.tokens_per_day=-1"])
    assert msg == "--set workload.tokens_per_day=-1: workload.tokens_per_day: must be at least 1 (got -1)"
    msg = _load_error(tmp_path, "t.yaml", TPD, ["workload.tokens_per_day=2M"])
    assert msg == (
        "--set workload.tokens_per_day=2M: workload.tokens_per_day: must be a number (got '2M'); "
        "write 2000000, 2_000_000 or 2.0e6, without units or commas"
    )
    msg = _load_error(tmp_path, "t.yaml", TPD, ["compliance.third_party_processing=no"])
    assert msg == (
        "--set compliance.third_party_processing=no: compliance.third_party_processing: must be one of allowed, "
        "with_agreement, forbidden "
        "(got the boolean false)\nHint: YAML 1.1 reads yes/no/on/off as booleans; put the word in quotes"
    )


def test_set_unknown_key_has_did_you_mean(tmp_path: Path) -> None:
    msg = _load_error(tmp_path, "t.yaml", TPD, ["workload.tokens_per_dya=5"])
    assert msg.splitlines()[0] == (
        "--set workload.tokens_per_dya=5: workload.tokens_per_dya: unknown key; did you mean 'tokens_per_day'?"
    )


def test_set_nested_value_error(tmp_path: Path) -> None:
    msg = _load_error(tmp_path, "t.yaml", TPD, ["workload.latency.max_ttft_ms=0"])
    assert msg == "--set workload.latency.max_ttft_ms=0: workload.latency.max_ttft_ms: must be greater than 0 (got 0)"


def test_file_errors_keep_their_file_line_next_to_a_set(tmp_path: Path) -> None:
    text = "version: 1\nworkload:\n  tokens_per_day: 5\n  peak_to_average: 0.5\n"
    msg = _load_error(tmp_path, "t.yaml", text, ["workload.tokens_per_day=2e9"])
    assert msg == "t.yaml:4: workload.peak_to_average: must be at least 1 (got 0.5)"


def test_set_creates_missing_sections(tmp_path: Path) -> None:
    prof, _ = load_profile(
        _write(tmp_path, "t.yaml", TPD), ["budget.max_monthly_usd=100", "self_hosting.engine=sglang"]
    )
    assert prof.budget.max_monthly_usd == 100
    assert prof.self_hosting.engine.value == "sglang"
    assert prof.self_hosting.gpu == "auto"  # the rest of the created section keeps its defaults


def test_a_price_override_needs_one_gpu(tmp_path: Path) -> None:
    msg = _load_error(tmp_path, "t.yaml", TPD, ["self_hosting.gpu_hourly_usd=3.5"])
    assert ": self_hosting: gpu_hourly_usd prices one GPU: name it in self_hosting.gpu" in msg
    prof, _ = load_profile(
        _write(tmp_path, "t.yaml", TPD), ["self_hosting.gpu=h100-sxm", "self_hosting.gpu_hourly_usd=3.5"]
    )
    assert prof.self_hosting.gpu_hourly_usd == 3.5


def test_set_enum_and_later_set_wins(tmp_path: Path) -> None:
    prof, _ = load_profile(
        _write(tmp_path, "t.yaml", TPD),
        ["compliance.third_party_processing=forbidden", "workload.tokens_per_day=7", "workload.tokens_per_day=9"],
    )
    assert prof.compliance.third_party_processing is ThirdParty.FORBIDDEN
    assert prof.workload.tokens_per_day == 9


def test_set_tokens_per_day_replaces_requests_per_minute(tmp_path: Path) -> None:
    prof, doc = load_profile(_write(tmp_path, "r.yaml", RPM), ["workload.tokens_per_day=2e9"])
    w = prof.workload
    assert (w.tokens_per_day, w.requests_per_minute) == (2e9, None)
    assert "requests_per_minute" not in doc.data["workload"]
    # the request shape stays (it still sets latency and KV-cache size), and with it the input share: 10 / (10 + 5)
    assert (w.input_tokens_per_request, w.output_tokens_per_request) == (10, 5)
    assert w.input_share_resolved == pytest.approx(2 / 3)
    assert w.tokens_per_day_resolved == 2e9


def test_set_requests_per_minute_replaces_tokens_per_day(tmp_path: Path) -> None:
    sets = [
        "workload.requests_per_minute=10",
        "workload.input_tokens_per_request=3",
        "workload.output_tokens_per_request=1",
    ]
    prof, doc = load_profile(_write(tmp_path, "t.yaml", TPD), sets)
    w = prof.workload
    assert (w.tokens_per_day, w.input_share, w.requests_per_minute) == (None, None, 10)
    # 10 rpm × (3 + 1) tokens × 1440 = 57 600 tokens/day
    assert w.tokens_per_day_resolved == 57_600


def test_set_requests_per_minute_alone_still_needs_the_shape(tmp_path: Path) -> None:
    msg = _load_error(tmp_path, "t.yaml", TPD, ["workload.requests_per_minute=10"])
    assert msg == (
        "t.yaml:2: workload: requests_per_minute needs input_tokens_per_request and output_tokens_per_request"
    )


@pytest.mark.parametrize(
    ("item", "message"),
    [
        ("novalue", "--set novalue: expected KEY=VALUE\nHint: e.g. --set workload.tokens_per_day=2e9"),
        ("=5", "--set =5: empty key\nHint: e.g. --set workload.tokens_per_day=2e9"),
        ("version.x=5", "--set version.x=5: version is not a mapping in t.yaml"),
    ],
)
def test_set_malformed_items(tmp_path: Path, item: str, message: str) -> None:
    doc = parse(TPD, "t.yaml")
    with pytest.raises(InputFileError) as info:
        apply_override(doc, item)
    assert str(info.value) == message


def test_set_value_that_is_not_yaml(tmp_path: Path) -> None:
    msg = _load_error(tmp_path, "t.yaml", TPD, ["workload.tokens_per_day=[1"])
    assert msg.startswith("--set workload.tokens_per_day:")
    assert "not valid YAML" in msg


def test_apply_override_parses_the_value_as_yaml() -> None:
    doc = parse(TPD, "t.yaml")
    apply_override(doc, "models.api=[openai/gpt-4o, openai/gpt-4.1]")
    apply_override(doc, "compliance.air_gapped=true")
    assert doc.data["models"] == {"api": ["openai/gpt-4o", "openai/gpt-4.1"]}
    assert doc.data["compliance"] == {"air_gapped": True}
    assert doc.lines[("models", "api")] == 0

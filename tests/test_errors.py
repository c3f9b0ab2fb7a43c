"""Tests for selfhost_cli.errors: the exit-code enum, close-match suggestions, unknown-id errors."""

from __future__ import annotations

import pytest

from selfhost_cli.errors import (
    ExitCode,
    InputFileError,
    SelfhostError,
    UsageError,
    did_you_mean,
    suggestions,
    unknown_id,
)

# ---------------------------------------------------------------- ExitCode


def test_exit_code_enum_is_exhaustive() -> None:
    # SPEC §2 names 0..3; INTERNAL (4) is the "bug in selfhost" code. Adding a member must update this test.
    assert {c.name: c.value for c in ExitCode} == {
        "OK": 0,
        "GATE_FAILED": 1,
        "USAGE": 2,
        "INVALID_INPUT": 3,
        "INTERNAL": 4,
    }


def test_exit_codes_are_ints_usable_by_sys_exit() -> None:
    assert int(ExitCode.INVALID_INPUT) == 3
    assert ExitCode(2) is ExitCode.USAGE


@pytest.mark.parametrize(
    ("error_type", "code"),
    [(SelfhostError, ExitCode.USAGE), (UsageError, ExitCode.USAGE), (InputFileError, ExitCode.INVALID_INPUT)],
)
def test_each_error_class_carries_its_exit_code(error_type: type[SelfhostError], code: ExitCode) -> None:
    assert error_type("x").exit_code is code


def test_error_str_joins_message_and_hint() -> None:
    assert str(UsageError("bad id", hint="list them")) == "bad id\nHint: list them"
    err = InputFileError("f.yaml:3: a.b: wrong")
    assert str(err) == "f.yaml:3: a.b: wrong"
    assert err.message == "f.yaml:3: a.b: wrong"
    assert err.hint is None


# ---------------------------------------------------------------- suggestions / did_you_mean


def test_suggestions_prefers_close_matches_best_first() -> None:
    assert suggestions("tokens_per_dya", ["input_share", "tokens_per_day", "latency"]) == ["tokens_per_day"]


def test_suggestions_adds_ids_that_contain_the_word() -> None:
    # "sxm" is too short to be close to "h100-sxm" by ratio, but it is contained in it.
    assert suggestions("sxm", ["h100-sxm", "l40s", "a10g"]) == ["h100-sxm"]


def test_suggestions_contained_match_is_case_insensitive() -> None:
    assert suggestions("H100", ["h100-pcie", "zzz"]) == ["h100-pcie"]


def test_suggestions_caps_at_n_and_has_no_duplicates() -> None:
    pool = ["h100-sxm", "h100-pcie", "h100-nvl", "h200", "gh200"]
    got = suggestions("h100", pool)
    assert len(got) == 3
    assert len(set(got)) == 3
    assert suggestions("h100", pool, n=1) == got[:1]


def test_suggestions_empty_word_and_nothing_close() -> None:
    assert suggestions("", ["a", "b"]) == []
    assert suggestions("qqqqqq", ["llama-3.1-8b", "h100-sxm"]) == []


def test_did_you_mean_wording_one_and_several() -> None:
    assert did_you_mean("on-demand", ["spot", "on_demand", "owned"]) == "did you mean 'on_demand'?"
    assert did_you_mean("h100-sxn", ["h100-sxm", "h100-nvl", "l4"]) == "did you mean 'h100-sxm' or 'h100-nvl'?"


def test_did_you_mean_none_when_nothing_close() -> None:
    assert did_you_mean("zzz", ["llama-3.1-8b"]) is None


# ---------------------------------------------------------------- unknown_id


def test_unknown_id_message_and_hint_with_suggestion() -> None:
    err = unknown_id("model", "llama-4-7b", ["llama-4-70b", "qwen3-8b", "gpt-j-6b"])
    assert isinstance(err, UsageError)
    assert err.exit_code is ExitCode.USAGE
    assert err.message == "unknown model id 'llama-4-7b'; did you mean 'llama-4-70b'?"
    assert err.hint == "`selfhost catalog models` lists the 3 known ids"


def test_unknown_id_without_close_match_has_no_guess() -> None:
    err = unknown_id("gpu", "zzz", ["h100-sxm", "l4"])
    assert err.message == "unknown gpu id 'zzz'"
    assert err.hint == "`selfhost catalog gpus` lists the 2 known ids"


def test_unknown_id_accepts_any_iterable_of_choices() -> None:
    err = unknown_id("api", "openai/gpt4o", iter(["openai/gpt-4o"]))
    assert err.message == "unknown api id 'openai/gpt4o'; did you mean 'openai/gpt-4o'?"
    assert err.hint == "`selfhost catalog apis` lists the 1 known ids"

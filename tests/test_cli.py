"""Tests for selfhost_cli.cli through typer's CliRunner: exit codes, streams, formats and the JSON contract."""

from __future__ import annotations

import functools
import inspect
import json
import re
import string
from pathlib import Path
from typing import Any

import pytest
import typer
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner, Result

import selfhost_cli.advise as advise_mod
from selfhost_cli import __version__
from selfhost_cli.cli import app
from selfhost_cli.errors import ExitCode

ROOT = Path(__file__).resolve().parent.parent
PROFILES = ROOT / "profiles"
PROFILE_FILES = sorted(PROFILES.glob("*.yaml"))
STARTUP = PROFILES / "startup.yaml"
HEALTHCARE = PROFILES / "healthcare-phi.yaml"

# SPEC §4: keys every JSON document carries, and what each command adds.
ENVELOPE_KEYS = {"schema_version", "command", "generated_at", "selfhost_version", "prices_as_of", "warnings"}
ADVISE_KEYS = {
    "decision",
    "confidence",
    "summary",
    "reasons",
    "workload",
    "options",
    "breakeven_tokens_per_day",
    "flip_points",
    "assumptions",
}
ESTIMATE_KEYS = {
    "model",
    "gpu",
    "gpus",
    "tp",
    "precision",
    "engine",
    "input_tokens",
    "output_tokens",
    "concurrency",
    "fits",
    "output_tokens_per_s",
    "output_tokens_per_s_per_gpu",
    "ttft_ms",
    "tpot_ms",
    "decode_step_ms",
    "memory",
}
CAPACITY_KEYS = {
    "gpu",
    "gpus",
    "gpus_per_replica",
    "replicas",
    "precision",
    "engine",
    "peak_utilization",
    "output_tokens_per_s_per_replica",
}
EFFECTS = {"requires_self_host", "requires_api", "favors_self_host", "favors_api", "info"}

# SPEC §2: every command and subcommand.
COMMANDS = [
    ["advise"],
    ["breakeven"],
    ["estimate"],
    ["check"],
    ["diff"],
    ["init"],
    ["catalog"],
    ["catalog", "models"],
    ["catalog", "gpus"],
    ["catalog", "apis"],
    ["accuracy"],
    ["calibrate"],
    ["calibrate", "import"],
    ["prices"],
    ["prices", "import"],
]


def _runner() -> CliRunner:
    # Click < 8.2 mixes stderr into stdout unless told not to; 8.2+ always keeps both (and has no mix_stderr).
    if "mix_stderr" in inspect.signature(CliRunner.__init__).parameters:
        return CliRunner(mix_stderr=False)  # type: ignore[call-arg]
    return CliRunner()


RUNNER = _runner()


def run(*args: str | Path, env: dict[str, str] | None = None) -> Result:
    return RUNNER.invoke(app, [str(a) for a in args], env=env)


def as_json(result: Result) -> dict[str, Any]:
    """stdout must be exactly one JSON document."""
    doc = json.loads(result.stdout)
    assert isinstance(doc, dict)
    return doc


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


# ---------------------------------------------------------------- version and help


def test_version() -> None:
    result = run("--version")
    assert result.exit_code == 0, result.output
    assert result.stdout == f"selfhost {__version__}\n"


def test_no_arguments_shows_usage() -> None:
    result = run()
    assert "Usage: selfhost" in result.output
    assert "advise" in result.output


def test_top_level_help_lists_every_command() -> None:
    result = run("--help")
    assert result.exit_code == 0, result.output
    for name in [
        "advise",
        "breakeven",
        "estimate",
        "check",
        "diff",
        "init",
        "catalog",
        "accuracy",
        "calibrate",
        "prices",
    ]:
        assert re.search(rf"^\s+{name}\s", result.stdout, re.MULTILINE), name


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
def test_help_of_every_command(command: list[str]) -> None:
    result = run(*command, "--help")
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith(f"Usage: selfhost {' '.join(command)} ")


def test_every_registered_command_has_help_text() -> None:
    group = typer.main.get_command(app)

    def walk(cmd: Any, path: list[str]) -> list[list[str]]:
        found = [path] if path else []
        for name, sub in getattr(cmd, "commands", {}).items():
            found += walk(sub, [*path, name])
        return found

    registered = walk(group, [])
    assert sorted(registered) == sorted(COMMANDS) or set(map(tuple, COMMANDS)) <= set(map(tuple, registered))
    for path in registered:
        result = run(*path, "--help")
        assert result.exit_code == 0, (path, result.output)
        body = result.stdout.split("\n\n", 2)[1].strip()
        assert body and not body.startswith("Options"), path  # a real one-line description


def test_prices_import_command_exists() -> None:
    result = run("prices", "import", "--help")
    assert result.exit_code == 0, result.output
    assert "--from" in result.stdout
    for fmt in ("litellm", "genai-prices", "skypilot"):  # SPEC §2
        assert fmt in result.stdout


# ---------------------------------------------------------------- usage errors: exit 2


def test_unknown_flag() -> None:
    result = run("advise", STARTUP, "--bogus")
    assert result.exit_code == ExitCode.USAGE, result.output
    assert "No such option: --bogus" in result.stderr
    assert result.stdout == ""


def test_missing_required_option() -> None:
    result = run("estimate", "--gpu", "h100-sxm")
    assert result.exit_code == ExitCode.USAGE, result.output
    assert "Missing option '--model'" in result.stderr


def test_missing_argument() -> None:
    result = run("diff", STARTUP)
    assert result.exit_code == ExitCode.USAGE, result.output
    assert "Missing argument" in result.stderr


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (
            ["estimate", "--model", "llama-4-7b", "--gpu", "h100-sxm"],
            "selfhost: error: unknown model id 'llama-4-7b'; did you mean 'llama-4-70b'",
        ),
        (
            ["estimate", "--model", "llama-3.1-8b", "--gpu", "h100-sxn"],
            "selfhost: error: unknown gpu id 'h100-sxn'; did you mean 'h100-sxm'",
        ),
        (
            ["breakeven", "--model", "llama-3.1-8b", "--api", "openai/gpt4o"],
            "selfhost: error: unknown api id 'openai/gpt4o'; did you mean 'openai/gpt-4o'",
        ),
        (
            ["breakeven", "--model", "llama-3.1-8b", "--gpu", "h100-sxn"],
            "selfhost: error: unknown gpu id 'h100-sxn'; did you mean 'h100-sxm'",
        ),
    ],
)
def test_unknown_ids_exit_2_with_suggestion(args: list[str], expected: str) -> None:
    result = run(*args)
    assert result.exit_code == ExitCode.USAGE, result.output
    assert result.stderr.startswith(expected)
    assert "Hint: `selfhost catalog " in result.stderr
    assert result.stdout == ""
    assert "Traceback" not in result.output


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        (
            "models:\n  self_hosted: llama-4-7b\n",
            "p.yaml:5: models.self_hosted: unknown model id 'llama-4-7b'; did you mean 'llama-4-70b'",
        ),
        (
            "self_hosting:\n  gpu: h100-sxn\n",
            "p.yaml:5: self_hosting.gpu: unknown gpu id 'h100-sxn'; did you mean 'h100-sxm'",
        ),
        (
            "models:\n  api: [openai/gpt-4o, openai/gpt4o]\n",
            "p.yaml:5: models.api[1]: unknown api id 'openai/gpt4o'; did you mean 'openai/gpt-4o'",
        ),
    ],
)
def test_unknown_id_in_a_profile_is_located(tmp_path: Path, extra: str, expected: str) -> None:
    # In a file, an unknown id is an invalid input file (exit 3) located at its line, with close matches.
    prof = _write(tmp_path, "p.yaml", "version: 1\nworkload:\n  tokens_per_day: 5e6\n" + extra)
    result = run("advise", prof)
    assert result.exit_code == ExitCode.INVALID_INPUT, result.output
    assert result.stderr.startswith(f"selfhost: error: {tmp_path}/{expected}")
    assert result.stdout == ""


def test_unknown_id_from_set_is_located_at_set() -> None:
    result = run("check", STARTUP, "--set", "self_hosting.gpu=h100-sxn")
    assert result.exit_code == ExitCode.INVALID_INPUT, result.output
    assert result.stderr.startswith(
        "selfhost: error: --set self_hosting.gpu=h100-sxn: self_hosting.gpu: unknown gpu id 'h100-sxn'"
    )


def test_estimate_concurrency_and_max_throughput_conflict() -> None:
    result = run("estimate", "--model", "llama-3.1-8b", "--gpu", "h100-sxm", "--concurrency", "5", "--max-throughput")
    assert result.exit_code == ExitCode.USAGE, result.output
    assert result.stderr == "selfhost: error: give --concurrency or --max-throughput, not both\n"


@pytest.mark.parametrize(
    "command", [["estimate", "--model", "llama-3.1-8b", "--gpu", "h100-sxm"], ["catalog", "models"], ["accuracy"]]
)
def test_markdown_is_refused_where_not_offered(command: list[str]) -> None:
    result = run(*command, "--format", "markdown")
    assert result.exit_code == ExitCode.USAGE, result.output
    assert result.stderr == (
        "selfhost: error: --format markdown is for advise, breakeven, check and diff\nHint: use table or json\n"
    )


def test_out_into_a_missing_folder(tmp_path: Path) -> None:
    result = run("catalog", "gpus", "--out", tmp_path / "nope" / "x.txt")
    assert result.exit_code == ExitCode.USAGE, result.output
    assert "does not exist" in result.stderr


def test_out_naming_a_folder_is_a_usage_error(tmp_path: Path) -> None:
    folder = tmp_path / "reports"
    folder.mkdir()
    result = run("catalog", "gpus", "--out", folder)
    assert result.exit_code == ExitCode.USAGE, result.output
    assert list(tmp_path.iterdir()) == [folder]  # no temp file left next to it


def test_init_into_a_missing_folder_names_the_file(tmp_path: Path) -> None:
    target = tmp_path / "nope" / "p.yaml"
    result = run("init", target)
    assert result.exit_code == ExitCode.USAGE, result.output
    assert str(target) in result.stderr
    assert "--out" not in result.stderr


# ---------------------------------------------------------------- invalid input files: exit 3


@pytest.mark.parametrize(
    ("name", "text", "expected"),
    [
        ("empty.yaml", "", "empty.yaml:1: the profile is empty"),
        ("list.yaml", "- a\n- b\n", "list.yaml:1: the profile must be a mapping of keys to values (got a list)"),
        (
            "broken.yaml",
            "version: 1\nworkload:\n  tokens_per_day: [1, 2\n  x: y\n",
            "broken.yaml:4: not valid YAML: did not find expected ',' or ']'",
        ),
        (
            "unknown_key.yaml",
            "version: 1\nname: x\nworkload:\n  tokens_per_dya: 5\n",
            "unknown_key.yaml:4: workload.tokens_per_dya: unknown key; did you mean 'tokens_per_day'?",
        ),
        (
            "negative.yaml",
            "version: 1\nworkload:\n  tokens_per_day: -5\n",
            "negative.yaml:3: workload.tokens_per_day: must be at least 1 (got -5)",
        ),
    ],
)
@pytest.mark.parametrize("command", ["advise", "check"])
def test_malformed_profile_exits_3_with_a_located_message(
    tmp_path: Path, command: str, name: str, text: str, expected: str
) -> None:
    path = _write(tmp_path, name, text)
    result = run(command, path)
    assert result.exit_code == ExitCode.INVALID_INPUT, result.output
    assert result.stderr.startswith(f"selfhost: error: {tmp_path}/{expected}")
    assert result.stdout == ""
    assert "Traceback" not in result.output


def test_missing_profile_file(tmp_path: Path) -> None:
    result = run("advise", tmp_path / "nope.yaml")
    assert result.exit_code == ExitCode.INVALID_INPUT, result.output
    assert result.stderr == f"selfhost: error: {tmp_path / 'nope.yaml'}: no such file\nHint: check the path\n"


def test_bad_set_value_exits_3(tmp_path: Path) -> None:
    result = run("check", STARTUP, "--set", "workload.tokens_per_day=2M")
    assert result.exit_code == ExitCode.INVALID_INPUT, result.output
    assert result.stderr.startswith(
        "selfhost: error: --set workload.tokens_per_day=2M: workload.tokens_per_day: must be a number (got '2M')"
    )


def test_invalid_user_catalog_exits_3(tmp_path: Path) -> None:
    bad = _write(tmp_path, "cat.yaml", "gpus:\n  - id: x\n    name: 5\n")
    result = run("--catalog", bad, "catalog", "gpus")
    assert result.exit_code == ExitCode.INVALID_INPUT, result.output
    assert result.stderr.startswith(f"selfhost: error: {bad}:")
    assert "gpus[0]" in result.stderr


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("version: 1\nname: !!python/object:os.system x\n", "p.yaml:2: name: cannot read 'x'"),
        ("version: 1\nname: !custom x\n", "p.yaml:2: name: cannot read 'x'"),
        ("version: 1\nworkload:\n  tokens_per_day: 5\nname: 2024-13-45\n", "p.yaml:4: name: cannot read '2024-13-45'"),
        (
            "version: 1\nworkload:\n  tokens_per_day: .inf\n",
            "p.yaml:3: workload.tokens_per_day: must be a finite number (got inf)",
        ),
        ("a: &x [*x]\n", "p.yaml:1: a[0]: an alias refers to itself (recursive anchor)"),
        ("version: 1\nd:\n  <<: 5\n", "p.yaml:3: d: cannot merge: "),
    ],
    ids=["python-tag", "local-tag", "bad-date", "infinity", "recursive-alias", "merge-scalar"],
)
def test_unreadable_yaml_values_exit_3(tmp_path: Path, text: str, expected: str) -> None:
    result = run("advise", _write(tmp_path, "p.yaml", text), "--format", "json")
    assert result.exit_code == ExitCode.INVALID_INPUT, result.output
    assert result.stderr.startswith(f"selfhost: error: {tmp_path}/{expected}")


# ---------------------------------------------------------------- advise


def _check_advise_document(doc: dict[str, Any]) -> None:
    assert ENVELOPE_KEYS | ADVISE_KEYS <= set(doc)
    assert doc["schema_version"] == 1
    assert doc["command"] == "advise"
    assert doc["selfhost_version"] == __version__
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00", doc["generated_at"])
    assert doc["prices_as_of"] is None or re.fullmatch(r"\d{4}-\d\d-\d\d", doc["prices_as_of"])
    assert isinstance(doc["warnings"], list) and all(isinstance(w, str) for w in doc["warnings"])
    assert doc["decision"] in {"api", "self_host", "hybrid"}
    assert doc["confidence"] in {"high", "medium", "low"}
    assert isinstance(doc["summary"], str) and doc["summary"]
    assert doc["reasons"]
    for reason in doc["reasons"]:
        assert set(reason) >= {"rule", "effect", "message", "evidence"}
        assert reason["effect"] in EFFECTS
    w = doc["workload"]
    assert set(w) >= {"tokens_per_day", "input_tokens_per_day", "output_tokens_per_day", "peak_output_tokens_per_s"}
    assert w["input_tokens_per_day"] + w["output_tokens_per_day"] == pytest.approx(w["tokens_per_day"], rel=1e-6)
    kinds = [o["kind"] for o in doc["options"]]
    assert "self_host" in kinds and "api" in kinds
    for option in doc["options"]:
        assert set(option) >= {"kind", "id", "eligible", "excluded_by", "monthly_usd", "breakdown"}
        assert option["kind"] in {"api", "self_host", "hybrid"}
        assert option["monthly_usd"] is None or option["monthly_usd"] >= 0
        if option["kind"] == "self_host":
            assert {"gpu_usd", "ops_usd", "other_usd"} <= set(option["breakdown"])
            assert CAPACITY_KEYS <= set(option["capacity"])
    chosen = [o for o in doc["options"] if o["kind"] == doc["decision"] and o["eligible"]]
    assert chosen, "the decision names an eligible option"
    if doc["breakeven_tokens_per_day"] is None:
        assert doc["breakeven_note"], "null break-even must say why"
    else:
        assert doc["breakeven_tokens_per_day"] > 0
    for flip in doc["flip_points"]:
        assert {"parameter", "value", "decision"} <= set(flip)
    assert doc["assumptions"]
    for assumption in doc["assumptions"]:
        assert set(assumption) >= {"name", "value", "source", "as_of"}


@pytest.mark.parametrize("profile", PROFILE_FILES, ids=lambda p: p.name)
def test_advise_json_on_every_bundled_profile(profile: Path) -> None:
    result = run("advise", profile, "--format", "json")
    assert result.exit_code == 0, result.output
    doc = as_json(result)
    _check_advise_document(doc)
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(("profile", "decision"), [(STARTUP, "api"), (HEALTHCARE, "self_host")])
def test_advise_json_with_flip_points(profile: Path, decision: str) -> None:
    result = run("advise", profile, "--format", "json")
    assert result.exit_code == 0, result.output
    doc = as_json(result)
    _check_advise_document(doc)
    assert doc["decision"] == decision
    assert doc["flip_points"], "advise says what would flip the decision"


def test_advise_json_warnings_go_to_stderr_not_stdout() -> None:
    # healthcare-phi's fixed 8-GPU fleet cannot carry the peak: a warning, on stderr, and in the JSON list.
    result = run("advise", HEALTHCARE, "--format", "json")
    assert result.exit_code == 0, result.output
    doc = as_json(result)
    assert doc["warnings"]
    assert all(f"warning: {w}" in result.stderr for w in doc["warnings"])


def test_advise_healthcare_worked_example() -> None:
    doc = as_json(run("advise", HEALTHCARE, "--format", "json"))
    assert doc["decision"] == "self_host"
    own = next(o for o in doc["options"] if o["kind"] == "self_host")
    # SPEC §1: 8 GPUs × 730 h × $4.28/h = $24,995.20 a month of GPUs
    assert own["breakdown"]["gpu_usd"] == pytest.approx(24_995.20, abs=0.01)
    assert own["capacity"]["gpus"] == 8
    api = [o for o in doc["options"] if o["kind"] == "api"]
    assert api and all(not o["eligible"] for o in api)  # PHI may not go to a third party


def test_advise_markdown_has_a_table() -> None:
    result = run("advise", STARTUP, "--format", "markdown")
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("<!-- selfhost:advise -->\n## selfhost advise: startup-support-bot")
    assert re.search(r"^\|.*\|$", result.stdout, re.MULTILINE)
    assert re.search(r"^\|(---\|)+$", result.stdout, re.MULTILINE)


def test_advise_table() -> None:
    result = run("advise", STARTUP)
    assert result.exit_code == 0, result.output
    assert "selfhost advise: startup-support-bot" in result.stdout
    assert "\x1b[" not in result.stdout  # not a terminal: no colour codes


def test_advise_out_writes_the_file_and_nothing_on_stdout(tmp_path: Path) -> None:
    out = tmp_path / "advice.json"
    result = run("advise", STARTUP, "--format", "json", "--out", out)
    assert result.exit_code == 0, result.output
    assert result.stdout == ""
    assert result.stderr.endswith(f"wrote {out}\n")
    _check_advise_document(json.loads(out.read_text(encoding="utf-8")))
    assert [p.name for p in tmp_path.iterdir()] == ["advice.json"]  # no temp file left behind


def test_advise_set_changes_the_decision() -> None:
    doc = as_json(run("advise", STARTUP, "--format", "json", "--set", "compliance.third_party_processing=forbidden"))
    assert doc["decision"] == "self_host"
    assert any(r["effect"] == "requires_self_host" for r in doc["reasons"])


# ---------------------------------------------------------------- catalog


def test_catalog_models_json_lists_ids() -> None:
    result = run("catalog", "models", "--format", "json")
    assert result.exit_code == 0, result.output
    doc = as_json(result)
    assert ENVELOPE_KEYS <= set(doc)
    assert doc["command"] == "catalog models"
    ids = [m["id"] for m in doc["models"]]
    assert ids == sorted(ids)
    assert {"llama-3.1-8b", "llama-4-70b", "deepseek-v3", "gpt-j-6b"} <= set(ids)
    assert doc["sources"] == ["bundled"]


def test_catalog_gpus_query_filters() -> None:
    doc = as_json(run("catalog", "gpus", "h100", "--format", "json"))
    # h800 matches through its name ("export variant of H100 SXM")
    assert [g["id"] for g in doc["gpus"]] == ["h100-nvl", "h100-pcie", "h100-sxm", "h800"]
    table = run("catalog", "gpus", "h100")
    assert table.exit_code == 0, table.output
    assert "GPUs (4)" in table.stdout
    assert "h100-sxm" in table.stdout and "l40s" not in table.stdout


def test_catalog_apis_json_has_prices_and_sources() -> None:
    doc = as_json(run("catalog", "apis", "openai/gpt-4o", "--format", "json"))
    gpt4o = next(a for a in doc["apis"] if a["id"] == "openai/gpt-4o")
    assert gpt4o["source"] and gpt4o["as_of"]
    assert gpt4o["input_usd_per_1m"] > 0


def test_catalog_query_without_matches(tmp_path: Path) -> None:
    doc = as_json(run("catalog", "models", "no-such-model", "--format", "json"))
    assert doc["models"] == []


def test_user_catalog_through_the_global_flag(tmp_path: Path) -> None:
    user = _write(
        tmp_path,
        "mine.yaml",
        (
            "gpus:\n  - id: my-gpu\n    name: Ours\n    vendor: nvidia\n    memory_gb: 48\n    hbm_tb_per_s: 1.0\n"
            "    tflops_dense: {bf16: 400}\n    interconnect: {kind: pcie, gb_per_s: 32}\n    max_gpus_per_node: 4\n"
            "    source: our inventory\n    as_of: 2026-01-01\n"
        ),
    )
    doc = as_json(run("--catalog", user, "catalog", "gpus", "my-gpu", "--format", "json"))
    assert [g["id"] for g in doc["gpus"]] == ["my-gpu"]
    assert doc["sources"] == ["bundled", str(user)]


# ---------------------------------------------------------------- init


def test_init_writes_a_starter_and_refuses_to_overwrite(tmp_path: Path) -> None:
    target = tmp_path / "profile.yaml"
    result = run("init", target)
    assert result.exit_code == 0, result.output
    text = target.read_text(encoding="utf-8")
    assert text.startswith("# selfhost workload profile")
    assert "version: 1" in text
    target.write_text("mine\n", encoding="utf-8")
    refused = run("init", target)
    assert refused.exit_code == ExitCode.USAGE, refused.output
    assert refused.stderr == f"selfhost: error: {target} exists\nHint: pass --force to overwrite it\n"
    assert target.read_text(encoding="utf-8") == "mine\n"
    forced = run("init", target, "--force")
    assert forced.exit_code == 0, forced.output
    assert target.read_text(encoding="utf-8") == text


def test_init_starter_profile_advises(tmp_path: Path) -> None:
    target = tmp_path / "profile.yaml"
    assert run("init", target).exit_code == 0
    result = run("advise", target, "--format", "json")
    assert result.exit_code == 0, result.output
    _check_advise_document(as_json(result))


# ---------------------------------------------------------------- check


def test_check_fails_over_budget() -> None:
    result = run("check", STARTUP, "--max-monthly-usd", "1", "--format", "json")
    assert result.exit_code == ExitCode.GATE_FAILED, result.output
    doc = as_json(result)
    assert ENVELOPE_KEYS <= set(doc)
    assert doc["command"] == "check"
    assert doc["passed"] is False
    (res,) = doc["results"]
    assert res["profile"] == "startup-support-bot"
    assert res["passed"] is False
    assert res["decision"] == "api"
    gate = next(g for g in res["gates"] if g["name"] == "max_monthly_usd")
    assert (gate["limit"], gate["passed"]) == (1.0, False)
    assert gate["value"] == res["monthly_usd"] > 1


def test_check_passes_within_budget() -> None:
    # startup.yaml carries `budget: max_monthly_usd: 5000`; the API costs far less.
    result = run("check", STARTUP, "--format", "json")
    assert result.exit_code == 0, result.output
    doc = as_json(result)
    assert doc["passed"] is True
    gate = doc["results"][0]["gates"][0]
    assert (gate["name"], gate["limit"], gate["passed"]) == ("max_monthly_usd", 5000.0, True)


def test_check_table_says_failed() -> None:
    result = run("check", STARTUP, "--max-monthly-usd", "1")
    assert result.exit_code == ExitCode.GATE_FAILED, result.output
    assert "FAIL" in result.stdout


def test_check_several_profiles_one_failure_fails_all() -> None:
    result = run("check", STARTUP, HEALTHCARE, "--max-monthly-usd", "1000", "--format", "json")
    assert result.exit_code == ExitCode.GATE_FAILED, result.output
    doc = as_json(result)
    assert [r["passed"] for r in doc["results"]] == [True, False]


def test_check_baseline_decision_change(tmp_path: Path) -> None:
    saved = tmp_path / "saved.json"
    made = run(
        "advise", STARTUP, "--format", "json", "--out", saved, "--set", "compliance.third_party_processing=forbidden"
    )
    assert made.exit_code == 0, made.output
    assert json.loads(saved.read_text(encoding="utf-8"))["decision"] == "self_host"

    failed = run("check", STARTUP, "--baseline", saved, "--fail-on-decision-change", "--format", "json")
    assert failed.exit_code == ExitCode.GATE_FAILED, failed.output
    gate = next(g for g in as_json(failed)["results"][0]["gates"] if g["name"] == "decision_unchanged")
    assert (gate["limit"], gate["value"], gate["passed"]) == ("self_host", "api", False)

    tolerated = run("check", STARTUP, "--baseline", saved, "--format", "json")
    assert tolerated.exit_code == 0, tolerated.output
    assert "decision_unchanged" not in [g["name"] for g in as_json(tolerated)["results"][0]["gates"]]


def test_check_baseline_same_decision_passes(tmp_path: Path) -> None:
    saved = tmp_path / "same.json"
    assert run("advise", STARTUP, "--format", "json", "--out", saved).exit_code == 0
    result = run(
        "check",
        STARTUP,
        "--baseline",
        saved,
        "--fail-on-decision-change",
        "--max-increase-pct",
        "0",
        "--format",
        "json",
    )
    assert result.exit_code == 0, result.output
    names = {g["name"]: g["passed"] for g in as_json(result)["results"][0]["gates"]}
    assert names == {"max_monthly_usd": True, "max_increase_pct": True, "decision_unchanged": True}


def test_check_baseline_not_an_advise_result(tmp_path: Path) -> None:
    bogus = _write(tmp_path, "b.json", '{"command": "estimate"}')
    result = run("check", STARTUP, "--baseline", bogus)
    assert result.exit_code == ExitCode.INVALID_INPUT, result.output
    assert f"{bogus}:1: not a saved `selfhost advise --format json` result" in result.stderr
    broken = _write(tmp_path, "c.json", '{\n"command": ')
    result = run("check", STARTUP, "--baseline", broken)
    assert result.exit_code == ExitCode.INVALID_INPUT, result.output
    assert f"{broken}:2: not valid JSON" in result.stderr


@pytest.mark.parametrize(
    "options",
    ["5", "[1, 2]", '[{"kind": "api", "eligible": true, "monthly_usd": "x"}]'],
    ids=["not-a-list", "not-mappings", "cost-not-a-number"],
)
@pytest.mark.parametrize("command", ["check", "diff"])
def test_malformed_saved_result_exits_3(tmp_path: Path, command: str, options: str) -> None:
    saved = _write(tmp_path, "saved.json", f'{{"command": "advise", "decision": "api", "options": {options}}}')
    args: list[str | Path] = (
        ["check", STARTUP, "--baseline", saved, "--max-increase-usd", "1"]
        if command == "check"
        else ["diff", saved, STARTUP]
    )
    result = run(*args)
    assert result.exit_code == ExitCode.INVALID_INPUT, result.output
    assert "internal error" not in result.stderr


# ---------------------------------------------------------------- diff


def test_diff_two_profiles() -> None:
    result = run("diff", STARTUP, HEALTHCARE, "--format", "json")
    assert result.exit_code == 0, result.output
    doc = as_json(result)
    assert doc["command"] == "diff"
    assert doc["decision_changed"] is True
    assert (doc["base"]["decision"], doc["proposed"]["decision"]) == ("api", "self_host")
    assert doc["proposed"]["self_host_gpus"] == 8
    fields = {c["field"]: c for c in doc["changes"]}
    assert fields["decision"]["change"] == "api → self_host"
    monthly = fields["monthly_usd"]
    assert monthly["change"] == pytest.approx(monthly["proposed"] - monthly["base"], abs=0.01)


def test_diff_fail_on_decision_change() -> None:
    assert run("diff", STARTUP, HEALTHCARE, "--fail-on-decision-change").exit_code == ExitCode.GATE_FAILED
    same = run("diff", STARTUP, STARTUP, "--fail-on-decision-change", "--format", "json")
    assert same.exit_code == 0, same.output
    assert as_json(same)["decision_changed"] is False


def test_diff_saved_json_against_profile_markdown(tmp_path: Path) -> None:
    saved = tmp_path / "base.json"
    assert (
        run(
            "advise",
            STARTUP,
            "--format",
            "json",
            "--out",
            saved,
            "--set",
            "compliance.third_party_processing=forbidden",
        ).exit_code
        == 0
    )
    result = run("diff", saved, STARTUP, "--format", "markdown")
    assert result.exit_code == 0, result.output
    assert "| decision | self_host | api | self_host → api |" in result.stdout


# ---------------------------------------------------------------- estimate and breakeven


def test_estimate_json_keys() -> None:
    result = run("estimate", "--model", "llama-3.1-8b", "--gpu", "h100-sxm", "--format", "json")
    assert result.exit_code == 0, result.output
    doc = as_json(result)
    assert ENVELOPE_KEYS | ESTIMATE_KEYS <= set(doc)
    assert doc["command"] == "estimate"
    assert (doc["model"], doc["gpu"], doc["input_tokens"], doc["output_tokens"]) == (
        "llama-3.1-8b",
        "h100-sxm",
        1000,
        200,
    )
    assert doc["fits"] is True
    assert doc["output_tokens_per_s"] > 0
    assert doc["gpus"] >= doc["tp"] >= 1
    assert doc["output_tokens_per_s_per_gpu"] == pytest.approx(doc["output_tokens_per_s"] / doc["gpus"], rel=1e-3)
    assert isinstance(doc["memory"], dict) and doc["memory"]


def test_estimate_respects_flags() -> None:
    doc = as_json(
        run(
            "estimate",
            "--model",
            "llama-3.1-8b",
            "--gpu",
            "h100-sxm",
            "--gpus",
            "2",
            "--tp",
            "1",
            "--precision",
            "bf16",
            "--engine",
            "ideal",
            "--concurrency",
            "8",
            "--input-tokens",
            "500",
            "--output-tokens",
            "100",
            "--format",
            "json",
        )
    )
    assert (doc["gpus"], doc["tp"], doc["precision"], doc["engine"]) == (2, 1, "bf16", "ideal")
    assert (doc["input_tokens"], doc["output_tokens"]) == (500, 100)
    assert doc["concurrency"] == 8


def test_estimate_says_when_a_board_is_power_capped() -> None:
    # docs/estimation.md §2: the H100 NVL is the H100 SXM's die at 400 W; the H100 SXM is not capped
    result = run("estimate", "--model", "llama-3.1-8b", "--gpu", "h100-nvl", "--format", "json")
    assert result.exit_code == 0, result.output
    said = "h100-nvl is power-capped (400 W; the same die runs at 700 W in h100-sxm): its matmuls are taken at 68%"
    assert any(w.startswith(said) for w in as_json(result)["warnings"])
    full = run("estimate", "--model", "llama-3.1-8b", "--gpu", "h100-sxm", "--format", "json")
    assert not any("power-capped" in w for w in as_json(full)["warnings"])


def test_an_fp4_estimate_states_the_fp4_held_out_error() -> None:
    # docs/estimation.md §4: FP4's held-out rows are missed by more than the engine's figure says (TensorRT-LLM's
    # 11.5%): the estimate states the FP4 rows' own 13.8% and its band
    args = ["estimate", "--model", "llama-3.1-70b", "--gpu", "b200", "--precision", "fp4", "--format", "json"]
    result = run(*args, "--engine", "trtllm")
    assert result.exit_code == 0, result.output
    doc = as_json(result)
    vllm = as_json(run(*args, "--engine", "vllm"))  # an engine whose own figure is higher keeps it
    assert (vllm["expected_error_pct"], vllm["expected_error_basis"]) == (14.5, "held-out median of 13 vllm rows")
    assert (doc["expected_error_pct"], doc["expected_error_basis"]) == (13.8, "held-out median of 9 fp4 rows")
    assert doc["output_tokens_per_s_band"]["low"] == pytest.approx(doc["output_tokens_per_s"] * 0.862, rel=1e-3)


def test_the_capacity_plan_states_the_fp4_held_out_error(tmp_path: Path) -> None:
    # issue 11: the figure the capacity plan prints is the held-out one for its engine, or its precision's when higher
    prof = _write(
        tmp_path,
        "fp4.yaml",
        "version: 1\nworkload:\n  tokens_per_day: 2e9\nmodels:\n  self_hosted: [llama-3.3-70b]\n"
        "self_hosting:\n  gpu: b200\n  precision: fp4\n  engine: trtllm\n",
    )
    result = run("advise", prof, "--format", "json")
    assert result.exit_code in (0, 1), result.output
    plans = [o["capacity"] for o in as_json(result)["options"] if o.get("capacity")]
    assert plans and all(c["precision"] == "fp4" for c in plans)
    assert {(c["expected_error_pct"], c["expected_error_basis"]) for c in plans} == {
        (13.8, "held-out median of 9 fp4 rows")
    }


def test_estimate_says_llama_4_70b_is_a_stand_in() -> None:
    # SPEC §5: llama-4-70b is modelled on Llama 3.3 70B's architecture, and the output says so
    result = run("estimate", "--model", "llama-4-70b", "--gpu", "h100-sxm", "--format", "json")
    assert result.exit_code == 0, result.output
    assert "llama-4-70b is not a release: modelled on llama-3.3-70b's architecture" in as_json(result)["warnings"]
    assert "modelled on llama-3.3-70b" in result.stderr


def test_advise_says_llama_4_70b_is_a_stand_in() -> None:
    doc = as_json(run("advise", HEALTHCARE, "--format", "json"))  # self_hosted: llama-4-70b
    assert any("modelled on llama-3.3-70b" in str(a["value"]) for a in doc["assumptions"])


def test_breakeven_json_rows() -> None:
    result = run(
        "breakeven",
        "--model",
        "llama-3.1-8b",
        "--gpu",
        "h100-sxm",
        "--pricing",
        "on_demand",
        "--api",
        "openai/gpt-4o",
        "--format",
        "json",
    )
    assert result.exit_code == 0, result.output
    doc = as_json(result)
    assert doc["command"] == "breakeven"
    assert doc["model"] == "llama-3.1-8b"
    assert doc["rows"]
    for row in doc["rows"]:
        assert {
            "gpu",
            "pricing",
            "gpu_hourly_usd",
            "api",
            "gpus_min",
            "breakeven_tokens_per_day",
            "breakeven_gpu_only_tokens_per_day",
            "note",
        } <= set(row)
        assert (row["gpu"], row["pricing"], row["api"]) == ("h100-sxm", "on_demand", "openai/gpt-4o")
        full, gpu_only = row["breakeven_tokens_per_day"], row["breakeven_gpu_only_tokens_per_day"]
        if full is not None and gpu_only is not None:
            assert gpu_only <= full  # counting only GPU-hours can only lower the break-even


def test_breakeven_api_prices_go_together() -> None:
    result = run("breakeven", "--model", "llama-3.1-8b", "--api-price-in", "1")
    assert result.exit_code == ExitCode.USAGE, result.output
    assert "--api-price-in and --api-price-out go together" in result.stderr


# ---------------------------------------------------------------- README


def test_readme_mentions_every_command() -> None:
    readme = ROOT / "README.md"
    if not readme.exists():
        pytest.skip("README.md does not exist yet")
    lines = readme.read_text(encoding="utf-8").splitlines()
    for *parents, leaf in COMMANDS:
        # `selfhost catalog models|gpus|apis` counts for each of the three subcommands
        prefix = " ".join(["selfhost", *parents])
        pattern = re.compile(rf"{re.escape(prefix)}\s+(?:[\w.-]+\\?\|)*{re.escape(leaf)}\b")
        assert any(pattern.search(line) for line in lines), [*parents, leaf]
    for code in ExitCode:  # the exit-code table documents every code
        assert any(re.match(rf"\|\s*{int(code)}\s*\|", line) for line in lines), code


# ---------------------------------------------------------------- no traceback, whatever the input

_FRAGMENTS = [
    "version",
    "workload",
    "tokens_per_day",
    "requests_per_minute",
    "input_share",
    "peak_to_average",
    "latency",
    "max_ttft_ms",
    "self_hosting",
    "gpu",
    "pricing",
    "models",
    "api",
    "compliance",
    "budget",
    "name",
    ": ",
    ":",
    "\n",
    "\n  ",
    "\n    ",
    "- ",
    "[",
    "]",
    "{",
    "}",
    ",",
    "#",
    "'",
    '"',
    "1",
    "0",
    "-1",
    "1e6",
    "2M",
    "0.5",
    "1_000",
    "yes",
    "no",
    "null",
    "~",
    "true",
    "h100-sxm",
    "on_demand",
    "llama-3.1-8b",
    "openai/gpt-4o",
    "\t",
    "!t ",
    "&a ",
    "*a",
    "---",
    "?",
    "|",
    ">",
    "%",
    "@",
    "`",
]


@settings(max_examples=40, deadline=None, derandomize=True, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=st.lists(st.sampled_from(_FRAGMENTS), max_size=40).map("".join))
def test_yamlish_text_never_produces_a_traceback(tmp_path_factory: pytest.TempPathFactory, text: str) -> None:
    _assert_no_traceback(tmp_path_factory, text)


# A valid profile with a few keys changed to odd values (and a few unknown keys): reaches validation, id lookups
# and advise.
_PLAUSIBLE: dict[tuple[str, str | None], list[str]] = {
    ("workload", "tokens_per_day"): ["1e6", "2e9", "1_000", "3e10"],
    ("workload", "input_share"): ["0.5", "0.95"],
    ("workload", "requests_per_minute"): ["10", "5000"],
    ("workload", "input_tokens_per_request"): ["100", "30000"],
    ("workload", "output_tokens_per_request"): ["40", "4000"],
    ("workload", "peak_to_average"): ["1", "5", "50"],
    ("workload", "cached_input_share"): ["0.3", "1"],
    ("workload", "batch_share"): ["0.5"],
    ("workload", "latency"): ["{max_ttft_ms: 50}", "{min_output_tokens_per_s: 500}"],
    ("workload", "tokens_per_dya"): ["1"],
    ("compliance", "third_party_processing"): ["forbidden", "with_agreement"],
    ("compliance", "data_residency"): ["eu", "on_prem", "us"],
    ("compliance", "air_gapped"): ["true"],
    ("compliance", "regulations"): ["[hipaa, gdpr]"],
    ("customization", "lora_adapters"): ["3"],
    ("customization", "fine_tuned_weights"): ["true"],
    ("customization", "custom_sampling"): ["true"],
    ("models", "self_hosted"): ["llama-3.1-8b", "deepseek-v3", "qwen3-235b-a22b", "gpt-oss-20b", "llama-4-7b"],
    ("models", "api"): [
        "[openai/gpt-4o]",
        "openai/gpt-4o-mini",
        "[openai/gpt4o]",
        "[{id: a/b, input_usd_per_1m: 1, output_usd_per_1m: 2}]",
    ],
    ("self_hosting", "gpu"): ["l4", "h200", "mi300x", "apple-m4-max", "gb200", "h100"],
    ("self_hosting", "gpus"): ["1", "8"],
    ("self_hosting", "pricing"): ["spot", "reserved_3y", "owned"],
    ("self_hosting", "precision"): ["int4", "fp4", "bf16"],
    ("self_hosting", "engine"): ["ideal", "llama.cpp", "sglang", "trtllm"],
    ("self_hosting", "gpu_hourly_usd"): ["2.5", "0.01"],
    ("self_hosting", "ops_fte"): ["0", "3"],
    ("self_hosting", "redundancy"): ["none"],
    ("self_hosting", "autoscaling"): ["true"],
    ("team", "inference_expertise"): ["none", "strong"],
    ("budget", "max_monthly_usd"): ["100"],
    ("version", None): ["1", "2"],
    ("name", None): ["x"],
    ("workload", None): ["{tokens_per_day: 1e9}"],
    ("budget", None): ["{}"],
    ("extra_section", None): ["1"],
}
_ODD = [
    "0",
    "-1",
    "2M",
    "1.5",
    ".nan",
    ".inf",
    "2024-13-45",
    "!t x",
    "&a [*a]",
    "yes",
    "no",
    "~",
    "''",
    "[]",
    "{}",
    "[1, 2]",
    "2024-01-01",
    "'text'",
    "on-demand",
    "h100-sxm",
]
_CHANGE = st.sampled_from(sorted(_PLAUSIBLE, key=str)).flatmap(
    lambda path: st.tuples(st.just(path), st.sampled_from(_PLAUSIBLE[path]) | st.sampled_from(_ODD))
)


def _render(value: Any, indent: int = 0) -> str:
    if not isinstance(value, dict):
        return f" {value}\n"
    if not value:
        return " {}\n"
    body = "".join(f"{' ' * indent}{key}:{_render(child, indent + 2)}" for key, child in value.items())
    return ("\n" if indent else "") + body


@settings(max_examples=60, deadline=None, derandomize=True, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(changes=st.lists(_CHANGE, max_size=4))
def test_mutated_profiles_never_produce_a_traceback(
    tmp_path_factory: pytest.TempPathFactory, changes: list[tuple[tuple[str, str | None], str]]
) -> None:
    tree: dict[str, Any] = {"version": 1, "workload": {"tokens_per_day": "5e6"}}
    for (section, key), scalar in changes:
        if key is None:
            tree[section] = scalar
            continue
        if not isinstance(tree.get(section), dict):
            tree[section] = {}
        tree[section][key] = scalar
    _assert_no_traceback(tmp_path_factory, _render(tree))


def _assert_no_traceback(tmp_path_factory: pytest.TempPathFactory, text: str) -> None:
    path = tmp_path_factory.mktemp("fuzz") / "p.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(advise_mod, "advise", functools.partial(advise_mod.advise, with_flips=False))
        result = run("advise", path, "--format", "json")
    assert result.exit_code in {0, 2, 3}, (text, result.output)
    assert "Traceback" not in result.output
    if result.exit_code == 0:
        as_json(result)


@settings(max_examples=40, deadline=None, derandomize=True, database=None)
@given(data=st.binary(max_size=200) | st.text(alphabet=string.printable, max_size=200).map(str.encode))
def test_random_bytes_never_produce_a_traceback(tmp_path_factory: pytest.TempPathFactory, data: bytes) -> None:
    path = tmp_path_factory.mktemp("bytes") / "p.yaml"
    path.write_bytes(data)
    result = run("check", path, "--format", "json")
    assert result.exit_code in {0, 2, 3}, result.output
    assert "Traceback" not in result.output


def test_global_options_may_come_after_the_command() -> None:
    from selfhost_cli.cli import hoist_globals

    assert hoist_globals(["catalog", "apis", "--no-color"]) == ["--no-color", "catalog", "apis"]
    assert hoist_globals(["advise", "p.yaml", "--catalog", "x.yaml", "--format", "json"]) == [
        "--catalog",
        "x.yaml",
        "advise",
        "p.yaml",
        "--format",
        "json",
    ]
    assert hoist_globals(["advise", "p.yaml", "--catalog=x.yaml"]) == ["--catalog=x.yaml", "advise", "p.yaml"]
    assert hoist_globals(["advise", "--", "--no-color"]) == ["advise", "--", "--no-color"]


def test_selfhost_catalog_env_adds_catalog_files(tmp_path: Path) -> None:
    extra = tmp_path / "extra.yaml"
    extra.write_text("schema_version: 1\n", encoding="utf-8")
    result = CliRunner().invoke(
        app, ["catalog", "gpus", "h800", "--format", "json"], env={"SELFHOST_CATALOG": str(extra)}
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["sources"] == ["bundled", str(extra)]


@pytest.mark.parametrize(
    "args",
    [
        ["advise", str(STARTUP)],
        ["check", str(STARTUP)],
        ["diff", str(STARTUP), str(STARTUP)],
        ["breakeven", "--model", "llama-4-70b", "--gpu", "h100-sxm", "--pricing", "spot"],
    ],
)
def test_pr_markdown_starts_with_the_marker_line_and_takes_a_tag(args: list[str]) -> None:
    plain = run(*args, "--format", "markdown")
    assert plain.stdout.startswith(f"<!-- selfhost:{args[0]} -->\n"), plain.output
    tagged = run(*args, "--format", "markdown", "--tag", "prod-eu")
    assert tagged.stdout.startswith(f"<!-- selfhost:{args[0]}:prod-eu -->\n")
    bad = run(*args, "--format", "markdown", "--tag", "x -->")
    assert bad.exit_code == 2 and "goes into an HTML comment" in bad.output


@pytest.mark.parametrize(
    "name", sorted(p.name for p in (Path(__file__).resolve().parent.parent / "profiles").glob("*.yaml"))
)
def test_no_option_id_is_broken_in_the_table_at_120_columns(name: str) -> None:
    path = Path(__file__).resolve().parent.parent / "profiles" / name
    env = {"COLUMNS": "120"}
    doc = json.loads(CliRunner().invoke(app, ["advise", str(path), "--format", "json"], env=env).stdout)
    table = CliRunner().invoke(app, ["advise", str(path)], env=env).stdout
    assert [o["id"] for o in doc["options"] if o["id"] not in table] == []


@pytest.mark.parametrize("command", [["estimate"], ["catalog", "models"], ["accuracy"], ["calibrate", "import"]])
def test_help_lists_only_the_formats_a_command_offers(command: list[str]) -> None:
    result = run(*command, "--help")
    assert result.exit_code == 0, result.output
    assert "<table|json>" in result.stdout and "markdown>" not in result.stdout


def test_catalog_gpus_shows_a_power_cap_beside_the_spec_peak() -> None:
    result = run("catalog", "gpus", env={"COLUMNS": "220"})
    assert result.exit_code == 0, result.output
    nvl = next(line for line in result.stdout.splitlines() if "h100-nvl" in line)
    assert "×0.68 sustained (power-capped)" in nvl
    sxm = next(line for line in result.stdout.splitlines() if "h100-sxm" in line)
    assert "power-capped" not in sxm

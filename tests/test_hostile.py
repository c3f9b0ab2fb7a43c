"""Hostile and careless input through the CLI, in process: every run ends with exit 0 and a valid document,
or exit 2/3 with a located message — never exit 4, never a traceback, never a wrong number (issue 8)."""

from __future__ import annotations

import json
import os
import re
import stat
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from selfhost_cli.cli import app

RUNNER = CliRunner()
BASE = (
    "version: 1\nworkload:\n  tokens_per_day: 1000000000\n"
    "models:\n  self_hosted: llama-3.3-70b\nself_hosting:\n  gpu: h100-sxm\n"
)


def run(*args: str) -> Any:
    return RUNNER.invoke(app, list(args))


def write(tmp: Path, name: str, text: str) -> str:
    path = tmp / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def assert_clean(result: Any, codes: tuple[int, ...]) -> None:
    assert result.exit_code in codes, result.output
    assert "Traceback" not in result.output and "internal error" not in result.output


# ---------------------------------------------------------------- bounded parsing


def test_an_alias_bomb_is_refused_at_its_line(tmp_path: Path) -> None:
    lines = ["version: 1", "a0: &a0 [x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]" for i in range(1, 10)]
    path = write(tmp_path, "bomb.yaml", "\n".join(lines) + "\n")
    result = run("advise", path)
    assert_clean(result, (3,))
    assert "bomb.yaml:" in result.output and "expands to more than 10,000 values" in result.output


def test_a_catalog_bomb_is_refused_too(tmp_path: Path) -> None:
    lines = ["schema_version: 1", "a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]" for i in range(1, 8)]
    path = write(tmp_path, "cat.yaml", "\n".join(lines) + "\n")
    result = run("--catalog", path, "catalog", "gpus")
    assert_clean(result, (3,))
    assert "expands to more than 300,000 values" in result.output


def test_a_padded_profile_is_not_read(tmp_path: Path) -> None:
    path = write(tmp_path, "big.yaml", BASE + "#" * (2 << 20) + "\n")
    result = run("advise", path)
    assert_clean(result, (3,))
    assert "big.yaml:1: the profile is 2.0 MiB; at most 1 MiB is read" in result.output


def test_deep_nesting_and_long_values_are_refused(tmp_path: Path) -> None:
    deep = write(tmp_path, "deep.yaml", "version: 1\nx: " + "[" * 100 + "]" * 100 + "\n")
    assert "nested more than 64 levels" in run("advise", deep).output
    long = write(tmp_path, "long.yaml", BASE.replace("version: 1\n", "version: 1\nname: " + "n" * 200_000 + "\n"))
    result = run("advise", long)
    assert_clean(result, (3,))
    assert "long.yaml:2: name: a value of 200,000 characters" in result.output


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("1:30", "reads as a base-60 number in YAML 1.1 (90)"),
        (".inf", "must be a finite number (got inf)"),
        (".nan", "must be a finite number (got nan)"),
        ("yes", "YAML reads yes/no/on/off as booleans"),
        ("1,000", "without units or commas"),
        ("1e-300", "must be at least 1"),
        ("1e16", "must be at most 1e+15"),
    ],
)
def test_yaml_surprises_and_absurd_volumes_are_refused_with_a_reason(tmp_path: Path, value: str, message: str) -> None:
    path = write(tmp_path, "y.yaml", BASE.replace("1000000000", value))
    result = run("advise", path)
    assert_clean(result, (3,))
    assert "y.yaml:3: workload.tokens_per_day: " in result.output and message in result.output


def test_a_leading_zero_reads_as_the_decimal_a_person_means(tmp_path: Path) -> None:
    path = write(tmp_path, "z.yaml", BASE.replace("1000000000", "01000000000"))
    doc = json.loads(run("advise", path, "--format", "json").stdout)
    assert doc["workload"]["tokens_per_day"] == 1e9


def test_norway_is_not_false(tmp_path: Path) -> None:
    path = write(tmp_path, "n.yaml", BASE.replace("version: 1\n", "version: 1\nname: NO\n"))
    result = run("advise", path)
    assert_clean(result, (3,))
    assert "n.yaml:2: name: must be text (got the boolean false)" in result.output


# ---------------------------------------------------------------- limits, numbers, gates


def test_the_largest_volume_answers_like_the_smallest(tmp_path: Path) -> None:
    path = write(tmp_path, "p.yaml", BASE)
    for volume in ("1", "1e13", "1e15"):
        result = run("advise", path, "--set", f"workload.tokens_per_day={volume}", "--format", "json")
        assert_clean(result, (0,))
        doc = json.loads(result.stdout)
        own = next(o for o in doc["options"] if o["kind"] == "self_host")
        assert own["monthly_usd"] > 0 and own["capacity"]["gpus"] >= 1


@pytest.mark.parametrize(
    "args",
    [
        ["breakeven", "--model", "llama-4-70b", "--api-price-in", "inf", "--api-price-out", "1"],
        ["breakeven", "--model", "llama-4-70b", "--api-price-in", "nan", "--api-price-out", "1"],
        ["breakeven", "--model", "llama-4-70b", "--gpu-hourly-usd", "inf"],
        ["breakeven", "--model", "llama-4-70b", "--ops-fte", "inf"],
        ["breakeven", "--model", "llama-4-70b", "--set", "bogus.key=1"],
        ["accuracy", "--engine", "ideal"],
        ["estimate", "--model", "llama-3.3-70b", "--gpu", "h100-sxm", "--gpus", "2000000"],
    ],
)
def test_flags_that_cannot_mean_anything_exit_2(args: list[str]) -> None:
    assert_clean(run(*args), (2,))


def test_gates_that_cannot_run_exit_2(tmp_path: Path) -> None:
    path = write(tmp_path, "p.yaml", BASE)
    for flag in (["--max-increase-pct", "5"], ["--max-increase-usd", "10"], ["--fail-on-decision-change"]):
        result = run("check", path, *flag)
        assert_clean(result, (2,))
        assert "compare with a baseline" in result.output


@pytest.mark.parametrize(
    ("args", "why"),
    [
        (["--model", "deepseek-v3", "--gpu", "h100-sxm"], "leave 0.0 GB"),
        (["--model", "llama-3.1-8b", "--gpu", "h100-sxm", "--input-tokens", "200000"], "131,072-token context"),
        (["--model", "llama-3.3-70b", "--gpu", "h100-sxm", "--gpus", "3", "--tp", "3"], "does not divide"),
        (["--model", "llama-3.3-70b", "--gpu", "rtx-4090", "--gpus", "8", "--tp", "8"], "no scale-out network"),
    ],
)
def test_estimate_says_fits_no_with_the_reason_and_no_negative_memory(args: list[str], why: str) -> None:
    result = run("estimate", *args, "--format", "json")
    assert_clean(result, (0,))
    doc = json.loads(result.stdout)
    assert doc["fits"] is False and why in doc["why_not"]
    assert all(v >= 0 for v in doc["memory"].values() if isinstance(v, (int, float)))


def test_a_failed_benchmark_is_an_invalid_file(tmp_path: Path) -> None:
    for body in (
        '{"output_throughput": NaN, "total_input_tokens": 1, "total_output_tokens": 1, "completed": 1}',
        '{"output_throughput": 0, "total_input_tokens": 1, "total_output_tokens": 1, "completed": 1}',
    ):
        path = write(tmp_path, "bench.json", body)
        args = [
            "--model",
            "llama-3.1-8b",
            "--gpu",
            "h100-sxm",
            "--gpus",
            "1",
            "--precision",
            "bf16",
            "--engine",
            "vllm",
        ]
        result = run("calibrate", "import", path, *args)
        assert_clean(result, (3,))
        assert "bench.json:1: output throughput is" in result.output


CAL_ARGS = ["--model", "llama-3.1-8b", "--gpu", "h100-sxm", "--gpus", "1", "--precision", "bf16", "--engine", "vllm"]
VLLM_OK = '{"output_throughput": 2000, "total_input_tokens": 100000, "total_output_tokens": 20000, "completed": 100'


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (
            '{"output_throughput": 2000, "total_input_tokens": 1' + "0" * 400 + ', "total_output_tokens": 1, '
            '"completed": 1}',
            "a field of the wrong type or out of range",
        ),
        (VLLM_OK + ', "max_concurrency": 1e300}', "concurrency is 1e+300"),
        (VLLM_OK + ', "max_concurrency": -4}', "concurrency is -4"),
        ("[" * 100_000 + "]" * 100_000, "nested too deeply"),
        (
            '{"output_token_throughput": {"avg": 100}, "input_sequence_length": {"avg": 100}, '
            '"output_sequence_length": {"avg": 10}, "input_config": [1]}',
            "a field of the wrong type",
        ),
    ],
)
def test_a_malformed_benchmark_is_an_invalid_file(tmp_path: Path, body: str, message: str) -> None:
    result = run(
        "calibrate", "import", write(tmp_path, "bench.json", body), *CAL_ARGS, "--save", str(tmp_path / "c.yaml")
    )
    assert_clean(result, (3,))
    assert "bench.json:1:" in result.output and message in result.output


def test_calibration_saves_are_checked_like_out(tmp_path: Path) -> None:
    bench = write(tmp_path, "bench.json", VLLM_OK + "}")
    for save, extra, message in (
        ("/proc/x.yaml", [], "cannot write /proc/x.yaml"),
        ("-", [], "--save -: the calibration is read back from a file"),
        (str(tmp_path / "s.yaml"), ["--out", str(tmp_path / "s.yaml")], "is the --save file"),
    ):
        result = run("calibrate", "import", bench, *CAL_ARGS, "--save", save, *extra)
        assert_clean(result, (2,))
        assert message in result.output
    assert not (Path.cwd() / "-").exists()


def test_price_files_out_of_bounds_or_too_deep_are_reported(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "250")
    csv = write(
        tmp_path,
        "aws.csv",
        "InstanceType,AcceleratorName,AcceleratorCount,vCPUs,MemoryGiB,Price,SpotPrice,Region,AvailabilityZone\n"
        "p5.48xlarge,H100,8,192,2048,1e-320,,us-east-1,us-east-1a\n",
    )
    result = run("prices", "import", "--from", "skypilot", csv, "--as-of", "2026-11-01")
    assert_clean(result, (0,))
    assert "outside $0.0001-$1,000; not imported" in result.output
    result = run("prices", "import", "--from", "skypilot", csv, "--as-of", "2099-01-01")
    assert_clean(result, (2,))
    assert "a date in the future" in result.output
    deep = write(tmp_path, "deep.json", "[" * 100_000 + "]" * 100_000)
    result = run("prices", "import", "--from", "litellm", deep, "--as-of", "2026-11-01")
    assert_clean(result, (3,))
    assert "deep.json:1: JSON nested too deeply" in result.output


# ---------------------------------------------------------------- files


def test_out_honours_the_umask_keeps_a_mode_and_never_overwrites_an_input(tmp_path: Path) -> None:
    path = write(tmp_path, "p.yaml", BASE)
    out = tmp_path / "o.json"
    old = os.umask(0o022)
    try:
        assert_clean(run("advise", path, "--format", "json", "--out", str(out)), (0,))
        assert stat.S_IMODE(out.stat().st_mode) == 0o644
        out.chmod(0o600)
        assert_clean(run("advise", path, "--format", "json", "--out", str(out)), (0,))
        assert stat.S_IMODE(out.stat().st_mode) == 0o600
    finally:
        os.umask(old)
    result = run("advise", path, "--out", path)
    assert_clean(result, (2,))
    assert "is an input of this run" in result.output and Path(path).read_text() == BASE


def test_dash_means_stdout(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    path = write(tmp_path, "p.yaml", BASE)
    result = run("advise", path, "--format", "json", "--out", "-")
    assert_clean(result, (0,))
    assert json.loads(result.stdout)["command"] == "advise" and not (tmp_path / "-").exists()
    assert run("init", "-").stdout.startswith("# selfhost workload profile")


@pytest.mark.parametrize("name", ["a [/b] c", "[red]x[/red] y", "team :thumbs_up: bot", "[link=http://e]z"])
def test_text_from_a_file_is_printed_as_written(tmp_path: Path, name: str) -> None:
    # rich markup and emoji codes in a profile's name: printed verbatim, never a crash (exit 4) or a picture
    path = write(tmp_path, "p.yaml", BASE.replace("version: 1\n", f"version: 1\nname: {json.dumps(name)}\n"))
    for fmt in ("table", "markdown"):
        result = run("advise", path, "--format", fmt)
        assert_clean(result, (0,))
        assert name in result.stdout, result.stdout[:400]
    assert_clean(run("check", path, "--max-monthly-usd", "1"), (0, 1))


def test_devices_pipes_and_loops_are_refused_not_read(tmp_path: Path) -> None:
    # /dev/zero reports size 0 and never ends; a FIFO with no writer blocks on open; a symlink loop never resolves
    fifo = tmp_path / "ff"
    os.mkfifo(fifo)
    (tmp_path / "loop1").symlink_to(tmp_path / "loop2")
    (tmp_path / "loop2").symlink_to(tmp_path / "loop1")
    for args in (["advise", "/dev/zero"], ["advise", str(fifo)], ["--catalog", str(fifo), "catalog", "gpus"]):
        result = run(*args)
        assert_clean(result, (3,))
        assert "not a regular file" in result.output and "- for standard input" in result.output
    result = run("advise", str(tmp_path / "loop1"))
    assert_clean(result, (3,))
    assert "symbolic links" in result.output
    path = write(tmp_path, "p.yaml", BASE)
    for args in (["advise", path, "--out", str(tmp_path / "loop1")], ["init", str(tmp_path / "loop1")]):
        result = run(*args)
        assert_clean(result, (2,))
        assert "cannot write" in result.output
    result = run("advise", path, "--out", str(tmp_path / ("x" * 300)))
    assert_clean(result, (2,))
    assert "File name too long" in result.output


def test_dash_means_stdin(tmp_path: Path) -> None:
    result = RUNNER.invoke(app, ["advise", "-", "--format", "json"], input=BASE)
    assert_clean(result, (0,))
    assert json.loads(result.stdout)["command"] == "advise"


def test_a_pipe_or_device_given_to_out_is_written_to_not_replaced(tmp_path: Path) -> None:
    import threading

    fifo = tmp_path / "out.fifo"
    os.mkfifo(fifo)
    got: list[bytes] = []
    reader = threading.Thread(target=lambda: got.append(fifo.read_bytes()))
    reader.start()
    result = run("advise", write(tmp_path, "p.yaml", BASE), "--format", "json", "--out", str(fifo))
    reader.join(timeout=20)
    assert_clean(result, (0,))
    assert stat.S_ISFIFO(fifo.lstat().st_mode)  # still the pipe, not a file renamed over it
    assert json.loads(got[0])["command"] == "advise"


@pytest.mark.parametrize("columns", ["abc", "80.5", "1e3", "-3", "0", "5", " 80", "100000"])
def test_any_columns_value_gives_a_table(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, columns: str) -> None:
    monkeypatch.setenv("COLUMNS", columns)
    result = run("advise", write(tmp_path, "p.yaml", BASE))
    assert_clean(result, (0,))
    assert "Recommendation:" in result.stdout


def test_a_closed_or_full_stdout_is_an_error_not_a_crash(tmp_path: Path) -> None:
    import subprocess
    import sys

    path = write(tmp_path, "p.yaml", BASE)
    cmd = [sys.executable, "-m", "selfhost_cli", "advise", path]
    closed = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, close_fds=True)
    assert closed.returncode == 0
    code = "import os, runpy, sys; os.close(1); sys.stdout = None; sys.argv = ['selfhost', 'advise', sys.argv[1]]; "
    code += "runpy.run_module('selfhost_cli', run_name='__main__')"
    shut = subprocess.run([sys.executable, "-c", code, path], stderr=subprocess.PIPE, text=True)
    assert shut.returncode == 2, shut.stderr
    assert "cannot write standard output: it is closed" in shut.stderr
    if Path("/dev/full").exists():
        with open("/dev/full", "w") as full:
            res = subprocess.run(cmd, stdout=full, stderr=subprocess.PIPE, text=True)
        assert res.returncode == 2, res.stderr
        assert "cannot write standard output" in res.stderr and "Traceback" not in res.stderr


def test_catalog_numbers_beyond_any_real_part_are_refused(tmp_path: Path) -> None:
    # an API at $1e306 per 1M tokens once made every cost NaN (and, with the skipping break-even scan, a hang)
    cat = write(
        tmp_path,
        "c.yaml",
        "schema_version: 1\napis:\n  - {id: acme/pricey, provider: acme, model_name: pricey, tier: mid, "
        "input_usd_per_1m: 1e306, output_usd_per_1m: 1e306, source: my contract, as_of: 2026-11-01}\n",
    )
    result = run("--catalog", cat, "advise", write(tmp_path, "p.yaml", BASE))
    assert_clean(result, (3,))
    assert "c.yaml:3: apis[0].input_usd_per_1m: must be at most 10000" in result.output


@pytest.mark.parametrize("price", ["0", "1e-300"])
def test_a_free_or_nearly_free_api_gives_an_answer_with_readable_numbers(tmp_path: Path, price: str) -> None:
    # $0 divided by zero (exit 4); a price of 1e-300 printed ratios 300 digits long
    path = write(tmp_path, "p.yaml", BASE)
    offer = f"models.api=[{{id: acme/free, input_usd_per_1m: {price}, output_usd_per_1m: {price}}}]"
    result = run("advise", path, "--set", offer)
    assert_clean(result, (0,))
    assert "Recommendation: api" in result.stdout
    assert not re.search(r"\d{12,}", result.stdout), result.stdout[:600]


def test_plot_paths_and_titles_are_checked(tmp_path: Path) -> None:
    path = write(tmp_path, "p.yaml", BASE)
    same = str(tmp_path / "p.png")
    result = run("advise", path, "--plot", same, "--out", same)
    assert_clean(result, (2,))
    assert "--out and --plot name the same file" in result.output
    pytest.importorskip("matplotlib")
    result = run("advise", path, "--plot", str(tmp_path / "missing" / "x.png"))
    assert_clean(result, (2,))
    assert "cannot write it" in result.output
    dollars = write(tmp_path, "d.yaml", BASE.replace("version: 1\n", 'version: 1\nname: "cost $\\\\frac$ x"\n'))
    assert_clean(run("advise", dollars, "--plot", str(tmp_path / "d.png")), (0,))  # not matplotlib's mathtext
    assert (tmp_path / "d.png").stat().st_size > 0


def test_a_gpu_hour_price_is_never_put_on_other_gpus_or_tiers(tmp_path: Path) -> None:
    result = run("breakeven", "--model", "llama-4-70b", "--gpu-hourly-usd", "1")
    assert_clean(result, (2,))
    assert "prices one GPU, and" in result.output and "name the GPU it is for with --gpu" in result.output
    profile = str(Path(__file__).resolve().parent.parent / "profiles" / "healthcare-phi.yaml")  # h100-sxm at $4.28
    result = run("breakeven", "--model", "llama-4-70b", "--profile", profile, "--all", "--format", "json")
    assert_clean(result, (0,))
    rows = json.loads(result.stdout)["rows"]
    assert rows and {(r["gpu"], r["pricing"]) for r in rows} == {("h100-sxm", "on_demand")}


def test_diff_against_a_result_without_costs_prints_no_python_none(tmp_path: Path) -> None:
    none = (
        "version: 1\nworkload:\n  tokens_per_day: 1000000000\ncompliance:\n  air_gapped: true\n"
        "models:\n  self_hosted: deepseek-v3\nself_hosting:\n  gpu: l4\n  max_gpus: 1\n"
    )
    a, b = str(tmp_path / "none.json"), str(tmp_path / "base.json")
    assert_clean(run("advise", write(tmp_path, "n.yaml", none), "--format", "json", "--out", a), (0,))
    assert json.loads(Path(a).read_text())["decision"] == "none"
    assert_clean(run("advise", write(tmp_path, "b.yaml", BASE), "--format", "json", "--out", b), (0,))
    for fmt in ("table", "json", "markdown"):
        result = run("diff", a, b, "--format", fmt)
        assert_clean(result, (0,))
        assert "None" not in result.stdout, result.stdout


def test_a_huge_fixed_fleet_is_called_what_it_is(tmp_path: Path) -> None:
    result = run("advise", write(tmp_path, "p.yaml", BASE), "--set", "self_hosting.gpus=1000000")
    assert_clean(result, (0,))
    assert "the fixed fleet of 1,000,000 GPUs (self_hosting.gpus)" in result.output
    assert "needs 1,000,000 GPUs at the peak" not in result.output
    assert "1,000,000 × h100-sxm (the existing fleet) = 250,000 replica(s)" in result.stdout


def test_a_name_cannot_break_out_of_a_title_or_a_comment(tmp_path: Path) -> None:
    for name, message in (("a\\nb", "name: one line of at most 200 characters"), ("a\\x1b[31mred", "without control")):
        path = write(tmp_path, "p.yaml", BASE.replace("version: 1\n", f'version: 1\nname: "{name}"\n'))
        result = run("advise", path)
        assert_clean(result, (3,))
        assert "p.yaml:2: " + message in result.output or message in result.output
    path = write(
        tmp_path, "p.yaml", BASE.replace("version: 1\n", 'version: 1\nname: "x <!-- selfhost:check --> </details>"\n')
    )
    result = run("advise", path, "--format", "markdown")
    assert_clean(result, (0,))
    assert result.stdout.count("<!-- selfhost:") == 1 and "</details>" not in result.stdout.split("\n")[1]
    assert "x &lt;!-- selfhost:check --&gt; &lt;/details&gt;" in result.stdout
    result = run("advise", write(tmp_path, "v.yaml", BASE.replace("version: 1", "version: true")))
    assert_clean(result, (3,))
    assert "v.yaml:1: version: must be the number 1 (got true)" in result.output


@pytest.mark.parametrize(
    "args",
    [
        ["advise", "PROFILE", "--tag", "x"],
        ["check", "PROFILE", "--tag", "x"],
        ["check", "PROFILE", "--min-change-usd", "5"],
        ["diff", "PROFILE", "PROFILE", "--tag", "x"],
        ["breakeven", "--model", "llama-4-70b", "--gpu", "h100-sxm", "--tag", "x"],
    ],
)
def test_markdown_flags_without_markdown_are_errors(tmp_path: Path, args: list[str]) -> None:
    path = write(tmp_path, "p.yaml", BASE)
    result = run(*[path if a == "PROFILE" else a for a in args])
    assert_clean(result, (2,))
    assert "to --format markdown only" in result.output


def test_a_calibration_for_nothing_known_is_an_error(tmp_path: Path) -> None:
    entry = (
        "schema_version: 1\ncalibrations:\n  - engine: {}\n    gpu: {}\n    software_efficiency: {}\n"
        "    fitted_from: x\n    measured_output_tokens_per_s: 1\n    predicted_before_output_tokens_per_s: 1\n"
        "    fitted_at: 2026-11-01\n"
    )
    profile = write(tmp_path, "p.yaml", BASE)
    for fields, message in (
        (("vllm", "h100", "2"), "cal.yaml:4: calibrations[0].gpu: unknown gpu id 'h100'; did you mean"),
        (("ideal", "h100-sxm", "1"), "cal.yaml:3: calibrations[0].engine: the ideal engine has no software"),
        (("vllm", "h100-sxm", "1e-300"), "software_efficiency: must be at least 0.05"),
    ):
        cal = write(tmp_path, "cal.yaml", entry.format(*fields))
        result = run("advise", profile, "--calibration", cal)
        assert_clean(result, (3,))
        assert message in result.output
    bench = write(tmp_path, "bench.json", VLLM_OK + "}")
    result = run("calibrate", "import", bench, "--model", "llama-3.1-8b", "--gpu", "h100-sxm", "--gpus", "9" * 20)
    assert_clean(result, (2,))


def test_baseline_gates_that_match_no_profile_cannot_pass(tmp_path: Path) -> None:
    base = str(tmp_path / "base.json")
    assert_clean(run("advise", write(tmp_path, "other.yaml", BASE), "--format", "json", "--out", base), (0,))
    profiles = Path(__file__).resolve().parent.parent / "profiles"
    result = run(
        "check",
        str(profiles / "startup.yaml"),
        str(profiles / "which-gpu.yaml"),
        "--baseline",
        base,
        "--max-increase-pct",
        "0",
        "--fail-on-decision-change",
    )
    assert_clean(result, (2,))
    assert "holds none of these profiles" in result.output and "the baseline has: other" in result.output


def test_a_search_too_large_to_answer_in_seconds_is_refused(tmp_path: Path) -> None:
    # every model at every tier and precision took 41 s; 1,500 inline API offerings 16 s
    many = "version: 1\nworkload:\n  tokens_per_day: 1e9\nmodels:\n  self_hosted: [llama-3.1-8b, llama-3.3-70b, "
    many += "qwen3-32b]\nself_hosting:\n  pricing: [spot, on_demand, reserved_1y, reserved_3y, owned, serverless]\n"
    many += "  precision: [bf16, fp8, int8, int4]\n"
    result = run("advise", write(tmp_path, "m.yaml", many))
    assert_clean(result, (3,))
    assert "m.yaml:5: models.self_hosted: the search would price" in result.output and "at most 1,500" in result.output
    offers = ", ".join(f"{{id: acme/m{i}, input_usd_per_1m: 1, output_usd_per_1m: 2}}" for i in range(65))
    result = run("advise", write(tmp_path, "a.yaml", BASE), "--set", f"models.api=[{offers}]")
    assert_clean(result, (3,))
    assert "models.api: at most 64 entries (got 65)" in result.output


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("version: '1'\nworkload:\n  tokens_per_day: 1e9\n", "version: must be the number 1, not the text '1'"),
        (BASE.replace("version: 1\n", "version: 1\nname: 2024-01-01\n"), "got the date 2024-01-01"),
        ("version: 1\nworkload:\n\ttokens_per_day: 1e9\n", "YAML indents with spaces, never tabs"),
        (BASE.replace("self_hosted: llama-3.3-70b", "self_hosted: []"), "models.self_hosted: at least 1 entry (got 0)"),
    ],
)
def test_yaml_surprises_are_said_in_words(tmp_path: Path, body: str, message: str) -> None:
    result = run("advise", write(tmp_path, "w.yaml", body))
    assert_clean(result, (3,))
    assert message in result.output
    assert "datetime" not in result.output and "after validation" not in result.output


def test_a_global_flag_without_its_value_says_so(tmp_path: Path) -> None:
    import subprocess
    import sys

    path = write(tmp_path, "p.yaml", BASE)
    for tail in (["--catalog"], ["--catalog", "--no-color"], ["--calibration"]):
        res = subprocess.run(
            [sys.executable, "-m", "selfhost_cli", "advise", path, *tail], capture_output=True, text=True
        )
        assert res.returncode == 2, res.stderr
        assert f"{tail[0]} needs a value" in res.stderr


def test_a_longest_request_shorter_than_the_mean_is_refused(tmp_path: Path) -> None:
    result = run(
        "advise",
        write(
            tmp_path,
            "p.yaml",
            BASE.replace("  tokens_per_day: 1000000000\n", "  tokens_per_day: 1000000000\n  max_context_tokens: 1\n"),
        ),
    )
    assert_clean(result, (3,))
    assert "max_context_tokens 1 is below the mean request (1,600 tokens in and out)" in result.output


# ---------------------------------------------------------------- generated profiles


SCALARS = st.one_of(
    st.integers(-(10**20), 10**20),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from(["auto", "h100-sxm", "llama-3.3-70b", "fp8", "on_demand", "yes", "1:30", "", "~", "owned"]),
    st.booleans(),
    st.none(),
)
KEYS = {
    "workload": [
        "tokens_per_day",
        "input_share",
        "peak_to_average",
        "cached_input_share",
        "class",
        "max_context_tokens",
    ],
    "self_hosting": ["gpu", "pricing", "precision", "gpus", "max_gpus", "autoscaling", "gpu_hourly_usd", "ops_fte"],
    "models": ["self_hosted", "quality"],
    "compliance": ["air_gapped", "data_residency", "third_party_processing"],
}


@st.composite
def profiles(draw: Any) -> dict[str, Any]:
    doc: dict[str, Any] = {"version": 1, "workload": {"tokens_per_day": draw(st.sampled_from([1e6, 1e9, 1e12]))}}
    if draw(st.booleans()):
        doc["name"] = draw(st.text(st.sampled_from("ab [/]:=#|*_`<>-!"), max_size=24))
    for section, keys in KEYS.items():
        for key in draw(st.lists(st.sampled_from(keys), max_size=3, unique=True)):
            doc.setdefault(section, {})[key] = draw(SCALARS)
    return doc


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture]
)
@given(doc=profiles())
def test_any_profile_ends_in_a_document_or_a_located_message(tmp_path: Path, doc: dict[str, Any]) -> None:
    path = write(tmp_path, "gen.yaml", yaml.safe_dump(doc))
    first = run("advise", path, "--format", "json")
    assert_clean(first, (0, 2, 3))
    if first.exit_code == 0:
        assert json.loads(first.stdout)["schema_version"] == 1
    else:
        assert "gen.yaml:" in first.output or "--set" in first.output
    again = run("advise", path, "--format", "json")
    assert again.exit_code == first.exit_code
    assert_clean(run("advise", path), (first.exit_code,))  # the table a person reads, too
    if first.exit_code == 0:  # deterministic, but for the timestamp
        a, b = json.loads(first.stdout), json.loads(again.stdout)
        a.pop("generated_at"), b.pop("generated_at")
        assert a == b

"""The CI recipes in docs/examples run as written: the GitHub workflow's shell steps against a temporary
git repository with two commits (the target branch and a pull request), the pre-commit hook's entry."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
WORKFLOW = ROOT / "docs" / "examples" / "github-actions.yml"

pytestmark = pytest.mark.skipif(shutil.which("git") is None or shutil.which("bash") is None, reason="needs git, bash")


def git(cwd: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True)


def steps() -> dict[str, str]:
    doc = yaml.safe_load(WORKFLOW.read_text(encoding="utf-8"))
    return {s["name"]: s["run"] for s in doc["jobs"]["cost"]["steps"] if "run" in s and "name" in s}


def repo(tmp: Path, startup_volume: str) -> Path:
    """An origin with the target branch `main`, cloned, with a pull-request commit on a branch."""
    origin = tmp / "origin"
    origin.mkdir()
    git(origin, "init", "-q", "-b", "main")
    git(origin, "config", "user.email", "ci@example.com")
    git(origin, "config", "user.name", "ci")
    (origin / "profiles").mkdir()
    for name in ("startup.yaml", "spiky-consumer.yaml"):
        shutil.copy(ROOT / "profiles" / name, origin / "profiles" / name)
    git(origin, "add", ".")
    git(origin, "commit", "-q", "-m", "profiles")
    work = tmp / "work"
    git(tmp, "clone", "-q", str(origin), str(work))
    git(work, "config", "user.email", "ci@example.com")
    git(work, "config", "user.name", "ci")
    git(work, "checkout", "-q", "-b", "change")
    profile = work / "profiles" / "startup.yaml"
    profile.write_text(profile.read_text().replace("tokens_per_day: 3_000_000", f"tokens_per_day: {startup_volume}"))
    git(work, "commit", "-q", "--allow-empty", "-am", "change the volume")
    return work


def run_steps(work: Path, tmp: Path) -> tuple[str, str]:
    runner_temp = tmp / "runner"
    runner_temp.mkdir()
    output = tmp / "github_output"
    env = {
        **os.environ,
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
        "BASE_REF": "main",
        "PROFILES": "profiles/*.yaml",
        "GATES": "--max-increase-pct 10 --fail-on-decision-change",
        "RUNNER_TEMP": str(runner_temp),
        "GITHUB_OUTPUT": str(output),
    }
    for name in ("Baseline on the target branch", "Check the head"):
        done = subprocess.run(["bash", "-e", "-c", steps()[name]], cwd=work, env=env, capture_output=True, text=True)
        assert done.returncode == 0, (name, done.stdout, done.stderr)
    return output.read_text(), (runner_temp / "comment.md").read_text()


def test_the_workflow_passes_when_nothing_material_changed(tmp_path: Path) -> None:
    work = repo(tmp_path, "3_000_000")  # the same volume: a commit that changes nothing that costs
    status, comment = run_steps(work, tmp_path)
    assert "status=0" in status
    assert comment.startswith("<!-- selfhost:check -->\n## selfhost check: ✅ passed")
    assert re.search(r"\+\$0\.00, \+0\.0% \(from \$[\d,.]+\)", comment)


def test_the_workflow_fails_with_a_readable_comment_when_a_budget_is_crossed(tmp_path: Path) -> None:
    work = repo(tmp_path, "3_000_000_000")  # 1,000x the volume
    status, comment = run_steps(work, tmp_path)
    assert "status=1" in status
    assert "## selfhost check: ❌ failed" in comment and "| max_increase_pct | +10.0% |" in comment
    assert "FAIL" in comment and "startup-support-bot" in comment


def test_the_pre_commit_hook_runs_check_on_the_files_it_is_given() -> None:
    hook = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))[0]
    selfhost = str(Path(sys.executable).with_name("selfhost"))
    argv = [selfhost, *hook["entry"].split()[1:], str(ROOT / "profiles" / "startup.yaml")]
    done = subprocess.run(argv, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert "PASS" in done.stdout

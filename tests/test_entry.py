"""The entry point: a bare Python run from a checkout hands the command to the checkout's `.venv`, once."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from selfhost_cli import entry

ROOT = Path(__file__).resolve().parent.parent


def test_inside_the_checkout_venv_there_is_nothing_to_hand_over(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(entry.HANDED_OVER, raising=False)
    monkeypatch.setattr(sys, "prefix", str(ROOT / ".venv"))
    assert entry.checkout_python() is None


def test_a_handed_over_process_is_never_handed_over_again(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(entry.HANDED_OVER, "1")
    monkeypatch.setattr(sys, "prefix", "/usr")
    assert entry.checkout_python() is None


def test_another_python_is_pointed_at_the_checkout_venv(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(entry.HANDED_OVER, raising=False)
    monkeypatch.setattr(sys, "prefix", "/usr")
    found = entry.checkout_python()
    venv_python = ROOT / ".venv" / "bin" / "python"
    assert found == (str(venv_python) if venv_python.is_file() else None)


def _bare_python() -> str | None:
    """The interpreter this environment was made from, if it lacks selfhost's dependencies."""
    base = Path(sys.base_prefix) / "bin" / "python3"
    if not base.is_file() or sys.base_prefix == sys.prefix:
        return None
    has_typer = subprocess.run([str(base), "-c", "import typer"], capture_output=True, check=False).returncode == 0
    return None if has_typer else str(base)


@pytest.mark.skipif(_bare_python() is None, reason="needs a Python without typer beside this venv")
def test_python_m_from_a_bare_interpreter_runs_in_the_checkout_venv() -> None:
    bare = _bare_python()
    assert bare
    out = subprocess.run(
        [bare, "-m", "selfhost_cli", "catalog", "models", "llama-3.1-8b", "--format", "json"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert out.returncode == 0, out.stderr
    assert '"schema_version": 1' in out.stdout

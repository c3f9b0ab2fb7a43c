"""Outputs quoted in the docs are what the tool prints today."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


def _docs_examples() -> Any:
    """scripts/docs_examples.py, which both checks and rewrites the outputs the docs quote."""
    spec = importlib.util.spec_from_file_location("docs_examples", ROOT / "scripts" / "docs_examples.py")
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_every_json_md_example_matches_a_fresh_run():
    mod = _docs_examples()
    found = mod.check_examples(fix=False)
    assert found == [], "run `python scripts/docs_examples.py update`:\n" + "\n".join(found)


def test_the_readme_search_table_is_what_advise_prints():
    from typer.testing import CliRunner

    from selfhost_cli.cli import app

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    start = readme.index("```", readme.index("which-gpu.yaml --format markdown` (first rows)")) + 3
    quoted = [line for line in readme[start : readme.index("```", start)].splitlines() if line.strip()]
    out = CliRunner().invoke(app, ["advise", str(ROOT / "profiles" / "which-gpu.yaml"), "--format", "markdown"])
    printed = out.stdout.splitlines()
    assert quoted and all(line in printed for line in quoted)


def test_the_estimation_md_accuracy_tables_are_what_accuracy_computes():
    mod = _docs_examples()
    text = mod.ESTIMATION.read_text(encoding="utf-8")
    start, end = mod._accuracy_span(text)
    assert text[start:end] == mod.accuracy_tables(), "run `python scripts/docs_examples.py update`"


def test_the_profile_md_error_examples_are_what_advise_prints():
    mod = _docs_examples()
    text = mod.PROFILE_DOC.read_text(encoding="utf-8")
    assert len(list(mod._ERROR_EXAMPLE.finditer(text))) >= 6 and len(list(mod._SET_EXAMPLE.finditer(text))) >= 3
    found = mod.check_error_examples(fix=False)
    assert found == [], "run `python scripts/docs_examples.py update`:\n" + "\n".join(found)

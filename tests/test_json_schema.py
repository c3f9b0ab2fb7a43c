"""The JSON Schemas editors use: shipped equal to what `selfhost schema` generates, and agreeing with the
validator on real files — every shipped profile passes, and files the validator refuses, the schema refuses."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
import yaml
from typer.testing import CliRunner

from selfhost_cli.cli import app
from selfhost_cli.json_schema import json_schema

ROOT = Path(__file__).resolve().parent.parent
PROFILES = sorted((ROOT / "profiles").glob("*.yaml"))


@pytest.mark.parametrize("kind", ["profile", "catalog"])
def test_the_shipped_schema_is_what_the_command_prints(kind: str) -> None:
    printed = CliRunner().invoke(app, ["schema", kind])
    assert printed.exit_code == 0
    shipped = (ROOT / "schemas" / f"{kind}.schema.json").read_text(encoding="utf-8")
    assert printed.stdout == shipped, "regenerate: selfhost schema KIND --out schemas/KIND.schema.json"
    jsonschema.Draft202012Validator.check_schema(json.loads(shipped))


def test_pydantic_bound_names_become_json_schema_keywords() -> None:
    text = json.dumps(json_schema("profile"))
    for leftover in ('"ge":', '"le":', '"gt":', '"lt":'):
        assert leftover not in text
    workload = json_schema("profile")["$defs"]["Workload"]["properties"]
    assert {"minimum": 1, "maximum": 1e15, "type": "number"} in workload["tokens_per_day"]["anyOf"]


@pytest.mark.parametrize("path", PROFILES, ids=lambda p: p.name)
def test_every_shipped_profile_passes_the_schema(path: Path) -> None:
    jsonschema.validate(yaml.safe_load(path.read_text(encoding="utf-8")), json_schema("profile"))


@pytest.mark.parametrize(
    ("change", "why"),
    [
        ({"workload": {"tokens_per_day": 0}}, "below the minimum"),
        ({"workload": {"tokens_per_day": 1e6, "peak_to_average": 80}}, "above the maximum"),
        ({"workload": {"tokens_per_day": 1e6}, "team": {"inference_expertise": "wizard"}}, "not in the enum"),
        ({"workload": {"tokens_per_day": 1e6, "tokens_per_week": 5}}, "an unknown key"),
        ({"version": 2, "workload": {"tokens_per_day": 1e6}}, "another version"),
    ],
)
def test_what_the_validator_refuses_the_schema_refuses(change: dict[str, object], why: str) -> None:
    from selfhost_cli.profile import Profile

    doc = {"version": 1, **change}
    with pytest.raises(Exception):  # noqa: B017 - pydantic's ValidationError
        Profile.model_validate(doc)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(doc, json_schema("profile"))


def test_unknown_schema_kind_is_a_usage_error() -> None:
    result = CliRunner().invoke(app, ["schema", "budget"])
    assert result.exit_code == 2

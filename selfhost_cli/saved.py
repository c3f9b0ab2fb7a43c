"""Saved `selfhost advise --format json` results, read back as baselines for `check` and `diff`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from selfhost_cli.errors import InputFileError
from selfhost_cli.yamlio import parse, read_text, validate


class _Lenient(BaseModel):
    """Saved results carry many more keys than a baseline needs: ignore them, type-check the rest."""

    model_config = ConfigDict(extra="ignore", frozen=True)


class SavedCapacity(_Lenient):
    gpus: int | None = None


class SavedOption(_Lenient):
    kind: Literal["api", "self_host", "hybrid"]
    eligible: bool
    monthly_usd: float | None = Field(default=None, ge=0)
    capacity: SavedCapacity | None = None


class SavedAdvice(_Lenient):
    schema_version: Literal[1]
    command: Literal["advise"]
    profile: str | None = None
    decision: Literal["api", "self_host", "hybrid", "none"]
    options: list[SavedOption]
    chosen_monthly_usd_: float | None = Field(default=None, alias="chosen_monthly_usd", ge=0)

    @property
    def chosen_monthly_usd(self) -> float | None:
        """The recommended option's cost; for results saved before it was recorded, the cheapest eligible
        option of the decided kind (what the recommendation was then)."""
        if self.chosen_monthly_usd_ is not None:
            return self.chosen_monthly_usd_
        costs = [
            o.monthly_usd for o in self.options if o.kind == self.decision and o.eligible and o.monthly_usd is not None
        ]
        return min(costs) if costs else None

    @property
    def self_host(self) -> SavedOption | None:
        return next((o for o in self.options if o.kind == "self_host"), None)


def load_saved_advice(path: Path) -> SavedAdvice:
    """Read a saved advise JSON; anything else is an input error with its line."""
    text = read_text(path, "baseline")
    try:
        json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputFileError(f"{path}:{exc.lineno}: not valid JSON: {exc.msg}") from None
    doc = parse(text, str(path))  # JSON is YAML: the parse keeps each key's line for messages
    try:
        return validate(SavedAdvice, doc, "saved advise result")
    except InputFileError as exc:
        raise InputFileError(
            f"{path}:1: not a saved `selfhost advise --format json` result\n{exc.message}",
            hint="save one with: selfhost advise PROFILE --format json --out base.json",
        ) from None


class SavedCheckResult(_Lenient):
    profile: str
    decision: Literal["api", "self_host", "hybrid", "none"]
    monthly_usd: float | None = Field(default=None, ge=0)


class SavedCheck(_Lenient):
    """A saved `selfhost check --format json`: one result per profile (SPEC §4: itself a valid baseline)."""

    schema_version: Literal[1]
    command: Literal["check"]
    results: list[SavedCheckResult]


def saved_command(path: Path) -> str | None:
    """`advise`, `check`, ... for a saved selfhost JSON result; None when it is not one."""
    text = read_text(path, "baseline")
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputFileError(f"{path}:{exc.lineno}: not valid JSON: {exc.msg}") from None
    command = doc.get("command") if isinstance(doc, dict) else None
    return command if isinstance(command, str) else None


def load_saved_check(path: Path) -> SavedCheck:
    doc = parse(read_text(path, "baseline"), str(path))
    return validate(SavedCheck, doc, "saved check result")

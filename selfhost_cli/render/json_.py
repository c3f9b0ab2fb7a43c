"""JSON documents (`schema_version: 1`): the versioned contract scripts read (SPEC §4)."""

from __future__ import annotations

import datetime as dt
import json
import math
from dataclasses import asdict, is_dataclass
from enum import Enum
from typing import Any

from selfhost_cli import __version__
from selfhost_cli.advisor import Advice

SCHEMA_VERSION = 1


def envelope(
    command: str, payload: dict[str, Any], warnings: list[str], prices_as_of: str | None, now: dt.datetime | None = None
) -> dict[str, Any]:
    """The keys every document carries, then the command's own."""
    generated = (now or dt.datetime.now(dt.timezone.utc)).replace(microsecond=0).isoformat()
    return {
        "schema_version": SCHEMA_VERSION,
        "command": command,
        "generated_at": generated,
        "selfhost_version": __version__,
        "prices_as_of": prices_as_of,
        "warnings": list(warnings),
        **payload,
    }


def plain(value: Any) -> Any:
    """Dataclasses, enums and dates as JSON values; inf/nan as null."""
    if is_dataclass(value) and not isinstance(value, type):
        return {k: plain(v) for k, v in asdict(value).items()}
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k.value if isinstance(k, Enum) else k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def advice_payload(advice: Advice) -> dict[str, Any]:
    """`advise`'s keys (SPEC §4)."""
    w = advice.workload
    return {
        "profile": advice.profile_name,
        "decision": advice.decision.value,
        "confidence": advice.confidence.value,
        "summary": advice.summary,
        "reasons": [
            {"rule": f.rule, "effect": f.effect.value, "message": f.message, "evidence": f.evidence}
            for f in advice.reasons
        ],
        "workload": {
            "tokens_per_day": round(w.tokens_per_day, 1),
            "input_tokens_per_day": round(w.input_tokens_per_day, 1),
            "output_tokens_per_day": round(w.output_tokens_per_day, 1),
            "peak_output_tokens_per_s": round(w.peak_output_tokens_per_s, 2),
            "input_tokens_per_request": round(w.input_tokens_per_request, 1),
            "output_tokens_per_request": round(w.output_tokens_per_request, 1),
            "peak_to_average": w.peak_to_average,
        },
        "options": [
            {
                "kind": o.kind,
                "id": o.id,
                "eligible": o.eligible,
                "excluded_by": o.excluded_by,
                "monthly_usd": None if o.monthly_usd is None else round(o.monthly_usd, 2),
                "breakdown": o.breakdown,
                **({"capacity": o.capacity} if o.capacity is not None else {}),
                "note": o.note,
            }
            for o in advice.options
        ],
        "breakeven_tokens_per_day": None
        if advice.breakeven_tokens_per_day is None
        else round(advice.breakeven_tokens_per_day),
        "breakeven_note": advice.breakeven_note,
        "flip_points": [plain(f) for f in advice.flip_points],
        "assumptions": [plain(a) for a in advice.assumptions],
    }


def dumps(document: dict[str, Any]) -> str:
    return json.dumps(plain(document), indent=2, ensure_ascii=False) + "\n"

"""JSON documents (`schema_version: 1`): the versioned contract scripts read (SPEC §4)."""

from __future__ import annotations

import datetime as dt
import json
import math
from dataclasses import asdict, is_dataclass
from enum import Enum
from typing import Any

from pydantic import BaseModel

from selfhost_cli import __version__
from selfhost_cli.advise import Advice
from selfhost_cli.advise.options import Capacity, Option
from selfhost_cli.catalog.schema import Capabilities, Quality
from selfhost_cli.enums import OptionKind

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
    if isinstance(value, BaseModel):
        return plain(value.model_dump(mode="json"))
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


def breakdown(o: Option) -> dict[str, Any]:
    """`<item>_usd` per line item, and the quantities scripts read (GPU-hours, prices per 1M tokens)."""
    out: dict[str, Any] = {f"{i.name}_usd": round(i.monthly_usd, 2) for i in o.items}
    for item in o.items:
        if item.name == "gpu":
            out |= {
                "gpu_hours": round(item.quantity, 1),
                "gpu_hourly_usd": round(item.unit_usd, 4),
                "gpu_price_basis": item.source,
            }
        if item.name in ("input", "output") and o.kind is OptionKind.API:
            out[f"{item.name}_usd_per_1m"] = item.unit_usd
        if item.name == "output" and o.kind is OptionKind.API:
            out |= {"source": item.source, "as_of": item.as_of.isoformat() if item.as_of else None}
    if o.kind is OptionKind.HYBRID and o.parts:
        out["api"] = o.parts[1]
    return out


def capacity(c: Capacity) -> dict[str, Any]:
    raw = asdict(c)
    return {k: round(v, 3) if isinstance(v, float) else v for k, v in raw.items()}


def quality(q: Quality | None) -> dict[str, Any] | None:
    if q is None:
        return None
    return {"score": q.score, "scale": q.scale, "entry": q.entry, "source": q.source, "as_of": q.as_of.isoformat()}


def capabilities(c: Capabilities) -> dict[str, Any]:
    facts = {
        "custom_weights": c.custom_weights,
        "lora": c.lora,
        "custom_sampling": c.custom_sampling,
        "zero_data_retention": c.zero_data_retention,
    }
    out: dict[str, Any] = {k: f.value for k, f in facts.items()} | {"regions": c.regions.value}
    out["sources"] = {k: f.source for k, f in (facts | {"regions": c.regions}).items() if f.source}
    return out


def option(o: Option) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "kind": o.kind.value,
        "id": o.id,
        "model": o.model,
        "eligible": o.eligible,
        "excluded_by": list(o.excluded_by),
        "monthly_usd": None if o.monthly_usd is None else round(o.monthly_usd, 2),
        "breakdown": breakdown(o),
        "line_items": [plain(i) | {"monthly_usd": round(i.monthly_usd, 2)} for i in o.items],
        "quality": quality(o.quality),
    }
    if o.kind is OptionKind.API and o.capabilities is not None:
        doc["capabilities"] = capabilities(o.capabilities)
    if o.capacity is not None:
        doc["capacity"] = capacity(o.capacity)
    doc["note"] = "; ".join(n for n in (*o.remarks, o.infeasible, o.price_missing) if n) or None
    return doc


def advice_payload(advice: Advice) -> dict[str, Any]:
    """`advise`'s keys (SPEC §4)."""
    w = advice.workload
    return {
        "profile": advice.profile_name,
        "decision": advice.decision.value,
        "confidence": advice.confidence.value,
        "confidence_why": advice.confidence_why,
        "summary": advice.summary,
        "chosen": advice.chosen.id if advice.chosen else None,
        "chosen_monthly_usd": None if advice.chosen_monthly_usd is None else round(advice.chosen_monthly_usd, 2),
        "reasons": [
            {
                "rule": f.rule,
                "effect": f.effect.value,
                "message": f.message,
                "evidence": f.evidence,
                "excludes": list(f.excludes),
            }
            for f in advice.reasons
        ],
        "workload": {
            "tokens_per_day": round(w.tokens_per_day, 1),
            "input_tokens_per_day": round(w.input_tokens_per_day, 1),
            "output_tokens_per_day": round(w.output_tokens_per_day, 1),
            "cached_input_tokens_per_day": round(w.cached_input_tokens_per_day, 1),
            "mean_output_tokens_per_s": round(w.mean_output_tokens_per_s, 2),
            "peak_output_tokens_per_s": round(w.peak_output_tokens_per_s, 2),
            "input_tokens_per_request": round(w.shape.input_tokens, 1),
            "output_tokens_per_request": round(w.shape.output_tokens, 1),
            "peak_to_average": w.peak_to_average,
        },
        "options": [option(o) for o in advice.options],
        "breakeven_tokens_per_day": None
        if advice.breakeven_tokens_per_day is None
        else round(advice.breakeven_tokens_per_day),
        "breakeven_note": advice.breakeven_note,
        "flip_points": [plain(f) | {"sets": f.sets} for f in advice.flip_points],
        "assumptions": [plain(a) for a in advice.assumptions],
        "alternatives": [plain(a) for a in advice.alternatives],
        "warning_codes": [{"code": x.code.value, "message": x.message} for x in advice.warning_items],
    }


def dumps(document: dict[str, Any]) -> str:
    return json.dumps(plain(document), indent=2, ensure_ascii=False) + "\n"

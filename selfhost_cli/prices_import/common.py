"""Shared pieces of the price importers: ids, names, tiers, number parsing, building API rows."""

from __future__ import annotations

import datetime as dt
import json
import math
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Literal

from pydantic import ValidationError

from selfhost_cli.catalog import Catalog
from selfhost_cli.catalog.schema import ApiOffering, UserCatalogFile
from selfhost_cli.enums import Confidence
from selfhost_cli.errors import InputFileError

Kind = Literal["litellm", "genai-prices", "skypilot"]
KINDS: tuple[Kind, ...] = ("litellm", "genai-prices", "skypilot")
Tier = Literal["frontier", "mid", "small", "open_weight"]

UPSTREAM: dict[Kind, str] = {
    "litellm": "litellm model_prices_and_context_window.json",
    "genai-prices": "pydantic genai-prices prices/data.json",
    "skypilot": "SkyPilot catalog vms.csv",
}

# How the formats spell providers -> the provider ids the bundled catalogs use.
PROVIDER_ALIASES: dict[str, str] = {
    "together_ai": "together",
    "fireworks_ai": "fireworks",
    "gemini": "google",
    "vast": "vast.ai",
}


@dataclass(frozen=True)
class ImportResult:
    """What a conversion produced: the user catalog, one line per input entry not converted, and warnings."""

    file: UserCatalogFile
    skipped: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


# ------------------------------------------------------------------ ids, names, tiers


_ID_BAD = re.compile(r"[^a-z0-9.\-]+")


def normalize_id_part(text: str) -> str:
    """One part of a catalog id: lowercase, only [a-z0-9.-] (anything else -> '-'), no leading/trailing '-.'."""
    part = _ID_BAD.sub("-", text.strip().lower())
    part = re.sub(r"-{2,}", "-", part)
    return part.strip("-.")


def provider_id(raw: str) -> str:
    """A provider name from a price file as a catalog provider id (aliases, then `normalize_id_part`)."""
    key = raw.strip().lower()
    return normalize_id_part(PROVIDER_ALIASES.get(key, key))


_LLAMA_VERSION = re.compile(r"llama-?v?(\d+)(?:[p.\-](\d)(?=-))?")
_QWEN_DASH = re.compile(r"qwen-(\d)")
_GEMMA_VERSION = re.compile(r"gemma-?(\d)")
# Provider names for a catalog model that do not contain its id.
_MODEL_ALIASES: dict[str, str] = {"deepseek-chat": "deepseek-v3", "deepseek-reasoner": "deepseek-r1"}


def canonical_model_name(name: str) -> str:
    """A provider's model name in the catalog's spelling, for matching: last path segment, lowercase, '-'
    separators, and the usual version spellings unified (`llama3-1-70b`, `llama-v3p1-70b`, `Meta-Llama-3.1-70B`
    -> `llama-3.1-70b`; `qwen-3-32b` -> `qwen3-32b`; `gemma3-27b` -> `gemma-3-27b`)."""
    text = re.sub(r"[\s_]+", "-", name.strip().lower().rsplit("/", 1)[-1])
    text = _LLAMA_VERSION.sub(lambda m: f"llama-{m[1]}" + (f".{m[2]}" if m[2] else ""), text)
    text = _QWEN_DASH.sub(r"qwen\1", text)
    return _GEMMA_VERSION.sub(r"gemma-\1", text)


def match_open_weight_model(name: str, model_ids: Iterable[str]) -> str | None:
    """The catalog model id a hosted model name serves, or None.

    The name is put in the catalog's spelling (`canonical_model_name`); a catalog id matches when it occurs
    in it as whole words: after the start, '-' or '.', and before the end, '-', ':' or '@'
    (`together_ai/meta-llama/Llama-3.3-70B-Instruct-Turbo` -> `llama-3.3-70b`, `deepseek-v3-0324` ->
    `deepseek-v3`, but `deepseek-v3.2` matches nothing and `mistral-large-2411` is not `mistral-large-2`).
    The longest matching id wins. `deepseek-chat` / `deepseek-reasoner` are DeepSeek's names for V3 / R1.
    Distilled models (`...-distill-...`) have another architecture and never match.
    """
    ids = sorted(set(model_ids), key=lambda m: (-len(m), m))
    canon = canonical_model_name(name)
    if "distill" in canon:
        return None
    alias = _MODEL_ALIASES.get(canon)
    if alias in ids:
        return alias
    for model_id in ids:
        if re.search(rf"(?:^|[-.]){re.escape(model_id)}(?:$|[-:@])", canon):
            return model_id
    return None


_SMALL_WORDS = frozenset({"mini", "nano", "haiku", "flash", "lite", "small", "tiny"})
_FRONTIER = (
    re.compile(r"(?:^|[./-])gpt-(?:4o|4\.1|5)(?![0-9])"),
    re.compile(r"(?:^|[./-])o[13](?:-|$)"),
    re.compile(r"claude-.*(?:sonnet|opus)"),
    re.compile(r"gemini-.*pro"),
)


def classify_tier(name: str) -> Tier:
    """Tier of a closed model by name: `small` for mini/nano/haiku/flash/lite/small/tiny, `frontier` for
    GPT-4o/4.1/5, o1/o3, Claude Sonnet/Opus and Gemini Pro, else `mid`."""
    text = name.strip().lower()
    if _SMALL_WORDS & set(re.split(r"[^a-z0-9]+", text)):
        return "small"
    if any(p.search(text) for p in _FRONTIER):
        return "frontier"
    return "mid"


_DASHED_VERSION = re.compile(r"(?<=-\d)-(?=\d(?:-|$))")


def _catalog_id(api_id: str, catalog: Catalog) -> str:
    """`api_id`, or the catalog's dotted spelling of it when only that exists (`claude-sonnet-4-5` -> `4.5`)."""
    if api_id in catalog.apis:
        return api_id
    provider, model = api_id.split("/", 1)
    dotted = f"{provider}/{_DASHED_VERSION.sub('.', model)}"
    return dotted if dotted in catalog.apis else api_id


# ------------------------------------------------------------------ shared helpers


class _Skip(Exception):
    """An input entry that cannot be converted; the message says why."""


def _need_both(
    price_in: Decimal | None, price_out: Decimal | None, in_name: str, out_name: str, why_out: str
) -> tuple[Decimal, Decimal]:
    """Both prices, or skip the entry."""
    if price_in is None and price_out is None:
        raise _Skip(f"no {in_name} or {out_name} (no per-token price)")
    if price_in is None:
        raise _Skip(f"no {in_name} (both prices are needed)")
    if price_out is None:
        raise _Skip(f"no {out_name} ({why_out})")
    return price_in, price_out


def _number(value: object, what: str) -> Decimal | None:
    """A price from JSON as an exact Decimal (None when absent); a non-number or negative skips the entry."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise _Skip(f"{what} is not a number ({value!r})")
    if isinstance(value, float) and not math.isfinite(value):
        raise _Skip(f"{what} is not a finite number")
    number = Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
    if number < 0:
        raise _Skip(f"{what} is negative ({value})")
    return number


def _usd(value: Decimal | float) -> str:
    """A price for messages: `3`, `0.3`, `22.5`."""
    text = format(Decimal(repr(value)) if isinstance(value, float) else value.normalize(), "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _json_type(value: object) -> str:
    if isinstance(value, dict):
        return "JSON object"
    if isinstance(value, list):
        return "JSON list"
    return "JSON " + type(value).__name__


def _load_json(text: str, source: str, kind: Kind) -> object:
    try:
        return json.loads(text)
    except RecursionError:
        raise InputFileError(
            f"{source}:1: JSON nested too deeply", hint=f"expected {UPSTREAM[kind]}, unmodified"
        ) from None
    except json.JSONDecodeError as exc:
        raise InputFileError(
            f"{source}:{exc.lineno}: not valid JSON: {exc.msg}",
            hint=f"expected {UPSTREAM[kind]}, unmodified",
        ) from None


def _line_of(text: str, pattern: str) -> int:
    """1-based line of the first match of `pattern` in `text` (1 when absent)."""
    found = re.search(pattern, text)
    return text.count("\n", 0, found.start()) + 1 if found else 1


@dataclass
class _RawApi:
    """One offering read from a file, before ids, tiers and validation."""

    label: str  # how the file names the entry, for messages
    provider: str  # catalog provider id
    model_name: str  # as the file names the model
    input_usd: Decimal  # per 1M tokens
    output_usd: Decimal
    cached_usd: Decimal | None = None
    batch_discount: float | None = None
    variant: str | None = None  # a region or data zone the file prices apart (`eu`, `us-gov-west-1`): kept in the id
    notes: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


class _ApiBuilder:
    """Turns `_RawApi`s into validated ApiOfferings: ids, duplicates, tiers; $0 prices are unknown (skipped)."""

    def __init__(self, catalog: Catalog, as_of: dt.date, source: str) -> None:
        self.catalog = catalog
        self.as_of = as_of
        self.source = source
        self.apis: list[ApiOffering] = []
        self.skipped: list[str] = []
        self.warnings: list[str] = []
        self.seen: dict[str, str] = {}
        self.replaces: list[str] = []

    def skip(self, label: str, reason: str) -> None:
        self.skipped.append(f"{label}: {reason}")

    def add(self, raw: _RawApi) -> None:
        slug = normalize_id_part(raw.model_name.rsplit("/", 1)[-1])
        if slug and raw.variant:
            slug = f"{slug}-{normalize_id_part(raw.variant)}"
        if not raw.provider or not slug:
            self.skip(raw.label, "no usable provider/model id")
            return
        api_id = _catalog_id(f"{raw.provider}/{slug}", self.catalog)
        if api_id in self.seen:
            self.skip(raw.label, f"duplicate id {api_id} (already taken by '{self.seen[api_id]}')")
            return
        if raw.input_usd == 0 or raw.output_usd == 0:  # SPEC §5: a $0 from someone else's file is unknown
            self.skip(
                raw.label,
                "$0 in the file: a free tier, a promotion or a local runtime, not a price (unknown, never $0)",
            )
            return
        if raw.cached_usd == 0:
            raw.cached_usd = None
            raw.warnings.append(f"{raw.label}: cached-input price $0 in the file: read as unknown")
        notes = list(raw.notes)
        existing = self.catalog.apis.get(api_id)
        tier: Tier
        if existing is not None:
            tier, open_weight = existing.tier, existing.open_weight_model
        else:
            open_weight = match_open_weight_model(raw.model_name, self.catalog.models)
            tier = "open_weight" if open_weight else classify_tier(raw.model_name)
            if open_weight:
                notes.append(f"serves catalog model {open_weight} (matched by name)")
        try:
            offering = ApiOffering(
                id=api_id,
                provider=raw.provider,
                model_name=raw.model_name,
                open_weight_model=open_weight,
                tier=tier,
                input_usd_per_1m=float(raw.input_usd),
                output_usd_per_1m=float(raw.output_usd),
                cached_input_usd_per_1m=None if raw.cached_usd is None else float(raw.cached_usd),
                batch_discount=raw.batch_discount,
                confidence=Confidence.MEDIUM,
                note="; ".join(notes) or None,
                source=self.source,
                as_of=self.as_of,
            )
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"])
            self.skip(raw.label, f"{where}: {first['msg']}")
            return
        self.warnings.extend(raw.warnings)
        self.seen[api_id] = raw.label
        if existing is not None:
            self.replaces.append(api_id)
        self.apis.append(offering)

    def result(self) -> ImportResult:
        warnings = list(self.warnings)
        if self.replaces:
            shown = ", ".join(self.replaces[:12]) + (
                f" and {len(self.replaces) - 12} more" if len(self.replaces) > 12 else ""
            )
            warnings.append(
                f"{len(self.replaces)} imported offering(s) have the id of a catalog offering and replace it when "
                f"this file is loaded with --catalog (tier and open_weight_model kept from the catalog): {shown}"
            )
        return ImportResult(UserCatalogFile(apis=self.apis), list(self.skipped), warnings)


# ------------------------------------------------------------------ against the catalog


@dataclass(frozen=True)
class Change:
    """One imported entry compared with the catalog it will be loaded over: `new`, `changed` or `same`. Prices as
    numbers (renderers format them): an offering's (input, output, cached input) per 1M tokens, a GPU row's
    USD per GPU-hour (the catalog may hold several rows for the same provider and tier)."""

    kind: str  # "api" or "gpu"
    id: str  # offering id, or `gpu provider tier`
    status: str
    before: tuple[float | None, ...]  # () when new
    after: tuple[float | None, ...]


def changes(file: UserCatalogFile, catalog: Catalog) -> list[Change]:
    """What loading `file` with --catalog would add or change in `catalog`: offerings by id, GPU price rows by
    GPU × provider × tier (new and changed first)."""
    out: list[Change] = []
    for a in file.apis:
        after = _api_prices(a)
        old = catalog.apis.get(a.id)
        before = _api_prices(old) if old else ()
        status = "new" if old is None else "same" if before == after else "changed"
        out.append(Change("api", a.id, status, before, after))
    for g in file.gpus:
        spec = catalog.gpus.get(g.id)
        had: dict[tuple[str, str], list[float]] = {}
        for p in spec.prices if spec else []:
            had.setdefault((p.provider, p.pricing.value), []).append(p.usd_per_gpu_hour)
        for p in g.prices:
            if spec and p in spec.prices:
                continue  # a catalog row the import kept as it was
            before_rows = tuple(had.get((p.provider, p.pricing.value), ()))
            status = "same" if before_rows == (p.usd_per_gpu_hour,) else "changed" if before_rows else "new"
            out.append(
                Change("gpu", f"{g.id} {p.provider} {p.pricing.value}", status, before_rows, (p.usd_per_gpu_hour,))
            )
    order = {"new": 0, "changed": 1, "same": 2}
    return sorted(out, key=lambda c: (order[c.status], c.kind, c.id))


def _api_prices(a: ApiOffering) -> tuple[float | None, ...]:
    return (a.input_usd_per_1m, a.output_usd_per_1m, a.cached_input_usd_per_1m)

"""Convert public price files into a selfhost user catalog (`selfhost prices import FILE --from KIND`).

Pure: no printing, no network, no environment. The caller reads the file, calls `convert`, reports
`ImportResult.skipped` / `.warnings`, and writes `dump(result.file)` where the user asked; the written
file loads with `selfhost --catalog FILE` (SPEC §2, §5). Every imported price carries `source` (the file
given plus the upstream format) and `as_of` (given by the caller), confidence `medium` (a dated
third-party transcription of the vendors' prices, as in the bundled catalogs). An unknown price is never
turned into $0: entries without a price are skipped; an explicit 0 in the file is kept with a warning.

Formats and the fields read (checked against stored copies of the upstream repositories)
---------------------------------------------------------------------------------------------
``litellm``  BerriAI/litellm ``model_prices_and_context_window.json``: one JSON object, model key ->
    entry; the ``sample_spec`` entry documents the fields and is ignored. Per entry: ``litellm_provider``,
    ``mode`` (``chat`` and ``responses`` are converted; embedding, image, audio, rerank... are skipped),
    ``input_cost_per_token``, ``output_cost_per_token``, ``cache_read_input_token_cost`` (all USD per
    token, x 1e6 here), ``input_cost_per_token_batches`` / ``output_cost_per_token_batches`` (batch
    discount = 1 - batch / regular; dropped with a warning when input and output disagree),
    ``deprecation_date`` (entries deprecated on or before `as_of` are skipped), ``source`` (kept in the
    note) and the names of ``{input,output}_cost_per_token_above_<N>_tokens`` (long-context surcharges:
    noted, not modelled). Key ``provider/org/model``: the provider prefix is dropped, the id uses the
    last path segment.
``genai-prices``  pydantic/genai-prices ``prices/data.json`` (schema: ``prices/src/prices/prices_types.py``):
    a JSON list of providers ``{id, name, pricing_urls, models: [...]}``; per model ``id``, ``name``,
    ``deprecated`` and ``prices``, which is either a ModelPrice ``{input_mtok, output_mtok,
    cache_read_mtok, cache_write_mtok, requests_kcount, ...}`` (USD per 1M tokens) or a list of
    ConditionalPrice ``{constraint: {start_date} | {start_time, end_time} | null, prices: ModelPrice}``.
    A conditional list is resolved as the library does (last to first, first whose constraint holds on
    `as_of`; time-of-day windows are off-peak rates and never chosen). A price may be a number or
    TieredPrices ``{base, tiers: [{start, price}]}``: the base is imported and the model gets a warning.
    genai-prices has no batch prices, so ``batch_discount`` stays unset.
``skypilot``  skypilot-org/skypilot-catalog ``catalogs/v*/<cloud>/vms.csv``. Columns are found by header
    name (the order differs per cloud): ``AcceleratorName``, ``AcceleratorCount``, ``Price`` (required),
    ``SpotPrice``, ``InstanceType``, ``Region`` (optional; ``AvailabilityZone``, ``vCPUs``,
    ``MemoryGiB``, ``GpuInfo`` are not needed). Prices are per instance per hour, so per GPU-hour =
    Price / AcceleratorCount (on_demand) and SpotPrice / AcceleratorCount (spot). GCP lists GPUs as
    accelerator-only rows (empty InstanceType) priced without the host VM; the note says so.
    Rows are aggregated per (GPU, provider, pricing) to the median across regions (each region: the
    median of its rows), with the region count and the per-GPU min-max in the note.
    Provider rule: the `provider` argument if given; else a ``Cloud``/``Provider`` column if the file has
    one; else the cloud directory the file sits in (``.../aws/vms.csv`` -> ``aws``); else a single known
    cloud name among the file name's words (``lambda_vms.csv`` -> ``lambda``); else a UsageError.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import math
import re
import statistics
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import PurePosixPath
from typing import Literal

import yaml
from pydantic import ValidationError

from selfhost_cli.catalog import Catalog
from selfhost_cli.catalog.schema import ApiOffering, GpuPrice, GpuSpec, UserCatalogFile
from selfhost_cli.enums import Confidence, Pricing
from selfhost_cli.errors import InputFileError, UsageError

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


def convert(
    text: str,
    source: str,
    kind: Kind,
    catalog: Catalog,
    as_of: dt.date,
    *,
    provider: str | None = None,
) -> ImportResult:
    """Convert the text of a public price file (`source` names it in messages and in every row's source).

    `catalog` supplies the model ids open-weight offerings are matched to, the tiers of offerings already in
    the catalog, and the GPU specs imported prices are attached to. `provider` (skypilot only) names the cloud.
    Raises InputFileError (`SOURCE:LINE: what is wrong`) when the text is not in the expected format.
    """
    if kind not in KINDS:
        raise UsageError(f"unknown price file format '{kind}'", hint="one of: " + ", ".join(KINDS))
    if provider is not None and kind != "skypilot":
        raise UsageError("a provider applies only to SkyPilot files", hint="litellm and genai-prices name providers")
    if kind == "litellm":
        return _convert_litellm(text, source, catalog, as_of)
    if kind == "genai-prices":
        return _convert_genai_prices(text, source, catalog, as_of)
    return _convert_skypilot(text, source, catalog, as_of, provider)


def dump(file: UserCatalogFile) -> str:
    """The user catalog as YAML that `selfhost --catalog FILE` loads, with a header naming sources and dates."""
    sources = sorted(
        {a.source for a in file.apis}
        | {m.source for m in file.models}
        | {p.source for g in file.gpus for p in g.prices}
    )
    dates = sorted(
        {a.as_of for a in file.apis} | {m.as_of for m in file.models} | {p.as_of for g in file.gpus for p in g.prices}
    )
    lines = ["# selfhost user catalog written by `selfhost prices import`."]
    lines += [f"# Converted from: {_one_line(s)}" for s in sources] or ["# Converted from: (no entries)"]
    if dates:
        span = dates[0].isoformat() if len(dates) == 1 else f"{dates[0].isoformat()} .. {dates[-1].isoformat()}"
        lines.append(f"# Prices as of: {span}")
    lines.append(
        f"# {len(file.apis)} API offerings, {len(file.gpus)} GPUs. Load with `selfhost --catalog THIS_FILE ...`:"
    )
    lines.append("# entries replace catalog entries with the same id (a GPU entry brings its whole price list).")
    body = yaml.safe_dump(
        file.model_dump(mode="json", exclude_defaults=False),
        sort_keys=False,
        allow_unicode=True,
        default_flow_style=False,
        width=120,
    )
    return "\n".join(lines) + "\n" + body


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
    notes: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


class _ApiBuilder:
    """Turns `_RawApi`s into validated ApiOfferings: ids, duplicates, tiers, zero-price warnings."""

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
        if not raw.provider or not slug:
            self.skip(raw.label, "no usable provider/model id")
            return
        api_id = _catalog_id(f"{raw.provider}/{slug}", self.catalog)
        if api_id in self.seen:
            self.skip(raw.label, f"duplicate id {api_id} (already taken by '{self.seen[api_id]}')")
            return
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
        zero = [
            what
            for what, value in (("input", raw.input_usd), ("output", raw.output_usd), ("cached input", raw.cached_usd))
            if value is not None and value == 0
        ]
        if zero:
            self.warnings.append(
                f"{raw.label}: {' and '.join(zero)} price{'s are' if len(zero) > 1 else ' is'} $0 in the file; "
                "kept as stated (a free tier or a local model? check before relying on it)"
            )
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


# ------------------------------------------------------------------ litellm

_LITELLM_MODES = ("chat", "responses")
_LONG_CONTEXT = re.compile(r"^(input|output)_cost_per_token_above_([0-9a-z]+?)_tokens$")
_PER_TOKEN = Decimal(1_000_000)


def _convert_litellm(text: str, source: str, catalog: Catalog, as_of: dt.date) -> ImportResult:
    data = _load_json(text, source, "litellm")
    if not isinstance(data, dict):
        raise InputFileError(
            f"{source}:1: expected a JSON object of model name -> price entry "
            f"({UPSTREAM['litellm']}), found a {_json_type(data)}",
            hint="a JSON list of providers is a genai-prices file: use --from genai-prices",
        )
    builder = _ApiBuilder(catalog, as_of, f"{source} ({UPSTREAM['litellm']})")
    for key, entry in data.items():
        if key == "sample_spec":
            continue
        try:
            builder.add(_litellm_entry(str(key), entry, as_of))
        except _Skip as exc:
            builder.skip(str(key), str(exc))
    return builder.result()


def _litellm_entry(key: str, entry: object, as_of: dt.date) -> _RawApi:
    if not isinstance(entry, dict):
        raise _Skip(f"entry is a {_json_type(entry)}, not an object")
    mode = entry.get("mode")
    if mode not in _LITELLM_MODES:
        raise _Skip(
            f"mode {mode!r}: only chat models are imported" if mode else "no mode: only chat models are imported"
        )
    raw_provider = entry.get("litellm_provider")
    if not isinstance(raw_provider, str) or not raw_provider.strip():
        raise _Skip("no litellm_provider")
    deprecated = entry.get("deprecation_date")
    if isinstance(deprecated, str):
        try:
            deprecated_on = dt.date.fromisoformat(deprecated.strip())
        except ValueError:
            deprecated_on = None
        if deprecated_on is not None and deprecated_on <= as_of:
            raise _Skip(f"deprecated since {deprecated_on.isoformat()}")
    price_in = _number(entry.get("input_cost_per_token"), "input_cost_per_token")
    price_out = _number(entry.get("output_cost_per_token"), "output_cost_per_token")
    price_in, price_out = _need_both(
        price_in, price_out, "input_cost_per_token", "output_cost_per_token", "both prices are needed"
    )
    cached = _number(entry.get("cache_read_input_token_cost"), "cache_read_input_token_cost")
    raw = _RawApi(
        label=key,
        provider=provider_id(raw_provider),
        model_name=_strip_prefix(key, raw_provider),
        input_usd=price_in * _PER_TOKEN,
        output_usd=price_out * _PER_TOKEN,
        cached_usd=None if cached is None else cached * _PER_TOKEN,
        notes=[f"litellm key {key}"],
    )
    raw.batch_discount = _litellm_batch(key, entry, price_in, price_out, raw.warnings)
    long_context = _litellm_long_context(entry)
    if long_context:
        raw.notes.append(f"long context: {long_context} (not modelled)")
        raw.warnings.append(f"{key}: long-context prices ({long_context}) not imported; the base price is used")
    if isinstance(entry.get("source"), str):
        raw.notes.append(f"litellm source: {_one_line(entry['source'])}")
    return raw


def _strip_prefix(key: str, raw_provider: str) -> str:
    prefix = raw_provider.strip() + "/"
    return key[len(prefix) :] if key.lower().startswith(prefix.lower()) else key


def _litellm_batch(
    key: str, entry: Mapping[str, object], price_in: Decimal, price_out: Decimal, warnings: list[str]
) -> float | None:
    """1 - batch/regular from the stated batch prices; None (with a warning) when absent, odd or inconsistent."""
    discounts: list[Decimal] = []
    for regular, field_name in (
        (price_in, "input_cost_per_token_batches"),
        (price_out, "output_cost_per_token_batches"),
    ):
        try:
            batch = _number(entry.get(field_name), field_name)
        except _Skip as exc:
            warnings.append(f"{key}: batch price ignored: {exc}")
            return None
        if batch is not None and regular > 0:
            discounts.append(1 - batch / regular)
    if not discounts:
        return None
    if max(discounts) - min(discounts) > Decimal("0.01"):
        warnings.append(
            f"{key}: batch prices imply different discounts on input and output "
            f"({', '.join(_usd(d) for d in discounts)}); batch discount left unset"
        )
        return None
    discount = discounts[0]
    if not 0 <= discount < 1:
        warnings.append(f"{key}: batch price implies a discount of {_usd(discount)}; batch discount left unset")
        return None
    return round(float(discount), 6)


def _litellm_long_context(entry: Mapping[str, object]) -> str:
    """`above 200k tokens: $6 in / $22.5 out per 1M` for the entry's long-context tiers ('' when none)."""
    tiers: dict[str, dict[str, Decimal]] = defaultdict(dict)
    for name, value in entry.items():
        found = _LONG_CONTEXT.match(name)
        if not found:
            continue
        try:
            price = _number(value, name)
        except _Skip:
            continue
        if price is not None:
            tiers[found[2]][found[1]] = price * _PER_TOKEN
    parts = []
    for threshold, prices in sorted(tiers.items()):
        sides = [f"${_usd(prices[s])} {'in' if s == 'input' else 'out'}" for s in ("input", "output") if s in prices]
        parts.append(f"above {threshold} tokens {' / '.join(sides)} per 1M")
    return "; ".join(parts)


# ------------------------------------------------------------------ genai-prices


def _convert_genai_prices(text: str, source: str, catalog: Catalog, as_of: dt.date) -> ImportResult:
    data = _load_json(text, source, "genai-prices")
    if not isinstance(data, list):
        raise InputFileError(
            f"{source}:1: expected a JSON list of providers ({UPSTREAM['genai-prices']}), found a {_json_type(data)}",
            hint="an object of model name -> entry is a litellm file: use --from litellm",
        )
    builder = _ApiBuilder(catalog, as_of, f"{source} ({UPSTREAM['genai-prices']})")
    for index, provider in enumerate(data):
        pid = provider.get("id") if isinstance(provider, dict) else None
        models = provider.get("models") if isinstance(provider, dict) else None
        if not isinstance(pid, str) or not pid.strip() or not isinstance(models, list):
            line = _line_of(text, rf'"id"\s*:\s*"{re.escape(pid)}"') if isinstance(pid, str) else 1
            raise InputFileError(
                f"{source}:{line}: providers[{index}]: expected an object with an `id` and a `models` list",
                hint=f"expected {UPSTREAM['genai-prices']}, unmodified",
            )
        urls = provider.get("pricing_urls")
        page = urls[0] if isinstance(urls, list) and urls and isinstance(urls[0], str) else None
        for position, model in enumerate(models):
            model_id = model.get("id") if isinstance(model, dict) else None
            label = f"{pid}/{model_id}" if isinstance(model_id, str) else f"{pid} models[{position}]"
            try:
                builder.add(_genai_model(label, pid, model, page, as_of))
            except _Skip as exc:
                builder.skip(label, str(exc))
    return builder.result()


def _genai_model(label: str, pid: str, model: object, page: str | None, as_of: dt.date) -> _RawApi:
    if not isinstance(model, dict) or not isinstance(model.get("id"), str):
        raise _Skip("no model id")
    warnings: list[str] = []
    prices = _genai_choose(label, model.get("prices"), as_of, warnings)
    tiered: list[str] = []
    price_in = _genai_price(prices.get("input_mtok"), "input_mtok", tiered)
    price_out = _genai_price(prices.get("output_mtok"), "output_mtok", tiered)
    cached = _genai_price(prices.get("cache_read_mtok"), "cache_read_mtok", tiered)
    price_in, price_out = _need_both(
        price_in, price_out, "input_mtok", "output_mtok", "an embedding or input-only model; both prices are needed"
    )
    if tiered:
        warnings.append(f"{label}: tiered prices; imported the base (first) tier: {', '.join(tiered)}")
    if prices.get("requests_kcount") is not None:
        warnings.append(f"{label}: per-request fee (requests_kcount) not imported")
    notes = [f"genai-prices model {label}"]
    if tiered:
        notes.append("tiered: " + ", ".join(tiered) + " (base tier imported)")
    if model.get("deprecated") is True:
        notes.append("marked deprecated by genai-prices")
    if page:
        notes.append(f"pricing page {page}")
    name = model.get("name")
    model_id = str(model["id"])
    return _RawApi(
        label=label,
        provider=provider_id(pid),
        model_name=model_id,
        input_usd=price_in,
        output_usd=price_out,
        cached_usd=cached,
        notes=notes + ([f"name: {_one_line(name)}"] if isinstance(name, str) and name.strip() else []),
        warnings=warnings,
    )


def _genai_choose(label: str, prices: object, as_of: dt.date, warnings: list[str]) -> Mapping[str, object]:
    """The ModelPrice in force on `as_of`: the object itself, or from a ConditionalPrice list (last to first)."""
    if isinstance(prices, dict):
        return prices
    if not isinstance(prices, list) or not prices:
        raise _Skip("no prices")
    options: list[Mapping[str, object]] = []
    for option in prices:
        if not isinstance(option, dict) or not isinstance(option.get("prices"), dict):
            raise _Skip("conditional prices without a `prices` object")
        options.append(option)
    chosen, why = options[0], "the first (default) price"
    off_peak = False
    for option in reversed(options):
        constraint = option.get("constraint")
        if constraint is None:
            chosen, why = option, "the unconditional price"
            break
        start = constraint.get("start_date") if isinstance(constraint, dict) else None
        if isinstance(start, str):
            try:
                start_date = dt.date.fromisoformat(start)
            except ValueError as exc:
                raise _Skip(f"constraint.start_date {start!r} is not a date") from exc
            if start_date <= as_of:
                chosen, why = option, f"the price in force since {start_date.isoformat()}"
                break
        else:
            off_peak = True  # a time-of-day window: an off-peak rate, not the list price
    extra = "; off-peak (time-of-day) prices not imported" if off_peak else ""
    warnings.append(f"{label}: {len(options)} conditional prices; used {why} (as of {as_of.isoformat()}){extra}")
    inner = chosen["prices"]
    assert isinstance(inner, dict)  # checked above
    return inner


def _genai_price(value: object, what: str, tiered: list[str]) -> Decimal | None:
    """A number, or TieredPrices' base (the tiers are described in `tiered`)."""
    if not isinstance(value, dict):
        return _number(value, what)
    base = _number(value.get("base"), f"{what}.base")
    if base is None:
        raise _Skip(f"{what}: tiered price without a base")
    steps = [
        f"${_usd(price)} from {tier['start']:,} tokens"
        for tier in value.get("tiers") or []
        if isinstance(tier, dict)
        and isinstance(tier.get("start"), int)
        and (price := _number(tier.get("price"), f"{what}.tiers.price")) is not None
    ]
    tiered.append(f"{what.removesuffix('_mtok')} ${_usd(base)}" + (f" ({'; '.join(steps)})" if steps else ""))
    return base


# ------------------------------------------------------------------ skypilot

# SkyPilot AcceleratorName (case-insensitive) -> catalog GPU id.
SKYPILOT_GPUS: dict[str, str] = {
    "h100": "h100-sxm",
    "h100-mega": "h100-sxm",
    "h200": "h200",
    "gh200": "gh200",
    "b200": "b200",
    "a100-80gb": "a100-80gb",
    "a100": "a100-40gb",
    "l40s": "l40s",
    "l4": "l4",
    "a10g": "a10g",
    "mi300x": "mi300x",
}
# AcceleratorName does not say the H100's form factor; these instance types do.
_H100_FORM = (
    (re.compile(r"pcie", re.IGNORECASE), "h100-pcie"),
    (re.compile(r"^standard_nc\d+ads_h100_v5$", re.IGNORECASE), "h100-nvl"),  # Azure NCads H100 v5 = H100 NVL
)
# Cloud directories of skypilot-org/skypilot-catalog (catalogs/v*/<cloud>/vms.csv).
SKYPILOT_CLOUDS = frozenset(
    "aws gcp azure lambda oci runpod vast fluidstack cudo paperspace nebius do ibm scp hyperbolic seeweb "
    "shadeform primeintellect mithril verda kubernetes scaleway ovhcloud simplepod lium daytona jarvislabs".split()
)
_REQUIRED_COLUMNS = ("AcceleratorName", "AcceleratorCount", "Price")


def skypilot_gpu_id(accelerator: str, instance_type: str = "") -> str | None:
    """The catalog GPU id of a SkyPilot AcceleratorName (None when unknown), refined by the instance type."""
    gpu = SKYPILOT_GPUS.get(accelerator.strip().lower())
    if gpu == "h100-sxm":
        for pattern, form in _H100_FORM:
            if pattern.search(instance_type.strip()):
                return form
    return gpu


def skypilot_provider_from_path(source: str) -> str | None:
    """The cloud a SkyPilot CSV is for, from its path: the directory (`.../aws/vms.csv`), else one cloud name
    among the file name's words (`lambda_vms.csv`); None when neither says."""
    path = PurePosixPath(source.replace("\\", "/"))
    if path.parent.name.lower() in SKYPILOT_CLOUDS:
        return provider_id(path.parent.name)
    words = {w for w in re.split(r"[^a-z0-9]+", path.stem.lower()) if w in SKYPILOT_CLOUDS and w != "do"}
    return provider_id(words.pop()) if len(words) == 1 else None


@dataclass(frozen=True)
class _Observation:
    region: str
    instance: str  # "" for an accelerator-only row
    usd_per_gpu_hour: float


def _csv_number(row: Mapping[str, str | None], column: str, source: str, line: int) -> float | None:
    text = (row.get(column) or "").strip()
    if not text:
        return None
    try:
        value = float(text)
    except ValueError:
        raise InputFileError(f"{source}:{line}: {column}: '{text}' is not a number") from None
    if not math.isfinite(value) or value < 0:
        raise InputFileError(f"{source}:{line}: {column}: '{text}' is not a price or count (must be >= 0)")
    return value


def _convert_skypilot(text: str, source: str, catalog: Catalog, as_of: dt.date, provider: str | None) -> ImportResult:
    reader = csv.DictReader(io.StringIO(text, newline=""))
    try:
        header = list(reader.fieldnames or [])
    except csv.Error as exc:
        raise InputFileError(f"{source}:1: not valid CSV: {exc}") from None
    if not header:
        raise InputFileError(f"{source}:1: empty file; expected a SkyPilot catalog CSV with a header row")
    missing = [c for c in _REQUIRED_COLUMNS if c not in header]
    if missing:
        raise InputFileError(
            f"{source}:1: not a SkyPilot vms.csv: missing column(s) {', '.join(missing)} (found: {', '.join(header)})",
            hint="expected skypilot-org/skypilot-catalog catalogs/v*/<cloud>/vms.csv, unmodified",
        )
    column = next((c for c in header if c.strip().lower() in ("cloud", "provider")), None)
    fixed = provider_id(provider) if provider else None
    if fixed is None and column is None:
        fixed = skypilot_provider_from_path(source)
        if fixed is None:
            raise UsageError(
                f"cannot tell which cloud {source} prices",
                hint="name the provider (e.g. --provider aws), or keep the catalog's layout <cloud>/vms.csv "
                "or a file name such as aws_vms.csv",
            )

    groups: dict[tuple[str, str, Pricing], list[_Observation]] = defaultdict(list)
    accelerator_of: dict[str, set[str]] = defaultdict(set)
    unknown: dict[str, list[int]] = {}
    skipped: list[str] = []
    cpu_rows = 0
    line = 1
    try:
        for row in reader:
            line = reader.line_num
            extra = row.pop(None, None)
            if extra or any(v is None for v in row.values()):
                found = len(header) + len(extra or []) - sum(v is None for v in row.values())
                raise InputFileError(f"{source}:{line}: row has {found} fields where the header has {len(header)}")
            name = (row["AcceleratorName"] or "").strip()
            if not name:
                cpu_rows += 1
                continue
            count = _csv_number(row, "AcceleratorCount", source, line)
            if not count:
                raise InputFileError(
                    f"{source}:{line}: AcceleratorCount: a row with accelerator '{name}' needs a count"
                )
            instance = (row.get("InstanceType") or "").strip()
            gpu = skypilot_gpu_id(name, instance)
            if gpu is None or gpu not in catalog.gpus:
                unknown.setdefault(name, []).append(line)
                continue
            if count < 1:
                skipped.append(f"line {line}: {instance or name}: a fractional GPU share ({count:g}); not imported")
                continue
            cloud = fixed if fixed is not None else provider_id(row[column] or "") if column else ""
            if not cloud:
                raise InputFileError(f"{source}:{line}: {column}: empty provider")
            region = (row.get("Region") or "").strip() or "(no region)"
            on_demand = _csv_number(row, "Price", source, line)
            spot = _csv_number(row, "SpotPrice", source, line) if "SpotPrice" in header else None
            if not on_demand and not spot:
                skipped.append(f"line {line}: {instance or name} in {region}: no price (empty or 0)")
                continue
            accelerator_of[gpu].add(name)
            for pricing, value in ((Pricing.ON_DEMAND, on_demand), (Pricing.SPOT, spot)):
                if value:
                    groups[(gpu, cloud, pricing)].append(_Observation(region, instance, value / count))
    except csv.Error as exc:
        raise InputFileError(f"{source}:{reader.line_num or line}: not valid CSV: {exc}") from None

    for name, lines in sorted(unknown.items()):
        where = f"{len(lines)} row{'s' if len(lines) > 1 else ''}, first at line {lines[0]}"
        gpu = skypilot_gpu_id(name)
        why = f"maps to GPU '{gpu}', which the catalog lacks" if gpu else "not a catalog GPU (no mapping for it)"
        skipped.append(f"AcceleratorName '{name}' ({where}): {why}")
    if cpu_rows:
        skipped.append(f"{cpu_rows} row{'s' if cpu_rows > 1 else ''} without an accelerator (CPU-only instance types)")

    src = f"{source} ({UPSTREAM['skypilot']})"
    prices: dict[str, list[GpuPrice]] = defaultdict(list)
    warnings: list[str] = []
    accelerator_only = False
    for (gpu, cloud, pricing), observations in sorted(
        groups.items(), key=lambda kv: (kv[0][0], kv[0][1], kv[0][2].value)
    ):
        by_region: dict[str, list[float]] = defaultdict(list)
        for obs in observations:
            by_region[obs.region].append(obs.usd_per_gpu_hour)
        value = statistics.median(statistics.median(v) for v in by_region.values())
        accelerator_only |= any(not o.instance for o in observations)
        prices[gpu].append(
            GpuPrice(
                provider=cloud,
                pricing=pricing,
                usd_per_gpu_hour=round(value, 6),
                confidence=Confidence.MEDIUM,
                note=_skypilot_note(observations, by_region, sorted(accelerator_of[gpu])),
                source=src,
                as_of=as_of,
            )
        )
    gpus: list[GpuSpec] = []
    for gpu, rows in sorted(prices.items()):
        spec = catalog.gpus[gpu]
        gpus.append(spec.model_copy(update={"prices": rows}))
        had = f"the catalog's {len(spec.prices)} price row(s)" if spec.prices else "the catalog's (empty) price list"
        warnings.append(
            f"{gpu}: a user catalog replaces a GPU's whole entry by id, so loading this file with --catalog "
            f"replaces {had} for {gpu} with these {len(rows)} imported one(s); copy rows over by hand to keep both"
        )
    if accelerator_only:
        warnings.append(
            "some prices come from accelerator-only rows (GCP bills the GPU and its host VM separately): "
            "they exclude the host's vCPUs and memory, so they read lower than whole-instance prices"
        )
    return ImportResult(UserCatalogFile(gpus=gpus), skipped, warnings)


def _skypilot_note(
    observations: list[_Observation], by_region: Mapping[str, list[float]], accelerators: list[str]
) -> str:
    values = [o.usd_per_gpu_hour for o in observations]
    regions = sorted(by_region)
    shown = ", ".join(regions[:5]) + (f" +{len(regions) - 5} more" if len(regions) > 5 else "")
    instances = sorted({o.instance for o in observations if o.instance})
    kinds = ", ".join(instances[:4]) + (f" +{len(instances) - 4} more" if len(instances) > 4 else "")
    if any(not o.instance for o in observations):
        kinds = (kinds + "; " if kinds else "") + "accelerator-only rows (host VM billed separately)"
    plural = "s" if len(regions) > 1 else ""
    low, high = _usd(round(min(values), 4)), _usd(round(max(values), 4))
    return (
        f"SkyPilot {'/'.join(accelerators)}: median over {len(regions)} region{plural} ({shown}; "
        f"{len(observations)} row{'s' if len(observations) > 1 else ''}) of instance price / GPU count; "
        f"{kinds}; " + (f"per-GPU range ${low}-${high}" if low != high else f"every row ${low} per GPU")
    )

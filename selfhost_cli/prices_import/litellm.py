"""LiteLLM's model_prices_and_context_window.json into API offerings."""

from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict
from collections.abc import Mapping
from decimal import Decimal

from selfhost_cli.catalog import Catalog
from selfhost_cli.errors import InputFileError
from selfhost_cli.prices_import.common import (
    UPSTREAM,
    ImportResult,
    _ApiBuilder,
    _json_type,
    _load_json,
    _need_both,
    _number,
    _one_line,
    _RawApi,
    _Skip,
    _usd,
    provider_id,
)

# ------------------------------------------------------------------ litellm

_LITELLM_MODES = ("chat", "responses")
_LONG_CONTEXT = re.compile(r"^(input|output)_cost_per_token_above_([0-9a-z]+?)_tokens$")
_PER_TOKEN = Decimal(1_000_000)
# A key's middle path segment that names where the model runs, priced apart from the global entry: Azure data
# zones (`azure/eu/gpt-4o-mini-…`) and cloud regions (`bedrock/us-gov-west-1/…`, `vertex_ai/europe-west4/…`).
# Other middle segments are organisations or API paths (`together_ai/meta-llama/…`) and are dropped.
_REGION = re.compile(r"^(eu|us|global|global-standard|datazone|apac|au|jp)$|^[a-z]{2,}(-gov)?-[a-z]+-?\d+$")


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
    model_name = _strip_prefix(key, raw_provider)
    regions = [part for part in model_name.split("/")[:-1] if _REGION.match(part.lower())]
    raw = _RawApi(
        label=key,
        provider=provider_id(raw_provider),
        model_name=model_name,
        variant="-".join(regions) or None,
        input_usd=price_in * _PER_TOKEN,
        output_usd=price_out * _PER_TOKEN,
        cached_usd=None if cached is None else cached * _PER_TOKEN,
        notes=[f"litellm key {key}"] + ([f"priced for {'/'.join(regions)} only"] if regions else []),
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

"""pydantic's genai-prices data.json into API offerings."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from decimal import Decimal

from selfhost_cli.catalog import Catalog
from selfhost_cli.errors import InputFileError
from selfhost_cli.prices_import.common import (
    UPSTREAM,
    ImportResult,
    _ApiBuilder,
    _json_type,
    _line_of,
    _load_json,
    _need_both,
    _number,
    _one_line,
    _RawApi,
    _Skip,
    _usd,
    provider_id,
)

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

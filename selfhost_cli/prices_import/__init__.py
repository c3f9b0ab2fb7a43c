"""Convert public price files into a selfhost user catalog (`selfhost prices import FILE --from KIND`).

Pure: no printing, no network, no environment. The caller reads the file, calls `convert`, reports
`ImportResult.skipped` / `.warnings`, and writes `dump(result.file)` where the user asked; the written
file loads with `selfhost --catalog FILE` (SPEC §2, §5). Every imported price carries `source` (the file
given plus the upstream format) and `as_of` (given by the caller), confidence `medium` (a dated
third-party transcription of the vendors' prices, as in the bundled catalogs). An unknown price is never
turned into $0: entries without a price are skipped, and so is an explicit 0 (a free tier, a promotion or
a local runtime is not a price: SPEC §5); a $0 cached-input price is read as unknown.

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

import datetime as dt

import yaml

from selfhost_cli.catalog import Catalog
from selfhost_cli.catalog.schema import UserCatalogFile
from selfhost_cli.errors import UsageError
from selfhost_cli.prices_import.common import (
    KINDS,
    Change,
    ImportResult,
    Kind,
    _one_line,
    canonical_model_name,
    changes,
    classify_tier,
    match_open_weight_model,
    normalize_id_part,
)
from selfhost_cli.prices_import.genai_prices import _convert_genai_prices
from selfhost_cli.prices_import.litellm import _convert_litellm
from selfhost_cli.prices_import.skypilot import _convert_skypilot, skypilot_gpu_id, skypilot_provider_from_path

__all__ = [
    "Change",
    "ImportResult",
    "changes",
    "canonical_model_name",
    "classify_tier",
    "convert",
    "dump",
    "match_open_weight_model",
    "normalize_id_part",
    "skypilot_gpu_id",
    "skypilot_provider_from_path",
]


def convert(
    text: str,
    source: str,
    kind: Kind,
    catalog: Catalog,
    as_of: dt.date,
    *,
    provider: str | None = None,
    replace: bool = False,
) -> ImportResult:
    """Convert the text of a public price file (`source` names it in messages and in every row's source).

    `catalog` supplies the model ids open-weight offerings are matched to, the tiers of offerings already in
    the catalog, and the GPU specs imported prices are attached to. `provider` (skypilot only) names the cloud.
    GPU rows (skypilot) join the catalog's: an imported provider × tier replaces the catalog's rows for that
    pair, the others are kept, so the written file loaded with --catalog keeps them; `replace` keeps none.
    Raises InputFileError (`SOURCE:LINE: what is wrong`) when the text is not in the expected format.
    """
    if kind not in KINDS:
        raise UsageError(f"unknown price file format '{kind}'", hint="one of: " + ", ".join(KINDS))
    if provider is not None and kind != "skypilot":
        raise UsageError("a provider applies only to SkyPilot files", hint="litellm and genai-prices name providers")
    if replace and kind != "skypilot":
        raise UsageError("--replace applies only to SkyPilot files", hint="API offerings are replaced by id anyway")
    if kind == "litellm":
        return _convert_litellm(text, source, catalog, as_of)
    if kind == "genai-prices":
        return _convert_genai_prices(text, source, catalog, as_of)
    return _convert_skypilot(text, source, catalog, as_of, provider, replace)


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

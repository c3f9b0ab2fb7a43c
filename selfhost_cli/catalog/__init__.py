"""The catalogs of models, GPUs and API offerings: bundled YAML merged with users' `--catalog` files."""

from __future__ import annotations

import datetime as dt
import functools
import statistics
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from importlib import resources
from pathlib import Path

from selfhost_cli.cache import cached
from selfhost_cli.catalog.schema import (
    ApiCatalogFile,
    ApiOffering,
    Facility,
    GpuCatalogFile,
    GpuPrice,
    GpuSpec,
    ModelCatalogFile,
    ModelSpec,
    UserCatalogFile,
)
from selfhost_cli.enums import Confidence, Pricing
from selfhost_cli.errors import InputFileError, unknown_id
from selfhost_cli.yamlio import load_file, parse, validate


@dataclass(frozen=True)
class Catalog:
    """Every model, GPU and API offering known, by id; later sources override earlier ones."""

    models: dict[str, ModelSpec]
    gpus: dict[str, GpuSpec]
    apis: dict[str, ApiOffering]
    sources: tuple[str, ...] = field(default=("bundled",))
    facility: Facility | None = None  # owned-hardware defaults (PUE, electricity, colocation, amortization)
    retired: frozenset[str] = frozenset()  # offerings shut down by the date `current` was given: never picked

    def current(self, today: dt.date) -> Catalog:
        """This catalog on `today`: offerings whose provider has shut them down are kept (a profile may still name
        one, and is told) but never picked for comparison."""
        gone = frozenset(a.id for a in self.apis.values() if a.retires and a.retires.date <= today)
        return replace(self, retired=gone)

    def model(self, model_id: str) -> ModelSpec:
        """The model, or a UsageError with close matches."""
        if model_id not in self.models:
            raise unknown_id("model", model_id, self.models)
        return self.models[model_id]

    def gpu(self, gpu_id: str) -> GpuSpec:
        if gpu_id not in self.gpus:
            raise unknown_id("gpu", gpu_id, self.gpus)
        return self.gpus[gpu_id]

    def api(self, api_id: str) -> ApiOffering:
        if api_id not in self.apis:
            raise unknown_id("api", api_id, self.apis)
        return self.apis[api_id]

    def merged(self, other: UserCatalogFile, source: str) -> Catalog:
        """A new catalog with `other`'s entries added or replacing ours by id."""
        return Catalog(
            models={**self.models, **{m.id: m for m in other.models}},
            gpus={**self.gpus, **{g.id: g for g in other.gpus}},
            apis={**self.apis, **{a.id: a for a in other.apis}},
            sources=(*self.sources, source),
            facility=other.facility or self.facility,
            retired=self.retired,
        )

    def apis_serving(self, model_id: str) -> list[ApiOffering]:
        """Offerings of this open-weight model or of one with the identical architecture (e.g. Llama 3.1 and
        3.3 70B, and the `llama-4-70b` stand-in), cheapest first."""
        target = self.models.get(model_id)
        twins = {m.id for m in self.models.values() if target is not None and same_architecture(m, target)}
        found = [a for a in self.offered() if a.open_weight_model in twins | {model_id}]
        return sorted(found, key=blended_usd_per_1m)

    def offered(self) -> list[ApiOffering]:
        """The offerings that can still be bought."""
        return [a for a in self.apis.values() if a.id not in self.retired]

    def apis_of_size_class(self, model: ModelSpec) -> list[ApiOffering]:
        """Open-weight offerings whose model is in the same size class as `model`, cheapest first."""
        wanted = size_class(model)
        found = [
            a
            for a in self.offered()
            if a.open_weight_model in self.models and size_class(self.models[a.open_weight_model]) == wanted
        ]
        return sorted(found, key=blended_usd_per_1m)


def same_architecture(a: ModelSpec, b: ModelSpec) -> bool:
    """Same shapes everywhere that sets cost: layers, widths, heads, vocabulary, experts."""
    keys = (
        "layers",
        "hidden_size",
        "intermediate_size",
        "attention_heads",
        "kv_heads",
        "head_dim",
        "vocab_size",
        "moe",
        "mla",
    )
    return all(getattr(a, k) == getattr(b, k) for k in keys)


def blended_usd_per_1m(api: ApiOffering, input_share: float = 0.75) -> float:
    """USD per 1M tokens at a 3:1 input:output mix (used only to order offerings)."""
    return api.input_usd_per_1m * input_share + api.output_usd_per_1m * (1 - input_share)


def size_class(model: ModelSpec) -> str:
    """Coarse class by total parameters: small (<15B), medium (<50B), large (<150B), frontier-scale."""
    b = model.params_total_b
    if b < 15:
        return "small"
    if b < 50:
        return "medium"
    if b < 150:
        return "large"
    return "xl"


_BUNDLED: dict[str, type[ModelCatalogFile | GpuCatalogFile | ApiCatalogFile]] = {
    "models": ModelCatalogFile,
    "gpus": GpuCatalogFile,
    "apis": ApiCatalogFile,
}


@functools.cache
def bundled() -> Catalog:
    """The catalogs shipped in the package, parsed once (and kept validated in the user's cache between
    runs: selfhost_cli.cache)."""
    texts = {
        name: resources.files("selfhost_cli.catalog").joinpath("data", f"{name}.yaml").read_text(encoding="utf-8")
        for name in _BUNDLED
    }
    return cached("catalog", list(texts.values()), lambda: _parse_bundled(texts), Catalog)


def _parse_bundled(texts: dict[str, str]) -> Catalog:
    parts: dict[str, dict[str, object]] = {}
    facility: Facility | None = None
    for name, schema in _BUNDLED.items():
        doc = parse(texts[name], f"selfhost_cli/catalog/data/{name}.yaml")
        loaded = validate(schema, doc, "catalog")
        entries = getattr(loaded, name)
        ids = [e.id for e in entries]
        dupes = sorted({i for i in ids if ids.count(i) > 1})
        if dupes:  # pragma: no cover - guarded by tests on the bundled data
            raise InputFileError(f"{doc.path}: duplicate ids {dupes}")
        parts[name] = {e.id: e for e in entries}
        if isinstance(loaded, GpuCatalogFile):
            facility = loaded.facility
    return Catalog(
        models=parts["models"],  # type: ignore[arg-type]
        gpus=parts["gpus"],  # type: ignore[arg-type]
        apis=parts["apis"],  # type: ignore[arg-type]
        facility=facility,
    )


def load(user_files: Sequence[str | Path] = ()) -> Catalog:
    """Bundled catalogs with each user file merged over them, in order."""
    catalog = bundled()
    for path in user_files:
        doc = load_file(path, "catalog")
        catalog = catalog.merged(validate(UserCatalogFile, doc, "catalog"), str(path))
    return catalog


# ------------------------------------------------------------------ prices


@dataclass(frozen=True)
class GpuHourly:
    """The price used for one GPU at one pricing tier, with where it came from."""

    usd_per_gpu_hour: float
    source: str
    as_of: dt.date | None
    basis: str  # "median of N rows", "profile override", ...
    low_usd: float
    high_usd: float
    q1_usd: float  # the middle half of the rows (interquartile): how uncertain the price used is
    q3_usd: float


def gpu_hourly(gpu: GpuSpec, pricing: Pricing, override_usd: float | None = None) -> GpuHourly | None:
    """USD per GPU-hour for a tier: the override, else the median of the catalog's rows; None if unknown."""
    if override_usd is not None:
        same = override_usd
        return GpuHourly(override_usd, "the profile / command line", None, "given", same, same, same, same)
    rows = prices_for(gpu, pricing)
    if not rows:
        return None
    quotes = provider_quotes(rows)
    values = [q.usd for q in quotes]
    median = weighted_median([(q.usd, CONFIDENCE_WEIGHT[q.confidence]) for q in quotes])
    oldest = min(r.as_of for r in rows)
    if len(quotes) == 1:
        basis = quotes[0].provider + (f", median of its {len(rows)} rows" if len(rows) > 1 else "")
    else:
        levels = sorted({q.confidence for q in quotes}, key=list(Confidence).index)
        extras = [f"{len(rows)} rows"] if len(rows) > len(quotes) else []
        if len(levels) > 1:
            extras.append(
                f"{'/'.join(c.value for c in levels)} confidence counts "
                f"{'/'.join(str(CONFIDENCE_WEIGHT[c]) for c in levels)}"
            )
        kind = "weighted median" if len(levels) > 1 else "median"
        providers = ", ".join(sorted(q.provider for q in quotes))
        extra = f", {', '.join(extras)}" if extras else ""
        basis = f"{kind} of {len(quotes)} providers' {pricing.value} prices{extra} ({providers})"
    source = "; ".join(sorted({r.source for r in rows}))
    q1, _, q3 = statistics.quantiles(values, n=4, method="inclusive") if len(values) > 1 else (median,) * 3
    return GpuHourly(median, source, oldest, basis, min(values), max(values), q1, q3)


# How much one provider's quote counts in a tier's price, by how far its row can be trusted: a provider's own
# price page (high) over a dated third-party transcription (medium) over a blog table or estimate (low).
CONFIDENCE_WEIGHT = {Confidence.HIGH: 3, Confidence.MEDIUM: 2, Confidence.LOW: 1}


@dataclass(frozen=True)
class ProviderQuote:
    """One provider's price for a tier: the median of its rows, at the best confidence among them."""

    provider: str
    usd: float
    confidence: Confidence


def provider_quotes(rows: Sequence[GpuPrice]) -> list[ProviderQuote]:
    """One quote per provider, so a provider listed with several rows (regions, instance sizes) counts once."""
    by: dict[str, list[GpuPrice]] = {}
    for r in rows:
        by.setdefault(r.provider, []).append(r)
    order = list(Confidence)
    return [
        ProviderQuote(
            name, statistics.median(r.usd_per_gpu_hour for r in rs), min((r.confidence for r in rs), key=order.index)
        )
        for name, rs in by.items()
    ]


def weighted_median(pairs: Sequence[tuple[float, float]]) -> float:
    """The value at half the total weight; with equal weights, the ordinary median (the middle two averaged)."""
    ranked = sorted(pairs)
    half = sum(w for _, w in ranked) / 2
    acc = 0.0
    for i, (value, weight) in enumerate(ranked):
        acc += weight
        if acc > half:
            return value
        if acc == half:
            return (value + ranked[i + 1][0]) / 2
    return ranked[-1][0]  # pragma: no cover - the loop always crosses half


# Rows more than this older than the tier's newest row are superseded (e.g. 2023 launch prices).
SUPERSEDED_AFTER_DAYS = 365


def prices_for(gpu: GpuSpec, pricing: Pricing) -> list[GpuPrice]:
    """The tier's price rows, without rows superseded by ones a year or more newer."""
    rows = [p for p in gpu.prices if p.pricing == pricing]
    if not rows:
        return []
    newest = max(r.as_of for r in rows)
    return [r for r in rows if (newest - r.as_of).days <= SUPERSEDED_AFTER_DAYS]

"""Stage 2: what could serve the workload — API offerings comparable by quality, and self-hosted deployments."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from selfhost_cli.advise.workload import Workload
from selfhost_cli.catalog import Catalog, GpuHourly, blended_usd_per_1m, gpu_hourly, same_architecture
from selfhost_cli.catalog.schema import ApiOffering, Capabilities, GpuSpec, ModelSpec, Quality
from selfhost_cli.costs import ApiPrices
from selfhost_cli.deploy.engines import EngineProfile, EngineSet
from selfhost_cli.deploy.sizing import Infeasible, ReplicaPlan, RequestShape, fitting_in, plan_replicas
from selfhost_cli.enums import Confidence, Engine, Precision, QualityPolicy, Redundancy
from selfhost_cli.profile import InlineApi, Profile

# Offerings the tool adds on its own (cheapest first) when the profile names none, or asks with `quality`.
PICKED_APIS = 3
# Two models are in the same quality tier when their LMArena scores are within this many points: an Elo gap
# of 35 means the better one is preferred in about 55% of head-to-head votes (1 / (1 + 10^(-35/400))).
SAME_TIER_POINTS = 35.0
# models.self_hosted: auto picks this many open-weight models nearest the named APIs' quality.
AUTO_MODELS = 2


@dataclass(frozen=True)
class ApiCandidate:
    """One hosted offering to compare, with what it serves, its quality and what it can do."""

    id: str
    prices: ApiPrices
    source: str
    as_of: dt.date | None
    model: str | None  # catalog model id it serves (open-weight offerings)
    quality: Quality | None
    capabilities: Capabilities | None  # None: an inline offering that states none (all unknown)
    price_confidence: Confidence
    named: bool  # the profile named it (always compared)


@dataclass(frozen=True)
class SelfHostCandidate:
    """One self-hosted deployment: model × GPU × precision × engine, its feasible layouts and its price."""

    model: ModelSpec
    gpu: GpuSpec
    precision: Precision
    engine: EngineProfile
    plans: tuple[ReplicaPlan, ...] | Infeasible
    hourly: GpuHourly | None
    spare_replicas: int
    fixed_gpus: int | None

    @property
    def id(self) -> str:
        return f"{self.model.id}@{self.gpu.id}"


@dataclass(frozen=True)
class Candidates:
    apis: tuple[ApiCandidate, ...]
    self_hosts: tuple[SelfHostCandidate, ...]


@dataclass
class PlanCache:
    """Replica layouts keyed on the values that decide them; shared by the re-runs of one `advise`."""

    plans: dict[tuple[object, ...], tuple[ReplicaPlan, ...] | Infeasible] = field(default_factory=dict)

    def plan(
        self, model: ModelSpec, gpu: GpuSpec, precision: Precision, engine: EngineProfile, shape: RequestShape
    ) -> tuple[ReplicaPlan, ...] | Infeasible:
        key = (model.id, gpu.id, precision, engine, shape)
        if key not in self.plans:
            found = plan_replicas(model, gpu, precision, engine, shape)
            self.plans[key] = found if isinstance(found, Infeasible) else tuple(found)
        return self.plans[key]


def default_precision(model: ModelSpec, gpu: GpuSpec) -> Precision:
    """FP8 where the GPU runs it natively (the common serving choice, ~1% quality cost), FP4 for models
    shipped in FP4 (gpt-oss), else BF16."""
    if model.native_precision is Precision.FP4:
        return Precision.FP4
    if Precision.FP8 in gpu.tflops_dense:
        return Precision.FP8
    return Precision.BF16


def candidates(profile: Profile, work: Workload, catalog: Catalog, engines: EngineSet, cache: PlanCache) -> Candidates:
    apis = api_candidates(profile, catalog)
    models = self_hosted_models(profile, catalog, apis)
    apis = apis + picked_apis(profile, catalog, models, apis)
    return Candidates(
        tuple(apis), tuple(self_host_candidate(profile, work, catalog, engines, cache, m) for m in models)
    )


# ---------------------------------------------------------------- API offerings


def to_candidate(offering: ApiOffering | InlineApi, named: bool, catalog: Catalog) -> ApiCandidate:
    prices = ApiPrices(
        offering.input_usd_per_1m,
        offering.output_usd_per_1m,
        offering.cached_input_usd_per_1m,
        offering.batch_discount,
    )
    if isinstance(offering, InlineApi):
        return ApiCandidate(
            offering.id,
            prices,
            offering.source,
            None,
            offering.open_weight_model,
            _model_quality(catalog, offering.open_weight_model),
            offering.capabilities,
            Confidence.MEDIUM,
            named,
        )
    quality = offering.quality or _model_quality(catalog, offering.open_weight_model)
    return ApiCandidate(
        offering.id,
        prices,
        offering.source,
        offering.as_of,
        offering.open_weight_model,
        quality,
        offering.capabilities,
        offering.confidence,
        named,
    )


def _model_quality(catalog: Catalog, model_id: str | None) -> Quality | None:
    model = catalog.models.get(model_id) if model_id else None
    return model.quality if model else None


def api_candidates(profile: Profile, catalog: Catalog) -> list[ApiCandidate]:
    """The offerings the profile names, in its order."""
    named = [catalog.api(a) if isinstance(a, str) else a for a in profile.models.api or []]
    return [to_candidate(a, True, catalog) for a in named]


def picked_apis(
    profile: Profile, catalog: Catalog, models: list[ModelSpec], named: list[ApiCandidate]
) -> list[ApiCandidate]:
    """Offerings the tool adds by `models.quality` — when no API is named, or when `quality` is set explicitly."""
    if named and "quality" not in profile.models.model_fields_set:
        return []
    taken = {a.id for a in named}
    policy = profile.models.quality
    found: list[ApiOffering] = []
    for model in models:
        found += [a for a in comparable(catalog, model, policy) if a.id not in taken]
        taken |= {a.id for a in found}
    found.sort(key=blended_usd_per_1m)
    return [to_candidate(a, False, catalog) for a in found[: PICKED_APIS * len(models)]]


def comparable(catalog: Catalog, model: ModelSpec, policy: QualityPolicy) -> list[ApiOffering]:
    """Offerings comparable with self-hosting `model` under the policy, cheapest first (at most PICKED_APIS)."""
    same_model = catalog.apis_serving(model.id)
    if policy is QualityPolicy.SAME_MODEL:
        return same_model[:PICKED_APIS]
    if policy is QualityPolicy.ANY:
        return sorted(catalog.apis.values(), key=blended_usd_per_1m)[:PICKED_APIS]
    tier = [a for a in catalog.apis.values() if _within_tier(catalog, a, model)]
    ranked = sorted(
        {a.id: a for a in same_model[:1] + sorted(tier, key=blended_usd_per_1m)}.values(), key=blended_usd_per_1m
    )
    return ranked[:PICKED_APIS] or catalog.apis_of_size_class(model)[:PICKED_APIS]


def _within_tier(catalog: Catalog, offering: ApiOffering, model: ModelSpec) -> bool:
    quality = offering.quality or _model_quality(catalog, offering.open_weight_model)
    if quality is None or model.quality is None:
        return False
    return abs(quality.score - model.quality.score) <= SAME_TIER_POINTS


# ---------------------------------------------------------------- self-hosted deployments


def self_hosted_models(profile: Profile, catalog: Catalog, apis: list[ApiCandidate]) -> list[ModelSpec]:
    """The named models, or for `auto` the open-weight models nearest the best named API's quality."""
    ids = profile.models.self_hosted_ids
    if ids:
        return [catalog.model(m) for m in ids]
    scores = [a.quality.score for a in apis if a.quality]
    if not scores:
        return []
    target = max(scores)
    rated = [m for m in catalog.models.values() if m.quality and not m.modelled_on]
    rated.sort(key=lambda m: (abs(m.quality.score - target) if m.quality else 0.0, m.params_total_b))
    unique: list[ModelSpec] = []
    for m in rated:
        if not any(same_architecture(m, u) for u in unique):
            unique.append(m)
    return unique[:AUTO_MODELS]


def self_host_candidate(
    profile: Profile, work: Workload, catalog: Catalog, engines: EngineSet, cache: PlanCache, model: ModelSpec
) -> SelfHostCandidate:
    s = profile.self_hosting
    gpu = catalog.gpu(s.gpu)
    precision = s.precision or default_precision(model, gpu)
    engine = engines.profile(s.engine, gpu.id, model.id, precision.value)
    plans = _plans(model, gpu, precision, s.engine, engine, work.shape, s.gpus, cache)
    spare = 1 if s.redundancy is Redundancy.N_PLUS_1 else 0
    return SelfHostCandidate(
        model, gpu, precision, engine, plans, gpu_hourly(gpu, s.pricing, s.gpu_hourly_usd), spare, s.gpus
    )


def _plans(
    model: ModelSpec,
    gpu: GpuSpec,
    precision: Precision,
    engine_id: Engine,
    engine: EngineProfile,
    shape: RequestShape,
    fixed_gpus: int | None,
    cache: PlanCache,
) -> tuple[ReplicaPlan, ...] | Infeasible:
    if engine_id.value not in gpu.engines:
        return Infeasible(f"{engine_id.value} does not run on {gpu.id} (it runs: {', '.join(gpu.engines)})")
    plans = cache.plan(model, gpu, precision, engine, shape)
    if fixed_gpus and not isinstance(plans, Infeasible) and not fitting_in(list(plans), fixed_gpus):
        smallest = min(p.tp for p in plans)
        return Infeasible(
            f"the fixed fleet of {fixed_gpus} GPU(s) is smaller than the smallest layout that fits "
            f"and meets the latency (TP{smallest})"
        )
    return plans

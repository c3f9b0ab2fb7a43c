"""Stage 2: what could serve the workload — API offerings comparable by quality, and self-hosted deployments."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, replace

from selfhost_cli.advise.ownership import OwnedCost, demand_levels, owned_cost, owned_hourly
from selfhost_cli.advise.workload import Workload
from selfhost_cli.catalog import Catalog, GpuHourly, blended_usd_per_1m, gpu_hourly, same_architecture
from selfhost_cli.catalog.schema import ApiOffering, Capabilities, GpuSpec, ModelSpec, Quality, Retirement
from selfhost_cli.costs import ApiPrices
from selfhost_cli.deploy.engines import EngineProfile, EngineSet, Speculation
from selfhost_cli.deploy.search import Found, LayoutCache, Market, SearchResult, Target, search
from selfhost_cli.deploy.sizing import Infeasible, ReplicaPlan, undominated
from selfhost_cli.enums import Confidence, Precision, Pricing, QualityPolicy, Redundancy, Residency
from selfhost_cli.profile import InlineApi, Profile, SelfHosting

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
    retires: Retirement | None = None  # the provider's announced shutdown
    retired: bool = False  # shut down by the date advised for: it can no longer be bought


@dataclass(frozen=True)
class SelfHostCandidate:
    """One self-hosted model on the deployment the search found cheapest (GPU × tier × precision), with its
    feasible layouts, the price used, and everything the search compared (`search`)."""

    model: ModelSpec
    gpu: GpuSpec
    precision: Precision
    engine: EngineProfile
    plans: tuple[ReplicaPlan, ...] | Infeasible
    hourly: GpuHourly | None
    spare_replicas: int
    fixed_gpus: int | None
    pricing: Pricing = Pricing.ON_DEMAND
    owned: OwnedCost | None = None  # pricing: owned — what one GPU-hour is made of
    elastic: GpuHourly | None = None  # autoscaling: the price of GPU-hours above the day's floor
    levels: tuple[float, ...] = (1.0,)  # demand through the day as shares of the peak the fleet follows
    min_replicas: int = 1
    search: SearchResult | None = None
    tiers: tuple[Pricing, ...] = ()  # what the search was asked to compare
    gpus_searched: tuple[str, ...] = ()
    fallback: Found | None = None  # infeasible as configured: the cheapest plan with the GPU choice left open
    fleet_plans: tuple[ReplicaPlan, ...] = ()  # the layouts a fleet for some peak could pick (sizing.undominated)

    @property
    def id(self) -> str:
        return f"{self.model.id}@{self.gpu.id}"

    autoscaled: bool = False  # self_hosting.autoscaling is set

    @property
    def follows_demand(self) -> bool:
        """Rented GPU-hours follow demand when autoscaled (serverless always); owned hardware costs the same
        idle or busy."""
        return len(self.levels) > 1 and follows_demand(self.pricing, self.autoscaled)


@dataclass(frozen=True)
class Candidates:
    apis: tuple[ApiCandidate, ...]
    self_hosts: tuple[SelfHostCandidate, ...]


PlanCache = LayoutCache  # the layouts one advice plans, shared by its re-runs (flip points, break-even)


def default_precision(model: ModelSpec, gpu: GpuSpec) -> Precision:
    """FP8 where the GPU runs it natively (the common serving choice, ~1% quality cost), FP4 for models
    shipped in FP4 (gpt-oss), else BF16."""
    return auto_precisions(model, gpu)[-1]


def auto_precisions(model: ModelSpec, gpu: GpuSpec) -> tuple[Precision, ...]:
    """`precision: auto`: the formats the GPU runs natively without a published quality loss — the model's
    own format for models shipped in FP4 (gpt-oss); else BF16 (FP16 where there is no BF16) and FP8 where the
    tensor cores run it (FP8 serving costs about 1% on benchmarks). 4-bit quantizations are only by choice."""
    if model.native_precision is Precision.FP4:
        return (Precision.FP4,)
    wide = Precision.BF16 if Precision.BF16 in gpu.tflops_dense else Precision.FP16
    return (wide, Precision.FP8) if Precision.FP8 in gpu.tflops_dense else (wide,)


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
        offering.retires,
        offering.id in catalog.retired,
    )


def retirement(api: ApiCandidate) -> str:
    """`openai/gpt-5 shuts down on 2026-12-11 (successor: openai/gpt-5.1)`, or `retires` for a date ahead."""
    r = api.retires
    if r is None:
        return f"{api.id} is retired"
    verb = "was shut down" if api.retired else "shuts down"
    successor = f"; successor: {r.replacement}" if r.replacement else ""
    return f"{api.id} {verb} on {r.date} ({r.source}{successor})"


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
        return sorted(catalog.offered(), key=blended_usd_per_1m)[:PICKED_APIS]
    tier = [a for a in catalog.offered() if _within_tier(catalog, a, model)]
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
    """Search the GPUs, tiers and precisions the profile leaves open (SPEC §3) for the cheapest fleet."""
    s = profile.self_hosting
    tiers = pricing_tiers(profile)
    gpus = [catalog.gpu(g) for g in s.gpu_ids] or list(catalog.gpus.values())
    markets, prices = markets_for(gpus, tiers, s, catalog, bool(s.gpu_ids))
    levels, min_replicas = demand_levels(work, s, model, serverless=Pricing.SERVERLESS in tiers)
    target = Target(
        work.peak_output_tokens_per_s,
        1 if s.redundancy is Redundancy.N_PLUS_1 else 0,
        levels,
        min_replicas,
        s.gpus,
        s.max_gpus,
    )

    def precisions(gpu: GpuSpec) -> tuple[Precision, ...]:
        return s.precisions or auto_precisions(model, gpu)

    def engine(gpu: GpuSpec, precision: Precision) -> EngineProfile | str:
        if s.engine.value not in gpu.engines:
            return f"{s.engine.value} does not run on {gpu.id} (it runs: {', '.join(gpu.engines)})"
        return with_speculation(engines.profile(s.engine, gpu.id, model.id, precision.value), s)

    shape = work.shape if engines.profile(s.engine).prefix_cache else replace(work.shape, cached_share=0.0)
    found = search(model, markets, precisions, engine, shape, target, cache)
    spare = target.spare_replicas
    common = {
        "levels": levels,
        "min_replicas": min_replicas,
        "search": found,
        "tiers": tiers,
        "autoscaled": s.autoscaled,
    }
    named = tuple(g.id for g in gpus)
    best = found.best
    if best is None:
        fallback = None
        if s.gpu_ids or s.gpus or s.max_gpus or s.precisions:
            markets, _ = markets_for(list(catalog.gpus.values()), tiers, s, catalog, False)
            open_target = replace(target, fixed_gpus=None, max_gpus=None)
            fallback = search(
                model, markets, lambda g: auto_precisions(model, g), engine, shape, open_target, cache
            ).best
        common["fallback"] = fallback
        gpu = gpus[0]
        precision = precisions(gpu)[-1]
        why = found.rejected[0].reason if found.rejected else f"no {'/'.join(t.value for t in tiers)} price known"
        eng = engine(gpu, precision)
        return SelfHostCandidate(
            model,
            gpu,
            precision,
            eng if not isinstance(eng, str) else with_speculation(engines.profile(s.engine), s),
            Infeasible(_no_plan(found, why)),
            prices.get((gpu.id, tiers[0]), (None, None, None))[0],
            spare,
            s.gpus,
            tiers[0],
            gpus_searched=named,
            **common,  # type: ignore[arg-type]
        )
    tier = Pricing(best.market.pricing)
    hourly, owned, elastic = prices[(best.market.gpu.id, tier)]
    return SelfHostCandidate(
        model,
        best.market.gpu,
        best.precision,
        best.engine,
        best.plans,
        hourly,
        spare,
        s.gpus,
        tier,
        owned,
        elastic if levels != (1.0,) else None,
        gpus_searched=named,
        fleet_plans=tuple(undominated(best.plans)),  # worked out once: the break-even searches ask at every volume
        **common,  # type: ignore[arg-type]
    )


def with_speculation(engine: EngineProfile, s: SelfHosting) -> EngineProfile:
    """The engine's constants with the profile's speculative decoding, if it sets one."""
    spec = s.speculative
    if spec is None:
        return engine
    return replace(engine, speculation=Speculation(spec.method, spec.draft_tokens, spec.acceptance_length))


def _no_plan(found: SearchResult, fallback: str) -> str:
    """Why nothing searched can serve: one reason per GPU (the first few), or the fallback."""
    seen: dict[str, str] = {}
    for r in found.rejected:
        seen.setdefault(r.gpu.id, r.reason)
    if not seen:
        return fallback
    if len(seen) == 1:
        return next(iter(seen.values()))
    shown = "; ".join(f"{g}: {why}" for g, why in list(seen.items())[:3])
    return f"no GPU searched can serve ({len(seen)} tried) — {shown}"


# Tiers bought ahead whose autoscaled part above the day's floor is bought on demand.
ELASTIC_ON_DEMAND = (Pricing.SPOT, Pricing.RESERVED_1Y, Pricing.RESERVED_3Y)


def follows_demand(tier: Pricing, autoscaled: bool) -> bool:
    """Rented GPU-hours follow demand when autoscaled, serverless always (it bills running workers only);
    owned hardware costs the same idle or busy."""
    return tier is Pricing.SERVERLESS or (tier is not Pricing.OWNED and autoscaled)


def purchase_unit(gpu: GpuSpec) -> int:
    """GPUs bought together: a whole server, or a whole NVLink rack where the domain is larger (GB200 NVL72)."""
    return max(gpu.node_gpus, gpu.max_gpus_per_node)


def pricing_tiers(profile: Profile) -> tuple[Pricing, ...]:
    """The tiers to search: the profile's; by default owned hardware when the data may not leave the site."""
    s = profile.self_hosting
    if "pricing" not in s.model_fields_set and on_site(profile):
        return (Pricing.OWNED,)
    return s.pricings


def on_site(profile: Profile) -> bool:
    """Air-gapped or on-premises: the hardware is held, not rented."""
    c = profile.compliance
    return c.air_gapped or c.data_residency is Residency.ON_PREM


Prices = dict[tuple[str, Pricing], tuple[GpuHourly | None, "OwnedCost | None", GpuHourly | None]]


def markets_for(
    gpus: Sequence[GpuSpec], tiers: Sequence[Pricing], s: SelfHosting, catalog: Catalog, named: bool
) -> tuple[list[Market], Prices]:
    """One market per GPU × tier with its price per GPU-hour (and the on-demand price for an elastic part).
    With `gpu: auto` only GPUs priced in a tier are searched there; a GPU the profile names is searched
    even unpriced (its plan is shown, its cost unknown)."""
    markets: list[Market] = []
    prices: Prices = {}
    for gpu in gpus:
        for tier in tiers:
            # an all-in gpu_hourly_usd replaces the owned breakdown, it does not sit beside it
            owned = (
                owned_cost(gpu, s.owned, catalog.facility)
                if tier is Pricing.OWNED and s.gpu_hourly_usd is None
                else None
            )
            if tier is Pricing.OWNED:
                hourly = owned_hourly(owned, s.gpu_hourly_usd)
            else:
                hourly = gpu_hourly(gpu, tier, s.gpu_hourly_usd)
            if hourly is None and not named:
                continue
            elastic = gpu_hourly(gpu, Pricing.ON_DEMAND) if tier in ELASTIC_ON_DEMAND else None
            prices[(gpu.id, tier)] = (hourly, owned, elastic)
            markets.append(
                Market(
                    gpu,
                    tier.value,
                    hourly.usd_per_gpu_hour if hourly else None,
                    elastic.usd_per_gpu_hour if elastic else None,
                    follows_demand=follows_demand(tier, s.autoscaled),
                    unit_gpus=purchase_unit(gpu) if tier is Pricing.OWNED else 1,
                )
            )
    return markets, prices

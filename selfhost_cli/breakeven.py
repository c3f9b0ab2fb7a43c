"""`selfhost breakeven`: the tokens/day where self-hosting a model costs the same as an API, per GPU × tier × API."""

from __future__ import annotations

import functools
from dataclasses import dataclass

from selfhost_cli.advise.candidates import (
    ApiCandidate,
    PlanCache,
    SelfHostCandidate,
    api_candidates,
    comparable,
    retirement,
    self_host_candidate,
    to_candidate,
)
from selfhost_cli.advise.explain import CURVE_VOLUMES
from selfhost_cli.advise.pricing import api_usd_at
from selfhost_cli.advise.self_host_pricing import self_host_usd_at
from selfhost_cli.advise.workload import Workload, workload
from selfhost_cli.catalog import Catalog, blended_usd_per_1m, prices_for
from selfhost_cli.costs import ApiPrices, breakeven_volume
from selfhost_cli.deploy.engines import BUNDLED_ENGINES, EngineSet
from selfhost_cli.deploy.sizing import Infeasible
from selfhost_cli.enums import Confidence, Pricing, QualityPolicy
from selfhost_cli.profile import Profile, SelfHosting


@dataclass(frozen=True)
class Row:
    gpu: str
    pricing: str
    gpu_hourly_usd: float | None
    api: str
    gpus_min: int | None
    breakeven_tokens_per_day: float | None
    breakeven_gpu_only_tokens_per_day: float | None
    note: str
    precision: str | None = None
    reference: bool = False  # the frontier offering shown for scale, not a comparable one


@dataclass(frozen=True)
class CurvePoint:
    tokens_per_day: float
    api_usd: float
    self_host_usd: float | None


@dataclass(frozen=True)
class Breakeven:
    model: str
    model_note: str | None
    rows: list[Row]
    chart_title: str
    chart: list[CurvePoint]
    prices_as_of: str | None
    warnings: list[str]
    chart_breakeven_tokens_per_day: float | None = None  # where the charted lines cross
    chart_api: str | None = None  # the offering the chart compares with


def suitable_gpus(catalog: Catalog) -> list[str]:
    """GPUs with at least one price row whose node can hold the model (checked when sizing)."""
    return [g.id for g in catalog.gpus.values() if g.prices]


def breakeven(
    profile: Profile,
    catalog: Catalog,
    gpus: list[str],
    pricings: list[Pricing],
    adhoc_api: ApiPrices | None = None,
    *,
    engines: EngineSet = BUNDLED_ENGINES,
    all_rows: bool = True,
) -> Breakeven:
    """Rows for every GPU × pricing tier × API offering; tiers without a price are skipped, never $0."""
    cache = PlanCache()
    model = catalog.model(profile.models.self_hosted_ids[0])
    work = workload(profile)
    apis = api_candidates(profile, catalog) if adhoc_api is None or profile.models.api else []
    references: set[str] = set()  # offerings shown for scale, not compared
    if not apis and adhoc_api is None:
        # SPEC §2: by default the offerings of the same model, else the quality policy's (same tier)
        policy = profile.models.quality if "quality" in profile.models.model_fields_set else QualityPolicy.SAME_MODEL
        found = comparable(catalog, model, policy) or comparable(catalog, model, QualityPolicy.SAME_TIER)
        apis = [to_candidate(a, False, catalog) for a in found]
        if not all_rows:
            apis = apis[:1]  # one screen: the cheapest comparable offering
        frontier = frontier_reference(catalog, {a.id for a in apis})
        if frontier is not None:
            apis.append(frontier)
            references.add(frontier.id)
    if adhoc_api:
        apis.append(
            ApiCandidate(
                "ad-hoc", adhoc_api, "--api-price-in/--api-price-out", None, None, None, None, Confidence.MEDIUM, True
            )
        )
    rows: list[Row] = []
    warnings: list[str] = [retirement(a) + ": its rows show a price no longer sold" for a in apis if a.retired]
    dates = [a.as_of for a in apis if a.as_of]
    best: tuple[float, SelfHostCandidate, SelfHosting, ApiCandidate] | None = None
    for gpu_id in gpus:
        gpu = catalog.gpu(gpu_id)
        tiers = pricings or sorted({p.pricing for p in gpu.prices}, key=list(Pricing).index)
        for tier in tiers:
            priced = bool(gpu.purchases) if tier is Pricing.OWNED else bool(prices_for(gpu, tier))
            if not profile.self_hosting.gpu_hourly_usd and not priced:
                continue
            s = profile.self_hosting.model_copy(update={"gpu": gpu_id, "pricing": tier, "gpus": None})
            variant = profile.model_copy(update={"self_hosting": s})
            cand = self_host_candidate(variant, work, catalog, engines, cache, model)
            gpus_min = None if isinstance(cand.plans, Infeasible) else min(p.gpus for p in cand.plans)
            if cand.hourly and cand.hourly.as_of:
                dates.append(cand.hourly.as_of)
            # The self-hosted cost at a volume does not depend on the offering it is compared with: every
            # offering's search scans the same volume grid, so each volume is priced once per candidate.
            full_usd = functools.lru_cache(maxsize=None)(functools.partial(self_host_usd_at, cand, work, s))
            gpu_usd = functools.lru_cache(maxsize=None)(
                functools.partial(self_host_usd_at, cand, work, s, gpu_only=True)
            )
            for api in apis:
                if isinstance(cand.plans, Infeasible):
                    rows.append(
                        Row(gpu_id, tier.value, None, api.id, None, None, None, f"does not fit: {cand.plans.reason}")
                    )
                    continue
                api_usd = functools.partial(api_usd_at, api.prices, work)
                full = breakeven_volume(full_usd, api_usd)
                gpu_only = breakeven_volume(gpu_usd, api_usd)
                hourly = cand.hourly
                note = _note(full, gpu_only, hourly.basis if hourly else "")
                rows.append(
                    Row(
                        gpu_id,
                        tier.value,
                        round(hourly.usd_per_gpu_hour, 4) if hourly else None,
                        api.id,
                        gpus_min,
                        full,
                        gpu_only,
                        note,
                        cand.precision.value,
                        api.id in references,
                    )
                )
                if full is not None and api.id not in references and (best is None or full < best[0]):
                    best = (full, cand, s, api)
    if not all_rows:
        rows = best_per_gpu(rows)
    chart, title = _chart(best, work)
    if not rows:
        warnings.append("no GPU × pricing tier with a known price: give --gpu-hourly-usd")
    return Breakeven(
        model.id,
        model.note,
        rows,
        title,
        chart,
        min(dates).isoformat() if dates else None,
        warnings,
        best[0] if best else None,
        best[3].id if best else None,
    )


def frontier_reference(catalog: Catalog, taken: set[str]) -> ApiCandidate | None:
    """One frontier offering for scale: the best-rated frontier-tier offering (ties: the cheaper)."""
    frontier = [a for a in catalog.offered() if a.tier == "frontier" and a.quality and a.id not in taken]
    if not frontier:
        return None
    best = max(frontier, key=lambda a: (a.quality.score if a.quality else 0.0, -blended_usd_per_1m(a)))
    return to_candidate(best, False, catalog)


def best_per_gpu(rows: list[Row]) -> list[Row]:
    """Per GPU × API offering, the tier that breaks even soonest (fully loaded, then GPU-hours only, then the
    cheapest GPU-hour): what one screen shows."""

    def key(r: Row) -> tuple[float, float, float]:
        inf = float("inf")
        return (
            r.breakeven_tokens_per_day if r.breakeven_tokens_per_day is not None else inf,
            r.breakeven_gpu_only_tokens_per_day if r.breakeven_gpu_only_tokens_per_day is not None else inf,
            r.gpu_hourly_usd if r.gpu_hourly_usd is not None else inf,
        )

    best: dict[tuple[str, str], Row] = {}
    for r in rows:
        k = (r.gpu, r.api)
        if k not in best or key(r) < key(best[k]):
            best[k] = r
    return sorted(best.values(), key=lambda r: (r.reference, key(r), r.gpu))


def _note(full: float | None, gpu_only: float | None, basis: str) -> str:
    if full is None and gpu_only is None:
        return "never: a replica costs more per token than the API"
    if full is None:
        return "GPU-hours break even; fully loaded never"
    return basis


def _chart(
    best: tuple[float, SelfHostCandidate, SelfHosting, ApiCandidate] | None, work: Workload
) -> tuple[list[CurvePoint], str]:
    if best is None:
        return [], "no break-even to chart"
    _, cand, s, api = best
    points = [CurvePoint(v, api_usd_at(api.prices, work, v), self_host_usd_at(cand, work, s, v)) for v in CURVE_VOLUMES]
    title = f"Monthly cost vs volume: {api.id} vs {cand.model.id} on {cand.gpu.id} ({cand.pricing.value}), fully loaded"
    return points, title

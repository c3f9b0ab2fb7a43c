"""`selfhost breakeven`: the tokens/day where self-hosting a model costs the same as an API, per GPU × tier × API."""

from __future__ import annotations

import functools
from dataclasses import dataclass

from selfhost_cli.advisor import (
    ApiCandidate,
    PlanCache,
    api_candidates,
    api_cost_at,
    self_host_cost_at,
    self_host_inputs,
)
from selfhost_cli.catalog import Catalog, prices_for
from selfhost_cli.catalog.schema import Pricing
from selfhost_cli.costs import ApiPrices, breakeven_volume
from selfhost_cli.profile import Profile
from selfhost_cli.sizing import Infeasible

# Volumes the cost-vs-volume chart is drawn at (tokens/day).
CHART_VOLUMES = [1e6 * 10 ** (i / 2) for i in range(0, 11)]  # 1M .. 100B


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


def suitable_gpus(catalog: Catalog, profile: Profile) -> list[str]:
    """GPUs with at least one price row whose node can hold the model (checked when sizing)."""
    return [g.id for g in catalog.gpus.values() if g.prices]


def breakeven(
    profile: Profile, catalog: Catalog, gpus: list[str], pricings: list[Pricing], adhoc_api: ApiPrices | None = None
) -> Breakeven:
    """Rows for every GPU × pricing tier × API offering; tiers without a price are skipped, never $0."""
    cache = PlanCache(catalog)
    model = catalog.model(profile.models.self_hosted)
    apis = api_candidates(profile, catalog, model) if adhoc_api is None or profile.models.api else []
    if adhoc_api:
        apis.append(ApiCandidate("ad-hoc", adhoc_api, "--api-price-in/--api-price-out", None))
    w = profile.workload
    rows: list[Row] = []
    warnings: list[str] = []
    dates = [a.as_of for a in apis if a.as_of]
    best: tuple[float, Profile, ApiCandidate] | None = None
    for gpu_id in gpus:
        gpu = catalog.gpu(gpu_id)
        tiers = pricings or sorted({p.pricing for p in gpu.prices}, key=list(Pricing).index)
        for tier in tiers:
            if not profile.self_hosting.gpu_hourly_usd and not prices_for(gpu, tier):
                continue
            variant = profile.model_copy(
                update={
                    "self_hosting": profile.self_hosting.model_copy(
                        update={"gpu": gpu_id, "pricing": tier, "gpus": None}
                    )
                }
            )
            sh = self_host_inputs(variant, cache)
            gpus_min = None if isinstance(sh.plans, Infeasible) else min(p.tp for p in sh.plans)
            if sh.hourly and sh.hourly.as_of:
                dates.append(sh.hourly.as_of)
            for api in apis:

                def api_usd(volume: float, api: ApiCandidate = api) -> float:
                    return api_cost_at(api, w, volume).monthly_usd

                if isinstance(sh.plans, Infeasible):
                    rows.append(
                        Row(gpu_id, tier.value, None, api.id, None, None, None, f"does not fit: {sh.plans.reason}")
                    )
                    continue
                full = breakeven_volume(functools.partial(self_host_cost_at, sh, variant), api_usd)
                gpu_only = breakeven_volume(functools.partial(self_host_cost_at, sh, variant, gpu_only=True), api_usd)
                note = _note(full, gpu_only, sh.hourly.basis if sh.hourly else "")
                rows.append(
                    Row(
                        gpu_id,
                        tier.value,
                        round(sh.hourly.usd_per_gpu_hour, 4) if sh.hourly else None,
                        api.id,
                        gpus_min,
                        full,
                        gpu_only,
                        note,
                    )
                )
                if full is not None and (best is None or full < best[0]):
                    best = (full, variant, api)
    chart, title = _chart(best, cache)
    if not rows:
        warnings.append("no GPU × pricing tier with a known price: give --gpu-hourly-usd")
    return Breakeven(model.id, model.note, rows, title, chart, min(dates).isoformat() if dates else None, warnings)


def _note(full: float | None, gpu_only: float | None, basis: str) -> str:
    if full is None and gpu_only is None:
        return "never: a replica costs more per token than the API"
    if full is None:
        return "GPU-hours break even; fully loaded never"
    return basis


def _chart(best: tuple[float, Profile, ApiCandidate] | None, cache: PlanCache) -> tuple[list[CurvePoint], str]:
    if best is None:
        return [], "no break-even to chart"
    _, profile, api = best
    sh = self_host_inputs(profile, cache)
    points = [
        CurvePoint(
            v,
            api_cost_at(api, profile.workload, v).monthly_usd,
            self_host_cost_at(sh, profile, v),
        )
        for v in CHART_VOLUMES
    ]
    title = (
        f"Monthly cost vs volume: {api.id} vs {profile.models.self_hosted} on "
        f"{profile.self_hosting.gpu} ({profile.self_hosting.pricing.value}), fully loaded"
    )
    return points, title

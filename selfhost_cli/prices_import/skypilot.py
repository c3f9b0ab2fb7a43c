"""A SkyPilot catalog vms.csv into GPU price rows."""

from __future__ import annotations

import csv
import datetime as dt
import io
import math
import re
import statistics
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import PurePosixPath

from selfhost_cli.catalog import Catalog
from selfhost_cli.catalog.schema import GpuPrice, GpuSpec, UserCatalogFile
from selfhost_cli.enums import Confidence, Pricing
from selfhost_cli.errors import InputFileError, UsageError
from selfhost_cli.limits import MAX_GPU_HOURLY_USD, MIN_GPU_HOURLY_USD
from selfhost_cli.prices_import.common import (
    UPSTREAM,
    ImportResult,
    _usd,
    provider_id,
)

# ------------------------------------------------------------------ skypilot

# SkyPilot AcceleratorName (case-insensitive) -> catalog GPU id: the names in
# skypilot-org/skypilot-catalog catalogs/v8/common/accelerators.csv that name a catalog GPU. RunPod's
# `A100-80GB` is the PCIe card and its `A100-80GB-SXM` the SXM4 one; the catalog has the SXM4 spec only,
# so both map to it (the PCIe card's bandwidth is 1.94 vs 2.04 TB/s). The workstation and server
# editions of the RTX PRO 6000 share one spec.
SKYPILOT_GPUS: dict[str, str] = {
    "h100": "h100-sxm",
    "h100-sxm": "h100-sxm",
    "h100-mega": "h100-sxm",
    "h100-nvlink": "h100-sxm",
    "h100-nvl": "h100-nvl",
    "h200": "h200",
    "h200-sxm": "h200",
    "h200-nvl": "h200-nvl",
    "gh200": "gh200",
    "b200": "b200",
    "b300": "b300",
    "gb200": "gb200",
    "a100-80gb": "a100-80gb",
    "a100-80gb-sxm": "a100-80gb",
    "a100": "a100-40gb",
    "l40s": "l40s",
    "l4": "l4",
    "a10g": "a10g",
    "mi300x": "mi300x",
    "mi325x": "mi325x",
    "mi355x": "mi355x",
    "rtx3090": "rtx-3090",
    "rtx4090": "rtx-4090",
    "rtx5090": "rtx-5090",
    "rtxpro6000": "rtx-pro-6000",
    "rtxpro6000s": "rtx-pro-6000",
    "rtxpro6000ws": "rtx-pro-6000",
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


def _convert_skypilot(
    text: str, source: str, catalog: Catalog, as_of: dt.date, provider: str | None, replace: bool = False
) -> ImportResult:
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
                if not value:
                    continue
                per_gpu = value / count
                if not MIN_GPU_HOURLY_USD <= per_gpu <= MAX_GPU_HOURLY_USD:
                    skipped.append(
                        f"line {line}: {instance or name} in {region}: {pricing.value} ${per_gpu:.6g} per GPU-hour, "
                        f"outside ${MIN_GPU_HOURLY_USD:g}-${MAX_GPU_HOURLY_USD:,.0f}; not imported"
                    )
                    continue
                groups[(gpu, cloud, pricing)].append(_Observation(region, instance, per_gpu))
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
        imported = {(r.provider, r.pricing) for r in rows}
        kept = [] if replace else [p for p in spec.prices if (p.provider, p.pricing) not in imported]
        gpus.append(spec.model_copy(update={"prices": kept + rows}))
        if replace:
            warnings.append(
                f"{gpu}: --replace: loading this file with --catalog replaces the catalog's {len(spec.prices)} "
                f"price row(s) with these {len(rows)}"
            )
        elif len(kept) < len(spec.prices):
            warnings.append(
                f"{gpu}: {len(spec.prices) - len(kept)} catalog row(s) for the same provider and tier are replaced "
                f"by the imported ones; the other {len(kept)} are kept"
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

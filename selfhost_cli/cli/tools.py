"""`accuracy`, `calibrate import` and `prices import`: the estimator and the price files."""

from __future__ import annotations

import datetime as dt
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from selfhost_cli.cli import (
    BasicFormatOpt,
    OutOpt,
    _catalog,
    _err,
    _no_markdown,
    _where,
    app,
    calibrate_app,
    emit,
    handles_errors,
    prices_app,
    reading,
    render_table,
    warn_all,
)
from selfhost_cli.enums import Engine, Precision
from selfhost_cli.errors import UsageError
from selfhost_cli.limits import MAX_GPUS, MAX_TP
from selfhost_cli.render import Format

if TYPE_CHECKING:
    from selfhost_cli.calibration import Split

# ---------------------------------------------------------------- calibration


def _split_doc(split: Split) -> dict[str, Any]:
    """One group of rows (fitted or held out) as JSON: medians and the row counts behind them."""
    return {
        "median_abs_error_pct": None if split.overall is None else round(split.overall, 2),
        "rows": split.rows,
        "by_engine": {k: {"median_abs_error_pct": round(v, 2), "rows": n} for k, (v, n) in split.by_engine.items()},
        "by_precision": {
            k: {"median_abs_error_pct": round(v, 2), "rows": n} for k, (v, n) in split.by_precision.items()
        },
        "tpot_median_abs_error_pct": None if split.tpot is None else round(split.tpot, 2),
        "tpot_rows": split.tpot_rows,
        "ttft_median_abs_error_pct": None if split.ttft is None else round(split.ttft, 2),
        "ttft_rows": split.ttft_rows,
    }


@app.command("accuracy")
@handles_errors
def accuracy_cmd(
    engine: Annotated[Engine | None, typer.Option("--engine", help="Only rows of this engine.")] = None,
    fmt: BasicFormatOpt = Format.TABLE,
    out: OutOpt = None,
) -> None:
    """The estimator against every published measurement it was calibrated on: prediction, measurement, error."""
    from selfhost_cli import catalog as catalog_mod
    from selfhost_cli.calibration import accuracy, bundled_rows
    from selfhost_cli.render import estimate_view
    from selfhost_cli.render import json_ as jr

    _no_markdown(fmt)
    everything = bundled_rows()
    rows = tuple(r for r in everything if engine is None or r.engine is engine)
    if not rows:
        have = sorted({r.engine.value for r in everything if r.engine})
        raise UsageError(
            f"no calibration row was measured with --engine {engine.value if engine else ''}: nothing to compare",
            hint=f"engines with published rows: {', '.join(have)}",
        )
    acc = accuracy(catalog_mod.bundled(), rows)
    if fmt is Format.JSON:
        payload = {
            "median_abs_error_pct": {
                "overall": round(acc.overall, 2),
                **{k: round(v, 2) for k, v in acc.by_engine.items()},
            },
            "tpot_median_abs_error_pct": None if acc.tpot_overall is None else round(acc.tpot_overall, 2),
            "fitted": _split_doc(acc.fitted),
            "held_out": _split_doc(acc.held_out),
            "rows": [
                jr.plain(p.row.model_dump(mode="json"))
                | {
                    "predicted_output_tokens_per_s": None
                    if p.predicted_output_tokens_per_s is None
                    else round(p.predicted_output_tokens_per_s, 1),
                    "error_pct": None if p.error_pct is None else round(p.error_pct, 2),
                    "predicted_tpot_ms": None if p.predicted_tpot_ms is None else round(p.predicted_tpot_ms, 2),
                    "predicted_ttft_ms": None if p.predicted_ttft_ms is None else round(p.predicted_ttft_ms, 2),
                    "tp_used": p.tp,
                    "why_not": p.why_not,
                }
                for p in acc.predictions
            ],
        }
        emit(jr.dumps(jr.envelope("accuracy", payload, [], None)), out)
    else:
        emit(render_table(estimate_view.accuracy_table(acc)), out)


@calibrate_app.command("import")
@handles_errors
def calibrate_import_cmd(
    file: Annotated[
        Path,
        typer.Argument(
            help="A `vllm bench serve --save-result` JSON (or --append-result file: its last run), genai-perf "
            "profile_export_genai_perf.json or AIPerf profile_export_aiperf.json."
        ),
    ],
    gpu: Annotated[str, typer.Option("--gpu", help="Catalog GPU id it ran on.")],
    model: Annotated[
        str | None,
        typer.Option("--model", help="Catalog model id that was benchmarked (default: the one the file names)."),
    ] = None,
    gpus: Annotated[int, typer.Option("--gpus", min=1, max=MAX_GPUS, help="GPUs in the benchmarked deployment.")] = 1,
    tp: Annotated[
        int | None, typer.Option("--tp", min=1, max=MAX_TP, help="Tensor-parallel degree (default: --gpus).")
    ] = None,
    precision: Annotated[Precision | None, typer.Option("--precision", help="Weight format that was served.")] = None,
    engine: Annotated[Engine, typer.Option("--engine", help="Engine that served it.")] = Engine.VLLM,
    model_specific: Annotated[
        bool,
        typer.Option(
            "--model-specific/--gpu-wide", help="Apply only to this model, or to every model on this GPU and engine."
        ),
    ] = True,
    save: Annotated[
        Path | None,
        typer.Option("--save", help="Calibration file to write (default: ~/.config/selfhost/calibration.yaml)."),
    ] = None,
    fmt: BasicFormatOpt = Format.TABLE,
    out: OutOpt = None,
) -> None:
    """Fit engine efficiency from a vllm bench serve, genai-perf or AIPerf result and save a user calibration."""
    from selfhost_cli import user_calibration as cal
    from selfhost_cli.advise.candidates import default_precision
    from selfhost_cli.benchfile import catalog_model_for, read_bench
    from selfhost_cli.deploy.engines import BUNDLED_ENGINES
    from selfhost_cli.deploy.replica import Setup
    from selfhost_cli.paths import default_calibration_path
    from selfhost_cli.render import json_ as jr
    from selfhost_cli.render import table as tr
    from selfhost_cli.render.format import value

    _no_markdown(fmt)
    if engine is Engine.IDEAL:
        raise UsageError("the ideal engine has no software to calibrate", hint="pass the engine you benchmarked")
    cat = _catalog()
    spec_gpu = cat.gpu(gpu)
    if model is not None:
        cat.model(model)
    bench = read_bench(file)
    if model is None:
        model = catalog_model_for(bench.model_name, cat)
        if model is None:
            named = f"names '{bench.model_name}'" if bench.model_name else "does not name its model"
            raise UsageError(
                f"{file} {named}, which matches no catalog model",
                hint="pass --model with a catalog id (selfhost catalog models)",
            )
    spec_model = cat.model(model)
    prec = precision or default_precision(spec_model, spec_gpu)
    degree = tp or gpus
    if gpus % degree:
        raise UsageError(f"--gpus {gpus} is not a multiple of --tp {degree}")
    setup = Setup(spec_model, spec_gpu, prec, BUNDLED_ENGINES.profile(engine), degree)
    fitted, before = cal.fit_efficiency(bench, setup, gpus)
    entry = cal.UserCalibration(
        engine=engine,
        gpu=gpu,
        model=model if model_specific else None,
        precision=prec,
        software_efficiency=fitted,
        fitted_from=f"{bench.kind}: {file}",
        measured_output_tokens_per_s=bench.output_tokens_per_s,
        predicted_before_output_tokens_per_s=before,
        fitted_at=dt.date.today(),
    )
    target = save or default_calibration_path()
    if str(target) == "-":
        raise UsageError("--save -: the calibration is read back from a file", hint="name a file")
    if out is not None and str(out) != "-" and _where(out) == _where(target):
        raise UsageError(f"--out {out} is the --save file: one would overwrite the other", hint="name two files")
    _, text = cal.with_entry(target, entry)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UsageError(f"cannot write {target}: {exc.strerror}") from None
    emit(text, target)
    payload = {
        "calibration_file": str(target),
        "engine": engine.value,
        "gpu": gpu,
        "model": entry.model,
        "precision": prec.value,
        "measured_output_tokens_per_s": round(bench.output_tokens_per_s, 1),
        "predicted_before_output_tokens_per_s": round(before, 1),
        "software_efficiency_before": setup.engine.software_efficiency,
        "software_efficiency": fitted,
        "input_tokens": round(bench.input_tokens, 1),
        "output_tokens": round(bench.output_tokens, 1),
        "concurrency": bench.concurrency,
        "benchmark": bench.kind,
        "model_in_file": bench.model_name,
    }
    notes = [bench.note] if bench.note else []
    if fmt is Format.JSON:
        emit(jr.dumps(jr.envelope("calibrate import", payload, notes, None)), out)
    else:
        emit(
            render_table(
                tr.simple_table(
                    "selfhost calibrate import", ["item", "value"], [(k, value(v)) for k, v in payload.items()]
                )
            ),
            out,
        )
        warn_all(notes)


# New or changed entries listed in the summary table (the JSON lists all).
SHOWN_CHANGES = 20


class PriceSource(str, Enum):
    LITELLM = "litellm"
    GENAI_PRICES = "genai-prices"
    SKYPILOT = "skypilot"


@prices_app.command("import")
@handles_errors
def prices_import_cmd(
    file: Annotated[
        Path,
        typer.Argument(
            help="litellm model_prices_and_context_window.json, genai-prices data.json, or a SkyPilot catalog vms.csv."
        ),
    ],
    source: Annotated[PriceSource, typer.Option("--from", help="Which public format FILE is in.")],
    provider: Annotated[
        str | None,
        typer.Option(
            "--provider",
            help="SkyPilot only: the cloud the CSV is for (default: from a column, the folder or the file name).",
        ),
    ] = None,
    as_of: Annotated[
        str | None,
        typer.Option("--as-of", help="Date the file's prices were published or downloaded, YYYY-MM-DD (required)."),
    ] = None,
    replace: Annotated[
        bool,
        typer.Option(
            "--replace",
            help="SkyPilot only: the imported rows replace a GPU's whole price list (default: they replace only "
            "the catalog's rows for the same provider and tier).",
        ),
    ] = False,
    quiet: Annotated[
        bool, typer.Option("--quiet", "-q", help="Only the summary: no line per skipped entry, no warnings.")
    ] = False,
    fmt: BasicFormatOpt = Format.TABLE,
    out: OutOpt = None,
) -> None:
    """Convert a public price file into a user catalog file (YAML) for --catalog; prints what was converted.

    The catalog goes to --out (atomically); without --out it goes to stdout and the summary to stderr."""
    from selfhost_cli.prices_import import changes, convert, dump
    from selfhost_cli.render import json_ as jr
    from selfhost_cli.render import table as tr
    from selfhost_cli.render.format import prices
    from selfhost_cli.yamlio import read_text

    _no_markdown(fmt)
    if as_of is None:
        raise UsageError(
            "--as-of is required: the date these prices were published or downloaded",
            hint="e.g. --as-of 2026-11-30 (today's date would make an old file look fresh)",
        )
    try:
        date = dt.date.fromisoformat(as_of)
    except ValueError:
        raise UsageError(f"--as-of {as_of}: not a date", hint="write it YYYY-MM-DD") from None
    if date > dt.date.today():  # a future date would keep the prices from ever looking stale
        raise UsageError(f"--as-of {as_of}: a date in the future", hint="the day the file was published or downloaded")
    cat = _catalog()
    result = convert(read_text(reading(file)), str(file), source.value, cat, date, provider=provider, replace=replace)
    catalog_text = dump(result.file)
    compared = changes(result.file, cat)
    tally = {status: sum(c.status == status for c in compared) for status in ("new", "changed", "same")}
    counts = {
        "apis": len(result.file.apis),
        "gpus": len(result.file.gpus),
        "gpu_price_rows": sum(c.kind == "gpu" for c in compared),  # imported; the catalog's kept rows not counted
    }
    json_only = fmt is Format.JSON and out is None  # stdout holds one JSON document: the catalog goes in it
    if out is not None:
        emit(catalog_text, out)
    elif not json_only:
        emit(catalog_text, None)
    if not quiet:
        warn_all(result.warnings)
    summary_doc = jr.envelope(
        "prices import",
        {
            "source": str(file),
            "from": source.value,
            "out": str(out) if out else None,
            "converted": counts,
            "skipped": result.skipped,
            "against_catalog": tally,
            "changes": [
                {
                    "kind": c.kind,
                    "id": c.id,
                    "status": c.status,
                    "before": list(c.before) or None,
                    "after": list(c.after),
                }
                for c in compared
            ],
        }
        | ({"catalog": result.file.model_dump(mode="json", exclude_defaults=True)} if json_only else {}),
        result.warnings,
        date.isoformat(),
    )
    summary = (
        jr.dumps(summary_doc)
        if fmt is Format.JSON
        else render_table(
            tr.simple_table(
                f"selfhost prices import ({source.value})",
                ["item", "value"],
                [
                    ("converted", ", ".join(f"{v} {k}" for k, v in counts.items())),
                    ("against the catalog", ", ".join(f"{v} {k}" for k, v in tally.items())),
                    *[
                        (
                            c.status,
                            f"{c.id}: {prices(c.kind, c.before)} → {prices(c.kind, c.after)}"
                            if c.before
                            else f"{c.id}: {prices(c.kind, c.after)}",
                        )
                        for c in [c for c in compared if c.status != "same"][:SHOWN_CHANGES]
                    ],
                    ("skipped", str(len(result.skipped))),
                    *([] if quiet else [("skipped", line) for line in result.skipped[:20]]),
                ],
            )
        )
    )
    if out is not None or json_only:
        emit(summary, None)
    else:
        _err(summary.rstrip())


# ---------------------------------------------------------------- editor support


class SchemaKind(str, Enum):
    PROFILE = "profile"
    CATALOG = "catalog"


@app.command("schema")
@handles_errors
def schema_cmd(
    kind: Annotated[SchemaKind, typer.Argument(help="profile (selfhost advise FILE) or catalog (--catalog FILE).")],
    out: OutOpt = None,
) -> None:
    """The JSON Schema of a profile or a catalog file, for editors: point yaml-language-server at it."""
    import json

    from selfhost_cli.json_schema import json_schema

    emit(json.dumps(json_schema(kind.value), indent=2, ensure_ascii=False) + "\n", out)

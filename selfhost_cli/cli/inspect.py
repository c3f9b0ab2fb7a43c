"""`catalog`, `estimate` and `breakeven`: the commands that look things up."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from selfhost_cli.cli import (
    BasicFormatOpt,
    CalibrationOpt,
    FormatOpt,
    OutOpt,
    SetOpt,
    TagOpt,
    _catalog,
    _engines,
    _err,
    _no_markdown,
    _profile,
    app,
    catalog_app,
    distinct_outputs,
    emit,
    handles_errors,
    markdown_only,
    number_opt,
    pr_markdown,
    render_table,
    warn_all,
)
from selfhost_cli.enums import DraftMethod, Engine, Precision, Pricing
from selfhost_cli.errors import UsageError
from selfhost_cli.limits import (
    MAX_API_USD_PER_1M,
    MAX_GPU_HOURLY_USD,
    MAX_GPUS,
    MAX_OPS_FTE,
    MAX_TOKENS_PER_REQUEST,
    MAX_TP,
)
from selfhost_cli.render import Format

if TYPE_CHECKING:
    from selfhost_cli import catalog as catalog_mod
    from selfhost_cli.deploy.engines import Speculation
    from selfhost_cli.profile import Profile


# ---------------------------------------------------------------- catalog


def _catalog_command(kind: str) -> Callable[..., None]:
    @handles_errors
    def command(
        query: Annotated[str | None, typer.Argument(help="Show only ids or names containing this text.")] = None,
        fmt: BasicFormatOpt = Format.TABLE,
        out: OutOpt = None,
    ) -> None:
        _no_markdown(fmt)
        from selfhost_cli.render import catalog_view
        from selfhost_cli.render import json_ as jr

        cat = _catalog()
        entries = catalog_view.select(cat, kind, query)
        if fmt is Format.JSON:
            doc = jr.envelope(
                f"catalog {kind}",
                {kind: [e.model_dump(mode="json") for e in entries], "sources": list(cat.sources)},
                [],
                catalog_view.oldest(entries),
            )
            emit(jr.dumps(doc), out)
        else:
            emit(render_table(catalog_view.table(kind, entries)), out)

    command.__doc__ = f"List the {kind} in the bundled and user catalogs, with as-of dates and sources."
    return command


for _kind in ("models", "gpus", "apis"):
    catalog_app.command(_kind)(_catalog_command(_kind))


# ---------------------------------------------------------------- estimate


@app.command("estimate")
@handles_errors
def estimate_cmd(
    model: Annotated[str, typer.Option("--model", help="Catalog model id, e.g. llama-3.3-70b.")],
    gpu: Annotated[str, typer.Option("--gpu", help="Catalog GPU id, e.g. h100-sxm.")],
    gpus: Annotated[
        int | None,
        typer.Option("--gpus", min=1, max=MAX_GPUS, help="GPUs in the deployment (default: the fewest that fit)."),
    ] = None,
    tp: Annotated[
        int | None, typer.Option("--tp", min=1, max=MAX_TP, help="Tensor-parallel degree per replica.")
    ] = None,
    precision: Annotated[
        Precision | None, typer.Option("--precision", help="Weight format (default: fp8 where the GPU runs it).")
    ] = None,
    engine: Annotated[
        Engine, typer.Option("--engine", help="Serving engine; ideal = hardware limit, no software overhead.")
    ] = Engine.VLLM,
    input_tokens: Annotated[
        int, typer.Option("--input-tokens", min=1, max=MAX_TOKENS_PER_REQUEST, help="Prompt tokens per request.")
    ] = 1000,
    output_tokens: Annotated[
        int, typer.Option("--output-tokens", min=1, max=MAX_TOKENS_PER_REQUEST, help="Generated tokens per request.")
    ] = 200,
    concurrency: Annotated[
        int | None, typer.Option("--concurrency", min=1, max=100_000_000, help="Requests in flight, whole deployment.")
    ] = None,
    max_throughput: Annotated[
        bool, typer.Option("--max-throughput", help="Largest concurrency that fits in memory (default).")
    ] = False,
    draft_tokens: Annotated[
        int | None,
        typer.Option("--draft-tokens", min=1, max=16, help="Speculative decoding: tokens drafted per step."),
    ] = None,
    acceptance_length: Annotated[
        float | None,
        typer.Option(
            "--acceptance-length", min=1.0, max=17.0, help="Speculative decoding: tokens emitted per step (measured)."
        ),
    ] = None,
    draft_method: Annotated[
        DraftMethod,
        typer.Option("--draft-method", help="draft_head (EAGLE heads, MTP layers) or ngram (prompt lookup)."),
    ] = DraftMethod.DRAFT_HEAD,
    calibration: CalibrationOpt = None,
    fmt: BasicFormatOpt = Format.TABLE,
    out: OutOpt = None,
) -> None:
    """Capacity, throughput and latency of one deployment (the estimator advise and breakeven use)."""
    from dataclasses import replace

    from selfhost_cli.advise.candidates import default_precision
    from selfhost_cli.render import json_ as jr

    _no_markdown(fmt)
    from selfhost_cli.render import estimate_view
    from selfhost_cli.report import estimate_report

    if concurrency is not None and max_throughput:
        raise UsageError("give --concurrency or --max-throughput, not both")
    speculation = _speculation(draft_method, draft_tokens, acceptance_length)
    cat = _catalog()
    engines = _engines(calibration, cat)
    spec_model, spec_gpu = cat.model(model), cat.gpu(gpu)
    prec = precision or default_precision(spec_model, spec_gpu)
    report = estimate_report(
        spec_model,
        spec_gpu,
        prec,
        replace(engines.profile(engine, gpu, model, prec.value), speculation=speculation),
        gpus,
        tp,
        input_tokens,
        output_tokens,
        concurrency,
    )
    warn_all(report.warnings)
    if fmt is Format.JSON:
        emit(jr.dumps(jr.envelope("estimate", report.payload(), report.warnings, None)), out)
    else:
        emit(render_table(estimate_view.table(report)), out)


def _speculation(method: DraftMethod, draft_tokens: int | None, acceptance_length: float | None) -> Speculation | None:
    """`--draft-tokens` and `--acceptance-length` together, or neither."""
    from selfhost_cli.deploy.engines import Speculation

    if draft_tokens is None and acceptance_length is None:
        return None
    if draft_tokens is None or acceptance_length is None:
        raise UsageError(
            "speculative decoding needs --draft-tokens and --acceptance-length together",
            hint="the acceptance length is measured on your traffic (published: MTP on DeepSeek-R1 2.8 with 3 "
            "drafted; docs/profile.md)",
        )
    try:
        return Speculation(method, draft_tokens, acceptance_length)
    except ValueError as exc:
        raise UsageError(
            f"--acceptance-length: {exc}", hint="a step emits at most every drafted token and one more"
        ) from None


# ---------------------------------------------------------------- breakeven


@app.command("breakeven")
@handles_errors
def breakeven_cmd(
    model: Annotated[str, typer.Option("--model", help="Catalog model id to self-host, e.g. llama-4-70b.")],
    gpu: Annotated[
        list[str] | None, typer.Option("--gpu", help="GPU id (repeatable; default: all with a price).")
    ] = None,
    pricing: Annotated[
        list[Pricing] | None, typer.Option("--pricing", help="Price tier (repeatable; default: all known).")
    ] = None,
    api: Annotated[
        list[str] | None,
        typer.Option("--api", help="API offering id (repeatable; default: same model, else its size class)."),
    ] = None,
    api_price_in: Annotated[
        float | None,
        number_opt("--api-price-in", 0, MAX_API_USD_PER_1M, "Ad-hoc API: USD per 1M input tokens."),
    ] = None,
    api_price_out: Annotated[
        float | None,
        number_opt("--api-price-out", 0, MAX_API_USD_PER_1M, "Ad-hoc API: USD per 1M output tokens."),
    ] = None,
    gpu_hourly_usd: Annotated[
        float | None,
        number_opt("--gpu-hourly-usd", 0.0001, MAX_GPU_HOURLY_USD, "Override the GPU-hour price."),
    ] = None,
    precision: Annotated[Precision | None, typer.Option("--precision", help="Weight format.")] = None,
    ops_fte: Annotated[
        float | None,
        number_opt("--ops-fte", 0, MAX_OPS_FTE, "Engineers' time on the platform (FTE)."),
    ] = None,
    input_share: Annotated[
        float | None,
        number_opt("--input-share", 0.01, 0.99, "Share of tokens that are input (default 0.75)."),
    ] = None,
    profile: Annotated[
        Path | None, typer.Option("--profile", help="Take workload shape, latency, ops and prices from a profile.")
    ] = None,
    set_: SetOpt = None,
    calibration: CalibrationOpt = None,
    fmt: FormatOpt = Format.TABLE,
    out: OutOpt = None,
    all_: Annotated[
        bool, typer.Option("--all", help="Every GPU × tier × API row (default: the best tier per GPU, one screen).")
    ] = False,
    plot: Annotated[
        Path | None,
        typer.Option(
            "--plot", help="Also draw the cost-vs-volume chart to FILE.png or FILE.svg (needs selfhost[plot])."
        ),
    ] = None,
    tag: TagOpt = None,
) -> None:
    """Tokens/day at which self-hosting MODEL costs the same as the API, per GPU × price tier × API offering."""
    from selfhost_cli.breakeven import breakeven, suitable_gpus
    from selfhost_cli.costs import ApiPrices
    from selfhost_cli.render import breakeven_view
    from selfhost_cli.render import json_ as jr

    markdown_only(fmt, tag=tag)
    if (api_price_in is None) != (api_price_out is None):
        raise UsageError("--api-price-in and --api-price-out go together")
    full = _catalog()
    engines = _engines(calibration, full)
    cat = full.current(dt.date.today())
    cat.model(model)
    for g in gpu or []:
        cat.gpu(g)
    for a in api or []:
        cat.api(a)
    if set_ and profile is None:
        raise UsageError("--set changes a profile, and breakeven was given none", hint="add --profile PROFILE")
    base = _breakeven_profile(cat, profile, set_, model, api, gpu_hourly_usd, precision, ops_fte, input_share)
    adhoc = ApiPrices(api_price_in, api_price_out) if api_price_in is not None and api_price_out is not None else None
    gpus = gpu or list(base.self_hosting.gpu_ids if base.self_hosting.gpu_hourly_usd else []) or suitable_gpus(cat)
    if base.self_hosting.gpu_hourly_usd and len(gpus) != 1:
        # a GPU-hour price is a quote for one GPU: on the others it would be a made-up figure
        raise UsageError(
            f"a GPU-hour price (${base.self_hosting.gpu_hourly_usd:g}) prices one GPU, and {len(gpus)} are listed",
            hint="name the GPU it is for with --gpu",
        )
    # a profile's own GPU-hour price is for its tier: the other tiers are not priced by it
    quoted = list(base.self_hosting.pricings) if profile is not None and base.self_hosting.gpu_hourly_usd else []
    result = breakeven(base, cat, gpus, list(pricing or []) or quoted, adhoc, engines=engines, all_rows=all_)
    warn_all(result.warnings)
    if plot is not None:
        distinct_outputs(plot=plot, out=out)
        from selfhost_cli.render import chart as chart_mod

        if not result.chart:
            raise UsageError("--plot: no break-even to chart", hint="no GPU × tier breaks even with these APIs")
        chart_mod.save(breakeven_view.series(result), result.chart_breakeven_tokens_per_day, result.chart_title, plot)
        _err(f"wrote {plot}")
    if fmt is Format.JSON:
        emit(
            jr.dumps(jr.envelope("breakeven", breakeven_view.payload(result), result.warnings, result.prices_as_of)),
            out,
        )
    elif fmt is Format.MARKDOWN:
        emit(pr_markdown("breakeven", tag, breakeven_view.markdown(result, not all_), result.warnings), out)
    else:
        emit(render_table(breakeven_view.table(result, not all_)), out)


def _breakeven_profile(
    cat: catalog_mod.Catalog,
    path: Path | None,
    sets: list[str] | None,
    model: str,
    api: list[str] | None,
    hourly: float | None,
    precision: Precision | None,
    ops_fte: float | None,
    input_share: float | None,
) -> Profile:
    from selfhost_cli.profile import Profile

    if path is not None:
        prof = _profile(path, sets, cat)
    else:
        prof = Profile.model_validate({"version": 1, "name": "breakeven", "workload": {"tokens_per_day": 1e9}})
    s_updates: dict[str, Any] = {}
    if hourly is not None:
        s_updates["gpu_hourly_usd"] = hourly
    if precision is not None:
        s_updates["precision"] = precision
    if ops_fte is not None:
        s_updates["ops_fte"] = ops_fte
    w = prof.workload
    if input_share is not None:
        w = w.model_copy(
            update={
                "input_share": input_share,
                "requests_per_minute": None,
                "tokens_per_day": 1e9,
                "input_tokens_per_request": None,
            }
        )
    models = prof.models.model_copy(update={"self_hosted": model, **({"api": list(api)} if api else {})})
    return prof.model_copy(
        update={"self_hosting": prof.self_hosting.model_copy(update=s_updates), "workload": w, "models": models}
    )

"""Typer app: parse flags -> call the core -> render -> exit code. The only module that prints or exits."""

from __future__ import annotations

import datetime as dt
import functools
import io
import os
import sys
import tempfile
from collections.abc import Callable
from enum import Enum
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console, RenderableType

from selfhost_cli import __version__
from selfhost_cli import catalog as catalog_mod
from selfhost_cli.advise import Advice, advise
from selfhost_cli.advise.candidates import default_precision
from selfhost_cli.budget import Baseline, GateResult, Limits, evaluate_gates
from selfhost_cli.deploy.engines import EngineSet
from selfhost_cli.enums import Engine, Precision, Pricing
from selfhost_cli.errors import ExitCode, SelfhostError, UsageError
from selfhost_cli.profile import Profile, check_ids, load_profile
from selfhost_cli.render import Format
from selfhost_cli.render import json_ as jr
from selfhost_cli.render import markdown as md
from selfhost_cli.render import table as tr
from selfhost_cli.saved import load_saved_advice

app = typer.Typer(
    name="selfhost",
    help="Should we call a hosted LLM API or run open-weight models on our own GPUs? Sized, priced, sourced.",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
)
catalog_app = typer.Typer(help="List the models, GPUs and API offerings selfhost knows.", no_args_is_help=True)
calibrate_app = typer.Typer(help="Fit engine efficiency to your own benchmark results.", no_args_is_help=True)
prices_app = typer.Typer(help="Convert public price files into selfhost catalog files.", no_args_is_help=True)
app.add_typer(catalog_app, name="catalog")
app.add_typer(calibrate_app, name="calibrate")
app.add_typer(prices_app, name="prices")

F = TypeVar("F", bound=Callable[..., Any])


class State:
    """Global options, set once by the callback."""

    catalog_files: list[Path] = []
    no_color: bool = False


def _version(value: bool) -> None:
    if value:
        typer.echo(f"selfhost {__version__}")
        raise typer.Exit()


@app.callback()
def main_callback(
    version: Annotated[
        bool, typer.Option("--version", help="Print the version and exit.", callback=_version, is_eager=True)
    ] = False,
    catalog: Annotated[
        list[Path] | None,
        typer.Option(
            "--catalog",
            metavar="FILE",
            help="A user catalog file (models/gpus/apis) merged over the bundled ones; repeatable.",
        ),
    ] = None,
    no_color: Annotated[bool, typer.Option("--no-color", help="Plain text output (also NO_COLOR=1).")] = False,
) -> None:
    """selfhost: decide between a hosted API and self-hosting, with every number sourced."""
    State.catalog_files = list(catalog or [])
    State.no_color = no_color or bool(os.environ.get("NO_COLOR"))


# ---------------------------------------------------------------- shared plumbing


def handles_errors(func: F) -> F:
    """Turn the core's errors into a message on stderr and the right exit code; never a traceback."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except SelfhostError as exc:
            _err(f"selfhost: error: {exc.message}" + (f"\nHint: {exc.hint}" if exc.hint else ""))
            raise typer.Exit(int(exc.exit_code)) from None
        except (typer.Exit, typer.Abort):
            raise
        except Exception as exc:  # a bug: say so plainly, keep the traceback for SELFHOST_DEBUG
            if os.environ.get("SELFHOST_DEBUG"):
                raise
            _err(
                f"selfhost: internal error: {type(exc).__name__}: {exc}\n"
                "This is a bug in selfhost; rerun with SELFHOST_DEBUG=1 for the traceback and report it."
            )
            raise typer.Exit(int(ExitCode.INTERNAL)) from None

    return wrapper  # type: ignore[return-value]


def _err(text: str) -> None:
    Console(stderr=True, no_color=True, highlight=False, soft_wrap=True).print(text, markup=False)


def _catalog() -> catalog_mod.Catalog:
    return catalog_mod.load(State.catalog_files)


def _profile(path: Path, sets: list[str] | None, cat: catalog_mod.Catalog) -> Profile:
    """Load a profile and check the catalog ids it names (unknown ones are errors at their line)."""
    prof, doc = load_profile(path, sets)
    check_ids(prof, doc, cat)
    return prof


def render_table(renderable: RenderableType, width: int | None = None) -> str:
    """Render a rich renderable to text (colors unless --no-color / NO_COLOR / not a terminal)."""
    buffer = io.StringIO()
    color = not State.no_color and sys.stdout.isatty()
    cols = width or int(os.environ.get("COLUMNS", "0") or 0) or 120
    console = Console(file=buffer, width=cols, no_color=not color, force_terminal=color, highlight=False)
    console.print(renderable)
    return buffer.getvalue()


def emit(text: str, out: Path | None) -> None:
    """Write to stdout, or atomically to `out` (temp file in the same folder, then rename)."""
    if out is None:
        sys.stdout.write(text)
        return
    if out.is_dir():
        raise UsageError(f"cannot write {out}: it is a folder", hint="name a file in it")
    folder = out.resolve().parent
    if not folder.is_dir():
        raise UsageError(f"cannot write {out}: folder {folder} does not exist")
    try:
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{out.name}.", suffix=".tmp")
    except OSError as exc:
        raise UsageError(f"cannot write {out}: {exc.strerror}") from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(tmp, out)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise UsageError(f"cannot write {out}: {exc.strerror}") from None
    _err(f"wrote {out}")


def warn_all(warnings: list[str]) -> None:
    for w in warnings:
        _err(f"warning: {w}")


FormatOpt = Annotated[Format, typer.Option("--format", "-f", help="table (people), json (programs) or markdown (PRs).")]
BasicFormatOpt = Annotated[Format, typer.Option("--format", "-f", help="table (people) or json (programs).")]
OutOpt = Annotated[Path | None, typer.Option("--out", "-o", help="Write here (atomically) instead of stdout.")]
SetOpt = Annotated[
    list[str] | None,
    typer.Option("--set", help="Override a profile key, e.g. --set workload.tokens_per_day=2e9 (repeatable)."),
]
CalibrationOpt = Annotated[
    Path | None,
    typer.Option(
        "--calibration",
        help="A calibration file from `selfhost calibrate import` "
        "(default: ~/.config/selfhost/calibration.yaml if present).",
    ),
]


def _no_markdown(fmt: Format) -> None:
    if fmt is Format.MARKDOWN:
        raise UsageError("--format markdown is for advise, breakeven, check and diff", hint="use table or json")


# ---------------------------------------------------------------- advise


@app.command("advise")
@handles_errors
def advise_cmd(
    profile: Annotated[Path, typer.Argument(help="Workload profile (YAML), e.g. profiles/startup.yaml.")],
    set_: SetOpt = None,
    calibration: CalibrationOpt = None,
    fmt: FormatOpt = Format.TABLE,
    out: OutOpt = None,
) -> None:
    """Recommend api, self_host or hybrid for a workload profile, with reasons, costs and the capacity plan."""
    engines = _engines(calibration)
    cat = _catalog()
    advice = advise(_profile(profile, set_, cat), cat, today=dt.date.today(), engines=engines)
    warn_all(advice.warnings)
    emit(_render_advice(advice, fmt), out)


def _render_advice(advice: Advice, fmt: Format) -> str:
    if fmt is Format.JSON:
        return jr.dumps(jr.envelope("advise", jr.advice_payload(advice), advice.warnings, advice.prices_as_of))
    if fmt is Format.MARKDOWN:
        return md.advice_markdown(advice)
    return render_table(tr.advice_view(advice))


# ---------------------------------------------------------------- init


STARTER_PROFILE = Path(__file__).parent / "starter_profile.yaml"


@app.command("init")
@handles_errors
def init_cmd(
    file: Annotated[Path, typer.Argument(help="Where to write the starter profile.")] = Path("profile.yaml"),
    force: Annotated[bool, typer.Option("--force", help="Overwrite an existing file.")] = False,
) -> None:
    """Write a fully commented starter profile."""
    if file.exists() and not force:
        raise UsageError(f"{file} exists", hint="pass --force to overwrite it")
    emit(STARTER_PROFILE.read_text(encoding="utf-8"), file)


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
        int | None, typer.Option("--gpus", min=1, help="GPUs in the deployment (default: the fewest that fit).")
    ] = None,
    tp: Annotated[int | None, typer.Option("--tp", min=1, help="Tensor-parallel degree per replica.")] = None,
    precision: Annotated[
        Precision | None, typer.Option("--precision", help="Weight format (default: fp8 where the GPU runs it).")
    ] = None,
    engine: Annotated[
        Engine, typer.Option("--engine", help="Serving engine; ideal = hardware limit, no software overhead.")
    ] = Engine.VLLM,
    input_tokens: Annotated[int, typer.Option("--input-tokens", min=1, help="Prompt tokens per request.")] = 1000,
    output_tokens: Annotated[int, typer.Option("--output-tokens", min=1, help="Generated tokens per request.")] = 200,
    concurrency: Annotated[
        int | None, typer.Option("--concurrency", min=1, help="Requests in flight, whole deployment.")
    ] = None,
    max_throughput: Annotated[
        bool, typer.Option("--max-throughput", help="Largest concurrency that fits in memory (default).")
    ] = False,
    calibration: CalibrationOpt = None,
    fmt: BasicFormatOpt = Format.TABLE,
    out: OutOpt = None,
) -> None:
    """Capacity, throughput and latency of one deployment (the estimator advise and breakeven use)."""
    _no_markdown(fmt)
    from selfhost_cli.render import estimate_view
    from selfhost_cli.report import estimate_report

    if concurrency is not None and max_throughput:
        raise UsageError("give --concurrency or --max-throughput, not both")
    engines = _engines(calibration)
    cat = _catalog()
    spec_model, spec_gpu = cat.model(model), cat.gpu(gpu)
    prec = precision or default_precision(spec_model, spec_gpu)
    report = estimate_report(
        spec_model,
        spec_gpu,
        prec,
        engines.profile(engine, gpu, model, prec.value),
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
        float | None, typer.Option("--api-price-in", min=0, help="Ad-hoc API: USD per 1M input tokens.")
    ] = None,
    api_price_out: Annotated[
        float | None, typer.Option("--api-price-out", min=0, help="Ad-hoc API: USD per 1M output tokens.")
    ] = None,
    gpu_hourly_usd: Annotated[
        float | None, typer.Option("--gpu-hourly-usd", min=0.0001, help="Override the GPU-hour price.")
    ] = None,
    precision: Annotated[Precision | None, typer.Option("--precision", help="Weight format.")] = None,
    ops_fte: Annotated[
        float | None, typer.Option("--ops-fte", min=0, help="Engineers' time on the platform (FTE).")
    ] = None,
    input_share: Annotated[
        float | None,
        typer.Option("--input-share", min=0.01, max=0.99, help="Share of tokens that are input (default 0.75)."),
    ] = None,
    profile: Annotated[
        Path | None, typer.Option("--profile", help="Take workload shape, latency, ops and prices from a profile.")
    ] = None,
    set_: SetOpt = None,
    calibration: CalibrationOpt = None,
    fmt: FormatOpt = Format.TABLE,
    out: OutOpt = None,
) -> None:
    """Tokens/day at which self-hosting MODEL costs the same as the API, per GPU × price tier × API offering."""
    from selfhost_cli.breakeven import breakeven, suitable_gpus
    from selfhost_cli.costs import ApiPrices
    from selfhost_cli.render import breakeven_view

    if (api_price_in is None) != (api_price_out is None):
        raise UsageError("--api-price-in and --api-price-out go together")
    engines = _engines(calibration)
    cat = _catalog()
    cat.model(model)
    for g in gpu or []:
        cat.gpu(g)
    for a in api or []:
        cat.api(a)
    base = _breakeven_profile(cat, profile, set_, model, api, gpu_hourly_usd, precision, ops_fte, input_share)
    adhoc = ApiPrices(api_price_in, api_price_out) if api_price_in is not None and api_price_out is not None else None
    result = breakeven(base, cat, gpu or suitable_gpus(cat), list(pricing or []), adhoc, engines=engines)
    warn_all(result.warnings)
    if fmt is Format.JSON:
        emit(
            jr.dumps(jr.envelope("breakeven", breakeven_view.payload(result), result.warnings, result.prices_as_of)),
            out,
        )
    elif fmt is Format.MARKDOWN:
        emit(breakeven_view.markdown(result), out)
    else:
        emit(render_table(breakeven_view.table(result)), out)


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


# ---------------------------------------------------------------- check and diff


@app.command("check")
@handles_errors
def check_cmd(
    profiles: Annotated[list[Path], typer.Argument(help="Profiles to gate.")],
    max_monthly_usd: Annotated[
        float | None, typer.Option("--max-monthly-usd", min=0, help="Fail above this monthly cost.")
    ] = None,
    max_increase_usd: Annotated[
        float | None,
        typer.Option("--max-increase-usd", min=0, help="Fail if cost rises more than this over the baseline."),
    ] = None,
    max_increase_pct: Annotated[
        float | None,
        typer.Option("--max-increase-pct", min=0, help="Fail if cost rises more than this percent over the baseline."),
    ] = None,
    baseline: Annotated[
        Path | None, typer.Option("--baseline", help="A saved advise JSON, or a profile, to compare with.")
    ] = None,
    fail_on_decision_change: Annotated[
        bool, typer.Option("--fail-on-decision-change", help="Fail if the decision differs from the baseline's.")
    ] = False,
    strict: Annotated[bool, typer.Option("--strict", help="Stale or unknown prices fail instead of warning.")] = False,
    set_: SetOpt = None,
    calibration: CalibrationOpt = None,
    fmt: FormatOpt = Format.TABLE,
    out: OutOpt = None,
) -> None:
    """CI budget gate: evaluate profiles against budgets and a baseline; exit 1 if any gate fails."""
    from selfhost_cli.render import check_view

    engines = _engines(calibration)
    cat = _catalog()
    results: list[GateResult] = []
    warnings: list[str] = []
    dates: list[str] = []
    base = _load_baseline(baseline, cat, engines) if baseline else None
    for path in profiles:
        prof = _profile(path, set_, cat)
        advice = advise(prof, cat, today=dt.date.today(), engines=engines, with_flips=False)
        warnings += [f"{path}: {w}" for w in advice.warnings]
        if advice.prices_as_of:
            dates.append(advice.prices_as_of)
        budget = prof.budget
        limits = Limits(
            max_monthly_usd=max_monthly_usd if max_monthly_usd is not None else budget.max_monthly_usd,
            max_increase_usd=max_increase_usd if max_increase_usd is not None else budget.max_increase_usd,
            max_increase_pct=max_increase_pct if max_increase_pct is not None else budget.max_increase_pct,
            fail_on_decision_change=fail_on_decision_change,
            strict=strict,
        )
        results.append(evaluate_gates(advice, limits, base))
    passed = all(r.passed for r in results)
    warn_all(warnings)
    payload = {"passed": passed, "results": [jr.plain(r) | {"passed": r.passed} for r in results]}
    if fmt is Format.JSON:
        emit(jr.dumps(jr.envelope("check", payload, warnings, min(dates) if dates else None)), out)
    elif fmt is Format.MARKDOWN:
        emit(check_view.markdown(results, passed), out)
    else:
        emit(render_table(check_view.table(results, passed)), out)
    if not passed:
        raise typer.Exit(int(ExitCode.GATE_FAILED))


def _load_baseline(path: Path, cat: catalog_mod.Catalog, engines: EngineSet) -> Baseline:
    """A saved advise JSON (decision + the chosen option's cost), or a profile evaluated now."""
    side = _diff_side(path, cat, engines)
    return Baseline(side["decision"], side["monthly_usd"], str(path))


@app.command("diff")
@handles_errors
def diff_cmd(
    base: Annotated[Path, typer.Argument(help="The base: a profile or a saved advise JSON.")],
    proposed: Annotated[Path, typer.Argument(help="The proposal: a profile or a saved advise JSON.")],
    fail_on_decision_change: Annotated[
        bool, typer.Option("--fail-on-decision-change", help="Exit 1 if the decision changed.")
    ] = False,
    calibration: CalibrationOpt = None,
    fmt: FormatOpt = Format.TABLE,
    out: OutOpt = None,
) -> None:
    """What changed between two profiles or two saved results: decision, monthly cost, GPUs."""
    from selfhost_cli.render import check_view

    engines = _engines(calibration)
    cat = _catalog()
    sides = [_diff_side(p, cat, engines) for p in (base, proposed)]
    rows = check_view.diff_rows(sides[0], sides[1])
    changed = sides[0]["decision"] != sides[1]["decision"]
    payload = {"base": sides[0], "proposed": sides[1], "decision_changed": changed, "changes": rows}
    if fmt is Format.JSON:
        emit(jr.dumps(jr.envelope("diff", payload, [], None)), out)
    elif fmt is Format.MARKDOWN:
        emit(check_view.diff_markdown(rows, str(base), str(proposed)), out)
    else:
        emit(render_table(check_view.diff_table(rows, str(base), str(proposed))), out)
    if changed and fail_on_decision_change:
        raise typer.Exit(int(ExitCode.GATE_FAILED))


def _diff_side(path: Path, cat: catalog_mod.Catalog, engines: EngineSet) -> dict[str, Any]:
    """Decision, chosen monthly cost and self-hosted GPUs, from a saved JSON or a profile evaluated now."""
    if path.suffix.lower() == ".json":
        saved = load_saved_advice(path)
        own = saved.self_host
        return {
            "source": str(path),
            "decision": saved.decision,
            "monthly_usd": saved.chosen_monthly_usd,
            "self_host_gpus": own.capacity.gpus if own and own.capacity else None,
            "self_host_monthly_usd": own.monthly_usd if own else None,
        }
    advice = advise(_profile(path, None, cat), cat, today=dt.date.today(), engines=engines, with_flips=False)
    own_opt = advice.option("self_host")
    return {
        "source": str(path),
        "decision": advice.decision.value,
        "monthly_usd": None if advice.chosen_monthly_usd is None else round(advice.chosen_monthly_usd, 2),
        "self_host_gpus": own_opt.capacity.gpus if own_opt and own_opt.capacity else None,
        "self_host_monthly_usd": None if not own_opt or own_opt.monthly_usd is None else round(own_opt.monthly_usd, 2),
    }


# ---------------------------------------------------------------- calibration


@app.command("accuracy")
@handles_errors
def accuracy_cmd(
    engine: Annotated[Engine | None, typer.Option("--engine", help="Only rows of this engine.")] = None,
    fmt: BasicFormatOpt = Format.TABLE,
    out: OutOpt = None,
) -> None:
    """The estimator against every published measurement it was calibrated on: prediction, measurement, error."""
    from selfhost_cli.calibration import accuracy, bundled_rows
    from selfhost_cli.render import estimate_view

    _no_markdown(fmt)
    rows = tuple(r for r in bundled_rows() if engine is None or r.engine is engine)
    acc = accuracy(catalog_mod.bundled(), rows)
    if fmt is Format.JSON:
        payload = {
            "median_abs_error_pct": {
                "overall": round(acc.overall, 2),
                **{k: round(v, 2) for k, v in acc.by_engine.items()},
            },
            "tpot_median_abs_error_pct": None if acc.tpot_overall is None else round(acc.tpot_overall, 2),
            "rows": [
                jr.plain(p.row.model_dump(mode="json"))
                | {
                    "predicted_output_tokens_per_s": None
                    if p.predicted_output_tokens_per_s is None
                    else round(p.predicted_output_tokens_per_s, 1),
                    "error_pct": None if p.error_pct is None else round(p.error_pct, 2),
                    "predicted_tpot_ms": None if p.predicted_tpot_ms is None else round(p.predicted_tpot_ms, 2),
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
        typer.Argument(help="A `vllm bench serve --save-result` JSON or genai-perf profile_export_genai_perf.json."),
    ],
    model: Annotated[str, typer.Option("--model", help="Catalog model id that was benchmarked.")],
    gpu: Annotated[str, typer.Option("--gpu", help="Catalog GPU id it ran on.")],
    gpus: Annotated[int, typer.Option("--gpus", min=1, help="GPUs in the benchmarked deployment.")] = 1,
    tp: Annotated[int | None, typer.Option("--tp", min=1, help="Tensor-parallel degree (default: --gpus).")] = None,
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
    """Fit engine efficiency from a vllm bench serve or genai-perf result and save a user calibration."""
    from selfhost_cli import calibration as cal
    from selfhost_cli.deploy.engines import BUNDLED_ENGINES
    from selfhost_cli.deploy.estimate import Setup

    _no_markdown(fmt)
    if engine is Engine.IDEAL:
        raise UsageError("the ideal engine has no software to calibrate", hint="pass the engine you benchmarked")
    cat = _catalog()
    spec_model, spec_gpu = cat.model(model), cat.gpu(gpu)
    bench = cal.read_bench(file)
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
    target = save or cal.default_calibration_path()
    cal.save_user_calibration(target, entry)
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
    }
    if fmt is Format.JSON:
        emit(jr.dumps(jr.envelope("calibrate import", payload, [], None)), out)
    else:
        emit(
            render_table(
                tr.simple_table(
                    "selfhost calibrate import", ["item", "value"], [(k, str(v)) for k, v in payload.items()]
                )
            ),
            out,
        )


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
        str | None, typer.Option("--as-of", help="Date the prices were read, YYYY-MM-DD (default: today).")
    ] = None,
    fmt: BasicFormatOpt = Format.TABLE,
    out: OutOpt = None,
) -> None:
    """Convert a public price file into a user catalog file (YAML) for --catalog; prints what was converted.

    The catalog goes to --out (atomically); without --out it goes to stdout and the summary to stderr."""
    from selfhost_cli.prices_import import convert, dump
    from selfhost_cli.yamlio import read_text

    _no_markdown(fmt)
    try:
        date = dt.date.fromisoformat(as_of) if as_of else dt.date.today()
    except ValueError:
        raise UsageError(f"--as-of {as_of}: not a date", hint="write it YYYY-MM-DD") from None
    result = convert(read_text(file), str(file), source.value, catalog_mod.bundled(), date, provider=provider)
    catalog_text = dump(result.file)
    counts = {
        "apis": len(result.file.apis),
        "gpus": len(result.file.gpus),
        "gpu_price_rows": sum(len(g.prices) for g in result.file.gpus),
    }
    if out is not None:
        emit(catalog_text, out)
    else:
        sys.stdout.write(catalog_text)
    warn_all(result.warnings)
    summary_doc = jr.envelope(
        "prices import",
        {
            "source": str(file),
            "from": source.value,
            "out": str(out) if out else None,
            "converted": counts,
            "skipped": result.skipped,
        },
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
                    ("skipped", str(len(result.skipped))),
                    *[("skipped", line) for line in result.skipped[:20]],
                ],
            )
        )
    )
    if out is not None:
        sys.stdout.write(summary)
    else:
        _err(summary.rstrip())


def _engines(path: Path | None) -> EngineSet:
    """The engine constants with the user's calibration file (or the default one) applied."""
    from selfhost_cli import calibration as cal

    return cal.engine_set(cal.load_user_calibration(path))


def main() -> None:
    """Console-script entry point."""
    app()

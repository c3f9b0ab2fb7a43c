"""`check` and `diff`: the CI gates."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from selfhost_cli.cli import (
    CalibrationOpt,
    FormatOpt,
    OutOpt,
    SetOpt,
    TagOpt,
    _catalog,
    _engines,
    _profile,
    app,
    emit,
    handles_errors,
    markdown_only,
    number_opt,
    pr_markdown,
    reading,
    render_table,
    warn_all,
)
from selfhost_cli.errors import ExitCode, UsageError
from selfhost_cli.limits import MAX_BUDGET_USD, MAX_PCT
from selfhost_cli.render import Format

if TYPE_CHECKING:
    from selfhost_cli import catalog as catalog_mod
    from selfhost_cli.budget import Baseline, GateResult
    from selfhost_cli.deploy.engines import EngineSet


# ---------------------------------------------------------------- check and diff


@app.command("check")
@handles_errors
def check_cmd(
    profiles: Annotated[list[Path], typer.Argument(help="Profiles to gate.")],
    max_monthly_usd: Annotated[
        float | None,
        number_opt("--max-monthly-usd", 0, MAX_BUDGET_USD, "Fail above this monthly cost."),
    ] = None,
    max_increase_usd: Annotated[
        float | None,
        number_opt("--max-increase-usd", 0, MAX_BUDGET_USD, "Fail if cost rises more than this over the baseline."),
    ] = None,
    max_increase_pct: Annotated[
        float | None,
        number_opt("--max-increase-pct", 0, MAX_PCT, "Fail if cost rises more than this percent over the baseline."),
    ] = None,
    baseline: Annotated[
        Path | None, typer.Option("--baseline", help="A saved advise JSON, or a profile, to compare with.")
    ] = None,
    fail_on_decision_change: Annotated[
        bool, typer.Option("--fail-on-decision-change", help="Fail if the decision differs from the baseline's.")
    ] = False,
    strict: Annotated[
        bool, typer.Option("--strict", help="Stale, unknown or retiring prices fail instead of warning.")
    ] = False,
    set_: SetOpt = None,
    calibration: CalibrationOpt = None,
    fmt: FormatOpt = Format.TABLE,
    out: OutOpt = None,
    min_change_usd: Annotated[
        float | None,
        number_opt("--min-change-usd", 0, MAX_BUDGET_USD, "Markdown: below this, say 'no material change'."),
    ] = None,
    min_change_pct: Annotated[
        float | None,
        number_opt("--min-change-pct", 0, MAX_PCT, "Markdown: below this, say 'no material change'."),
    ] = None,
    tag: TagOpt = None,
) -> None:
    """CI budget gate: evaluate profiles against budgets and a baseline; exit 1 if any gate fails."""
    from selfhost_cli.advise import advise
    from selfhost_cli.budget import Limits, evaluate_gates
    from selfhost_cli.render import check_view
    from selfhost_cli.render import json_ as jr

    markdown_only(fmt, tag=tag, min_change_usd=min_change_usd, min_change_pct=min_change_pct)
    needs_base = [
        flag
        for flag, given in (
            ("--max-increase-usd", max_increase_usd is not None),
            ("--max-increase-pct", max_increase_pct is not None),
            ("--fail-on-decision-change", fail_on_decision_change),
        )
        if given
    ]
    if needs_base and baseline is None:
        raise UsageError(
            f"{', '.join(needs_base)} compare with a baseline, and none was given: the gate cannot run",
            hint="add --baseline main.json (a saved `advise --format json` or `check --format json`, or a profile)",
        )
    cat = _catalog()
    engines = _engines(calibration, cat)
    results: list[GateResult] = []
    warnings: list[str] = []
    dates: list[str] = []
    bases = _load_baselines(baseline, cat, engines) if baseline else {}
    used: set[str] = set()
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
        name = advice.profile_name
        if name not in bases and len(bases) == 1 and len(profiles) == 1:
            name = next(iter(bases))  # one profile against one baseline: compared whatever its name
        base = bases.get(name)
        if base is not None:
            used.add(name)
        result = evaluate_gates(advice, limits, base)
        if baseline is not None and base is None:
            result.baseline = "new"
        results.append(result)
    if needs_base and not used:
        names = ", ".join(sorted(r.profile for r in results))
        raise UsageError(
            f"--baseline {baseline} holds none of these profiles ({names}): {', '.join(needs_base)} cannot run",
            hint=f"profiles are matched by name; the baseline has: {', '.join(sorted(bases)) or 'none'}",
        )
    removed = sorted(set(bases) - used) if len(profiles) > 1 or not used else []
    passed = all(r.passed for r in results)
    warn_all(warnings)
    payload = {
        "passed": passed,
        "results": [jr.plain(r) | {"passed": r.passed} for r in results],
        "removed": removed,
        "totals": _totals(results),
    }
    if fmt is Format.JSON:
        emit(jr.dumps(jr.envelope("check", payload, warnings, min(dates) if dates else None)), out)
    elif fmt is Format.MARKDOWN:
        quiet = check_view.immaterial(results, removed, min_change_usd, min_change_pct)
        body = check_view.no_change(results, min_change_usd, min_change_pct) if quiet else None
        emit(pr_markdown("check", tag, body or check_view.markdown(results, passed, removed), warnings), out)
    else:
        emit(render_table(check_view.table(results, passed, removed)), out)
    if not passed:
        raise typer.Exit(int(ExitCode.GATE_FAILED))


def _load_baselines(path: Path, cat: catalog_mod.Catalog, engines: EngineSet) -> dict[str, Baseline]:
    """Baselines by profile name: a saved check JSON (every profile it held), a saved advise JSON, a profile
    evaluated now, or a directory of saved JSON results (later files win on a name)."""
    from selfhost_cli.budget import Baseline
    from selfhost_cli.saved import load_saved_check, saved_command

    if path.is_dir():
        found: dict[str, Baseline] = {}
        files = sorted(path.glob("*.json"))
        if not files:
            raise UsageError(f"--baseline {path}: the folder holds no .json result")
        for file in files:
            found |= _load_baselines(file, cat, engines)
        return found
    if path.suffix.lower() == ".json" and saved_command(reading(path)) == "check":
        saved = load_saved_check(path)
        return {r.profile: Baseline(r.decision, r.monthly_usd, f"{path} ({r.profile})") for r in saved.results}
    side = _diff_side(path, cat, engines)
    return {side["profile"]: Baseline(side["decision"], side["monthly_usd"], str(path))}


def _totals(results: list[GateResult]) -> dict[str, float | None]:
    """Across the profiles checked: their monthly cost, and the change over those that have a baseline."""
    costs = [r.monthly_usd for r in results]
    matched = [r for r in results if r.baseline == "matched"]
    changes = [r.change_usd for r in matched]
    return {
        "monthly_usd": None if any(c is None for c in costs) else round(sum(c for c in costs if c is not None), 2),
        "change_usd": None
        if not matched or any(c is None for c in changes)
        else round(sum(c for c in changes if c is not None), 2),
    }


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
    tag: TagOpt = None,
) -> None:
    """What changed between two profiles or two saved results: decision, monthly cost, GPUs."""
    from selfhost_cli.render import check_view
    from selfhost_cli.render import json_ as jr

    markdown_only(fmt, tag=tag)

    cat = _catalog()
    engines = _engines(calibration, cat)
    sides = [_diff_side(p, cat, engines) for p in (base, proposed)]
    rows = check_view.diff_rows(sides[0], sides[1])
    changed = sides[0]["decision"] != sides[1]["decision"]
    payload = {"base": sides[0], "proposed": sides[1], "decision_changed": changed, "changes": rows}
    if fmt is Format.JSON:
        emit(jr.dumps(jr.envelope("diff", payload, [], None)), out)
    elif fmt is Format.MARKDOWN:
        emit(pr_markdown("diff", tag, check_view.diff_markdown(rows, str(base), str(proposed))), out)
    else:
        emit(render_table(check_view.diff_table(rows, str(base), str(proposed))), out)
    if changed and fail_on_decision_change:
        raise typer.Exit(int(ExitCode.GATE_FAILED))


def _diff_side(path: Path, cat: catalog_mod.Catalog, engines: EngineSet) -> dict[str, Any]:
    """Decision, chosen monthly cost and self-hosted GPUs, from a saved JSON or a profile evaluated now."""
    from selfhost_cli.advise import advise
    from selfhost_cli.saved import load_saved_advice

    if path.suffix.lower() == ".json":
        saved = load_saved_advice(reading(path))
        own = saved.self_host
        return {
            "source": str(path),
            "profile": saved.profile or path.stem,
            "decision": saved.decision,
            "monthly_usd": saved.chosen_monthly_usd,
            "self_host_gpus": own.capacity.gpus if own and own.capacity else None,
            "self_host_monthly_usd": own.monthly_usd if own else None,
        }
    advice = advise(_profile(path, None, cat), cat, today=dt.date.today(), engines=engines, with_flips=False)
    own_opt = advice.option("self_host")
    return {
        "source": str(path),
        "profile": advice.profile_name,
        "decision": advice.decision.value,
        "monthly_usd": None if advice.chosen_monthly_usd is None else round(advice.chosen_monthly_usd, 2),
        "self_host_gpus": own_opt.capacity.gpus if own_opt and own_opt.capacity else None,
        "self_host_monthly_usd": None if not own_opt or own_opt.monthly_usd is None else round(own_opt.monthly_usd, 2),
    }

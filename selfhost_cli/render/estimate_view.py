"""Table for `selfhost estimate` and `selfhost accuracy`."""

from __future__ import annotations

from typing import Any

from rich.console import Group, RenderableType

from selfhost_cli.calibration import Accuracy
from selfhost_cli.render.format import rate
from selfhost_cli.render.table import simple_table
from selfhost_cli.report import EstimateReport


def table(report: EstimateReport) -> RenderableType:
    p = report.payload()
    mem = p["memory"]
    band = p["output_tokens_per_s_band"]
    rows = [
        (
            "deployment",
            f"{p['model']} on {p['gpus']} × {p['gpu']} = {p['replicas']} replica(s) of TP{p['tp']}, "
            f"{p['precision']}, {p['engine']}",
        ),
        (
            "request",
            f"{p['input_tokens']:,.0f} in / {p['output_tokens']:,.0f} out tokens; {p['concurrency']:,.0f} in flight",
        ),
        ("fits", "yes" if p["fits"] else f"no: {p['why_not']}"),
    ]
    if p["ttft_ms"] is not None:
        rows += [
            (
                "output tokens/s",
                f"{band['expected']:,.0f} (band {band['low']:,.0f}–{band['high']:,.0f}, ±{p['expected_error_pct']:g}%: "
                f"{p['expected_error_basis']})",
            ),
            ("per GPU", f"{p['output_tokens_per_s_per_gpu']:,.0f} output tokens/s"),
            (
                "TTFT / TPOT",
                f"{p['ttft_ms']:,.1f} ms / {p['tpot_ms']:,.1f} ms ({1000 / p['tpot_ms']:,.1f} tokens/s per request)",
            ),
            ("decode step", f"{p['decode_step_ms']:,.2f} ms ({_step_words(p['speculative'])})"),
        ]
        b = p["step_breakdown_ms"]
        rows.append(
            (
                "step breakdown",
                f"memory {b['memory']:.2f}, compute {b['compute']:.2f}, overlapped "
                f"{b['overlapped']:.2f} + overhead {b['overhead']:.2f} + TP comm "
                f"{b['communication']:.2f} ms",
            )
        )
    rows += [
        (
            "memory per GPU",
            f"{mem['gpu_gb']:.1f} GB ({report.gpu.memory_gb:g} GiB): weights {mem['weights_gb_per_gpu']:.1f}, reserve "
            f"{mem['reserve_gb_per_gpu']:.1f}, KV cache {mem['kv_cache_gb_per_gpu']:.1f} "
            f"({mem['max_sequences_per_replica']} sequences)",
        ),
        ("constants", p["engine_constants"]),
    ]
    return simple_table("selfhost estimate", ["item", "value"], rows)


def _step_words(spec: dict[str, Any] | None) -> str:
    if spec is None:
        return "pure decode, no prefill chunks"
    drafts = "n-gram drafts" if spec["method"] == "ngram" else f"{spec['draft_tokens']} draft-head passes"
    return f"{drafts} and the check; {spec['acceptance_length']:g} tokens per sequence per step, no prefill chunks"


def _pair(figure: tuple[float, int] | None) -> tuple[str, str]:
    return ("—", "0") if figure is None else (f"{figure[0]:.1f}%", str(figure[1]))


def accuracy_summary_rows(acc: Accuracy, overall: str = "overall") -> list[tuple[str, str, str, str, str]]:
    """Per engine, per precision, then overall, TPOT and TTFT: (name, fitted median, rows, held-out median, rows)
    as text."""
    rows = [
        (engine, *_pair(acc.fitted.by_engine.get(engine)), *_pair(acc.held_out.by_engine.get(engine)))
        for engine in acc.by_engine
    ]
    precisions = sorted(set(acc.fitted.by_precision) | set(acc.held_out.by_precision))
    rows += [
        (
            f"{precision} (any engine)",
            *_pair(acc.fitted.by_precision.get(precision)),
            *_pair(acc.held_out.by_precision.get(precision)),
        )
        for precision in precisions
    ]
    rows.append((overall, *_pair(acc.fitted.overall_figure), *_pair(acc.held_out.overall_figure)))
    rows.append(("TPOT (where measured)", *_pair(acc.fitted.tpot_figure), *_pair(acc.held_out.tpot_figure)))
    rows.append(("TTFT (where measured)", *_pair(acc.fitted.ttft_figure), *_pair(acc.held_out.ttft_figure)))
    return rows


def accuracy_table(acc: Accuracy) -> RenderableType:
    rows = []
    for p in acc.predictions:
        r = p.row
        err = ("n/a*" if r.scenario == "online" else "—") if p.error_pct is None else f"{p.error_pct:+.1f}%"
        rows.append(
            (
                r.id,
                r.use,
                r.engine.value if r.engine else "",
                r.gpu,
                f"{r.gpus}",
                r.model,
                r.precision.value,
                r.scenario,
                rate(r.measured_output_tokens_per_s),
                "—" if p.predicted_output_tokens_per_s is None else rate(p.predicted_output_tokens_per_s),
                err,
            )
        )
    detail = simple_table(
        "Estimator vs published measurements (output tokens/s, whole system)",
        ["row", "use", "engine", "gpu", "n", "model", "prec", "scenario", "measured", "estimate", "error"],
        rows,
        right=(4, 8, 9, 10),
        optional=("use", "scenario", "prec", "n", "model", "gpu", "engine"),
    )
    if any(p.error_pct is None and p.row.scenario == "online" for p in acc.predictions):
        detail.caption = "n/a*: an online run is rate-limited (it measures the offered load, not capacity): no error"
        detail.caption_justify = "left"
    summary = simple_table(
        "Median absolute error: on the rows the constants were fitted to, and on the rows held out of the fit",
        ["engine", "fitted", "rows", "held out", "rows "],
        accuracy_summary_rows(acc),
        right=(1, 2, 3, 4),
    )
    return Group(detail, summary)

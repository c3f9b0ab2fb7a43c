"""Benchmark result files a user imports (`selfhost calibrate import`): a vLLM `bench serve` result, genai-perf's
or AIPerf's export, read into one `BenchResult`, and the catalog model the file names."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from selfhost_cli.catalog import Catalog
from selfhost_cli.errors import InputFileError
from selfhost_cli.limits import MAX_TOKENS_PER_REQUEST

# Beyond any one run on one machine: a whole GB200 NVL72 rack decodes well under 10M tokens/s.
MAX_BENCH_TOKENS_PER_S = 1e8
MAX_BENCH_CONCURRENCY = 1e6


@dataclass(frozen=True)
class BenchResult:
    """What a benchmark run measured, from a vLLM `bench serve`, genai-perf or AIPerf JSON."""

    kind: str
    output_tokens_per_s: float
    input_tokens: float
    output_tokens: float
    concurrency: float | None
    request_rate: float | None
    mean_tpot_ms: float | None
    mean_ttft_ms: float | None
    model_name: str | None = None  # the served model as the file names it (a Hugging Face repo, usually)
    note: str | None = None  # what the reader chose, e.g. which run of an appended file


def read_bench(path: Path) -> BenchResult:
    """Parse a `vllm bench serve --save-result` JSON (or an `--append-result` file of several runs, one JSON
    object per line: the last run is read), a genai-perf `profile_export_genai_perf.json` or an AIPerf
    `profile_export_aiperf.json`."""
    from selfhost_cli.yamlio import read_text

    text = read_text(path, "calibration")
    docs = _json_objects(text, path)
    doc = docs[-1]
    note = f"run {len(docs)} of {len(docs)} in an appended result file (the last)" if len(docs) > 1 else None
    try:
        if "output_throughput" in doc:
            return replace(_measured(_vllm(doc), path), note=note)
        if "output_token_throughput" in doc and _is_aiperf(doc):
            return _measured(_aiperf(doc), path)
        if "output_token_throughput" in doc:
            return _measured(_genai_perf(doc), path)
    except (KeyError, TypeError, ValueError, ZeroDivisionError, AttributeError, OverflowError) as exc:
        what = f"missing field {exc}" if isinstance(exc, KeyError) else "a field of the wrong type or out of range"
        raise InputFileError(
            f"{path}:1: {what}",
            hint="expected a complete vllm bench serve, genai-perf or AIPerf result",
        ) from None
    raise InputFileError(
        f"{path}:1: not a vllm bench serve, genai-perf or AIPerf result",
        hint="vllm: `vllm bench serve ... --save-result`; genai-perf: profile_export_genai_perf.json; "
        "AIPerf: profile_export_aiperf.json",
    )


def _json_objects(text: str, path: Path) -> list[dict[str, Any]]:
    """One JSON object, or several written one after another (`vllm bench serve --append-result`)."""
    decoder = json.JSONDecoder()
    found: list[dict[str, Any]] = []
    at = 0
    while True:
        while at < len(text) and text[at].isspace():
            at += 1
        if at >= len(text):
            break
        try:
            doc, at = decoder.raw_decode(text, at)
        except json.JSONDecodeError as exc:
            raise InputFileError(f"{path}:{exc.lineno}: not valid JSON: {exc.msg}") from None
        except RecursionError:
            raise InputFileError(f"{path}:1: JSON nested too deeply to be a benchmark result") from None
        if not isinstance(doc, dict):
            raise InputFileError(f"{path}:{text.count(chr(10), 0, at) + 1}: expected a JSON object")
        found.append(doc)
    if not found:
        raise InputFileError(f"{path}:1: empty file: expected a benchmark result (a JSON object)")
    return found


def _is_aiperf(doc: dict[str, Any]) -> bool:
    config = doc.get("input_config")
    return isinstance(config, dict) and ("loadgen" in config or isinstance(config.get("endpoint"), dict))


def _measured(bench: BenchResult, path: Path) -> BenchResult:
    """A measurement to fit to must be a positive, finite number (NaN, inf and 0 come from failed runs)."""
    fields = {
        "output throughput": bench.output_tokens_per_s,
        "input tokens per request": bench.input_tokens,
        "output tokens per request": bench.output_tokens,
    }
    for name, value in fields.items():
        if not math.isfinite(value) or value <= 0:
            raise InputFileError(
                f"{path}:1: {name} is {value:.6g}: a completed benchmark measures a positive number",
                hint="the run may have failed (no request completed); rerun the benchmark",
            )
    bounds: dict[str, tuple[float | None, float]] = {
        "output throughput": (bench.output_tokens_per_s, MAX_BENCH_TOKENS_PER_S),
        "input tokens per request": (bench.input_tokens, MAX_TOKENS_PER_REQUEST),
        "output tokens per request": (bench.output_tokens, MAX_TOKENS_PER_REQUEST),
        "concurrency": (bench.concurrency, MAX_BENCH_CONCURRENCY),
    }
    for name, (measured, most) in bounds.items():
        if measured is not None and not 0 < measured <= most:
            raise InputFileError(
                f"{path}:1: {name} is {measured:.6g}: outside what one benchmark run can measure (0 to {most:,.0f})",
                hint="check the file is the result of one run, unedited",
            )
    return bench


def _vllm(doc: dict[str, Any]) -> BenchResult:
    completed = float(doc["completed"])
    rate = doc.get("request_rate")
    return BenchResult(
        "vllm bench serve",
        float(doc["output_throughput"]),
        float(doc["total_input_tokens"]) / completed,
        float(doc["total_output_tokens"]) / completed,
        float(doc["max_concurrency"]) if doc.get("max_concurrency") else None,
        None if rate in (None, "inf") or rate == float("inf") else float(rate),
        _num(doc.get("mean_tpot_ms")),
        _num(doc.get("mean_ttft_ms")),
        doc.get("model_id") if isinstance(doc.get("model_id"), str) else None,
    )


def _genai_perf(doc: dict[str, Any]) -> BenchResult:
    config = doc.get("input_config") or {}
    conc = config.get("concurrency") or (config.get("perf_analyzer") or {}).get("stimulus", {}).get("concurrency")
    models = config.get("model")
    return BenchResult(
        "genai-perf",
        float(doc["output_token_throughput"]["avg"]),
        float(doc["input_sequence_length"]["avg"]),
        float(doc["output_sequence_length"]["avg"]),
        float(conc) if conc else None,
        _num(config.get("request_rate")),
        _num((doc.get("inter_token_latency") or {}).get("avg")),
        _num((doc.get("time_to_first_token") or {}).get("avg")),
        models[0] if isinstance(models, list) and models and isinstance(models[0], str) else None,
    )


def _aiperf(doc: dict[str, Any]) -> BenchResult:
    """AIPerf's aggregated export: metrics as {unit, avg, p50, ...}, the run's settings under input_config
    (endpoint.model_names, loadgen.concurrency / request_rate)."""
    config = doc["input_config"]
    loadgen = config.get("loadgen") or {}
    names = (config.get("endpoint") or {}).get("model_names") or []
    return BenchResult(
        "AIPerf",
        float(doc["output_token_throughput"]["avg"]),
        float(doc["input_sequence_length"]["avg"]),
        float(doc["output_sequence_length"]["avg"]),
        _num(loadgen.get("concurrency")),
        _num(loadgen.get("request_rate")),
        _num((doc.get("inter_token_latency") or {}).get("avg")),
        _num((doc.get("time_to_first_token") or {}).get("avg")),
        names[0] if names and isinstance(names[0], str) else None,
    )


def catalog_model_for(name: str | None, catalog: Catalog) -> str | None:
    """The catalog model a benchmark file names (`meta-llama/Llama-3.1-8B-Instruct`, `RedHatAI/...-FP8` ->
    llama-3.1-8b): the repo's name without organisation, instruct and quantization suffixes, matched against
    the catalog's Hugging Face repos and ids; None when nothing, or more than one model, matches. Stand-ins
    (`modelled_on`) are never matched: a file names a release."""
    if not name:
        return None
    wanted = _repo_key(name)
    found = {
        m.id
        for m in catalog.models.values()
        if m.modelled_on is None and wanted in {_repo_key(m.hf_repo or ""), _repo_key(m.id)}
    }
    return found.pop() if len(found) == 1 else None


_REPO_SUFFIXES = ("-fp8-dynamic", "-fp8", "-awq", "-gptq-int4", "-gptq", "-bf16", "-instruct", "-hf", "-it")


def _repo_key(name: str) -> str:
    key = name.strip().lower().rsplit("/", 1)[-1].removeprefix("meta-")
    changed = True
    while changed:
        changed = False
        for suffix in _REPO_SUFFIXES:
            if key.endswith(suffix):
                key, changed = key.removesuffix(suffix), True
    return key


def _num(value: Any) -> float | None:
    return float(value) if isinstance(value, (int, float)) else None

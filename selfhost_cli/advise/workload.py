"""Stage 1: the profile's workload as numbers — volumes, peak, request shape — defined once for every view."""

from __future__ import annotations

import math
from dataclasses import dataclass

from selfhost_cli.deploy.sizing import RequestShape
from selfhost_cli.enums import WorkloadClass
from selfhost_cli.profile import Profile

SECONDS_PER_DAY = 86_400


@dataclass(frozen=True)
class Workload:
    """Tokens per day (input, output, cached), the peak the fleet is sized for, the request shape."""

    tokens_per_day: float
    input_share: float
    cached_input_share: float
    batch_share: float
    peak_to_average: float
    shape: RequestShape
    batch: bool = False  # workload.class: batch

    @property
    def input_tokens_per_day(self) -> float:
        return self.tokens_per_day * self.input_share

    @property
    def output_tokens_per_day(self) -> float:
        return self.tokens_per_day * (1 - self.input_share)

    @property
    def cached_input_tokens_per_day(self) -> float:
        return self.input_tokens_per_day * self.cached_input_share

    @property
    def mean_output_tokens_per_s(self) -> float:
        return self.output_tokens_per_day / SECONDS_PER_DAY

    @property
    def peak_output_tokens_per_s(self) -> float:
        """Output tokens/s in the busiest hour: what the fleet is sized for."""
        return self.mean_output_tokens_per_s * self.peak_to_average

    def at_volume(self, tokens_per_day: float) -> Workload:
        """The same shape at another volume (break-even curves)."""
        return Workload(
            tokens_per_day,
            self.input_share,
            self.cached_input_share,
            self.batch_share,
            self.peak_to_average,
            self.shape,
            self.batch,
        )


def workload(profile: Profile) -> Workload:
    """The profile's workload section resolved: defaults applied, volumes in tokens per day.

    `class: batch` work has no latency target (sized for throughput), can be spread evenly over the day
    (no peak), and goes to an API's batch endpoint when it has one (all of it is batch traffic).
    The request shape carries the cached share: a self-hosted prefix cache skips that share of prefill work
    (the candidates stage sets it to 0 for an engine without one)."""
    w = profile.workload
    batch = w.workload_class is WorkloadClass.BATCH
    shape = RequestShape(
        input_tokens=w.input_tokens_per_request_resolved,
        output_tokens=w.output_tokens_per_request_resolved,
        max_ttft_ms=math.inf if batch else w.latency.max_ttft_ms,
        min_output_tokens_per_s=0.0 if batch else w.latency.min_output_tokens_per_s,
        longest_tokens=w.max_context_tokens_resolved,
        longest_given=w.max_context_tokens is not None,
        cached_share=w.cached_input_share,
    )
    return Workload(
        tokens_per_day=w.tokens_per_day_resolved,
        input_share=w.input_share_resolved,
        cached_input_share=w.cached_input_share,
        batch_share=1.0 if batch else w.batch_share,
        peak_to_average=1.0 if batch else w.peak_to_average,
        shape=shape,
        batch=batch,
    )

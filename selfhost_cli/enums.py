"""Every closed set of values in one pydantic-free module, so the CLI can build --help without the core."""

from __future__ import annotations

from enum import Enum


class Precision(str, Enum):
    """Numeric format of the weights (and the matmuls that read them)."""

    BF16 = "bf16"
    FP16 = "fp16"
    FP8 = "fp8"
    INT8 = "int8"
    INT4 = "int4"
    FP4 = "fp4"


class Pricing(str, Enum):
    """How GPU-hours are bought."""

    SPOT = "spot"
    ON_DEMAND = "on_demand"
    RESERVED_1Y = "reserved_1y"
    RESERVED_3Y = "reserved_3y"
    OWNED = "owned"
    SERVERLESS = "serverless"  # billed per second only while a worker runs (scale-to-zero endpoints)


class WorkloadClass(str, Enum):
    """interactive: sized for the latency target at the peak; batch: for throughput, no latency target."""

    INTERACTIVE = "interactive"
    BATCH = "batch"


class Confidence(str, Enum):
    """How far a figure or a decision can be trusted."""

    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"


class Engine(str, Enum):
    """Serving software; `ideal` is the measured hardware limit with no software overhead."""

    VLLM = "vllm"
    SGLANG = "sglang"
    TRTLLM = "trtllm"
    TGI = "tgi"
    LLAMA_CPP = "llama.cpp"
    LMDEPLOY = "lmdeploy"
    IDEAL = "ideal"


class DraftMethod(str, Enum):
    """How speculative decoding drafts its tokens."""

    DRAFT_HEAD = "draft_head"  # one extra decoder layer of the target's width (EAGLE heads, a model's MTP layers)
    NGRAM = "ngram"  # prompt lookup: drafts copied from the context on the CPU, no draft model


class ThirdParty(str, Enum):
    ALLOWED = "allowed"
    WITH_AGREEMENT = "with_agreement"
    FORBIDDEN = "forbidden"


class Residency(str, Enum):
    ANY = "any"
    US = "us"
    EU = "eu"
    ON_PREM = "on_prem"


class Redundancy(str, Enum):
    NONE = "none"
    N_PLUS_1 = "n_plus_1"


class Expertise(str, Enum):
    NONE = "none"
    SOME = "some"
    STRONG = "strong"


class CustomSampling(str, Enum):
    """How much the workload needs sampling control an API may not expose (logit processors, grammars)."""

    NONE = "none"
    PREFERRED = "preferred"
    REQUIRED = "required"


class QualityPolicy(str, Enum):
    """Which API offerings the tool adds as alternatives: the same model, the same quality tier, or any."""

    SAME_MODEL = "same_model"
    SAME_TIER = "same_tier"
    ANY = "any"


class Decision(str, Enum):
    """The recommendation; `none` = a hard constraint leaves no feasible option as configured."""

    API = "api"
    SELF_HOST = "self_host"
    HYBRID = "hybrid"
    NONE = "none"


class OptionKind(str, Enum):
    """One way to serve the workload."""

    API = "api"
    SELF_HOST = "self_host"
    HYBRID = "hybrid"


class Effect(str, Enum):
    """What a finding does to the decision (SPEC §4)."""

    REQUIRES_SELF_HOST = "requires_self_host"
    REQUIRES_API = "requires_api"
    FAVORS_SELF_HOST = "favors_self_host"
    FAVORS_API = "favors_api"
    INFO = "info"


class WarningCode(str, Enum):
    """What a warning is about, so `--strict` and renderers test the code, not the text."""

    STALE_PRICE = "stale_price"
    RETIRING = "retiring"  # a compared offering is shut down, or will be soon, by its provider
    PRICE_UNKNOWN = "price_unknown"
    FLEET_SHORT = "fleet_short"
    QUALITY_GAP = "quality_gap"
    QUALITY_UNKNOWN = "quality_unknown"
    STAND_IN = "stand_in"
    CACHED_PRICE_MISSING = "cached_price_missing"
    BATCH_PRICE_MISSING = "batch_price_missing"
    NO_FEASIBLE_OPTION = "no_feasible_option"
    FLEET_UNUSUAL = "fleet_unusual"  # a fleet far beyond what anyone runs for one workload
    ON_SITE_RENTED = "on_site_rented"  # air-gapped / on-premises data priced as rented cloud GPU-hours

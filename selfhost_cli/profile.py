"""The workload profile (SPEC §3): pydantic models, defaults, and loading with located errors."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, ConfigDict, Discriminator, Field, Tag, field_validator, model_validator

from selfhost_cli.catalog import Catalog
from selfhost_cli.catalog.schema import Capabilities, Strict
from selfhost_cli.enums import (
    CustomSampling,
    DraftMethod,
    Engine,
    Expertise,
    Precision,
    Pricing,
    QualityPolicy,
    Redundancy,
    Residency,
    ThirdParty,
    WorkloadClass,
)
from selfhost_cli.errors import InputFileError, did_you_mean
from selfhost_cli.limits import (
    MAX_API_OFFERINGS,
    MAX_API_USD_PER_1M,
    MAX_BUDGET_USD,
    MAX_GPU_HOURLY_USD,
    MAX_GPUS,
    MAX_OPS_FTE,
    MAX_PCT,
    MAX_SEARCH,
    MAX_TOKENS_PER_DAY,
    MAX_TOKENS_PER_REQUEST,
)
from selfhost_cli.yamlio import Document, load_file, parse, validate


def _no_bool(value: Any) -> Any:
    """A number field must not take YAML's yes/no/on/off booleans silently as 1/0."""
    if isinstance(value, bool):
        raise ValueError(
            f"must be a number (got the boolean {str(value).lower()}; YAML reads yes/no/on/off as booleans)"
        )
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError(f"must be a finite number (got {value})")
    if isinstance(value, str):
        text = value.strip().replace("_", "")
        try:
            number = float(text)
        except ValueError:
            number = math.nan
        if not math.isfinite(number):
            raise ValueError(
                f"must be a number (got {value!r}); write 2000000, 2_000_000 or 2.0e6, without units or commas"
            )
        return number
    return value


Number = Annotated[float, BeforeValidator(_no_bool)]

# Upper bounds on what a user can give: selfhost_cli/limits.py (shared with the flags).
Count = Annotated[int, BeforeValidator(_no_bool)]


class Latency(Strict):
    max_ttft_ms: Number = Field(default=2000.0, gt=0, le=86_400_000, description="time to first token at the peak")
    min_output_tokens_per_s: Number = Field(default=20.0, gt=0, le=100_000, description="streaming speed per request")


# Default request shape when only tokens_per_day is given: a chat/RAG-like request.
DEFAULT_OUTPUT_TOKENS_PER_REQUEST = 400.0
# Without workload.max_context_tokens, the longest request is taken as this many times the mean one: request
# lengths in chat traces are long-tailed (the p99 of ShareGPT-style prompt+output lengths is several times the
# mean), so a replica that holds only the mean request would refuse real ones.
LONGEST_TO_MEAN = 4.0


class Workload(Strict):
    """Volume (tokens_per_day, or requests_per_minute with tokens per request) and traffic shape."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    tokens_per_day: Number | None = Field(default=None, ge=1, le=MAX_TOKENS_PER_DAY)
    input_share: Number | None = Field(default=None, ge=0.01, le=0.99)  # the bounds `--input-share` has
    requests_per_minute: Number | None = Field(default=None, gt=0, le=1e10)
    input_tokens_per_request: Number | None = Field(default=None, ge=1, le=MAX_TOKENS_PER_REQUEST)
    output_tokens_per_request: Number | None = Field(default=None, ge=1, le=MAX_TOKENS_PER_REQUEST)
    peak_to_average: Number = Field(default=2.0, ge=1, le=50)
    cached_input_share: Number = Field(default=0.0, ge=0, le=1)
    batch_share: Number = Field(default=0.0, ge=0, le=1)
    latency: Latency = Field(default_factory=Latency)
    workload_class: WorkloadClass = Field(default=WorkloadClass.INTERACTIVE, alias="class")
    max_context_tokens: Count | None = Field(
        default=None,
        gt=0,
        le=100_000_000,
        description="longest prompt + output a request may need (KV cache is sized for it)",
    )

    @model_validator(mode="after")
    def _one_volume(self) -> Workload:
        if self.tokens_per_day is None and self.requests_per_minute is None:
            raise ValueError(
                "give the volume: tokens_per_day (with input_share) or requests_per_minute "
                "(with input_tokens_per_request and output_tokens_per_request)"
            )
        if self.tokens_per_day is not None and self.requests_per_minute is not None:
            raise ValueError("give tokens_per_day or requests_per_minute, not both")
        if self.requests_per_minute is not None:
            if self.input_tokens_per_request is None or self.output_tokens_per_request is None:
                raise ValueError("requests_per_minute needs input_tokens_per_request and output_tokens_per_request")
            if self.input_share is not None:
                raise ValueError("input_share follows from the tokens per request; drop it")
            volume = self.tokens_per_day_resolved
            if not 1 <= volume <= MAX_TOKENS_PER_DAY:
                raise ValueError(
                    f"requests_per_minute × 1,440 × tokens per request is {volume:.3g} tokens/day, outside "
                    f"1 … 10^{round(math.log10(MAX_TOKENS_PER_DAY))} (the bounds tokens_per_day has)"
                )
        mean = self.input_tokens_per_request_resolved + self.output_tokens_per_request_resolved
        if self.max_context_tokens is not None and self.max_context_tokens < mean:
            raise ValueError(
                f"max_context_tokens {self.max_context_tokens:,} is below the mean request ({mean:,.0f} tokens in and "
                "out): the longest request cannot be shorter than the average one"
            )
        shape = self.shape_input_share()
        if shape is not None and self.input_share is not None and abs(shape - self.input_share) > 0.02:
            raise ValueError(
                f"input_share {self.input_share:g} contradicts the tokens per request "
                f"({shape:.2f} of each request is input); drop one of them"
            )
        return self

    def shape_input_share(self) -> float | None:
        """Input share implied by the per-request token counts, when both are given."""
        if self.input_tokens_per_request and self.output_tokens_per_request:
            return self.input_tokens_per_request / (self.input_tokens_per_request + self.output_tokens_per_request)
        return None

    # ------------------------------------------------------------ derived, in one place
    @property
    def input_share_resolved(self) -> float:
        """Share of all tokens that are input (prompt); 0.75 unless given or implied by the request shape."""
        if self.input_share is not None:
            return self.input_share
        shape = self.shape_input_share()
        return shape if shape is not None else 0.75

    @property
    def tokens_per_day_resolved(self) -> float:
        """Input plus output tokens per day."""
        if self.tokens_per_day is not None:
            return self.tokens_per_day
        assert self.requests_per_minute and self.input_tokens_per_request and self.output_tokens_per_request
        per_request = self.input_tokens_per_request + self.output_tokens_per_request
        return self.requests_per_minute * 60 * 24 * per_request

    @property
    def max_context_tokens_resolved(self) -> float:
        """The longest request the KV cache must hold: given, else LONGEST_TO_MEAN × the mean request."""
        if self.max_context_tokens is not None:
            return float(self.max_context_tokens)
        return LONGEST_TO_MEAN * (self.input_tokens_per_request_resolved + self.output_tokens_per_request_resolved)

    @property
    def output_tokens_per_request_resolved(self) -> float:
        return self.output_tokens_per_request or DEFAULT_OUTPUT_TOKENS_PER_REQUEST

    @property
    def input_tokens_per_request_resolved(self) -> float:
        if self.input_tokens_per_request:
            return self.input_tokens_per_request
        share = self.input_share_resolved
        return self.output_tokens_per_request_resolved * share / (1 - share)


class Compliance(Strict):
    regulations: list[str] = Field(default_factory=list)
    third_party_processing: ThirdParty = ThirdParty.ALLOWED
    data_residency: Residency = Residency.ANY
    air_gapped: bool = False


def _sampling_from_bool(value: Any) -> Any:
    """`custom_sampling: true/false` (the original form) reads as preferred / none."""
    if isinstance(value, bool):
        return CustomSampling.PREFERRED if value else CustomSampling.NONE
    return value


class Customization(Strict):
    fine_tuned_weights: bool = False
    lora_adapters: Count = Field(default=0, ge=0, le=100_000)
    custom_sampling: Annotated[
        CustomSampling, BeforeValidator(_sampling_from_bool, json_schema_input_type=CustomSampling | bool)
    ] = CustomSampling.NONE
    inference_time_techniques: list[str] = Field(default_factory=list)


class InlineApi(Strict):
    """An API offering written into the profile (a negotiated price, a provider not in the catalog)."""

    id: str = Field(min_length=3)
    input_usd_per_1m: Number = Field(ge=0, le=MAX_API_USD_PER_1M)
    output_usd_per_1m: Number = Field(ge=0, le=MAX_API_USD_PER_1M)
    cached_input_usd_per_1m: Number | None = Field(default=None, ge=0, le=MAX_API_USD_PER_1M)
    batch_discount: Number | None = Field(default=None, ge=0, lt=1)
    open_weight_model: str | None = Field(default=None, description="catalog model id it serves, if any")
    capabilities: Capabilities | None = Field(default=None, description="what your contract gives; unknown if absent")
    source: str = "the profile"


def _api_kind(value: Any) -> str:
    return "inline" if isinstance(value, (dict, InlineApi)) else "id"


ApiRef = Annotated[
    Annotated[str, Tag("id")] | Annotated[InlineApi, Tag("inline")],
    Discriminator(_api_kind),
]


AUTO = "auto"


class Models(Strict):
    """Which open-weight model(s) to self-host (`auto`: those nearest the named APIs' quality) and which
    API offerings to compare (named ones always; `quality` decides which the tool adds)."""

    self_hosted: str | list[Annotated[str, Field(min_length=1)]] = Field(default="llama-3.3-70b", min_length=1)
    api: list[ApiRef] | None = Field(default=None, max_length=MAX_API_OFFERINGS)
    quality: QualityPolicy = QualityPolicy.SAME_TIER

    @model_validator(mode="after")
    def _auto_needs_an_api(self) -> Models:
        if self.self_hosted == AUTO and not self.api:
            raise ValueError("self_hosted: auto picks the open-weight models nearest an API's quality: name it in api")
        return self

    @property
    def self_hosted_ids(self) -> tuple[str, ...]:
        """The model ids named (empty for `auto`)."""
        if isinstance(self.self_hosted, str):
            return () if self.self_hosted == AUTO else (self.self_hosted,)
        return tuple(dict.fromkeys(self.self_hosted))

    @model_validator(mode="before")
    @classmethod
    def _api_as_list(cls, data: Any) -> Any:
        if isinstance(data, dict) and isinstance(data.get("api"), (str, dict)):
            return {**data, "api": [data["api"]]}
        return data


class Autoscaling(Strict):
    """Replicas follow the daily curve: never below `min_replicas`, started `cold_start_s` ahead of demand."""

    min_replicas: Count = Field(default=1, ge=0, le=100_000)
    cold_start_s: Number | Literal["auto"] = Field(default="auto", description="auto: weights load time")

    @model_validator(mode="before")
    @classmethod
    def _number_or_auto(cls, data: Any) -> Any:
        value = data.get("cold_start_s") if isinstance(data, dict) else None
        if isinstance(value, (int, float)) and not isinstance(value, bool) and not 0 <= value <= 86_400:
            raise ValueError("cold_start_s must be between 0 and 86,400 seconds (or auto)")
        return data


def _autoscaling_from_bool(value: Any) -> Any:
    """`autoscaling: true` is the mapping with its defaults; `false` (or absent) is none."""
    if value is True:
        return Autoscaling()
    if value is False:
        return None
    return value


class Speculative(Strict):
    """Speculative decoding in the self-hosted engine: `draft_tokens` drafted per step by an EAGLE head or the
    model's MTP layers (`draft_head`) or by prompt lookup (`ngram`); `acceptance_length` tokens emitted per step,
    as measured on the workload's own traffic (it depends on the task, the draft and the temperature)."""

    method: DraftMethod = Field(description="draft_head (EAGLE heads, MTP layers) or ngram (prompt lookup)")
    draft_tokens: Count = Field(ge=1, le=16, description="tokens drafted per sequence per step")
    acceptance_length: Number = Field(ge=1, le=17, description="tokens emitted per step, the target's own included")

    @model_validator(mode="before")
    @classmethod
    def _acceptance_is_measured(cls, data: Any) -> Any:
        if isinstance(data, dict) and "acceptance_length" not in data:
            raise ValueError(
                "acceptance_length is required: the tokens one step emits on your traffic, which no default can "
                "know (published: MTP on DeepSeek-R1 2.8 with 3 drafted, EAGLE-3 2.2-3.3 with 3, n-gram lookup "
                "1.4-1.8 on chat; docs/profile.md)"
            )
        return data

    @model_validator(mode="after")
    def _at_most_every_draft(self) -> Speculative:
        if self.acceptance_length > self.draft_tokens + 1:
            raise ValueError(
                f"acceptance_length {self.acceptance_length:g} exceeds draft_tokens + 1 ({self.draft_tokens + 1}): "
                "a step emits at most every drafted token and the target's own"
            )
        return self


class Owned(Strict):
    """Owned hardware (`pricing: owned`); anything left out comes from the catalog's sourced defaults."""

    gpu_purchase_usd: Number | None = Field(
        default=None, gt=0, le=10_000_000, description="per GPU, with server and network share"
    )
    amortization_years: Number | None = Field(default=None, ge=0.25, le=15)
    power_w_per_gpu: Number | None = Field(default=None, gt=0, le=100_000, description="with the host's share")
    pue: Number | None = Field(default=None, ge=1, le=3)
    usd_per_kwh: Number | None = Field(default=None, ge=0, le=2)
    hosting_usd_per_gpu_month: Number | None = Field(default=None, ge=0, le=100_000)


def _one_or_list(value: Any) -> Any:
    """`x` and `[x]` mean the same; an empty list is an error (say `auto`)."""
    if isinstance(value, list) and not value:
        raise ValueError("an empty list searches nothing: name at least one, or write auto")
    return value


class SelfHosting(Strict):
    gpu: Annotated[str | list[Annotated[str, Field(min_length=1)]], BeforeValidator(_one_or_list)] = Field(
        default=AUTO, min_length=1, description="an id, a list of ids, or auto (every GPU with a price)"
    )
    pricing: Annotated[Pricing | list[Pricing], BeforeValidator(_one_or_list)] = Pricing.ON_DEMAND
    gpu_hourly_usd: Number | None = Field(default=None, gt=0, le=MAX_GPU_HOURLY_USD)
    gpus: Count | None = Field(default=None, gt=0, le=MAX_GPUS)
    precision: Annotated[Precision | list[Precision] | Literal["auto"] | None, BeforeValidator(_one_or_list)] = None
    engine: Engine = Engine.VLLM
    redundancy: Redundancy = Redundancy.N_PLUS_1
    autoscaling: Annotated[
        Autoscaling | None, BeforeValidator(_autoscaling_from_bool, json_schema_input_type=Autoscaling | bool | None)
    ] = None
    max_gpus: Count | None = Field(default=None, gt=0, le=MAX_GPUS, description="cap on the fleet the search may build")
    speculative: Speculative | None = None
    owned: Owned = Field(default_factory=Owned)
    ops_fte: Number = Field(default=1.0, ge=0, le=MAX_OPS_FTE)
    fte_annual_usd: Number = Field(default=200_000.0, ge=0, le=100_000_000)
    other_monthly_usd: Number = Field(default=2_000.0, ge=0, le=1e10)

    @model_validator(mode="after")
    def _override_prices_one_gpu(self) -> SelfHosting:
        if self.gpu_hourly_usd is not None and len(self.gpu_ids) != 1:
            raise ValueError(
                "gpu_hourly_usd prices one GPU: name it in self_hosting.gpu (the search prices every other "
                "GPU from the catalog)"
            )
        if self.gpu_hourly_usd is not None and len(self.pricings) != 1:
            raise ValueError("gpu_hourly_usd is the price of one tier: give one self_hosting.pricing")
        return self

    @property
    def gpu_ids(self) -> tuple[str, ...]:
        """The GPUs named (empty for auto: search every GPU with a price)."""
        if isinstance(self.gpu, str):
            return () if self.gpu == AUTO else (self.gpu,)
        return tuple(dict.fromkeys(self.gpu))

    @property
    def pricings(self) -> tuple[Pricing, ...]:
        return tuple(dict.fromkeys(self.pricing)) if isinstance(self.pricing, list) else (self.pricing,)

    @property
    def precisions(self) -> tuple[Precision, ...]:
        """The formats named (empty for auto)."""
        p = self.precision
        if isinstance(p, list):
            return tuple(dict.fromkeys(p))
        return (p,) if isinstance(p, Precision) else ()

    @property
    def autoscaled(self) -> bool:
        return self.autoscaling is not None


class Team(Strict):
    inference_expertise: Expertise = Expertise.SOME


class Budget(Strict):
    max_monthly_usd: Number | None = Field(default=None, gt=0, le=MAX_BUDGET_USD)
    max_increase_usd: Number | None = Field(default=None, ge=0, le=MAX_BUDGET_USD)
    max_increase_pct: Number | None = Field(default=None, ge=0, le=MAX_PCT)


MAX_NAME_CHARS = 200


class Profile(Strict):
    """A whole workload profile (`version: 1`)."""

    version: Literal[1]
    name: str | None = None
    workload: Workload
    compliance: Compliance = Field(default_factory=Compliance)
    customization: Customization = Field(default_factory=Customization)
    models: Models = Field(default_factory=Models)
    self_hosting: SelfHosting = Field(default_factory=SelfHosting)
    team: Team = Field(default_factory=Team)
    budget: Budget = Field(default_factory=Budget)

    @field_validator("version", mode="before")
    @classmethod
    def _version_is_a_number(cls, value: Any) -> Any:
        if isinstance(value, bool):  # YAML `true` equals 1 in Python: not what `version: 1` means
            raise ValueError(f"must be the number 1 (got {str(value).lower()})")
        return value

    @field_validator("name")
    @classmethod
    def _name_is_one_line(cls, value: str | None) -> str | None:
        # the name goes into terminal titles and pull-request headings: a newline or an escape code would break out
        if value is not None and (len(value) > MAX_NAME_CHARS or any(ord(c) < 32 or ord(c) == 127 for c in value)):
            raise ValueError(f"one line of at most {MAX_NAME_CHARS} characters, without control characters")
        return value

    @model_validator(mode="before")
    @classmethod
    def _empty_sections(cls, data: Any) -> Any:
        """A section whose keys are all commented out reads as null in YAML: treat it as empty."""
        if isinstance(data, dict):
            return {k: v for k, v in data.items() if not (v is None and k != "version")}
        return data


def check_ids(profile: Profile, doc: Document, catalog: Catalog) -> None:
    """Catalog ids named in the profile exist; an unknown one is an input error at its line, with close matches."""
    named = profile.models.self_hosted
    wanted: list[tuple[tuple[Any, ...], str, dict[str, Any]]] = (
        [(("models", "self_hosted"), named, catalog.models)]
        if isinstance(named, str) and named != AUTO
        else [(("models", "self_hosted", i), m, catalog.models) for i, m in enumerate(profile.models.self_hosted_ids)]
    )
    gpu = profile.self_hosting.gpu
    if isinstance(gpu, str):
        wanted += [(("self_hosting", "gpu"), gpu, catalog.gpus)] if gpu != AUTO else []
    else:
        wanted += [(("self_hosting", "gpu", i), g, catalog.gpus) for i, g in enumerate(profile.self_hosting.gpu_ids)]
    for i, api in enumerate(profile.models.api or []):
        if isinstance(api, str):
            wanted.append((("models", "api", i), api, catalog.apis))
    for loc, value, known in wanted:
        if value not in known:
            kind = {"self_hosted": "model", "gpu": "gpu", "api": "api"}[loc[1]]
            guess = did_you_mean(value, known)
            where = doc.where(loc)
            dotted = ".".join(str(p) for p in loc[:2]) + (f"[{loc[2]}]" if len(loc) > 2 else "")
            raise InputFileError(
                f"{where}: {dotted}: unknown {kind} id '{value}'" + (f"; {guess}" if guess else ""),
                hint=f"`selfhost catalog {kind}s` lists the known ids; add your own with --catalog FILE",
            )


def check_search_size(profile: Profile, doc: Document, catalog: Catalog) -> None:
    """The deployments the search prices (model × GPU × tier × precision) stay within what answers in a couple
    of seconds, every flip point re-run included; beyond it the profile is asked to narrow the search."""
    s = profile.self_hosting
    models = len(profile.models.self_hosted_ids) or 1
    gpus = len(s.gpu_ids) or len(catalog.gpus)
    size = models * gpus * len(s.pricings) * (len(s.precisions) or 2)
    if size > MAX_SEARCH:
        raise InputFileError(
            f"{doc.where(('models', 'self_hosted'))}: models.self_hosted: the search would price {size:,} deployments "
            f"({models} model(s) × {gpus} GPU(s) × {len(s.pricings)} tier(s) × {len(s.precisions) or 2} "
            f"precision(s)); at most {MAX_SEARCH:,} answer in seconds",
            hint="name fewer models, GPUs (self_hosting.gpu), tiers or precisions, or split the profile",
        )


def load_profile(path: str | Path, overrides: list[str] | None = None) -> tuple[Profile, Document]:
    """Read, apply `--set KEY=VALUE` overrides, validate; errors name the file and line."""
    doc = load_file(path, "profile")
    if not doc.data and doc.data != {}:
        return validate(Profile, doc, "profile"), doc
    if isinstance(doc.data, dict):
        if doc.data.get("name") is None:  # (`name: NO` is YAML 1.1's false: validation says so)
            doc.data["name"] = Path(path).stem
        for item in overrides or []:
            apply_override(doc, item)
    return validate(Profile, doc, "profile"), doc


def apply_override(doc: Document, item: str) -> None:
    """Set one `a.b.c=VALUE` into the document; the value is YAML, validated like the file's."""
    if "=" not in item:
        raise InputFileError(f"--set {item}: expected KEY=VALUE", hint="e.g. --set workload.tokens_per_day=2e9")
    key, _, raw = item.partition("=")
    parts = [p for p in key.strip().split(".") if p]
    if not parts:
        raise InputFileError(f"--set {item}: empty key", hint="e.g. --set workload.tokens_per_day=2e9")
    value = parse(raw, f"--set {key}").data
    try:
        set_in(doc.data, parts, value)
    except KeyError as exc:
        raise InputFileError(f"--set {item}: {exc.args[0]} is not a mapping in {doc.path}") from None
    # 0 marks "from the command line": the key set, and every key above it that the file lacks
    for k in range(1, len(parts) + 1):
        prefix = tuple(parts[:k])
        if k == len(parts) or prefix not in doc.lines or doc.lines[prefix] == 0:
            doc.lines[prefix] = 0
            doc.overrides[prefix] = item


def set_in(data: dict[str, Any], parts: list[str], value: Any) -> None:
    """Set `value` at the key path `parts` of a profile document, as `--set` does (KeyError: a part is not a
    mapping). A volume key replaces the other volume key; the request shape stays (latency, KV size)."""
    node: dict[str, Any] = data
    for part in parts[:-1]:
        child = node.get(part)
        if child is None:
            child = node[part] = {}
        if not isinstance(child, dict):
            raise KeyError(part)
        node = child
    node[parts[-1]] = value
    if parts == ["workload", "tokens_per_day"]:
        node.pop("requests_per_minute", None)
    if parts == ["workload", "requests_per_minute"]:
        node.pop("tokens_per_day", None)
        node.pop("input_share", None)


def with_setting(profile: Profile, key: str, value: Any) -> Profile:
    """The profile as `--set key=value` would make it (validated again); what flip points are checked with."""
    data = profile.model_dump(mode="json", exclude_unset=True)
    set_in(data, key.split("."), value)
    return Profile.model_validate(data)

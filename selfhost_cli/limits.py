"""The bounds on every number a user gives, shared by the profile schema and the command-line flags
(docs/profile.md, "Limits"): far beyond any real workload, so a typo of a few zeros is caught and every
figure printed stays finite and checked. Plain constants: the CLI reads them without importing the core."""

MAX_TOKENS_PER_DAY = 1e15  # ~30x the 2025 monthly token volume Google reported serving, per day
MAX_TOKENS_PER_REQUEST = 10_000_000
MAX_GPU_HOURLY_USD = 1000.0
MAX_API_USD_PER_1M = 10_000.0
MAX_GPUS = 1_000_000
MAX_API_OFFERINGS = 64  # API offerings one profile compares (each is also priced as a hybrid)
MAX_SEARCH = 1_500  # deployments one profile's search prices: model × GPU × tier × precision
MAX_TP = 1_024  # `estimate --tp`, `calibrate import --tp`
MAX_OPS_FTE = 10_000.0
MAX_BUDGET_USD = 1e12
MAX_PCT = 1e6

# Catalog files (`--catalog`, `prices import`) are bounded the same way, far beyond any real part, so that no
# figure built from them overflows: a 100,000 GB card, 1,000 TB/s, a million TFLOPS, 100T parameters.
MIN_GPU_HOURLY_USD = 0.0001  # the same floor `--gpu-hourly-usd` has
MAX_PURCHASE_USD = 100_000_000.0
MAX_MEMORY_GB = 100_000.0
MIN_SPEC = 0.001  # TB/s, TFLOPS, GB/s: a spec sheet below this is a unit slip
MAX_TB_PER_S = 1_000.0
MAX_TFLOPS = 1_000_000.0
MAX_LINK_GB_PER_S = 100_000.0
MAX_WATTS = 100_000.0
MAX_PARAMS_B = 100_000.0
MAX_DIMENSION = 10_000_000  # layers, widths, heads, vocabulary, experts
MAX_CONTEXT_TOKENS = 1_000_000_000
MAX_FIGURE = 1_000_000.0  # facility figures (PUE, $/kWh, colocation, years) and quality scores

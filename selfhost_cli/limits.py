"""The bounds on every number a user gives, shared by the profile schema and the command-line flags
(docs/profile.md, "Limits"): far beyond any real workload, so a typo of a few zeros is caught and every
figure printed stays finite and checked. Plain constants: the CLI reads them without importing the core."""

MAX_TOKENS_PER_DAY = 1e15  # ~30x the 2025 monthly token volume Google reported serving, per day
MAX_TOKENS_PER_REQUEST = 10_000_000
MAX_GPU_HOURLY_USD = 1000.0
MAX_API_USD_PER_1M = 10_000.0
MAX_GPUS = 1_000_000
MAX_OPS_FTE = 10_000.0
MAX_BUDGET_USD = 1e12
MAX_PCT = 1e6

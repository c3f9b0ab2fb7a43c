"""Write sourced API capabilities into the bundled apis.yaml (one `capabilities:` block per offering).

Input: a YAML file of {sources: {KEY: {url, as_of}}, providers: {name: facts}, offerings: {id: facts}} collected
by hand from providers' documentation; provider facts are defaults, offering facts override them.
Usage: python scripts/merge_capabilities.py scripts/data/capabilities.yaml
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import yaml

APIS = Path(__file__).resolve().parent.parent / "selfhost_cli" / "catalog" / "data" / "apis.yaml"
FACTS = ("custom_weights", "lora", "custom_sampling", "zero_data_retention", "regions")
# Serverless per-token offerings whose provider serves custom weights only on dedicated GPUs billed by the
# hour: that is a managed self-host, not this offering, so the offering itself cannot serve the weights.
DEDICATED_ONLY = {"together", "fireworks", "deepinfra"}
# Fine-tuned model prices per 1M tokens (input, output): OpenAI bills fine-tunes above the base price.
FINE_TUNED_USD = {
    "openai/gpt-4o": (3.75, 15.0),
    "openai/gpt-4o-mini": (0.30, 1.20),
    "openai/gpt-4.1": (3.0, 12.0),
    "openai/gpt-4.1-mini": (0.80, 3.20),
}


def fact_line(name: str, fact: dict, sources: dict) -> str:
    src = sources.get(fact.get("source") or "", {})
    parts = [f"value: {json.dumps(fact.get('value'))}"]
    if src:
        parts.append(f"source: {json.dumps(src['url'])}")
    if fact.get("note"):
        parts.append(f"note: {json.dumps(fact['note'], ensure_ascii=False)}")
    return f"      {name}: {{{', '.join(parts)}}}\n"


def block(api_id: str, data: dict) -> str:
    provider = api_id.split("/")[0]
    facts = {**data["providers"].get(provider, {}), **data["offerings"].get(api_id, {})}
    if provider in DEDICATED_ONLY and facts.get("custom_weights", {}).get("value"):
        cw = facts["custom_weights"]
        facts["custom_weights"] = {
            **cw,
            "value": False,
            "note": "only on a dedicated deployment billed per GPU-hour (a managed self-host), not at this "
            "offering's per-token price. " + (cw.get("note") or ""),
        }
    lines = ["    capabilities:\n"]
    for name in FACTS:
        if name in facts:
            lines.append(fact_line(name, facts[name], data["sources"]))
    if api_id in FINE_TUNED_USD:
        usd_in, usd_out = FINE_TUNED_USD[api_id]
        lines.append(f"      custom_weights_input_usd_per_1m: {usd_in}\n")
        lines.append(f"      custom_weights_output_usd_per_1m: {usd_out}\n")
    lines.append("      as_of: 2026-12-01\n")
    return "".join(lines)


def main() -> None:
    data = yaml.safe_load(Path(sys.argv[1]).read_text(encoding="utf-8"))
    text = APIS.read_text(encoding="utf-8")
    text = re.sub(r"^    capabilities:\n(?:      .*\n)+", "", text, flags=re.M)
    for match in reversed(list(re.finditer(r"^  - id: (\S+)\n", text, flags=re.M))):
        text = text[: match.end()] + block(match.group(1), data) + text[match.end() :]
    APIS.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()

"""Write LMArena quality figures into the bundled catalogs (one `quality:` line per entry).

Input: a YAML file of {models: [{id, score, entry, note}], apis: [...], snapshots: [...]} collected by hand
from the official LMArena leaderboard dataset; run once per refresh, then review the diff.
Usage: python scripts/merge_quality.py scripts/data/quality.yaml
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import yaml

DATA = Path(__file__).resolve().parent.parent / "selfhost_cli" / "catalog" / "data"
SOURCE = "https://huggingface.co/datasets/lmarena-ai/leaderboard-dataset (config text_style_control, category overall)"


def line(row: dict, as_of: str, scale: str) -> str:
    parts = {"score": row["score"], "scale": scale, "entry": row.get("entry"), "source": SOURCE, "as_of": as_of}
    if row.get("note"):
        parts["note"] = row["note"]
    return (
        "    quality: {"
        + ", ".join(f"{k}: {json.dumps(v) if isinstance(v, str) and k != 'as_of' else v}" for k, v in parts.items())
        + "}\n"
    )


def merge(path: Path, rows: list[dict], as_of: str, scale: str) -> None:
    text = path.read_text(encoding="utf-8")
    text = re.sub(r"^    quality: \{.*\}\n", "", text, flags=re.M)
    for row in rows:
        if row.get("score") is None:
            continue
        pattern = re.compile(rf"^  - id: {re.escape(row['id'])}\n", re.M)
        match = pattern.search(text)
        if not match:
            raise SystemExit(f"{row['id']} not in {path.name}")
        text = text[: match.end()] + line(row, as_of, scale) + text[match.end() :]
    path.write_text(text, encoding="utf-8")


def main() -> None:
    data = yaml.safe_load(Path(sys.argv[1]).read_text(encoding="utf-8"))
    as_of = str(data["snapshots"][0]["as_of"])
    merge(DATA / "models.yaml", data["models"], as_of, data["scale"])
    merge(DATA / "apis.yaml", data["apis"], as_of, data["scale"])


if __name__ == "__main__":
    main()

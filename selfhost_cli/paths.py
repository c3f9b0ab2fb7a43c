"""Where selfhost keeps the user's files: the calibration under the config directory, the catalog cache under
the cache directory (XDG locations; no import beyond the standard library, so the CLI can ask before loading
the core)."""

from __future__ import annotations

import os
from pathlib import Path


def default_calibration_path() -> Path:
    """~/.config/selfhost/calibration.yaml (or under $XDG_CONFIG_HOME)."""
    base = os.environ.get("XDG_CONFIG_HOME") or os.path.join(os.path.expanduser("~"), ".config")
    return Path(base) / "selfhost" / "calibration.yaml"


def cache_dir() -> Path | None:
    """`$SELFHOST_CACHE_DIR`, else `$XDG_CACHE_HOME/selfhost`, else `~/.cache/selfhost`; None with
    `SELFHOST_NO_CACHE` set."""
    if os.environ.get("SELFHOST_NO_CACHE"):
        return None
    given = os.environ.get("SELFHOST_CACHE_DIR")
    if given:
        return Path(given)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "selfhost"

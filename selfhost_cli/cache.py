"""A per-user cache of the bundled catalogs once validated, so that a run does not parse and validate
300 KB of YAML before it starts (issue 8's start-up budget).

What is cached is a pickle of the validated objects, named by a hash of everything it was built from: the
source texts, the code that defines and builds the objects (`CODE`), selfhost's version, pydantic's and
Python's. A changed catalog, an edited checkout, a new release or another Python gets a new file; nothing is
ever read back for different inputs. The cache is only a speed-up: a
file that cannot be read, written or trusted is ignored and the catalogs are parsed as before.

Where: `$SELFHOST_CACHE_DIR`, else `$XDG_CACHE_HOME/selfhost`, else `~/.cache/selfhost`. `SELFHOST_NO_CACHE=1`
turns it off. A file is read only from a directory and a file owned by the user and writable by no one else
(a pickle can run code: nobody else may plant one).
"""

from __future__ import annotations

import hashlib
import os
import pickle
import stat
import sys
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TypeVar, cast

from selfhost_cli.paths import cache_dir

T = TypeVar("T")

KEEP = 8  # files of one kind kept; older ones (other versions, edited catalogs) are removed


# The code that defines and builds what is cached: an edit to any of it (a new field, a changed validator, in a
# development checkout where the version does not move) names a new file.
CODE = ("catalog/__init__.py", "catalog/schema.py", "enums.py", "yamlio.py", "calibration.py", "cache.py")


def key(texts: Sequence[str]) -> str:
    """A name for what these inputs build, with this selfhost (its version and the code above), pydantic and
    Python."""
    import pydantic

    from selfhost_cli import __version__

    h = hashlib.sha256(f"{__version__}\0{pydantic.VERSION}\0{sys.version}\0".encode())
    package = Path(__file__).parent
    parts = [text.encode("utf-8") for text in texts] + [(package / name).read_bytes() for name in CODE]
    for data in parts:
        h.update(len(data).to_bytes(8, "little"))
        h.update(data)
    return h.hexdigest()[:32]


def cached(kind: str, texts: Sequence[str], build: Callable[[], T], expect: type) -> T:
    """`build()`, or what an earlier run built from the same `texts` (an instance of `expect`)."""
    folder = cache_dir()
    if folder is None:
        return build()
    try:
        name = key(texts)
    except OSError:  # the sources are not there to fingerprint (a bytecode-only install): no cache
        return build()
    path = folder / f"{kind}-{name}.pickle"
    found = _read(path, expect)
    if found is not None:
        return cast(T, found)  # an instance of `expect`, built by `build` from these texts
    value = build()
    _write(folder, path, value, kind)
    return value


def _trusted(st: os.stat_result) -> bool:
    mine = not hasattr(os, "getuid") or st.st_uid == os.getuid()
    return mine and not st.st_mode & (stat.S_IWGRP | stat.S_IWOTH)


def _read(path: Path, expect: type) -> object | None:
    try:
        if not (_trusted(path.parent.stat()) and _trusted(path.stat())):
            return None
        with path.open("rb") as fh:
            value = pickle.load(fh)
    except Exception:  # missing, truncated, written by another version: rebuilt
        return None
    return value if isinstance(value, expect) else None


def _write(folder: Path, path: Path, value: object, kind: str) -> None:
    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        if not _trusted(folder.stat()):
            return
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{kind}-", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as fh:
                pickle.dump(value, fh, protocol=pickle.HIGHEST_PROTOCOL)
            os.replace(tmp, path)
        except BaseException:
            os.unlink(tmp)
            raise
        old = sorted(folder.glob(f"{kind}-*.pickle"), key=lambda p: p.stat().st_mtime, reverse=True)
        for stale in old[KEEP:]:
            stale.unlink(missing_ok=True)
    except Exception:  # read-only home, full disk, a race with another run: the cache is only a speed-up
        return

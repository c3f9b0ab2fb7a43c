"""The validated-catalog cache: a speed-up that never changes an answer and never trusts a file it should not."""

from __future__ import annotations

import os
import pickle
from pathlib import Path

import pytest

from selfhost_cli import cache, catalog
from selfhost_cli.catalog import Catalog


@pytest.fixture
def folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    d = tmp_path / "cache"
    monkeypatch.setenv("SELFHOST_CACHE_DIR", str(d))
    monkeypatch.delenv("SELFHOST_NO_CACHE", raising=False)
    return d


def _texts() -> list[str]:
    return ["a: 1\n", "b: 2\n"]


def test_second_call_reads_what_the_first_wrote(folder: Path) -> None:
    calls: list[int] = []

    def build() -> dict[str, int]:
        calls.append(1)
        return {"a": 1}

    assert cache.cached("demo", _texts(), build, dict) == {"a": 1}
    assert cache.cached("demo", _texts(), build, dict) == {"a": 1}
    assert len(calls) == 1
    (written,) = folder.glob("demo-*.pickle")
    assert oct(folder.stat().st_mode & 0o777) == "0o700"
    assert not written.stat().st_mode & 0o022


def test_other_inputs_get_another_file(folder: Path) -> None:
    cache.cached("demo", _texts(), lambda: {"n": 1}, dict)
    assert cache.cached("demo", ["a: 1\n", "b: 3\n"], lambda: {"n": 2}, dict) == {"n": 2}
    assert len(list(folder.glob("demo-*.pickle"))) == 2


def test_a_broken_or_foreign_file_is_rebuilt(folder: Path) -> None:
    cache.cached("demo", _texts(), lambda: {"n": 1}, dict)
    (path,) = folder.glob("demo-*.pickle")
    path.write_bytes(b"not a pickle")
    assert cache.cached("demo", _texts(), lambda: {"n": 2}, dict) == {"n": 2}
    path.write_bytes(pickle.dumps(["a list, not the type expected"]))
    assert cache.cached("demo", _texts(), lambda: {"n": 3}, dict) == {"n": 3}


@pytest.mark.skipif(not hasattr(os, "getuid"), reason="POSIX permissions")
def test_a_file_others_can_write_is_not_read(folder: Path) -> None:
    cache.cached("demo", _texts(), lambda: {"n": 1}, dict)
    (path,) = folder.glob("demo-*.pickle")
    path.write_bytes(pickle.dumps({"n": "planted"}))
    path.chmod(0o666)
    assert cache.cached("demo", _texts(), lambda: {"n": 2}, dict) == {"n": 2}


def test_unwritable_or_disabled_cache_still_answers(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    monkeypatch.setenv("SELFHOST_CACHE_DIR", str(blocker / "sub"))  # a directory cannot be made there
    assert cache.cached("demo", _texts(), lambda: {"n": 1}, dict) == {"n": 1}
    monkeypatch.setenv("SELFHOST_NO_CACHE", "1")
    assert cache.cache_dir() is None
    assert cache.cached("demo", _texts(), lambda: {"n": 2}, dict) == {"n": 2}


def test_old_files_are_pruned(folder: Path) -> None:
    for n in range(cache.KEEP + 3):
        cache.cached("demo", [f"v{n}"], lambda n=n: {"n": n}, dict)
    assert len(list(folder.glob("demo-*.pickle"))) == cache.KEEP


def test_the_cached_catalog_equals_a_fresh_parse(folder: Path) -> None:
    catalog.bundled.cache_clear()
    try:
        first = catalog.bundled()  # parsed, written
        catalog.bundled.cache_clear()
        again = catalog.bundled()  # read back
    finally:
        catalog.bundled.cache_clear()
    assert list(folder.glob("catalog-*.pickle"))
    assert isinstance(again, Catalog) and again is not first
    assert again == first
    assert again.gpus["h100-sxm"].prices == first.gpus["h100-sxm"].prices


def test_an_edit_to_the_code_that_builds_the_catalog_names_a_new_file(
    folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = cache.key(_texts())
    monkeypatch.setattr(cache, "CODE", (*cache.CODE, "paths.py"))  # as if another source had changed
    assert cache.key(_texts()) != before
    assert all((Path(cache.__file__).parent / name).is_file() for name in cache.CODE)

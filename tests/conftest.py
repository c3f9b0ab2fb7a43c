"""Test-wide settings: hypothesis runs derandomized and without an example database, so CI is repeatable."""

from hypothesis import settings

settings.register_profile("selfhost", derandomize=True, database=None, deadline=None)
settings.load_profile("selfhost")


def pytest_configure(config):  # noqa: ARG001 - pytest hook signature
    """Runs (in process and in subprocesses) keep their catalog cache out of the user's home."""
    import os
    import tempfile

    os.environ.setdefault("SELFHOST_CACHE_DIR", tempfile.mkdtemp(prefix="selfhost-test-cache-"))

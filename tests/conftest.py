"""Test-wide settings: hypothesis runs derandomized and without an example database, so CI is repeatable."""

from hypothesis import settings

settings.register_profile("selfhost", derandomize=True, database=None, deadline=None)
settings.load_profile("selfhost")

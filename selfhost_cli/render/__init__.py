"""Output: rich tables and charts for people, JSON for programs, Markdown for pull requests."""

from __future__ import annotations

from enum import Enum


class Format(str, Enum):
    TABLE = "table"
    JSON = "json"
    MARKDOWN = "markdown"

"""The errors the core raises; the CLI turns each into a message and an exit code."""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from enum import IntEnum


class ExitCode(IntEnum):
    """Process exit codes (SPEC §2); one enum, documented in the README."""

    OK = 0
    GATE_FAILED = 1
    USAGE = 2
    INVALID_INPUT = 3
    INTERNAL = 4  # a bug in selfhost (never an input problem); reported without a traceback


class SelfhostError(Exception):
    """Base of every error meant for a user: `message` is complete, `hint` optional."""

    exit_code = ExitCode.USAGE

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return self.message if not self.hint else f"{self.message}\nHint: {self.hint}"


class UsageError(SelfhostError):
    """A flag, argument or id the user typed is wrong (exit 2)."""

    exit_code = ExitCode.USAGE


class InputFileError(SelfhostError):
    """A file the user gave is unreadable or invalid (exit 3); message is `FILE:LINE: key.path: what`."""

    exit_code = ExitCode.INVALID_INPUT


def suggestions(word: str, choices: Iterable[str], n: int = 3) -> list[str]:
    """Close matches for a mistyped id or key, best first; also ids that contain the word."""
    pool = list(choices)
    lowered = word.lower()
    # ids that start with what was typed ('h100' -> 'h100-sxm') first, then spelling neighbours, then
    # ids containing it (only for words long enough to mean something)
    prefixed = sorted((c for c in pool if lowered and c.lower().startswith(lowered)), key=len)
    close = [c for c in difflib.get_close_matches(word, pool, n=n, cutoff=0.6) if c not in prefixed]
    contained = [c for c in pool if len(lowered) >= 3 and lowered in c.lower() and c not in prefixed + close]
    return (prefixed + close + contained)[:n]


def did_you_mean(word: str, choices: Iterable[str]) -> str | None:
    """`"did you mean 'a' or 'b'?"`, or None when nothing is close."""
    close = suggestions(word, choices)
    if not close:
        return None
    return "did you mean " + " or ".join(f"'{c}'" for c in close) + "?"


def unknown_id(kind: str, word: str, choices: Iterable[str]) -> UsageError:
    """The error for an id not in a catalog, with close matches and where to list them."""
    pool = sorted(choices)
    guess = did_you_mean(word, pool)
    message = f"unknown {kind} id '{word}'" + (f"; {guess}" if guess else "")
    return UsageError(message, hint=f"`selfhost catalog {kind}s` lists the {len(pool)} known ids")

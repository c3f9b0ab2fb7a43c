"""The `selfhost` console script (and `python -m selfhost_cli`): answers `--version` before anything else is
imported, then runs the CLI. A Python without selfhost's dependencies, run from a checkout whose `.venv` has
them (the README's quick start makes one), hands the command to that environment's Python; anywhere else it
gets one line saying what is missing, not a traceback."""

from __future__ import annotations

import os
import sys

# Set on the hand-over, so an environment that lacks the dependencies too is reported, not re-entered.
HANDED_OVER = "SELFHOST_VENV_HANDOVER"


def main() -> None:
    if sys.argv[1:] == ["--version"]:  # the common probe (CI, bug reports): no Typer app to build
        from selfhost_cli import __version__

        sys.stdout.write(f"selfhost {__version__}\n")
        return
    try:
        from selfhost_cli.cli import main as cli_main
    except ModuleNotFoundError as exc:  # selfhost is importable, its dependencies are not installed here
        venv = checkout_python()
        if venv is not None:
            os.execve(venv, [venv, "-m", "selfhost_cli", *sys.argv[1:]], {**os.environ, HANDED_OVER: "1"})
        sys.stderr.write(
            f"selfhost: cannot start: the package '{exc.name}' is not installed in {sys.executable}\n"
            "Hint: install selfhost with its dependencies: pip install -e . (or pip install selfhost-cli)\n"
        )
        raise SystemExit(4) from None
    cli_main()


def checkout_python() -> str | None:
    """The Python of the `.venv` beside this package's checkout, when there is one other than the running one
    and this process was not itself handed over."""
    if os.environ.get(HANDED_OVER):
        return None
    from pathlib import Path  # only on this failure path: `--version` stays an import of sys alone

    venv = Path(__file__).resolve().parent.parent / ".venv"
    if Path(sys.prefix).resolve() == venv.resolve():  # already running in it (its python links to the same binary)
        return None
    for candidate in (venv / "bin" / "python", venv / "Scripts" / "python.exe"):
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return str(candidate)
    return None

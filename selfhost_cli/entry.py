"""The `selfhost` console script: answers `--version` before anything else is imported, then runs the CLI."""

from __future__ import annotations

import sys


def main() -> None:
    if sys.argv[1:] == ["--version"]:  # the common probe (CI, bug reports): no Typer app to build
        from selfhost_cli import __version__

        sys.stdout.write(f"selfhost {__version__}\n")
        return
    from selfhost_cli.cli import main as cli_main

    cli_main()

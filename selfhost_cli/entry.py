"""The `selfhost` console script (and `python -m selfhost_cli`): answers `--version` before anything else is
imported, then runs the CLI; a Python without selfhost's dependencies gets one line saying so, not a
traceback."""

from __future__ import annotations

import sys


def main() -> None:
    if sys.argv[1:] == ["--version"]:  # the common probe (CI, bug reports): no Typer app to build
        from selfhost_cli import __version__

        sys.stdout.write(f"selfhost {__version__}\n")
        return
    try:
        from selfhost_cli.cli import main as cli_main
    except ModuleNotFoundError as exc:  # selfhost is importable, its dependencies are not installed here
        sys.stderr.write(
            f"selfhost: cannot start: the package '{exc.name}' is not installed in {sys.executable}\n"
            "Hint: install selfhost with its dependencies: pip install -e . (or pip install selfhost-cli)\n"
        )
        raise SystemExit(4) from None
    cli_main()

"""`python -m selfhost_cli` runs the CLI."""

from selfhost_cli.cli import main

main()

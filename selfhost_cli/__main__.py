"""`python -m selfhost_cli` runs the CLI, as the `selfhost` script does."""

from selfhost_cli.entry import main

main()

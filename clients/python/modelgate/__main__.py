"""`python -m modelgate` is the `modelgate` command."""

from modelgate.cli.main import main

main()

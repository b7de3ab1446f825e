"""``python -m pastdue``: the same as the ``pastdue`` command."""

from pastdue.cli import main

main()

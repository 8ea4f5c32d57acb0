"""``python -m chopmark.cli``: the ``chopmark`` command, as before the command line became a package."""

from chopmark.cli.main import main

main()

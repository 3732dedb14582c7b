"""``python -m imajin`` is the same as the ``imajin`` command."""

from imajin.cli import main

main()

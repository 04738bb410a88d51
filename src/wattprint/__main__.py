"""``python -m wattprint`` runs the command-line tool."""

from wattprint.cli import main

main()

"""``python -m syndicate`` runs the command line."""

from .cli import main

main(prog_name="syndicate")

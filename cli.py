"""Run syndicate's command line from a checkout: ``python cli.py build``."""

from syndicate.cli import main

if __name__ == "__main__":
    main(prog_name="syndicate")

"""``python -m keeper``: the keeper's command group (``keeper/cli/``)."""

from __future__ import annotations

from keeper.cli import cli

if __name__ == "__main__":
    cli()

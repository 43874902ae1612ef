"""``keeper audit verify --log PATH``: check the audit log's hash chain and every decision's evidence hash.

Prints the report as one JSON object. Exit 0 when intact, 1 when a line was tampered with, 2 when the file
cannot be read.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from keeper.audit_log import verify_audit_log

EXIT_OK = 0
EXIT_TAMPERED = 1
EXIT_UNREADABLE = 2


@click.group()
def audit() -> None:
    """Audit-log tools."""


@audit.command("verify")
@click.option("--log", "log_path", type=click.Path(path_type=Path), required=True, help="The JSON-lines log.")
def verify_log(log_path: Path) -> None:
    """Verify the hash chain and recompute every evidence hash."""
    try:
        report = verify_audit_log(log_path)
    except OSError as exc:
        click.echo(json.dumps({"error": "unreadable", "detail": str(exc)}))
        sys.exit(EXIT_UNREADABLE)
    click.echo(report.model_dump_json())
    sys.exit(EXIT_OK if report.ok else EXIT_TAMPERED)

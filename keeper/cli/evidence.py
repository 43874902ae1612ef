"""``keeper evidence export CLAIM_ID > bundle.json`` and ``keeper evidence check bundle.json [--rpc URL
--guard ADDRESS]``: raw evidence anyone can re-derive a verdict from.

``export`` reads the keeper's store (``LG_DATABASE_PATH`` or ``--database``) and prints one bundle: the claim
as judged, the effective policy, the exact bytes of every exchange answer the verdict rests on, the decision,
the canonical record and its evidence hash.

``check`` needs no credentials, no store and no exchange: it re-parses the raw answers with the keeper's
adapters, re-runs the policy (or the reviewer's decision through the same caps), recomputes the record and
its hash, and with ``--rpc`` compares the hash with the claim's latest ``ClaimVerified`` event. It prints one
JSON line per step (``{"step": ..., "ok": ..., "detail": ...}``) and a last line ``{"ok": ..., "failed":
[...]}``.

Exit codes: 0 all steps agree (export: bundle printed); 1 a step disagrees (export: no decision stored for
the claim); 2 the bundle or store cannot be read; 69 the RPC node cannot be reached.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click

from keeper.evidence_bundle import (
    CheckReport,
    build_bundle,
    chain_step,
    check_bundle,
    claim_verified,
    with_chain,
)
from keeper.settings import KeeperSettings
from keeper.store import StoreError, UnknownClaimError, open_store

EXIT_OK = 0
EXIT_DISAGREES = 1
EXIT_UNREADABLE = 2
EXIT_RPC = 69


def _emit(payload: dict[str, Any]) -> None:
    click.echo(json.dumps(payload, sort_keys=True, separators=(",", ":")))


@click.group()
def evidence() -> None:
    """Export and check the raw evidence of a verdict."""


@evidence.command("export")
@click.argument("claim_id", type=click.IntRange(min=1))
@click.option(
    "--database",
    type=click.Path(path_type=Path),
    help="The keeper's SQLite store (default: LG_DATABASE_URL's PostgreSQL store, else LG_DATABASE_PATH).",
)
def export(claim_id: int, database: Path | None) -> None:
    """Print the evidence bundle of one decided claim."""
    settings = KeeperSettings()
    if database is not None:  # an explicit file is SQLite, whatever LG_DATABASE_URL says
        settings = settings.model_copy(update={"database_path": database, "database_url": None})
    if settings.database_url is None and not settings.database_path.exists():
        _emit({"error": "unreadable", "detail": f"no store at {settings.database_path}"})
        sys.exit(EXIT_UNREADABLE)
    try:
        store = open_store(settings)
    except StoreError as exc:  # e.g. PostgreSQL unreachable (the message never holds the password)
        _emit({"error": "unreadable", "detail": str(exc)})
        sys.exit(EXIT_UNREADABLE)
    try:
        stored = store.decision(claim_id)
        if stored is None:
            state = store.claim(claim_id).state.value
            _emit({"error": "no_decision", "detail": f"claim {claim_id} is {state}: no decision to export"})
            sys.exit(EXIT_DISAGREES)
        policy = stored.policy
        if policy is None:  # decided by a keeper before schema 3: today's settings are the best guess
            click.echo("warning: no stored policy for this decision; using today's LG_* policy", err=True)
            policy = settings.policy()
        bundle = build_bundle(
            claim_id, stored.decision, stored.canonical_record, store.answers(claim_id), policy
        )
    except UnknownClaimError as exc:
        _emit({"error": "unknown_claim", "detail": str(exc)})
        sys.exit(EXIT_DISAGREES)
    except StoreError as exc:
        _emit({"error": "unreadable", "detail": str(exc)})
        sys.exit(EXIT_UNREADABLE)
    finally:
        store.close()
    click.echo(json.dumps(bundle, sort_keys=True, indent=2))


@evidence.command("check")
@click.argument("bundle_path", type=click.Path(path_type=Path))
@click.option("--rpc", help="JSON-RPC URL of a node of the chain the verdict was posted on.")
@click.option("--guard", help="The LeverageGuard proxy address (with --rpc).")
@click.option("--from-block", type=click.IntRange(min=0), default=0, show_default=True)
def check(bundle_path: Path, rpc: str | None, guard: str | None, from_block: int) -> None:
    """Re-derive a bundle's verdict from its raw answers (and compare it with the chain)."""
    if (rpc is None) != (guard is None):
        raise click.UsageError("--rpc and --guard go together")
    try:
        data = json.loads(bundle_path.read_bytes())
        if not isinstance(data, dict):
            raise ValueError("the bundle is not a JSON object")
    except (OSError, ValueError) as exc:
        _emit({"error": "unreadable", "detail": str(exc)})
        sys.exit(EXIT_UNREADABLE)
    report = check_bundle(data)
    if rpc is not None and guard is not None and report.claim_id is not None:
        try:
            on_chain = claim_verified(rpc, guard, report.claim_id, from_block)
        except Exception as exc:  # any RPC failure: the check could not be made, which is not "disagrees"
            _print(report)
            _emit({"error": "rpc", "detail": f"{type(exc).__name__}: {exc}"})
            sys.exit(EXIT_RPC)
        report = with_chain(report, chain_step(str(data.get("evidence_hash", "")), on_chain))
    _print(report)
    sys.exit(EXIT_OK if report.ok else EXIT_DISAGREES)


def _print(report: CheckReport) -> None:
    for step in report.steps:
        _emit(step.model_dump(mode="json"))
    _emit({"claim_id": report.claim_id, "ok": report.ok, "failed": report.failed})

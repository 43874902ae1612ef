"""`ape run report`: claims, verdicts, payouts and the pool, from chain events and the keeper's database.

    ape run report --out reports/ [--keeper-db keeper.sqlite] [--since 2026-11-01] [--until 2026-12-01]

Writes report.json (every claim with its history, PayoutFailed count, cancellation and reopenings; every
policy with its limit, `used` = paid out + reserved, and remaining; pool points; amounts in base units),
summary.csv (claims and amounts by status, exchange and reason, in token units) and three PNG charts: verdicts
by reason, payouts over time, pool free vs reserved. --since/--until take an ISO date/datetime (UTC) or a unix
time.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click
from ape import chain
from ape.cli import ConnectedProviderCommand

from operator_toolkit.charts import write_charts
from operator_toolkit.cli_options import guard_context
from operator_toolkit.cli_output import console, table
from operator_toolkit.context import GuardContext
from operator_toolkit.deployment import deployment_path, read_deployment
from operator_toolkit.report import build_report
from operator_toolkit.report_files import summary_rows, write_json, write_summary_csv
from operator_toolkit.units import parse_timestamp


def _deployment_block(network_name: str, deployments_dir: Path, proxy: str) -> int:
    """Where to start reading events: the block the recorded deployment of this proxy was made in, else 0."""
    path = deployment_path(network_name, deployments_dir)
    if not path.exists():
        return 0
    record = read_deployment(path)
    return int(record.get("block", 0)) if str(record.get("proxy", "")).lower() == proxy.lower() else 0


@click.command(cls=ConnectedProviderCommand, short_help="JSON, CSV and PNG report of claims and the pool")
@guard_context
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), default=Path("reports"))
@click.option("--keeper-db", type=click.Path(dir_okay=False, exists=True, path_type=Path), default=None)
@click.option("--since", default=None, help="Start (inclusive): ISO date/datetime in UTC, or unix time.")
@click.option("--until", default=None, help="End (exclusive): ISO date/datetime in UTC, or unix time.")
@click.option("--from-block", type=click.IntRange(min=0), default=None, help="Default: the deployment block.")
def cli(
    network: Any,
    ctx: GuardContext,
    deployments_dir: Path,
    out_dir: Path,
    keeper_db: Path | None,
    since: str | None,
    until: str | None,
    from_block: int | None,
) -> None:
    if from_block is None:
        from_block = _deployment_block(network.name, deployments_dir, str(ctx.guard.address))
    report = build_report(
        ctx,
        chain,
        from_block=from_block,
        since=parse_timestamp(since) if since else None,
        until=parse_timestamp(until) if until else None,
        keeper_db=keeper_db,
    )
    out_dir.mkdir(parents=True, exist_ok=True)
    write_json(report, out_dir / "report.json")
    write_summary_csv(report, out_dir / "summary.csv")
    charts = write_charts(report, out_dir)
    rows = [
        [r["dimension"], r["key"], r["claims"], r["claimed_loss"], r["payout"]] for r in summary_rows(report)
    ]
    table(f"Claims ({report.symbol})", ("by", "key", "claims", "claimed loss", "payout"), rows)
    console.print(
        f"pool now {ctx.fmt(report.current['total_assets'])}, "
        f"reserved {ctx.fmt(report.current['reserved'])}, "
        f"free {ctx.fmt(report.current['free'])}"
    )
    used = sum(p.used for p in report.policies)
    console.print(
        f"{len(report.policies)} policies, {ctx.fmt(used)} used (paid out + reserved); "
        f"{report.payout_failures} payout(s) refused by the token (PayoutFailed)"
    )
    console.print(
        f"Wrote {out_dir / 'report.json'}, {out_dir / 'summary.csv'}, {', '.join(str(p) for p in charts)}"
    )

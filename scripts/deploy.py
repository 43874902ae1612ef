"""`ape run deploy`: deploy LeverageGuard (LeverageGuardAdmin, the implementation and an ERC1967 proxy);
record it in deployments/.

    ape run deploy --network ethereum:local:foundry --account TEST::0 \
        --signer 0x… --signer 0x… --signer 0x… --threshold 2 [--asset 0x…] [--execution-delay 48h] [--force]

On a local network without `--asset` it also deploys TestUSDT (a mintable 6-decimal test token); on any other
network `--asset` is required. The record names the proxy, the implementation and the admin it delegates to.

A fresh pool has no execution delay, so the signers can grant roles and set limits at once. With
`--execution-delay` (the deployer must then be a signer) the deployment's proposal sets it, simulated first;
with threshold 1 it is executed at once, otherwise the other signers confirm and execute it last, after the
configuration proposals: from then on every proposal waits out the delay after reaching its threshold.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click
from ape import project
from ape.cli import ConnectedProviderCommand

from operator_toolkit.cli_options import account_option
from operator_toolkit.cli_output import console
from operator_toolkit.context import load_context
from operator_toolkit.deployment import (
    DEPLOYMENTS_DIR,
    DeploymentExistsError,
    abi_sha256,
    deploy_leverage_guard,
    deployment_path,
    write_deployment,
)
from operator_toolkit.governance import preview, send
from operator_toolkit.units import format_duration, format_timestamp, parse_duration

LOCAL_NETWORKS = {"local"}


@click.command(cls=ConnectedProviderCommand, short_help="Deploy LeverageGuard behind an ERC1967 proxy")
@account_option()
@click.option("--signer", "signers", multiple=True, required=True, help="A multisig signer (repeat).")
@click.option("--threshold", type=click.IntRange(min=1), required=True, help="Confirmations to execute.")
@click.option("--asset", default=None, help="The pool's ERC-20 stablecoin (TestUSDT on local if omitted).")
@click.option(
    "--execution-delay",
    default="0",
    show_default=True,
    help="Governance execution delay (e.g. 48h), set by the deployment's proposal; 0: none.",
)
@click.option("--force", is_flag=True, help="Overwrite an existing deployments/<network>.json.")
@click.option(
    "--deployments-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=DEPLOYMENTS_DIR,
    show_default=True,
    help="Where the deployment record is written.",
)
def cli(network, account, signers, threshold, asset, execution_delay, force, deployments_dir):  # type: ignore[no-untyped-def]
    path = deployment_path(network.name, deployments_dir)
    if path.exists() and not force:
        raise click.ClickException(str(DeploymentExistsError(path)))
    delay = parse_duration(execution_delay)
    if delay and account.address.lower() not in {s.lower() for s in signers}:
        raise click.UsageError(f"--execution-delay needs the deployer {account.address} among the signers")
    if asset is None:
        if network.name not in LOCAL_NETWORKS:
            raise click.UsageError(f"--asset is required on network {network.name!r}")
        asset = account.deploy(project.TestUSDT).address
        click.echo(f"TestUSDT deployed at {asset}")
    deployment = deploy_leverage_guard(project, account, asset, list(signers), threshold)
    record = deployment.record(network.name, str(asset), abi_sha256(project.ILeverageGuard.contract_type))
    write_deployment(record, path, force=force)
    click.echo(
        f"LeverageGuard proxy {record['proxy']} (implementation {record['implementation']}, "
        f"admin {record['admin']})"
    )
    click.echo(f"Deployment written to {path}")
    if delay:
        _propose_execution_delay(load_context(project, record["proxy"]), account, delay)


def _propose_execution_delay(ctx: Any, account: Any, delay: int) -> None:
    guard = ctx.guard
    data = bytes(guard.setExecutionDelay.encode_input(delay))
    preview(ctx, data, "The deployment's last proposal:")  # refused (exit 1) with the decoded error
    receipt = send(ctx, guard.propose, guard.address, 0, data, sender=account)
    proposal_id = int(receipt.decode_logs(guard.ProposalCreated)[0].proposalId)
    if receipt.decode_logs(guard.ProposalScheduled):
        send(ctx, guard.execute, proposal_id, sender=account)
        console.print(f"Proposal #{proposal_id} executed: execution delay {format_duration(delay)}")
        return
    expires = format_timestamp(int(guard.getProposal(proposal_id).expiresAt))
    console.print(
        f"Proposal #{proposal_id} sets the execution delay to {format_duration(delay)}; after the "
        f"configuration proposals, signers confirm and execute it last (ape run proposals confirm "
        f"{proposal_id}, then execute {proposal_id}) before {expires}."
    )

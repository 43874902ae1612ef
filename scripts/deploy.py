"""`ape run deploy`: deploy LeverageGuard (implementation + ERC1967 proxy); record it in deployments/.

    ape run deploy --network ethereum:local:foundry --account TEST::0 \
        --signer 0x… --signer 0x… --signer 0x… --threshold 2 [--asset 0x…] [--force]

On a local network without `--asset` it also deploys TestUSDT (a mintable 6-decimal test token); on any other
network `--asset` is required.
"""

from __future__ import annotations

from pathlib import Path

import click
from ape import project
from ape.cli import ConnectedProviderCommand, account_option

from ops.deployment import (
    DEPLOYMENTS_DIR,
    DeploymentExistsError,
    abi_sha256,
    deploy_leverage_guard,
    deployment_path,
    write_deployment,
)

LOCAL_NETWORKS = {"local"}


@click.command(cls=ConnectedProviderCommand, short_help="Deploy LeverageGuard behind an ERC1967 proxy")
@account_option()
@click.option("--signer", "signers", multiple=True, required=True, help="A multisig signer (repeat).")
@click.option("--threshold", type=click.IntRange(min=1), required=True, help="Confirmations to execute.")
@click.option("--asset", default=None, help="The pool's ERC-20 stablecoin (TestUSDT on local if omitted).")
@click.option("--force", is_flag=True, help="Overwrite an existing deployments/<network>.json.")
@click.option(
    "--deployments-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=DEPLOYMENTS_DIR,
    show_default=True,
    help="Where the deployment record is written.",
)
def cli(network, account, signers, threshold, asset, force, deployments_dir):  # type: ignore[no-untyped-def]
    path = deployment_path(network.name, deployments_dir)
    if path.exists() and not force:
        raise click.ClickException(str(DeploymentExistsError(path)))
    if asset is None:
        if network.name not in LOCAL_NETWORKS:
            raise click.UsageError(f"--asset is required on network {network.name!r}")
        asset = account.deploy(project.TestUSDT).address
        click.echo(f"TestUSDT deployed at {asset}")
    deployment = deploy_leverage_guard(project, account, asset, list(signers), threshold)
    record = deployment.record(network.name, str(asset), abi_sha256(project.LeverageGuard.contract_type))
    write_deployment(record, path, force=force)
    click.echo(f"LeverageGuard proxy {record['proxy']} (implementation {record['implementation']})")
    click.echo(f"Deployment written to {path}")

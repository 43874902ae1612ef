"""``keeper console --network ecosystem:network:provider [--contract ADDRESS]``: the read-only web console.

Served on 127.0.0.1 only, at ``LG_CONSOLE_PORT`` (default 8780; ``--port`` overrides): the pages name
claims, traders and amounts, so they stay on the operator's machine (an SSH tunnel reaches them from
elsewhere). It reads the pool through the keeper's ``ChainClient`` (with no sender: it cannot write) and the
keeper's store (``LG_DATABASE_URL`` / ``LG_DATABASE_PATH``) opened read-only (the database refuses writes;
nothing is migrated), and never signs: each page shows the command
that performs an action. The contract is found as ``keeper run`` finds it.

Exit codes: 0 stopped; 2 no store to read; 78 configuration error.
"""

from __future__ import annotations

import sys

import click

from keeper.app import ConfigurationError, load_settings
from keeper.daemon import EXIT_CONFIG
from keeper.settings import KeeperSettings
from keeper.store import StoreError, open_store

HOST = "127.0.0.1"
EXIT_NO_STORE = 2


def default_keeper_url(settings: KeeperSettings) -> str | None:
    """The daemon's health server as its settings place it; None when the daemon serves none."""
    if not settings.metrics_enabled:
        return None
    return f"http://{settings.metrics_host}:{settings.metrics_port}"


@click.command()
@click.option("--network", required=True, help="ape network choice, e.g. ethereum:sepolia:node.")
@click.option("--contract", "address", help="The pool's proxy (default: as `keeper run`).")
@click.option("--port", type=click.IntRange(0, 65535), help="Port on 127.0.0.1 (default: LG_CONSOLE_PORT).")
@click.option(
    "--keeper-url",
    help="Where the keeper daemon serves /healthz and /metrics (default: LG_METRICS_HOST:LG_METRICS_PORT).",
)
def console(network: str, address: str | None, port: int | None, keeper_url: str | None) -> None:
    """Serve the read-only console on 127.0.0.1."""
    try:
        settings, contract_address = load_settings(address, network)
    except ConfigurationError as exc:
        click.echo(f"configuration error: {exc}", err=True)
        sys.exit(EXIT_CONFIG)
    if settings.database_url is None and not settings.database_path.exists():
        click.echo(f"no keeper store at {settings.database_path}: run the keeper first", err=True)
        sys.exit(EXIT_NO_STORE)
    try:
        store = open_store(settings, read_only=True)
    except StoreError as exc:
        click.echo(f"store error: {exc}", err=True)
        sys.exit(EXIT_NO_STORE)
    # Imported here: ape and the web stack load slowly and only this command needs them.
    import uvicorn
    from ape import chain, networks, project

    from keeper.chain import ChainClient
    from keeper.console.app import create_app
    from keeper.console.sources import LiveSource
    from operator_toolkit.context import load_context

    with networks.parse_network_choice(network):
        governance = load_context(project, contract_address)
        client = ChainClient(governance.guard, None, chain)
        rpc_url = str(chain.provider.uri)  # the re-check reads ClaimVerified from the same node
        source = LiveSource(
            client,
            store,
            governance,
            rpc_url,
            settings.policy(),
            from_block=settings.start_block,
            keeper_url=keeper_url or default_keeper_url(settings),
        )
        app = create_app(source, governance.decimals, governance.symbol)
        chosen = settings.console_port if port is None else port
        click.echo(f"console on http://{HOST}:{chosen}/ (port 0: see uvicorn's log)", err=True)
        uvicorn.run(app, host=HOST, port=chosen, log_level="info", ws="none")  # GET pages only: no websockets
    store.close()

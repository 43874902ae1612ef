"""Run the simulated exchange (default command) or generate scenario files (`generate`)."""

from __future__ import annotations

import logging
import signal
import sys
from pathlib import Path
from types import FrameType

import click

from keeper.sim.faults import FaultConfig
from keeper.sim.generator import generate, generate_edge_cases
from keeper.sim.scenarios import ScenarioFile
from keeper.sim.server import SimExchange


@click.group(invoke_without_command=True)
@click.option(
    "--port", type=click.IntRange(0, 65535), default=0, show_default=True, help="0 picks a free port."
)
@click.option("--scenarios", "scenarios_path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--latency-ms", type=click.IntRange(min=0), default=0, show_default=True)
@click.option("--error-5xx-rate", type=click.FloatRange(0, 1), default=0.0, show_default=True)
@click.option("--rate-limit-burst", type=click.IntRange(min=0), default=0, show_default=True)
@click.option("--timeout-rate", type=click.FloatRange(0, 1), default=0.0, show_default=True)
@click.option("--truncated-rate", type=click.FloatRange(0, 1), default=0.0, show_default=True)
@click.option("--malformed-rate", type=click.FloatRange(0, 1), default=0.0, show_default=True)
@click.option(
    "--retry-after-seconds",
    type=click.IntRange(min=0),
    default=None,
    help="Retry-After on the injected 429s (--rate-limit-burst); default: none.",
)
@click.option(
    "--retry-after-omit-rate",
    type=click.FloatRange(0, 1),
    default=0.0,
    show_default=True,
    help="Share of Binance 429s sent without Retry-After (USD-M does not promise it).",
)
@click.option(
    "--clock-skew-ms",
    type=int,
    default=0,
    show_default=True,
    help="Run the exchange's clock this far ahead of the host's (negative: behind).",
)
@click.option("--fault-seed", type=int, default=0, show_default=True)
@click.pass_context
def main(
    ctx: click.Context,
    port: int,
    scenarios_path: Path | None,
    latency_ms: int,
    error_5xx_rate: float,
    rate_limit_burst: int,
    timeout_rate: float,
    truncated_rate: float,
    malformed_rate: float,
    retry_after_seconds: int | None,
    retry_after_omit_rate: float,
    clock_skew_ms: int,
    fault_seed: int,
) -> None:
    """Serve the simulated OKX v5, Binance USD-M and Bybit v5 APIs on 127.0.0.1."""
    if ctx.invoked_subcommand is not None:
        return
    if scenarios_path is None:
        raise click.UsageError("--scenarios FILE is required to serve (or use the 'generate' command)")
    faults = FaultConfig(
        latency_ms=latency_ms,
        error_5xx_rate=error_5xx_rate,
        rate_limit_burst=rate_limit_burst,
        timeout_rate=timeout_rate,
        truncated_rate=truncated_rate,
        malformed_rate=malformed_rate,
        retry_after_seconds=retry_after_seconds,
        retry_after_omit_rate=retry_after_omit_rate,
        clock_skew_ms=clock_skew_ms,
        seed=fault_seed,
    )
    logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(asctime)s %(levelname)s %(message)s")
    sim = SimExchange(ScenarioFile.load(scenarios_path), port=port, faults=faults)

    def stop(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)
    # The port alone on the first stdout line, so scripts and tests can read it when --port 0 was given.
    click.echo(sim.port)
    sys.stdout.flush()
    click.echo(f"simulated exchange on {sim.url} (OKX /api/v5, Binance /fapi/v1, Bybit /v5)", err=True)
    try:
        sim.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        sim.httpd.server_close()


@main.command("generate")
@click.option("--count", type=click.IntRange(min=1), help="Random scenarios (required without --edge-cases).")
@click.option(
    "--edge-cases",
    is_flag=True,
    help="Instead: one claim per rule of the real exchanges (retention, delisted instruments, settlement "
    "currencies, penalties), generated for now.",
)
@click.option("--seed", type=int, required=True)
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), required=True, help="Scenario file.")
@click.option(
    "--accounts-out",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Keeper accounts file (LG_ACCOUNTS_FILE); default: <out stem>.accounts.json next to --out.",
)
def generate_command(
    count: int | None, edge_cases: bool, seed: int, out: Path, accounts_out: Path | None
) -> None:
    """Write COUNT seeded random scenarios (or the edge cases) with their expected verdicts, and the matching
    accounts file."""
    if (count is None) == (not edge_cases):
        raise click.UsageError("give --count N or --edge-cases (one of them)")
    scenarios = generate_edge_cases(seed) if count is None else generate(count, seed)
    scenarios.dump(out)
    accounts_path = accounts_out or out.with_name(f"{out.stem}.accounts.json")
    scenarios.write_keeper_accounts(accounts_path)
    click.echo(f"wrote {len(scenarios.expected)} scenarios to {out} and accounts to {accounts_path}")


if __name__ == "__main__":
    # Every option can also come from the environment: LG_SIM_PORT, LG_SIM_LATENCY_MS, ...
    main(auto_envvar_prefix="LG_SIM")

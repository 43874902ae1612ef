"""Keeper suite fixtures: a simulated exchange on port 0, settings pointing at it, hypothesis profiles, and
the store's databases (SQLite, and a real PostgreSQL server for the session)."""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, settings
from support.factories import make_settings
from support.keeper_world import DAY, PASSPHRASE, KeeperWorld
from support.pool import Governance
from support.store_backends import (
    NoPostgresError,
    PostgresBackend,
    SqliteBackend,
    StoreBackend,
    fresh_database,
    start_cluster,
    stop_cluster,
)

from keeper.exchanges.registry import AdapterRegistry
from keeper.exchanges.verifier import Verifier
from keeper.settings import AccountRegistry, KeeperSettings
from keeper.sim import generator
from keeper.sim.generator import generate, generate_edge_cases
from keeper.sim.onchain import ClaimSeeder
from keeper.sim.scenarios import ScenarioFile
from keeper.sim.server import SimExchange, SimLimits
from operator_toolkit.local_account import LIGHT_SCRYPT_N, write_keystore

settings.register_profile("keeper-default", max_examples=60, deadline=None)
settings.register_profile(
    "deep", max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "keeper-default"))

SCENARIO_SEED = 20261124
SCENARIO_COUNT = 60
EDGE_SEED = 12_2026
WORLD_SEED = 5_2026


@pytest.fixture(scope="session")
def scenarios() -> ScenarioFile:
    return generate(SCENARIO_COUNT, SCENARIO_SEED)


@pytest.fixture(scope="module")
def edge() -> ScenarioFile:
    """One claim per rule of the real exchanges, generated for now (the simulator serves it on the real
    clock: retention is counted from it)."""
    return generate_edge_cases(EDGE_SEED, int(time.time()))


@pytest.fixture(scope="module")
def edge_sim(edge: ScenarioFile) -> Iterator[SimExchange]:
    exchange = SimExchange(edge, limits=SimLimits()).start()
    yield exchange
    exchange.stop()


@pytest.fixture(scope="module")
def edge_accounts(edge: ScenarioFile, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The keeper's accounts file for the edge-case accounts."""
    path = tmp_path_factory.mktemp("edge") / "accounts.json"
    edge.write_keeper_accounts(path)
    return path


@pytest.fixture
def sim(scenarios: ScenarioFile) -> Iterator[SimExchange]:
    """A simulator per test: its rate-limit windows and faults must not leak into the next test."""
    exchange = SimExchange(scenarios, limits=SimLimits()).start()
    yield exchange
    exchange.stop()


@pytest.fixture(scope="session")
def accounts_file(scenarios: ScenarioFile, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("accounts") / "accounts.json"
    scenarios.write_keeper_accounts(path)
    return path


@pytest.fixture
def keeper_settings(sim: SimExchange, accounts_file: Path, tmp_path: Path) -> KeeperSettings:
    return make_settings(sim.url, accounts_file, tmp_path / "malformed")


@pytest.fixture
def verifier(keeper_settings: KeeperSettings) -> Verifier:
    return Verifier(
        keeper_settings.account_registry(), AdapterRegistry(keeper_settings), keeper_settings.verify_workers
    )


@pytest.fixture
def account_registry(keeper_settings: KeeperSettings) -> AccountRegistry:
    return keeper_settings.account_registry()


@pytest.fixture
def keeper_world(
    chain: Any,
    accounts: Any,
    guard: Any,
    registrar: Any,
    deployer: Any,
    tmp_path: Path,
) -> Iterator[Callable[[int], KeeperWorld]]:
    """``keeper_world(count)``: scenarios anchored a day after chain time, and a simulator serving them;
    ``pool=`` another configured guard than the fixtures' (e.g. one on USDC)."""
    started: list[SimExchange] = []

    def build(count: int, seed: int = WORLD_SEED, pool: Any = None, **sim_options: Any) -> KeeperWorld:
        on = guard if pool is None else pool
        scenarios = generator.generate(count, seed, anchor=int(chain.pending_timestamp) + DAY)
        accounts_file = tmp_path / "accounts.json"
        scenarios.write_keeper_accounts(accounts_file)
        sim = SimExchange(scenarios, **sim_options).start()
        started.append(sim)
        seeder = ClaimSeeder(chain, on, registrar, deployer, accounts)
        return KeeperWorld(chain, on, scenarios, sim, seeder, accounts_file, tmp_path)

    yield build
    for sim in started:
        sim.stop()


@pytest.fixture
def keystore_validator(
    accounts: Any, guard: Any, signers: list[Any], deployer: Any
) -> Iterator[Callable[[], tuple[str, Any]]]:
    """``keystore_validator()``: a fresh validator as an encrypted ape keystore alias (passphrase
    ``PASSPHRASE``), funded and granted VALIDATOR_ROLE by a 2-of-3 proposal."""
    from ape import config

    def make() -> tuple[str, Any]:
        account = accounts.generate_test_account()
        alias = f"lg_test_{uuid.uuid4().hex[:10]}"
        write_keystore(Path(config.DATA_FOLDER), alias, account.private_key, PASSPHRASE, LIGHT_SCRYPT_N)
        deployer.transfer(account, 10**18)
        Governance(guard, signers)(guard.grantRole, guard.VALIDATOR_ROLE(), account)
        return alias, account

    yield make
    # Left in place: the contract session, running beside this one on the same ape data folder, lists
    # accounts/*.json and loads each file; one deleted in between fails its test (FileNotFoundError).
    # `make test` removes the test keystores (lg_test_*.json) before the sessions start.


@pytest.fixture(scope="session")
def pg_server_url() -> Iterator[str]:
    """A real PostgreSQL server: ``LG_TEST_DATABASE_URL`` (a role that may CREATE DATABASE), else a
    throw-away cluster (tools/pg_cluster.py) started for the session and stopped after it. No server here
    fails the tests that need one: never a skip, which would pass the PostgreSQL store untested."""
    given = os.environ.get("LG_TEST_DATABASE_URL")
    if given:
        yield given
        return
    try:
        url, started = start_cluster()
    except NoPostgresError as exc:
        missing = str(exc)
    else:
        yield url
        if started:  # one started by someone else (`tools/pg_cluster.py start`) is theirs to stop
            stop_cluster()
        return
    pytest.fail(f"no PostgreSQL server for the store tests: {missing}", pytrace=False)


@pytest.fixture
def pg_database_url(pg_server_url: str) -> Iterator[str]:
    """A new empty database for one test, dropped after it."""
    with fresh_database(pg_server_url, f"lg_test_{uuid.uuid4().hex[:12]}") as url:
        yield url


@pytest.fixture(params=["sqlite", "postgres"])
def store_backend(request: pytest.FixtureRequest, tmp_path: Path) -> StoreBackend:
    """Each store test once on a SQLite file and once on a PostgreSQL database of its own."""
    if request.param == "sqlite":
        return SqliteBackend(tmp_path / "keeper.sqlite3")
    # Asked for here, not as a parameter: the SQLite runs need no server.
    return PostgresBackend(request.getfixturevalue("pg_database_url"))

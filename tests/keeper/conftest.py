"""Keeper suite fixtures: a simulated exchange on port 0, settings pointing at it, hypothesis profiles."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings
from keeper_factories import make_settings

from keeper.exchanges.registry import AdapterRegistry
from keeper.exchanges.service import Verifier
from keeper.settings import AccountRegistry, KeeperSettings
from keeper.sim.generator import generate
from keeper.sim.scenarios import ScenarioFile
from keeper.sim.server import SimExchange, SimLimits

settings.register_profile("keeper-default", max_examples=60, deadline=None)
settings.register_profile(
    "deep", max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "keeper-default"))

SCENARIO_SEED = 20261124
SCENARIO_COUNT = 60


@pytest.fixture(scope="session")
def scenarios() -> ScenarioFile:
    return generate(SCENARIO_COUNT, SCENARIO_SEED)


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

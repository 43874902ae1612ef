"""`ape run deploy` end to end: its own anvil, a TestUSDT, the implementation pair (LeverageGuard and
LeverageGuardAdmin), the proxy, and the deployment record."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SIGNERS = [
    "0x70997970C51812dc3A010C7d01b50e0d17dc79C8",
    "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC",
    "0x90F79bf6EB2c4f870365E785982E1f101E93b906",
]


def run_deploy(deployments_dir: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    ape = Path(sys.executable).with_name("ape")
    args = [
        str(ape),
        "run",
        "deploy",
        "--network",
        "ethereum:local:foundry",
        "--account",
        "TEST::0",
        "--threshold",
        "2",
        "--deployments-dir",
        str(deployments_dir),
    ]
    for signer in SIGNERS:
        args += ["--signer", signer]
    # Its own anvil on a port of its own: with `host: auto` ape-foundry tries 8545 first, where the test
    # session's anvil may already listen.
    env = os.environ | {"APE_FOUNDRY_HOST": f"http://127.0.0.1:{free_port()}"}
    return subprocess.run([*args, *extra], cwd=ROOT, capture_output=True, text=True, timeout=180, env=env)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="module")
def deployed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, subprocess.CompletedProcess[str]]:
    directory = tmp_path_factory.mktemp("deployments")
    return directory, run_deploy(directory)


def test_deploy__local__writes_deployment_record(
    deployed: tuple[Path, subprocess.CompletedProcess[str]],
) -> None:
    directory, result = deployed
    assert result.returncode == 0, result.stderr
    record = json.loads((directory / "local.json").read_text())
    assert set(record) == {"network", "proxy", "implementation", "admin", "asset", "block", "abi_sha256"}
    assert record["network"] == "local"
    assert len({record["proxy"], record["implementation"], record["admin"], record["asset"]}) == 4
    assert len(record["abi_sha256"]) == 64
    assert f"LeverageGuard proxy {record['proxy']}" in result.stdout


def test_deploy__record_exists__refuses_without_force(
    deployed: tuple[Path, subprocess.CompletedProcess[str]],
) -> None:
    directory, _ = deployed
    before = (directory / "local.json").read_text()
    result = run_deploy(directory)
    assert result.returncode != 0
    assert "pass --force to overwrite it" in result.stdout + result.stderr
    assert (directory / "local.json").read_text() == before

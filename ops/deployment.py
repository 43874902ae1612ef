"""Deploying LeverageGuard (implementation + ERC1967 proxy) and recording where it lives."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

DEPLOYMENTS_DIR = Path("deployments")


class DeploymentExistsError(FileExistsError):
    """A deployment file for the network exists and overwriting was not asked for."""

    def __init__(self, path: Path) -> None:
        super().__init__(f"{path} exists; pass --force to overwrite it")
        self.path = path


@dataclass(frozen=True)
class Deployment:
    """A deployed LeverageGuard: `guard` is the LeverageGuard interface at the proxy address."""

    guard: Any
    implementation: Any
    block_number: int

    def record(self, network: str, asset: str, abi_hash: str) -> dict[str, Any]:
        return {
            "network": network,
            "proxy": str(self.guard.address),
            "implementation": str(self.implementation.address),
            "asset": asset,
            "block": self.block_number,
            "abi_sha256": abi_hash,
        }


def deploy_leverage_guard(
    project: Any, deployer: Any, asset: Any, signers: list[Any], threshold: int
) -> Deployment:
    """Deploys the implementation and a proxy initialised with `initialize(asset, signers, threshold)`."""
    implementation = deployer.deploy(project.LeverageGuard)
    init_data = implementation.initialize.encode_input(asset, signers, threshold)
    proxy = deployer.deploy(project.LeverageGuardProxy, implementation, init_data)
    block_number = int(proxy.receipt.block_number) if getattr(proxy, "receipt", None) else 0
    return Deployment(project.LeverageGuard.at(proxy.address), implementation, block_number)


def abi_sha256(contract_type: Any) -> str:
    """SHA-256 of the ABI as canonical JSON, so tooling can tell which interface a deployment has."""
    abi = [item.model_dump(mode="json", by_alias=True) for item in contract_type.abi]
    canonical = json.dumps(abi, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def deployment_path(network: str, directory: Path = DEPLOYMENTS_DIR) -> Path:
    return directory / f"{network}.json"


def write_deployment(record: dict[str, Any], path: Path, *, force: bool) -> None:
    if path.exists() and not force:
        raise DeploymentExistsError(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(record, indent=2) + "\n")


def read_deployment(path: Path) -> dict[str, Any]:
    return dict(json.loads(path.read_text()))

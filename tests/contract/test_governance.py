"""Governance powers: roles (AccessControl administered by the proxy itself) and the parameter setters."""

from __future__ import annotations

from typing import Any, NamedTuple

import ape
import pytest
from support.pool import (
    CHALLENGE_PERIOD,
    CLAIM_GRACE_PERIOD,
    DAILY_APPROVAL_LIMIT,
    DAILY_PAYOUT_LIMIT,
    DAILY_WITHDRAWAL_LIMIT,
    DAY,
    DEFAULT_CHALLENGE_PERIOD,
    HOUR,
    MAX_COVERAGE_LIMIT,
    MAX_PAYOUT_PER_CLAIM,
    PAUSE_CLAIMS,
    USDT,
)

from keeper.interface import MAX_CHALLENGE_PERIOD

ADMIN_ROLE = b"\x00" * 32
UINT96_MAX = 2**96 - 1
MIN_CHALLENGE_PERIOD = HOUR
MAX_CLAIM_GRACE_PERIOD = 90 * DAY


class Setter(NamedTuple):
    function: str
    getter: str
    event: str
    previous_field: str
    new_field: str
    configured_value: int  # what the `guard` fixture set
    accepted: tuple[int, ...]  # values governance may set from the configured state


SETTERS = [
    Setter(
        "setDailyWithdrawalLimit",
        "dailyWithdrawalLimit",
        "DailyWithdrawalLimitChanged",
        "previousLimit",
        "newLimit",
        DAILY_WITHDRAWAL_LIMIT,
        (0, 1, 7_777),
    ),
    Setter(
        "setDailyPayoutLimit",
        "dailyPayoutLimit",
        "DailyPayoutLimitChanged",
        "previousLimit",
        "newLimit",
        DAILY_PAYOUT_LIMIT,
        (MAX_PAYOUT_PER_CLAIM, MAX_PAYOUT_PER_CLAIM + 1, UINT96_MAX),  # at least maxPayoutPerClaim
    ),
    Setter(
        "setMaxPayoutPerClaim",
        "maxPayoutPerClaim",
        "MaxPayoutPerClaimChanged",
        "previousMax",
        "newMax",
        MAX_PAYOUT_PER_CLAIM,
        (0, 1, DAILY_PAYOUT_LIMIT),  # at most dailyPayoutLimit
    ),
    Setter(
        "setDailyApprovalLimit",
        "dailyApprovalLimit",
        "DailyApprovalLimitChanged",
        "previousLimit",
        "newLimit",
        DAILY_APPROVAL_LIMIT,
        (0, 1, 7_777),
    ),
    Setter(
        "setMaxCoverageLimit",
        "maxCoverageLimit",
        "MaxCoverageLimitChanged",
        "previousMax",
        "newMax",
        MAX_COVERAGE_LIMIT,
        (0, 1, 7_777),
    ),
    Setter(
        "setChallengePeriod",
        "challengePeriod",
        "ChallengePeriodChanged",
        "previousPeriod",
        "newPeriod",
        CHALLENGE_PERIOD,
        (MIN_CHALLENGE_PERIOD, 7_777, MAX_CHALLENGE_PERIOD),
    ),
    Setter(
        "setClaimGracePeriod",
        "claimGracePeriod",
        "ClaimGracePeriodChanged",
        "previousPeriod",
        "newPeriod",
        CLAIM_GRACE_PERIOD,
        (0, 1, MAX_CLAIM_GRACE_PERIOD),
    ),
]
# Setters whose only bound is uint96 (setMaxPayoutPerClaim is bounded by dailyPayoutLimit first).
AMOUNT_SETTERS = [
    s
    for s in SETTERS
    if s.function
    in ("setDailyWithdrawalLimit", "setDailyPayoutLimit", "setDailyApprovalLimit", "setMaxCoverageLimit")
]
SETTER_CASES = [pytest.param(s, v, id=f"{s.function}-{v}") for s in SETTERS for v in s.accepted]


def _setter_id(setter: Setter) -> str:
    return setter.function


def _executed(guard: Any, signers: list[Any]) -> Any:
    """The ProposalExecuted event of the proposal `gov` just ran (latest id, executed by signer 0)."""
    return guard.ProposalExecuted(proposalId=guard.proposalCount(), executor=signers[0])


def _parameters(guard: Any) -> dict[str, int]:
    return {s.getter: int(getattr(guard, s.getter)()) for s in SETTERS}


@pytest.fixture
def roles(guard: Any) -> dict[str, bytes]:
    return {
        "GUARDIAN_ROLE": guard.GUARDIAN_ROLE(),
        "VALIDATOR_ROLE": guard.VALIDATOR_ROLE(),
        "REGISTRAR_ROLE": guard.REGISTRAR_ROLE(),
    }


@pytest.fixture
def callers(signers: list[Any], guardian: Any, stranger: Any) -> dict[str, Any]:
    return {"signer": signers[0], "guardian": guardian, "stranger": stranger}


# ====================================================================== roles


def test_roles__configured_holders(
    guard: Any,
    roles: dict[str, bytes],
    guardian: Any,
    validator: Any,
    registrar: Any,
    signers: list[Any],
    stranger: Any,
) -> None:
    holders = {"GUARDIAN_ROLE": guardian, "VALIDATOR_ROLE": validator, "REGISTRAR_ROLE": registrar}
    everyone = [guardian, validator, registrar, stranger, *signers]

    for name, role in roles.items():
        assert [guard.hasRole(role, a) for a in everyone] == [a == holders[name] for a in everyone], name
        assert guard.getRoleAdmin(role) == ADMIN_ROLE


def test_roles__constants_are_keccak_of_names(guard: Any, roles: dict[str, bytes]) -> None:
    from eth_utils import keccak

    for name, role in roles.items():
        assert role == keccak(text=name)
    assert guard.DEFAULT_ADMIN_ROLE() == ADMIN_ROLE


def test_default_admin_role__held_by_the_proxy_only(
    guard: Any,
    signers: list[Any],
    guardian: Any,
    validator: Any,
    registrar: Any,
    stranger: Any,
    deployer: Any,
) -> None:
    assert guard.hasRole(ADMIN_ROLE, guard) is True
    for account in [*signers, deployer, guardian, validator, registrar, stranger]:
        assert guard.hasRole(ADMIN_ROLE, account) is False, account
    assert guard.getRoleAdmin(ADMIN_ROLE) == ADMIN_ROLE


@pytest.mark.parametrize("caller_kind", ["signer", "guardian", "stranger"])
def test_grant_role__called_directly__reverts_unauthorized(
    guard: Any, roles: dict[str, bytes], callers: dict[str, Any], stranger: Any, caller_kind: str
) -> None:
    caller = callers[caller_kind]

    with ape.reverts(guard.AccessControlUnauthorizedAccount, account=caller, neededRole=ADMIN_ROLE):
        guard.grantRole(roles["GUARDIAN_ROLE"], stranger, sender=caller)

    assert guard.hasRole(roles["GUARDIAN_ROLE"], stranger) is False


@pytest.mark.parametrize("caller_kind", ["signer", "guardian", "stranger"])
def test_revoke_role__called_directly__reverts_unauthorized(
    guard: Any, roles: dict[str, bytes], callers: dict[str, Any], validator: Any, caller_kind: str
) -> None:
    caller = callers[caller_kind]

    with ape.reverts(guard.AccessControlUnauthorizedAccount, account=caller, neededRole=ADMIN_ROLE):
        guard.revokeRole(roles["VALIDATOR_ROLE"], validator, sender=caller)

    assert guard.hasRole(roles["VALIDATOR_ROLE"], validator) is True


@pytest.mark.parametrize("role_name", ["GUARDIAN_ROLE", "VALIDATOR_ROLE", "REGISTRAR_ROLE"])
def test_grant_role__by_governance__emits_and_grants(
    guard: Any, gov: Any, signers: list[Any], roles: dict[str, bytes], stranger: Any, role_name: str
) -> None:
    role = roles[role_name]

    receipt = gov(guard.grantRole, role, stranger)

    assert receipt.events == [
        _executed(guard, signers),
        guard.RoleGranted(role=role, account=stranger, sender=guard),
    ]
    assert guard.hasRole(role, stranger) is True


def test_grant_role__by_governance__takes_effect(
    guard: Any, gov: Any, roles: dict[str, bytes], stranger: Any
) -> None:
    with ape.reverts(guard.Unauthorized, account=stranger):
        guard.pause(PAUSE_CLAIMS, sender=stranger)

    gov(guard.grantRole, roles["GUARDIAN_ROLE"], stranger)
    guard.pause(PAUSE_CLAIMS, sender=stranger)

    assert guard.pausedFlags() == PAUSE_CLAIMS


def test_grant_role__already_held__no_event(
    guard: Any, gov: Any, signers: list[Any], roles: dict[str, bytes], guardian: Any
) -> None:
    receipt = gov(guard.grantRole, roles["GUARDIAN_ROLE"], guardian)

    assert receipt.events == [_executed(guard, signers)]
    assert guard.hasRole(roles["GUARDIAN_ROLE"], guardian) is True


def test_revoke_role__by_governance__emits_and_revokes(
    guard: Any, gov: Any, signers: list[Any], roles: dict[str, bytes], guardian: Any
) -> None:
    role = roles["GUARDIAN_ROLE"]

    receipt = gov(guard.revokeRole, role, guardian)

    assert receipt.events == [
        _executed(guard, signers),
        guard.RoleRevoked(role=role, account=guardian, sender=guard),
    ]
    assert guard.hasRole(role, guardian) is False
    with ape.reverts(guard.Unauthorized, account=guardian):
        guard.pause(PAUSE_CLAIMS, sender=guardian)


def test_renounce_role__by_holder__revokes_own_role(
    guard: Any, roles: dict[str, bytes], registrar: Any
) -> None:
    role = roles["REGISTRAR_ROLE"]

    receipt = guard.renounceRole(role, registrar, sender=registrar)

    assert receipt.events == [guard.RoleRevoked(role=role, account=registrar, sender=registrar)]
    assert guard.hasRole(role, registrar) is False


@pytest.mark.parametrize("grantee", ["signer", "stranger"])
def test_grant_default_admin__to_anyone_else__reverts_admin_role_reserved(
    guard: Any, gov: Any, signers: list[Any], stranger: Any, grantee: str
) -> None:
    account = signers[0] if grantee == "signer" else stranger
    count_before = guard.proposalCount()

    with ape.reverts(guard.AdminRoleReserved, account=account):
        gov(guard.grantRole, ADMIN_ROLE, account)

    assert guard.hasRole(ADMIN_ROLE, account) is False
    assert guard.proposalCount() == count_before + 1
    assert guard.getProposal(count_before + 1).executed is False


def test_grant_default_admin__to_the_proxy__no_event(guard: Any, gov: Any, signers: list[Any]) -> None:
    receipt = gov(guard.grantRole, ADMIN_ROLE, guard)

    assert receipt.events == [_executed(guard, signers)]
    assert guard.hasRole(ADMIN_ROLE, guard) is True


def test_revoke_default_admin__from_the_proxy__reverts_admin_role_reserved(guard: Any, gov: Any) -> None:
    with ape.reverts(guard.AdminRoleReserved, account=guard):
        gov(guard.revokeRole, ADMIN_ROLE, guard)

    assert guard.hasRole(ADMIN_ROLE, guard) is True


def test_renounce_default_admin__by_governance__reverts_admin_role_reserved(guard: Any, gov: Any) -> None:
    with ape.reverts(guard.AdminRoleReserved, account=guard):
        gov(guard.renounceRole, ADMIN_ROLE, guard)

    assert guard.hasRole(ADMIN_ROLE, guard) is True


def test_renounce_role__for_someone_else__reverts_bad_confirmation(
    guard: Any, roles: dict[str, bytes], guardian: Any, stranger: Any
) -> None:
    with ape.reverts(guard.AccessControlBadConfirmation):
        guard.renounceRole(roles["GUARDIAN_ROLE"], guardian, sender=stranger)

    assert guard.hasRole(roles["GUARDIAN_ROLE"], guardian) is True


# ====================================================================== setters


def test_setters__configured_values(guard: Any) -> None:
    assert _parameters(guard) == {s.getter: s.configured_value for s in SETTERS}
    assert guard.MAX_CHALLENGE_PERIOD() == MAX_CHALLENGE_PERIOD


@pytest.mark.parametrize(("setter", "new_value"), SETTER_CASES)
def test_setter__by_governance__emits_and_sets(
    guard: Any, gov: Any, signers: list[Any], setter: Setter, new_value: int
) -> None:
    receipt = gov(getattr(guard, setter.function), new_value)

    event = getattr(guard, setter.event)(
        **{setter.previous_field: setter.configured_value, setter.new_field: new_value}
    )
    assert receipt.events == [_executed(guard, signers), event]
    assert getattr(guard, setter.getter)() == new_value


@pytest.mark.parametrize("setter", SETTERS, ids=_setter_id)
@pytest.mark.parametrize("caller_kind", ["signer", "guardian", "stranger"])
def test_setter__called_directly__reverts_only_governance(
    guard: Any, callers: dict[str, Any], setter: Setter, caller_kind: str
) -> None:
    caller = callers[caller_kind]

    with ape.reverts(guard.OnlyGovernance, caller=caller):
        getattr(guard, setter.function)(1, sender=caller)

    assert getattr(guard, setter.getter)() == setter.configured_value


@pytest.mark.parametrize("setter", AMOUNT_SETTERS, ids=_setter_id)
def test_amount_setter__above_uint96__reverts_amount_too_large(guard: Any, gov: Any, setter: Setter) -> None:
    with ape.reverts(guard.AmountTooLarge, amount=UINT96_MAX + 1, max=UINT96_MAX):
        gov(getattr(guard, setter.function), UINT96_MAX + 1)

    assert getattr(guard, setter.getter)() == setter.configured_value


@pytest.mark.parametrize("setter", AMOUNT_SETTERS, ids=_setter_id)
def test_amount_setter__uint96_max__accepted(guard: Any, gov: Any, setter: Setter) -> None:
    gov(getattr(guard, setter.function), UINT96_MAX)

    assert getattr(guard, setter.getter)() == UINT96_MAX


def test_set_max_payout_per_claim__above_daily_payout_limit__reverts(guard: Any, gov: Any) -> None:
    for value in (DAILY_PAYOUT_LIMIT + 1, UINT96_MAX + 1):
        with ape.reverts(
            guard.MaxPayoutAboveDailyPayoutLimit, maxPayoutPerClaim=value, dailyPayoutLimit=DAILY_PAYOUT_LIMIT
        ):
            gov(guard.setMaxPayoutPerClaim, value)

    assert guard.maxPayoutPerClaim() == MAX_PAYOUT_PER_CLAIM


@pytest.mark.parametrize("limit", [0, MAX_PAYOUT_PER_CLAIM - 1])
def test_set_daily_payout_limit__below_max_payout_per_claim__reverts(
    guard: Any, gov: Any, limit: int
) -> None:
    with ape.reverts(
        guard.MaxPayoutAboveDailyPayoutLimit, maxPayoutPerClaim=MAX_PAYOUT_PER_CLAIM, dailyPayoutLimit=limit
    ):
        gov(guard.setDailyPayoutLimit, limit)

    assert guard.dailyPayoutLimit() == DAILY_PAYOUT_LIMIT


def test_set_daily_payout_limit__zero_after_max_payout_zero__closes_payouts(
    guard: Any, gov: Any, signers: list[Any]
) -> None:
    receipt = gov.set_daily_payout_limit(0)

    assert receipt.events == [
        _executed(guard, signers),
        guard.MaxPayoutPerClaimChanged(previousMax=MAX_PAYOUT_PER_CLAIM, newMax=0),
        guard.DailyPayoutLimitChanged(previousLimit=DAILY_PAYOUT_LIMIT, newLimit=0),
    ]
    assert (guard.maxPayoutPerClaim(), guard.dailyPayoutLimit()) == (0, 0)


@pytest.mark.parametrize(
    "period", [0, 1, MIN_CHALLENGE_PERIOD - 1, MAX_CHALLENGE_PERIOD + 1, 2**32, UINT96_MAX + 1]
)
def test_set_challenge_period__out_of_bounds__reverts_invalid_challenge_period(
    guard: Any, gov: Any, period: int
) -> None:
    with ape.reverts(
        guard.InvalidChallengePeriod, period=period, min=MIN_CHALLENGE_PERIOD, max=MAX_CHALLENGE_PERIOD
    ):
        gov(guard.setChallengePeriod, period)

    assert guard.challengePeriod() == CHALLENGE_PERIOD


@pytest.mark.parametrize("period", [MAX_CLAIM_GRACE_PERIOD + 1, 2**32, 2**256 - 1])
def test_set_claim_grace_period__above_max__reverts_invalid_claim_grace_period(
    guard: Any, gov: Any, period: int
) -> None:
    with ape.reverts(guard.InvalidClaimGracePeriod, period=period, max=MAX_CLAIM_GRACE_PERIOD):
        gov(guard.setClaimGracePeriod, period)

    assert guard.claimGracePeriod() == CLAIM_GRACE_PERIOD


def test_constants__bounds_and_defaults(guard: Any) -> None:
    assert guard.MIN_CHALLENGE_PERIOD() == MIN_CHALLENGE_PERIOD
    assert guard.MAX_CHALLENGE_PERIOD() == MAX_CHALLENGE_PERIOD
    assert guard.DEFAULT_CHALLENGE_PERIOD() == DEFAULT_CHALLENGE_PERIOD
    assert guard.DEFAULT_CLAIM_GRACE_PERIOD() == CLAIM_GRACE_PERIOD
    assert guard.MAX_CLAIM_GRACE_PERIOD() == MAX_CLAIM_GRACE_PERIOD


def test_fresh_pool__defaults_after_initialize(fresh_guard: Any) -> None:
    """initialize sets the challenge and grace periods to their defaults; every limit starts closed."""
    assert fresh_guard.challengePeriod() == DEFAULT_CHALLENGE_PERIOD
    assert fresh_guard.claimGracePeriod() == CLAIM_GRACE_PERIOD
    assert fresh_guard.executionDelay() == 0
    assert [
        fresh_guard.dailyWithdrawalLimit(),
        fresh_guard.dailyPayoutLimit(),
        fresh_guard.maxPayoutPerClaim(),
        fresh_guard.dailyApprovalLimit(),
        fresh_guard.maxCoverageLimit(),
    ] == [0, 0, 0, 0, 0]


# ====================================================================== multicall and failing proposals


def test_multicall__one_proposal__sets_several_parameters(
    guard: Any, gov: Any, signers: list[Any], roles: dict[str, bytes], stranger: Any
) -> None:
    calls = [
        guard.setDailyWithdrawalLimit.encode_input(1 * USDT),
        guard.setMaxPayoutPerClaim.encode_input(2 * USDT),
        guard.setDailyPayoutLimit.encode_input(3 * USDT),
        guard.setChallengePeriod.encode_input(7_200),
        guard.setDailyApprovalLimit.encode_input(4 * USDT),
        guard.setMaxCoverageLimit.encode_input(5 * USDT),
        guard.setClaimGracePeriod.encode_input(6),
        guard.grantRole.encode_input(roles["REGISTRAR_ROLE"], stranger),
    ]

    receipt = gov(guard.multicall, calls)

    assert receipt.events == [
        _executed(guard, signers),
        guard.DailyWithdrawalLimitChanged(previousLimit=DAILY_WITHDRAWAL_LIMIT, newLimit=1 * USDT),
        guard.MaxPayoutPerClaimChanged(previousMax=MAX_PAYOUT_PER_CLAIM, newMax=2 * USDT),
        guard.DailyPayoutLimitChanged(previousLimit=DAILY_PAYOUT_LIMIT, newLimit=3 * USDT),
        guard.ChallengePeriodChanged(previousPeriod=CHALLENGE_PERIOD, newPeriod=7_200),
        guard.DailyApprovalLimitChanged(previousLimit=DAILY_APPROVAL_LIMIT, newLimit=4 * USDT),
        guard.MaxCoverageLimitChanged(previousMax=MAX_COVERAGE_LIMIT, newMax=5 * USDT),
        guard.ClaimGracePeriodChanged(previousPeriod=CLAIM_GRACE_PERIOD, newPeriod=6),
        guard.RoleGranted(role=roles["REGISTRAR_ROLE"], account=stranger, sender=guard),
    ]
    assert _parameters(guard) == {
        "dailyWithdrawalLimit": 1 * USDT,
        "dailyPayoutLimit": 3 * USDT,
        "maxPayoutPerClaim": 2 * USDT,
        "dailyApprovalLimit": 4 * USDT,
        "maxCoverageLimit": 5 * USDT,
        "challengePeriod": 7_200,
        "claimGracePeriod": 6,
    }
    assert guard.hasRole(roles["REGISTRAR_ROLE"], stranger) is True


def test_multicall__one_call_reverts__nothing_changes(
    guard: Any, gov: Any, signers: list[Any], roles: dict[str, bytes], stranger: Any
) -> None:
    before = _parameters(guard)
    calls = [
        guard.setDailyWithdrawalLimit.encode_input(1 * USDT),
        guard.grantRole.encode_input(roles["GUARDIAN_ROLE"], stranger),
        guard.setChallengePeriod.encode_input(MAX_CHALLENGE_PERIOD + 1),
        guard.setMaxPayoutPerClaim.encode_input(3 * USDT),
    ]

    with ape.reverts(
        guard.InvalidChallengePeriod,
        period=MAX_CHALLENGE_PERIOD + 1,
        min=MIN_CHALLENGE_PERIOD,
        max=MAX_CHALLENGE_PERIOD,
    ):
        gov(guard.multicall, calls)

    assert _parameters(guard) == before
    assert guard.hasRole(roles["GUARDIAN_ROLE"], stranger) is False
    view = guard.getProposal(guard.proposalCount())
    assert view.executed is False
    assert view.confirmations == 2


def test_failed_proposal__stays_open__proposer_can_cancel(guard: Any, gov: Any, signers: list[Any]) -> None:
    with ape.reverts(guard.AdminRoleReserved, account=signers[1]):
        gov(guard.grantRole, ADMIN_ROLE, signers[1])
    proposal_id = guard.proposalCount()

    receipt = guard.cancel(proposal_id, sender=signers[0])

    assert receipt.events == [guard.ProposalCancelled(proposalId=proposal_id, by=signers[0])]
    assert guard.hasRole(ADMIN_ROLE, signers[1]) is False


@pytest.mark.parametrize("caller_kind", ["signer", "stranger"])
def test_multicall__called_directly__keeps_caller_and_reverts_only_governance(
    guard: Any, callers: dict[str, Any], caller_kind: str
) -> None:
    caller = callers[caller_kind]
    calls = [guard.setDailyPayoutLimit.encode_input(1)]

    with ape.reverts(guard.OnlyGovernance, caller=caller):
        guard.multicall(calls, sender=caller)

    assert guard.dailyPayoutLimit() == DAILY_PAYOUT_LIMIT

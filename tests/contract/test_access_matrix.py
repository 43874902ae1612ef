"""Access-control matrix: every state-changing function of LeverageGuard x every actor.

The cases are generated from the compiled ABI of the whole proxy interface
(`project.ILeverageGuard.contract_type.abi`: what LeverageGuard serves and what its fallback serves from
LeverageGuardAdmin; every function that is neither view nor pure), so a function added to the contract
without a row in `MATRIX` fails `test_matrix__covers_every_state_changing_function` and its own generated
cases.

Each row of `MATRIX` names the actors authorised to call the function, a builder that prepares valid
arguments and state for a given actor (so that only authorisation can make the call fail), the exact error
every other actor gets, and the event a successful call must emit. Actors: `stranger`, `trader`
(whitelisted), `registrar`, `guardian`, `validator`, `signer` (signer 2, acting directly) and `governance`
(the call made by an executed 2-of-3 proposal, i.e. `msg.sender == guard`; success means the proposal's
`execute` succeeds, failure means `execute` reverts with the call's own error).

Functions open to anyone are listed with `ANYONE`; `initialize` and `migrateFrom1_0` are listed with no
authorised actor at all (the proxy is initialised at deployment, as 1.1). Where one actor gets another error
than the rest (e.g. a guardian cancelling outside the delay), `overrides` names it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import ape
import pytest
from ape import project
from support.pool import (
    CHALLENGE_PERIOD,
    COVERAGE_LIMIT,
    DAY,
    EVIDENCE,
    OKX,
    PAUSE_DEPOSITS,
    USDT,
    deploy_pair,
)

ACTORS = ("stranger", "trader", "registrar", "guardian", "validator", "signer", "governance")
ANYONE = frozenset(ACTORS)
NOBODY: frozenset[str] = frozenset()
NEW_ACCOUNT = "0x000000000000000000000000000000000000dEaD"
DEFAULT_ADMIN_ROLE = b"\x00" * 32
NEW_ACCOUNT_REF = bytes.fromhex("5e" * 32)


def state_changing_functions() -> list[str]:
    """Names of the proxy interface's functions (ILeverageGuard) that are neither view nor pure."""
    abi = project.ILeverageGuard.contract_type.abi
    names = [
        item.name for item in abi if item.type == "function" and item.stateMutability not in ("view", "pure")
    ]
    return sorted(set(names))


@dataclass
class Ctx:
    """What builders need: the configured guard, its token, the actors and a spare implementation."""

    guard: Any
    token: Any
    signers: list[Any]
    actors: dict[str, Any]
    other_trader: Any
    sponsor: Any
    deployer: Any
    chain: Any
    spare_implementation: Any

    def address(self, actor: str) -> str:
        return str(self.guard.address) if actor == "governance" else str(self.actors[actor].address)

    def propose(self, call: Any, *args: Any, target: Any = None, proposer: Any = None) -> int:
        receipt = self.guard.propose(
            target or self.guard, 0, call.encode_input(*args), sender=proposer or self.signers[0]
        )
        return int(receipt.return_value)

    def govern(self, call: Any, *args: Any, target: Any = None) -> Any:
        proposal_id = self.propose(call, *args, target=target)
        self.guard.confirm(proposal_id, sender=self.signers[1])
        return self.guard.execute(proposal_id, sender=self.signers[0])

    def file_claim(self, order_id: str, loss: int = 1_000 * USDT) -> int:
        receipt = self.guard.submitClaim(OKX, order_id, "BTC-USDT-SWAP", loss, sender=self.actors["trader"])
        return int(receipt.return_value)

    def approved_claim(self, order_id: str, *, matured: bool) -> int:
        claim_id = self.file_claim(order_id)
        self.guard.postVerification(claim_id, True, 800 * USDT, EVIDENCE, 0, sender=self.actors["validator"])
        if matured:
            self.chain.pending_timestamp += CHALLENGE_PERIOD
        return claim_id


Builder = Callable[[Ctx, str], tuple[Any, ...]]
ErrorArgs = Callable[[Ctx, str, tuple[Any, ...]], dict[str, Any]]


@dataclass(frozen=True)
class Entry:
    authorised: frozenset[str]
    build: Builder
    error: str
    error_args: ErrorArgs
    event: str | None
    note: str = ""
    overrides: dict[str, tuple[str, ErrorArgs]] = field(default_factory=dict)

    def expected_error(self, actor: str) -> tuple[str, ErrorArgs]:
        return self.overrides.get(actor, (self.error, self.error_args))


def _caller(name: str) -> ErrorArgs:
    """Error args naming the caller under `name` (e.g. `caller` for OnlyGovernance)."""
    return lambda c, actor, args: {name: c.address(actor)}


def _no_args(c: Ctx, actor: str, args: tuple[Any, ...]) -> dict[str, Any]:
    return {}


def _unauthorized_role(role: str) -> ErrorArgs:
    return lambda c, actor, args: {"account": c.address(actor), "neededRole": getattr(c.guard, role)()}


ONLY_GOVERNANCE = frozenset({"governance"})


def _governance_only(build: Builder, event: str) -> Entry:
    return Entry(ONLY_GOVERNANCE, build, "OnlyGovernance", _caller("caller"), event)


# ----------------------------------------------------------------------------- builders


def _deposit(c: Ctx, actor: str) -> tuple[Any, ...]:
    amount = 1_000 * USDT
    if actor != "governance":
        # Governance is the pool itself and proposals may only call the pool, so it cannot approve.
        account = c.actors[actor]
        c.token.mint(account, amount, sender=account)
        c.token.approve(c.guard, amount, sender=account)
    return (amount,)


def _rescue(c: Ctx, actor: str) -> tuple[Any, ...]:
    stray = c.deployer.deploy(project.TestUSDT)
    stray.mint(c.guard, 5 * USDT, sender=c.deployer)
    return (stray, c.sponsor, 5 * USDT)


def _unpause(c: Ctx, actor: str) -> tuple[Any, ...]:
    c.guard.pause(PAUSE_DEPOSITS, sender=c.actors["guardian"])
    return (PAUSE_DEPOSITS,)


def _add_to_whitelist(c: Ctx, actor: str) -> tuple[Any, ...]:
    # A fresh account hash: ACCOUNT_REF is bound to `trader`, whose coverage is in force.
    return ([NEW_ACCOUNT], [NEW_ACCOUNT_REF], 1_000 * USDT, int(c.chain.pending_timestamp) + 86_400 * 30)


def _remove_from_blacklist(c: Ctx, actor: str) -> tuple[Any, ...]:
    c.guard.addToBlacklist([c.other_trader], sender=c.actors["guardian"])
    return ([c.other_trader],)


def _post_verification(c: Ctx, actor: str) -> tuple[Any, ...]:
    return (c.file_claim("matrix-verify"), True, 800 * USDT, EVIDENCE, 0)


def _post_verifications(c: Ctx, actor: str) -> tuple[Any, ...]:
    return ([(c.file_claim("matrix-verify"), True, 800 * USDT, EVIDENCE, 0)],)


def _multicall(c: Ctx, actor: str) -> tuple[Any, ...]:
    claim_id = c.approved_claim("matrix-multicall", matured=True)
    return ([c.guard.executePayout.encode_input(claim_id)],)


def _confirm(c: Ctx, actor: str) -> tuple[Any, ...]:
    return (c.propose(c.guard.setChallengePeriod, 7_200),)


def _revoke_confirmation(c: Ctx, actor: str) -> tuple[Any, ...]:
    proposal_id = c.propose(c.guard.setChallengePeriod, 7_200)
    c.guard.confirm(proposal_id, sender=c.actors["signer"])
    return (proposal_id,)


def _execute(c: Ctx, actor: str) -> tuple[Any, ...]:
    proposal_id = c.propose(c.guard.setChallengePeriod, 7_200)
    c.guard.confirm(proposal_id, sender=c.signers[1])
    return (proposal_id,)


def _cancel(c: Ctx, actor: str) -> tuple[Any, ...]:
    # Proposed by the acting signer: the proposer (and governance) may cancel.
    return (c.propose(c.guard.setChallengePeriod, 7_200, proposer=c.actors["signer"]),)


def _initialize(c: Ctx, actor: str) -> tuple[Any, ...]:
    return (c.token, c.signers, 2)


def _schedule(c: Ctx, actor: str) -> tuple[Any, ...]:
    """A proposal that meets the threshold but was never scheduled: proposed with one confirmation, then
    the threshold lowered to 1 by governance."""
    proposal_id = c.propose(c.guard.setChallengePeriod, 7_200)
    c.govern(c.guard.setThreshold, 1)
    return (proposal_id,)


def _extend_coverage(c: Ctx, actor: str) -> tuple[Any, ...]:
    end = int(c.guard.getPolicy(c.actors["trader"]).coverageEnd)
    return ([c.actors["trader"]], COVERAGE_LIMIT, end + DAY)


def _reopen(c: Ctx, actor: str) -> tuple[Any, ...]:
    claim_id = c.file_claim("matrix-reopen")
    c.guard.postVerification(claim_id, False, 0, EVIDENCE, 1, sender=c.actors["validator"])
    return (claim_id,)


def _cancel_approved(c: Ctx, actor: str) -> tuple[Any, ...]:
    return (c.approved_claim("matrix-cancel", matured=True), 9)


MATRIX: dict[str, Entry] = {
    # ------------------------------------------------------------------ open to anyone
    "deposit": Entry(
        ANYONE - {"governance"},
        _deposit,
        "ERC20InsufficientAllowance",
        lambda c, actor, args: {"spender": c.guard.address, "allowance": 0, "needed": args[0]},
        "Deposited",
        note="Open to anyone with an allowance. Governance is the pool itself and its proposals may only "
        "call the pool, so it can never approve itself: the token refuses the transferFrom.",
    ),
    "submitClaim": Entry(
        frozenset({"trader"}),
        lambda c, actor: (OKX, "matrix-order", "BTC-USDT-SWAP", 1_000 * USDT),
        "NotWhitelisted",
        _caller("user"),
        "LiquidationClaimed",
        note="Open to any whitelisted trader; of the actors only `trader` is whitelisted.",
    ),
    "executePayout": Entry(
        ANYONE,
        lambda c, actor: (c.approved_claim("matrix-payout", matured=True),),
        "",
        _no_args,
        "PayoutExecuted",
    ),
    "executePayouts": Entry(
        ANYONE,
        lambda c, actor: ([c.approved_claim("matrix-payouts", matured=True)],),
        "",
        _no_args,
        "PayoutExecuted",
    ),
    "multicall": Entry(
        ANYONE,
        _multicall,
        "",
        _no_args,
        "PayoutExecuted",
        note="Delegatecalls keep msg.sender, so multicall grants nothing (see the escalation tests below).",
    ),
    # ------------------------------------------------------------------ nobody (already initialised)
    "initialize": Entry(NOBODY, _initialize, "InvalidInitialization", _no_args, None),
    "migrateFrom1_0": Entry(
        NOBODY,
        lambda c, actor: ([c.actors["trader"]],),
        "OnlyGovernance",
        _caller("caller"),
        None,
        note="Governance only, once, inside the upgrade from 1.0.0; a 1.1 pool is at version 2 already.",
        overrides={"governance": ("InvalidInitialization", _no_args)},
    ),
    # ------------------------------------------------------------------ multisig, signers acting directly
    "propose": Entry(
        frozenset({"signer"}),
        lambda c, actor: (c.guard, 0, c.guard.setChallengePeriod.encode_input(7_200)),
        "NotSigner",
        _caller("account"),
        "ProposalCreated",
    ),
    "confirm": Entry(frozenset({"signer"}), _confirm, "NotSigner", _caller("account"), "ProposalConfirmed"),
    "revokeConfirmation": Entry(
        frozenset({"signer"}), _revoke_confirmation, "NotSigner", _caller("account"), "ConfirmationRevoked"
    ),
    "execute": Entry(frozenset({"signer"}), _execute, "NotSigner", _caller("account"), "ProposalExecuted"),
    "schedule": Entry(frozenset({"signer"}), _schedule, "NotSigner", _caller("account"), "ProposalScheduled"),
    "cancel": Entry(
        frozenset({"signer", "governance"}),
        _cancel,
        "NotProposer",
        lambda c, actor, args: {"proposalId": args[0], "caller": c.address(actor)},
        "ProposalCancelled",
        note="The proposer (here the acting signer) or governance; another signer gets NotProposer too. A "
        "guardian may cancel only during the execution delay (0 here), so it gets NotInDelay.",
        overrides={
            "guardian": (
                "NotInDelay",
                lambda c, actor, args: {"proposalId": args[0], "readyAt": 0},
            )
        },
    ),
    # ------------------------------------------------------------------ multisig, governance only
    "addSigner": _governance_only(lambda c, actor: (NEW_ACCOUNT,), "SignerAdded"),
    "removeSigner": _governance_only(lambda c, actor: (c.signers[2],), "SignerRemoved"),
    "setThreshold": _governance_only(lambda c, actor: (3,), "ThresholdChanged"),
    "setProposalLifetime": _governance_only(lambda c, actor: (2 * 86_400,), "ProposalLifetimeChanged"),
    "setExecutionDelay": _governance_only(lambda c, actor: (3_600,), "ExecutionDelayChanged"),
    # ------------------------------------------------------------------ pool, governance only
    "withdraw": _governance_only(lambda c, actor: (c.sponsor, 1_000 * USDT), "Withdrawn"),
    "setDailyWithdrawalLimit": _governance_only(lambda c, actor: (1 * USDT,), "DailyWithdrawalLimitChanged"),
    "setDailyPayoutLimit": _governance_only(lambda c, actor: (6_000 * USDT,), "DailyPayoutLimitChanged"),
    "setMaxPayoutPerClaim": _governance_only(lambda c, actor: (1 * USDT,), "MaxPayoutPerClaimChanged"),
    "setChallengePeriod": _governance_only(lambda c, actor: (7_200,), "ChallengePeriodChanged"),
    "setDailyApprovalLimit": _governance_only(lambda c, actor: (1 * USDT,), "DailyApprovalLimitChanged"),
    "setMaxCoverageLimit": _governance_only(lambda c, actor: (1 * USDT,), "MaxCoverageLimitChanged"),
    "setClaimGracePeriod": _governance_only(lambda c, actor: (86_400,), "ClaimGracePeriodChanged"),
    "cancelApprovedClaim": _governance_only(_cancel_approved, "ClaimCancelled"),
    "reopenClaim": _governance_only(_reopen, "ClaimReopened"),
    "rescueToken": _governance_only(_rescue, "TokenRescued"),
    "unpause": _governance_only(_unpause, "Unpaused"),
    "removeFromBlacklist": _governance_only(_remove_from_blacklist, "RemovedFromBlacklist"),
    "upgradeToAndCall": _governance_only(lambda c, actor: (c.spare_implementation, b""), "Upgraded"),
    # ------------------------------------------------------------------ roles or governance
    "pause": Entry(
        frozenset({"guardian", "governance"}),
        lambda c, actor: (PAUSE_DEPOSITS,),
        "Unauthorized",
        _caller("account"),
        "Paused",
    ),
    "vetoClaim": Entry(
        frozenset({"guardian", "governance"}),
        lambda c, actor: (c.approved_claim("matrix-veto", matured=False), 100),
        "Unauthorized",
        _caller("account"),
        "ClaimVetoed",
    ),
    "vetoClaims": Entry(
        frozenset({"guardian", "governance"}),
        lambda c, actor: ([c.approved_claim("matrix-vetoes", matured=False)], 100),
        "Unauthorized",
        _caller("account"),
        "ClaimVetoed",
    ),
    "extendCoverage": Entry(
        frozenset({"registrar", "governance"}),
        _extend_coverage,
        "Unauthorized",
        _caller("account"),
        "CoverageExtended",
    ),
    "addToWhitelist": Entry(
        frozenset({"registrar", "governance"}),
        _add_to_whitelist,
        "Unauthorized",
        _caller("account"),
        "Whitelisted",
    ),
    "removeFromWhitelist": Entry(
        frozenset({"registrar", "governance"}),
        lambda c, actor: ([c.actors["trader"]],),
        "Unauthorized",
        _caller("account"),
        "RemovedFromWhitelist",
    ),
    "addToBlacklist": Entry(
        frozenset({"guardian", "registrar", "governance"}),
        lambda c, actor: ([c.other_trader],),
        "Unauthorized",
        _caller("account"),
        "Blacklisted",
    ),
    # ------------------------------------------------------------------ validator only (not governance)
    "postVerification": Entry(
        frozenset({"validator"}),
        _post_verification,
        "AccessControlUnauthorizedAccount",
        _unauthorized_role("VALIDATOR_ROLE"),
        "ClaimVerified",
        note="onlyRole(VALIDATOR_ROLE): governance itself cannot post verdicts (it would have to grant the "
        "role to an account).",
    ),
    "postVerifications": Entry(
        frozenset({"validator"}),
        _post_verifications,
        "AccessControlUnauthorizedAccount",
        _unauthorized_role("VALIDATOR_ROLE"),
        "ClaimVerified",
    ),
    # ------------------------------------------------------------------ AccessControl
    "grantRole": Entry(
        ONLY_GOVERNANCE,
        lambda c, actor: (c.guard.GUARDIAN_ROLE(), NEW_ACCOUNT),
        "AccessControlUnauthorizedAccount",
        lambda c, actor, args: {"account": c.address(actor), "neededRole": DEFAULT_ADMIN_ROLE},
        "RoleGranted",
    ),
    "revokeRole": Entry(
        ONLY_GOVERNANCE,
        lambda c, actor: (c.guard.GUARDIAN_ROLE(), c.actors["guardian"]),
        "AccessControlUnauthorizedAccount",
        lambda c, actor, args: {"account": c.address(actor), "neededRole": DEFAULT_ADMIN_ROLE},
        "RoleRevoked",
    ),
    "renounceRole": Entry(
        frozenset({"guardian"}),
        lambda c, actor: (c.guard.GUARDIAN_ROLE(), c.actors["guardian"]),
        "AccessControlBadConfirmation",
        _no_args,
        "RoleRevoked",
        note="Only the holder renounces its own role (callerConfirmation must be msg.sender).",
    ),
}


# ----------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="session")
def spare_implementation(project: Any, deployer: Any) -> Any:
    return deploy_pair(project, deployer)[0]


@pytest.fixture
def ctx(
    insured: Any,
    token: Any,
    signers: list[Any],
    stranger: Any,
    trader: Any,
    registrar: Any,
    guardian: Any,
    validator: Any,
    other_trader: Any,
    sponsor: Any,
    deployer: Any,
    chain: Any,
    spare_implementation: Any,
) -> Ctx:
    actors = {
        "stranger": stranger,
        "trader": trader,
        "registrar": registrar,
        "guardian": guardian,
        "validator": validator,
        "signer": signers[2],
    }
    return Ctx(insured, token, signers, actors, other_trader, sponsor, deployer, chain, spare_implementation)


def _call_as(c: Ctx, actor: str, name: str, args: tuple[Any, ...]) -> Callable[[], Any]:
    """Prepares the call for `actor` and returns a thunk making the final transaction."""
    if actor == "governance":
        proposal_id = c.propose(getattr(c.guard, name), *args)
        c.guard.confirm(proposal_id, sender=c.signers[1])
        return lambda: c.guard.execute(proposal_id, sender=c.signers[0])
    account = c.actors[actor]
    return lambda: getattr(c.guard, name)(*args, sender=account)


# ----------------------------------------------------------------------------- tests


def test_matrix__covers_every_state_changing_function() -> None:
    abi_functions = set(state_changing_functions())
    assert abi_functions - MATRIX.keys() == set(), "state-changing functions missing from MATRIX"
    assert MATRIX.keys() - abi_functions == set(), "MATRIX rows for functions not in the ABI"


def test_matrix__functions_come_from_the_abi() -> None:
    """Sanity check of the generator: known functions are in, views are out."""
    names = state_changing_functions()
    assert {"withdraw", "execute", "upgradeToAndCall", "multicall", "renounceRole"} <= set(names)
    assert not {"freeBalance", "getClaim", "hasRole", "proxiableUUID", "version"} & set(names)
    assert {"schedule", "setExecutionDelay", "extendCoverage", "vetoClaims", "migrateFrom1_0"} <= set(names)
    assert len(names) == 44


ERROR_NAMES = {item.name for item in project.ILeverageGuard.contract_type.errors}


@pytest.mark.parametrize("actor", ACTORS)
@pytest.mark.parametrize("function", state_changing_functions())
def test_access(ctx: Ctx, function: str, actor: str) -> None:
    entry = MATRIX.get(function)
    if entry is None:
        pytest.fail(f"{function} has no row in MATRIX: add its authorised actors, builder and error")
    args = entry.build(ctx, actor)
    call = _call_as(ctx, actor, function, args)
    if actor in entry.authorised:
        receipt = call()
        assert not receipt.failed
        if entry.event is not None:
            emitted = [log.event_name for log in receipt.events if log.contract_address == ctx.guard.address]
            assert entry.event in emitted, f"{function} by {actor} did not emit {entry.event}"
    else:
        name, error_args = entry.expected_error(actor)
        # An error raised by the token (e.g. an allowance check) is in the token's ABI, not the pool's.
        source = ctx.guard if name in ERROR_NAMES else ctx.token
        error = getattr(source, name)
        with ape.reverts(error, **error_args(ctx, actor, args)):
            call()


# ----------------------------------------------------------------------------- beyond the matrix


def test_cancel__signer_not_proposer__reverts(ctx: Ctx) -> None:
    proposal_id = ctx.propose(ctx.guard.setChallengePeriod, 7_200, proposer=ctx.signers[0])
    with ape.reverts(ctx.guard.NotProposer, proposalId=proposal_id, caller=ctx.signers[1].address):
        ctx.guard.cancel(proposal_id, sender=ctx.signers[1])


@pytest.mark.parametrize("actor", ["stranger", "guardian", "registrar", "validator", "signer"])
def test_multicall__governance_call__keeps_caller_and_reverts(ctx: Ctx, actor: str) -> None:
    """Multicall delegatecalls itself, so msg.sender stays the caller: no escalation to governance."""
    account = ctx.actors[actor]
    data = [ctx.guard.withdraw.encode_input(account, 1 * USDT)]
    with ape.reverts(ctx.guard.OnlyGovernance, caller=account.address):
        ctx.guard.multicall(data, sender=account)


def test_multicall__role_call__keeps_role_holder(ctx: Ctx) -> None:
    claim_id = ctx.file_claim("multicall-verify")
    data = [ctx.guard.postVerification.encode_input(claim_id, True, 800 * USDT, EVIDENCE, 0)]
    receipt = ctx.guard.multicall(data, sender=ctx.actors["validator"])
    assert receipt.events == [
        ctx.guard.ClaimVerified(
            claimId=claim_id,
            validator=ctx.actors["validator"],
            approved=True,
            payout=800 * USDT,
            evidenceHash=EVIDENCE,
            reasonCode=0,
        )
    ]
    with ape.reverts(
        ctx.guard.AccessControlUnauthorizedAccount,
        account=ctx.actors["guardian"].address,
        neededRole=ctx.guard.VALIDATOR_ROLE(),
    ):
        ctx.guard.multicall(data, sender=ctx.actors["guardian"])


def test_multicall__in_proposal__batches_governance_calls(ctx: Ctx) -> None:
    data = [ctx.guard.setChallengePeriod.encode_input(7_200), ctx.guard.setMaxPayoutPerClaim.encode_input(7)]
    ctx.govern(ctx.guard.multicall, data)
    assert ctx.guard.challengePeriod() == 7_200
    assert ctx.guard.maxPayoutPerClaim() == 7


def test_revoked_guardian__loses_pause(ctx: Ctx) -> None:
    guardian = ctx.actors["guardian"]
    ctx.govern(ctx.guard.revokeRole, ctx.guard.GUARDIAN_ROLE(), guardian)
    with ape.reverts(ctx.guard.Unauthorized, account=guardian.address):
        ctx.guard.pause(PAUSE_DEPOSITS, sender=guardian)


def test_removed_signer__loses_propose(ctx: Ctx) -> None:
    signer = ctx.actors["signer"]
    ctx.govern(ctx.guard.removeSigner, signer)
    with ape.reverts(ctx.guard.NotSigner, account=signer.address):
        ctx.guard.propose(ctx.guard, 0, b"", sender=signer)


def test_grant_admin_role__governance__reverts(ctx: Ctx) -> None:
    """DEFAULT_ADMIN_ROLE cannot be handed to a signer, even by governance."""
    proposal_id = ctx.propose(ctx.guard.grantRole, DEFAULT_ADMIN_ROLE, ctx.signers[0])
    ctx.guard.confirm(proposal_id, sender=ctx.signers[1])
    with ape.reverts(ctx.guard.AdminRoleReserved, account=ctx.signers[0].address):
        ctx.guard.execute(proposal_id, sender=ctx.signers[0])

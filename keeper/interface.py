"""The chain's numbers, once: the one Python copy of LeverageGuard's public constants and small integers.

Exchange ids, claim statuses, pause bits, batch skip reasons, verdict reason codes, the public numeric
constants and the on-chain input rules of ``submitClaim``. Every keeper, operator_toolkit and script module
imports them from here; ``tests/keeper/test_interface.py`` checks this module against the compiled contract
(its constants, its ``ClaimStatus`` enum and the ABI), so a change on one side fails the tests until the other
follows.

The numbers are part of the on-chain interface: never renumber, only append.
"""

from __future__ import annotations

import re
from enum import IntEnum, IntFlag

from eth_hash.auto import keccak


class Exchange(IntEnum):
    """``EXCHANGE_*``: the exchange ids of ``submitClaim``; ``slug`` is the lower-case name the CLI uses."""

    OKX = 1
    BINANCE = 2
    BYBIT = 3

    @property
    def slug(self) -> str:
        return self.name.lower()

    @classmethod
    def from_slug(cls, slug: str) -> Exchange:
        try:
            return cls[slug.upper()]
        except KeyError:
            raise ValueError(f"unknown exchange {slug!r}; expected one of {[e.slug for e in cls]}") from None


class ClaimStatus(IntEnum):
    """``ILeverageGuardTypes.ClaimStatus``, in the contract's enum order; ``label`` is the Solidity name."""

    NONE = 0
    PENDING = 1
    APPROVED = 2
    REJECTED = 3
    PAID = 4

    @property
    def label(self) -> str:
        """The member's name in the Solidity enum, e.g. ``Pending``."""
        return self.name.capitalize()


class PauseFlag(IntFlag):
    """``PAUSE_*``: the bits of ``pause(flags)`` / ``unpause(flags)`` / ``pausedFlags()``."""

    CLAIMS = 1
    VERIFICATIONS = 2
    PAYOUTS = 4
    WITHDRAWALS = 8
    DEPOSITS = 16
    ALL = CLAIMS | VERIFICATIONS | PAYOUTS | WITHDRAWALS | DEPOSITS


class SkipReason(IntEnum):
    """``SKIP_*``: the ``uint8 reason`` of ``VerificationSkipped``, ``VetoSkipped`` and ``PayoutSkipped``."""

    WRONG_STATUS = 1
    CHALLENGE_WINDOW_OPEN = 2
    CHALLENGE_WINDOW_OVER = 3
    USER_BLACKLISTED = 4
    DAILY_PAYOUT_LIMIT = 5


class ReasonCode(IntEnum):
    """Why a claim was approved or rejected: the contract's ``uint16 reasonCode`` (one value per verdict)."""

    APPROVED = 0
    """A covered forced liquidation with a positive payout."""
    NOT_LIQUIDATED = 1
    """The order exists but was neither a forced liquidation nor an ADL."""
    ADL_NOT_COVERED = 2
    """The order was an auto-deleveraging close and the policy does not cover ADL."""
    ORDER_NOT_FOUND = 3
    """The exchange does not know the order for this account and instrument."""
    UNKNOWN_ACCOUNT = 4
    """No credentials are configured for the claim's accountRef."""
    ACCOUNT_MISMATCH = 5
    """The account or the evidence belongs to another exchange or order than the claim names."""
    INSTRUMENT_MISMATCH = 6
    """The order traded another instrument than the claim names."""
    OUTSIDE_COVERAGE = 7
    """The liquidation happened outside the trader's coverage period."""
    CLAIM_WINDOW_EXPIRED = 8
    """The claim was filed more than the claim window after the liquidation (or before it)."""
    NO_LOSS = 9
    """The liquidation did not lose money once PnL, fees and penalty are added up."""
    ZERO_PAYOUT = 10
    """Every cap leaves nothing to pay (e.g. no remaining coverage)."""
    UNSUPPORTED_SETTLEMENT = 11
    """The loss was settled in an asset the pool does not pay (e.g. a coin-margined contract's BTC)."""
    GUARDIAN_VETO = 100
    """Set by a human guardian on chain (the contract's convention); the policy never returns it."""


# --- roles (AccessControl ids) ---
DEFAULT_ADMIN_ROLE = bytes(32)
VALIDATOR_ROLE = keccak(b"VALIDATOR_ROLE")
GUARDIAN_ROLE = keccak(b"GUARDIAN_ROLE")
REGISTRAR_ROLE = keccak(b"REGISTRAR_ROLE")

# --- bounds (seconds for periods) ---
_HOUR = 3_600
_DAY = 24 * _HOUR
DAY = _DAY
"""The contract's day: every daily limit counts per UTC day, `block.timestamp // DAY`."""

MAX_BATCH_SIZE = 200
MAX_ORDER_ID_LENGTH = 64
MAX_INSTRUMENT_LENGTH = 32

MIN_CHALLENGE_PERIOD = 1 * _HOUR
MAX_CHALLENGE_PERIOD = 30 * _DAY
DEFAULT_CHALLENGE_PERIOD = 24 * _HOUR

DEFAULT_CLAIM_GRACE_PERIOD = 7 * _DAY
MAX_CLAIM_GRACE_PERIOD = 90 * _DAY

MAX_SIGNERS = 20
DEFAULT_PROPOSAL_LIFETIME = 7 * _DAY
MIN_PROPOSAL_LIFETIME = 1 * _HOUR
MAX_PROPOSAL_LIFETIME = 30 * _DAY
MAX_EXECUTION_DELAY = 30 * _DAY

# --- submitClaim's input rules (LeverageGuard._isToken) ---
# ASCII classes spelled out (no \w or \d: they match non-ASCII letters and digits); fullmatch, so a trailing
# newline is refused as the contract refuses it. ASCII only: the length in characters is the length in bytes.
ORDER_ID_PATTERN = re.compile(rf"[A-Za-z0-9_-]{{1,{MAX_ORDER_ID_LENGTH}}}")
INSTRUMENT_PATTERN = re.compile(rf"[A-Z0-9_-]{{1,{MAX_INSTRUMENT_LENGTH}}}")


class InvalidClaimInputError(ValueError):
    """A value ``submitClaim`` would refuse: ``field`` names the argument, ``value`` is the offender."""

    def __init__(self, field: str, value: str, rule: str) -> None:
        super().__init__(f"invalid {field} {value!r}: {rule}")
        self.field = field
        self.value = value
        self.rule = rule


def is_valid_order_id(order_id: str) -> bool:
    """Whether the contract accepts ``order_id``: 1 to MAX_ORDER_ID_LENGTH bytes of ``[A-Za-z0-9-_]``."""
    return ORDER_ID_PATTERN.fullmatch(order_id) is not None


def is_valid_instrument(instrument: str) -> bool:
    """Whether the contract accepts ``instrument``: 1 to MAX_INSTRUMENT_LENGTH bytes of ``[A-Z0-9-_]``."""
    return INSTRUMENT_PATTERN.fullmatch(instrument) is not None


def require_order_id(order_id: str) -> str:
    """``order_id`` unchanged, or ``InvalidClaimInputError`` where submitClaim reverts InvalidOrderId."""
    if not is_valid_order_id(order_id):
        raise InvalidClaimInputError(
            "order id", order_id, f"1 to {MAX_ORDER_ID_LENGTH} characters of A-Z a-z 0-9 - _"
        )
    return order_id


def require_instrument(instrument: str) -> str:
    """``instrument`` unchanged, or ``InvalidClaimInputError`` where submitClaim reverts InvalidInstrument."""
    if not is_valid_instrument(instrument):
        raise InvalidClaimInputError(
            "instrument", instrument, f"1 to {MAX_INSTRUMENT_LENGTH} characters of upper-case A-Z 0-9 - _"
        )
    return instrument

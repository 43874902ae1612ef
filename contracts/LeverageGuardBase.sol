// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {AccessControlUpgradeable} from "@openzeppelin/contracts-upgradeable/access/AccessControlUpgradeable.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";

import {SelfGoverned} from "./governance/SelfGoverned.sol";
import {ILeverageGuardTypes} from "./interfaces/ILeverageGuardTypes.sol";

/// @title LeverageGuardBase
/// @notice What the two halves of LeverageGuard share: the pool's ERC-7201 storage, its constants, its
/// modifiers and the few internals both use. `LeverageGuard` (the UUPS implementation: pool, claims,
/// verdicts, payouts) and `LeverageGuardAdmin` (governance, parameters, the policy registry, claim appeals,
/// views; reached through LeverageGuard's fallback) both inherit it and run in the proxy's storage.
/// @dev The split exists because one contract with every 1.1 function exceeds the 24,576-byte code limit of
/// EIP-170. Storage is append-only relative to 1.0.0: new fields use bits that were zero or new slots.
abstract contract LeverageGuardBase is ILeverageGuardTypes, SelfGoverned, AccessControlUpgradeable, ReentrancyGuardTransient {
    bytes32 public constant VALIDATOR_ROLE = keccak256("VALIDATOR_ROLE");
    bytes32 public constant GUARDIAN_ROLE = keccak256("GUARDIAN_ROLE");
    bytes32 public constant REGISTRAR_ROLE = keccak256("REGISTRAR_ROLE");

    uint256 public constant PAUSE_CLAIMS = 1;
    uint256 public constant PAUSE_VERIFICATIONS = 2;
    uint256 public constant PAUSE_PAYOUTS = 4;
    uint256 public constant PAUSE_WITHDRAWALS = 8;
    uint256 public constant PAUSE_DEPOSITS = 16;
    uint256 public constant PAUSE_ALL = PAUSE_CLAIMS | PAUSE_VERIFICATIONS | PAUSE_PAYOUTS | PAUSE_WITHDRAWALS
        | PAUSE_DEPOSITS;

    uint8 public constant EXCHANGE_OKX = 1;
    uint8 public constant EXCHANGE_BINANCE = 2;
    uint8 public constant EXCHANGE_BYBIT = 3;

    /// @notice Why a batch item was skipped (the `reason` of VerificationSkipped, PayoutSkipped, VetoSkipped).
    uint8 public constant SKIP_WRONG_STATUS = 1;
    uint8 public constant SKIP_CHALLENGE_WINDOW_OPEN = 2;
    uint8 public constant SKIP_CHALLENGE_WINDOW_OVER = 3;
    uint8 public constant SKIP_USER_BLACKLISTED = 4;
    uint8 public constant SKIP_DAILY_PAYOUT_LIMIT = 5;

    /// @notice Largest batch accepted by every batch function (bounds gas per transaction).
    uint256 public constant MAX_BATCH_SIZE = 200;
    uint256 public constant MAX_ORDER_ID_LENGTH = 64;
    uint256 public constant MAX_INSTRUMENT_LENGTH = 32;
    /// @notice Bounds of the challenge window governance may set; `initialize` sets DEFAULT_CHALLENGE_PERIOD.
    uint256 public constant MIN_CHALLENGE_PERIOD = 1 hours;
    uint256 public constant MAX_CHALLENGE_PERIOD = 30 days;
    uint256 public constant DEFAULT_CHALLENGE_PERIOD = 24 hours;
    /// @notice How long after coverage ends a claim may still be filed; `initialize` sets the default.
    uint256 public constant DEFAULT_CLAIM_GRACE_PERIOD = 7 days;
    uint256 public constant MAX_CLAIM_GRACE_PERIOD = 90 days;

    /// @notice Every daily limit counts per UTC day: `block.timestamp / DAY`.
    uint256 public constant DAY = 1 days;

    struct Policy {
        // slot 0
        bytes32 accountRef;
        // slot 1: everything a payout reads
        uint96 coverageLimit;
        uint40 coverageStart;
        uint40 coverageEnd;
        bool whitelisted;
        bool blacklisted;
        // slot 2: written by approvals, vetoes and cancellations, never by payouts
        uint96 used; // 1.0.0: paidOut
        uint96 legacyReserved; // 1.0.0: reserved; folded into `used` on the first write after the upgrade
    }

    struct Claim {
        // slot 0
        address user;
        uint8 exchange;
        ClaimStatus status;
        uint40 submittedAt;
        uint40 decidedAt;
        // slot 1
        uint96 claimedLoss;
        uint96 payout;
        uint16 reasonCode;
        uint40 payableAt; // 0 for claims approved under 1.0.0: decidedAt + challengePeriod then
    }

    /// @dev Both daily windows in one slot; a window restarts when the UTC day index changes.
    struct DailyCounters {
        uint32 withdrawalDay;
        uint96 withdrawnInDay;
        uint32 payoutDay;
        uint96 paidInDay;
    }

    /// @custom:storage-location erc7201:leverageguard.storage.LeverageGuard
    struct LeverageGuardStorage {
        // slot 0
        IERC20 asset;
        uint32 challengePeriod;
        uint8 pausedFlags;
        bool legacyOrderKeys; // 1.1: claims filed under 1.0.0 keep their (exchange, orderId) key taken
        uint32 claimGracePeriod; // 1.1
        // slot 1
        uint96 dailyWithdrawalLimit;
        uint96 dailyPayoutLimit;
        // slot 2
        uint96 maxPayoutPerClaim;
        uint128 reserved;
        // slot 3
        DailyCounters daily;
        // slot 4
        uint256 claimCount;
        mapping(address user => Policy) policies;
        mapping(uint256 claimId => Claim) claims;
        mapping(bytes32 orderKey => uint256 claimId) claimIdByOrderKey;
        // 1.1 from here on
        // slot 8
        uint96 dailyApprovalLimit;
        uint32 approvalDay;
        uint96 approvedInDay;
        // slot 9
        uint96 maxCoverageLimit;
        mapping(bytes32 accountRef => address user) accountRefHolder;
    }

    // keccak256(abi.encode(uint256(keccak256("leverageguard.storage.LeverageGuard")) - 1)) & ~bytes32(uint256(0xff))
    bytes32 private constant STORAGE_LOCATION = 0x61e2c9bfc8811b94d687f6922bc0de4c1384e9a7327cf9c6f33a1843fa9e8800;

    function _storage() internal pure returns (LeverageGuardStorage storage $) {
        assembly {
            $.slot := STORAGE_LOCATION
        }
    }

    modifier whenNotPaused(uint256 flag) {
        if (_storage().pausedFlags & flag != 0) revert OperationPaused(flag);
        _;
    }

    /// @dev `role` holders or governance.
    modifier onlyRoleOrGovernance(bytes32 role) {
        if (msg.sender != address(this) && !hasRole(role, msg.sender)) revert Unauthorized(msg.sender);
        _;
    }

    /// @dev What a policy has used: paid out plus reserved (1.0.0's two counters until first written).
    function _used(Policy storage policy) internal view returns (uint256) {
        return uint256(policy.used) + policy.legacyReserved;
    }

    /// @dev Writes `used` and clears the 1.0.0 counter in the same slot.
    function _setUsed(Policy storage policy, uint256 used) internal {
        policy.used = uint96(used);
        policy.legacyReserved = 0;
    }

    function _remainingCoverage(Policy storage policy) internal view returns (uint256) {
        uint256 used = _used(policy);
        return policy.coverageLimit > used ? policy.coverageLimit - used : 0;
    }

    /// @dev When an approval stops being payable and vetoable; 1.0.0 approvals carry no stamp.
    function _payableAt(Claim storage claim) internal view returns (uint256) {
        uint256 stamped = claim.payableAt;
        return stamped != 0 ? stamped : uint256(claim.decidedAt) + _storage().challengePeriod;
    }

    /// @dev Approved -> Rejected: the payout's reservation is released from the policy and the pool.
    function _releaseApproval(Claim storage claim, uint16 reasonCode) internal returns (address user, uint96 amount) {
        LeverageGuardStorage storage $ = _storage();
        user = claim.user;
        amount = claim.payout;
        claim.status = ClaimStatus.Rejected;
        claim.reasonCode = reasonCode;
        claim.payout = 0;
        claim.payableAt = 0;
        Policy storage policy = $.policies[user];
        _setUsed(policy, _used(policy) - amount);
        $.reserved -= amount;
    }

    function _today() internal view returns (uint32) {
        return uint32(block.timestamp / DAY);
    }

    function _checkBatch(uint256 length) internal pure {
        if (length == 0) revert EmptyBatch();
        if (length > MAX_BATCH_SIZE) revert BatchTooLarge(length, MAX_BATCH_SIZE);
    }

    function _toUint96(uint256 amount) internal pure returns (uint96) {
        if (amount > type(uint96).max) revert AmountTooLarge(amount, type(uint96).max);
        return uint96(amount);
    }

    /// @dev DEFAULT_ADMIN_ROLE belongs to the proxy alone: it can be neither given away nor dropped.
    function _grantRole(bytes32 role, address account) internal override returns (bool) {
        if (role == DEFAULT_ADMIN_ROLE && account != address(this)) revert AdminRoleReserved(account);
        return super._grantRole(role, account);
    }

    function _revokeRole(bytes32 role, address account) internal override returns (bool) {
        if (role == DEFAULT_ADMIN_ROLE) revert AdminRoleReserved(account);
        return super._revokeRole(role, account);
    }
}

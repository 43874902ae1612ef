// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {UUPSUpgradeable} from "@openzeppelin/contracts-upgradeable/proxy/utils/UUPSUpgradeable.sol";
import {MulticallUpgradeable} from "@openzeppelin/contracts-upgradeable/utils/MulticallUpgradeable.sol";

import {LeverageGuardBase} from "./LeverageGuardBase.sol";

/// @title LeverageGuard
/// @notice Liquidation insurance for leveraged traders on centralized exchanges. Sponsors deposit a stablecoin;
/// traders with a policy file claims for liquidated orders; a validator (the keeper) posts a verdict with the
/// hash of its evidence; approved payouts are reserved at once and paid after a challenge window, singly or in
/// batches. Governance is the in-contract multisig: only executed proposals (`msg.sender == address(this)`)
/// hold DEFAULT_ADMIN_ROLE, grant roles, change parameters, withdraw, unpause and upgrade.
/// @dev The UUPS implementation behind an ERC1967Proxy, holding the pool's hot paths (deposit, withdraw,
/// claims, verdicts, payouts, vetoes, upgrades). Every other selector (the multisig, parameters, the policy
/// registry, claim appeals, views, `initialize`) is delegated by `fallback` to `ADMIN`, a LeverageGuardAdmin
/// deployed with this implementation: both run in the proxy's storage, and an upgrade replaces both.
/// `ILeverageGuard` is the whole interface of the proxy. Invariant: `totalAssets() >= reservedAmount()`.
contract LeverageGuard is LeverageGuardBase, MulticallUpgradeable, UUPSUpgradeable {
    using SafeERC20 for IERC20;

    uint256 private constant WORD = 32;
    /// @dev 0x01 in every byte of a word, 0x80 in every byte, "0" (0x30) in every byte.
    uint256 private constant BYTE_ONES = 0x0101010101010101010101010101010101010101010101010101010101010101;
    uint256 private constant HIGH_BITS = 0x8080808080808080808080808080808080808080808080808080808080808080;
    uint256 private constant FILL = 0x3030303030303030303030303030303030303030303030303030303030303030;

    /// @notice The LeverageGuardAdmin implementation that serves every selector not defined here.
    address public immutable ADMIN;

    /// @dev Running totals of one payout batch, kept in memory to stay within the stack.
    struct PayoutBatch {
        uint256 dailyLimit;
        uint256 paidInDay;
        uint256 reserved;
        uint256 refusedCount;
        bool strict;
    }

    /// @dev Running total of one verdict batch against the daily approval limit.
    struct ApprovalBudget {
        uint256 limit;
        uint256 approvedInDay;
        uint256 free;
    }

    /// @param admin The LeverageGuardAdmin implementation to delegate to.
    /// @custom:oz-upgrades-unsafe-allow constructor state-variable-immutable
    constructor(address admin) {
        if (admin.code.length == 0) revert ZeroAddress();
        ADMIN = admin;
        _disableInitializers();
    }

    /// @notice Serves every other LeverageGuard function from `ADMIN`, in this contract's storage.
    fallback() external {
        address admin = ADMIN;
        assembly {
            calldatacopy(0, 0, calldatasize())
            let ok := delegatecall(gas(), admin, 0, calldatasize(), 0, 0)
            returndatacopy(0, 0, returndatasize())
            switch ok
            case 0 { revert(0, returndatasize()) }
            default { return(0, returndatasize()) }
        }
    }

    /// @notice Implementation version.
    function version() external pure virtual returns (string memory) {
        return "1.1.0";
    }

    // ================================================================== pool

    /// @notice Adds `amount` of the asset to the pool. Fee-on-transfer assets are rejected.
    /// @param amount Token units to pull from the caller (needs an allowance).
    /// @dev Emits Deposited.
    function deposit(uint256 amount) external nonReentrant whenNotPaused(PAUSE_DEPOSITS) {
        if (amount == 0) revert ZeroAmount();
        IERC20 token = _storage().asset;
        uint256 balanceBefore = token.balanceOf(address(this));
        emit Deposited(msg.sender, amount);
        token.safeTransferFrom(msg.sender, address(this), amount);
        uint256 received = token.balanceOf(address(this)) - balanceBefore;
        if (received != amount) revert UnsupportedTokenTransfer(amount, received);
    }

    /// @notice Withdraws free (unreserved) funds, within the daily withdrawal limit. Governance only.
    /// @param to Recipient.
    /// @param amount Token units.
    /// @dev Emits Withdrawn.
    function withdraw(address to, uint256 amount)
        external
        onlyGovernance
        nonReentrant
        whenNotPaused(PAUSE_WITHDRAWALS)
    {
        if (to == address(0)) revert ZeroAddress();
        if (amount == 0) revert ZeroAmount();
        LeverageGuardStorage storage $ = _storage();
        uint256 free = _freeBalance();
        if (amount > free) revert InsufficientFreeBalance(amount, free);
        DailyCounters memory daily = $.daily;
        uint32 today = _today();
        uint256 used = daily.withdrawalDay == today ? daily.withdrawnInDay : 0;
        uint256 limit = $.dailyWithdrawalLimit;
        uint256 remainingToday = limit > used ? limit - used : 0;
        if (amount > remainingToday) revert DailyLimitExceeded(amount, remainingToday);
        used += amount;
        daily.withdrawalDay = today;
        daily.withdrawnInDay = uint96(used);
        $.daily = daily;
        emit Withdrawn(to, amount, used);
        $.asset.safeTransfer(to, amount);
    }

    // ================================================================== claims

    /// @notice Files a claim for a liquidated order. The caller needs a policy, must not be blacklisted, and
    /// files between its coverage start and its coverage end plus the claim grace period. One claim per
    /// (exchange, accountRef, instrument, orderId) ever.
    /// @param exchange 1 = OKX, 2 = Binance, 3 = Bybit.
    /// @param orderId The exchange's order id: 1 to MAX_ORDER_ID_LENGTH bytes of `[A-Za-z0-9-_]`.
    /// @param instrument The instrument, e.g. "BTC-USDT-SWAP": 1 to MAX_INSTRUMENT_LENGTH bytes of upper-case
    /// `[A-Z0-9-_]`, so one order cannot be filed twice under two spellings.
    /// @param claimedLoss Token units, 0 < claimedLoss <= remaining coverage.
    /// @return claimId The new claim's id (starting at 1).
    /// @dev Emits LiquidationClaimed.
    function submitClaim(uint8 exchange, string calldata orderId, string calldata instrument, uint256 claimedLoss)
        external
        whenNotPaused(PAUSE_CLAIMS)
        returns (uint256 claimId)
    {
        if (exchange < EXCHANGE_OKX || exchange > EXCHANGE_BYBIT) revert UnsupportedExchange(exchange);
        if (!_isToken(bytes(orderId), MAX_ORDER_ID_LENGTH, true)) revert InvalidOrderId(orderId);
        if (!_isToken(bytes(instrument), MAX_INSTRUMENT_LENGTH, false)) revert InvalidInstrument(instrument);
        if (claimedLoss == 0) revert ZeroAmount();
        LeverageGuardStorage storage $ = _storage();
        Policy storage policy = $.policies[msg.sender];
        bytes32 accountRef = policy.accountRef;
        if (accountRef == bytes32(0)) revert NotWhitelisted(msg.sender);
        if (policy.blacklisted) revert UserBlacklisted(msg.sender);
        uint256 deadline = uint256(policy.coverageEnd) + $.claimGracePeriod;
        if (block.timestamp < policy.coverageStart || block.timestamp > deadline) {
            revert OutsideCoverage(msg.sender, policy.coverageStart, deadline);
        }
        uint256 remaining = _remainingCoverage(policy);
        if (claimedLoss > remaining) revert ClaimExceedsCoverage(claimedLoss, remaining);
        bytes32 orderKey = keccak256(abi.encode(exchange, accountRef, instrument, orderId));
        uint256 existing = $.claimIdByOrderKey[orderKey];
        if (existing == 0 && $.legacyOrderKeys) existing = $.claimIdByOrderKey[keccak256(abi.encode(exchange, orderId))];
        if (existing != 0) revert DuplicateClaim(existing);

        claimId = ++$.claimCount;
        $.claimIdByOrderKey[orderKey] = claimId;
        Claim storage claim = $.claims[claimId];
        claim.user = msg.sender;
        claim.exchange = exchange;
        claim.status = ClaimStatus.Pending;
        claim.submittedAt = uint40(block.timestamp);
        claim.claimedLoss = uint96(claimedLoss);
        emit LiquidationClaimed(claimId, msg.sender, exchange, accountRef, orderId, instrument, claimedLoss);
    }

    /// @notice Posts the verdict on a pending claim. Validator only. An approval reserves the payout at once,
    /// counts against the daily approval limit, and stamps the claim's `payableAt`.
    /// @param claimId A Pending claim.
    /// @param approved Whether the liquidation is covered.
    /// @param payout If approved: 0 < payout <= min(claimedLoss, remaining coverage, maxPayoutPerClaim),
    /// <= freeBalance() and <= what the daily approval limit leaves today; if rejected: 0.
    /// @param evidenceHash keccak256 of the keeper's canonical evidence record (non-zero).
    /// @param reasonCode The keeper's reason code (see keeper/interface.py).
    /// @dev Emits ClaimVerified.
    function postVerification(
        uint256 claimId,
        bool approved,
        uint256 payout,
        bytes32 evidenceHash,
        uint16 reasonCode
    ) external onlyRole(VALIDATOR_ROLE) whenNotPaused(PAUSE_VERIFICATIONS) {
        ApprovalBudget memory budget = _approvalBudget();
        _verify(claimId, approved, payout, evidenceHash, reasonCode, budget);
        _storeApprovalBudget(budget);
    }

    /// @notice Posts many verdicts at once. Items whose claim is already decided are skipped, so a restarted
    /// keeper can post the same batch again; any other bad item reverts the whole batch. Validator only.
    /// @param items The verdicts (1 to MAX_BATCH_SIZE).
    /// @dev Emits ClaimVerified per decided item, VerificationSkipped(SKIP_WRONG_STATUS) per skipped item.
    function postVerifications(Verification[] calldata items)
        external
        onlyRole(VALIDATOR_ROLE)
        whenNotPaused(PAUSE_VERIFICATIONS)
    {
        _checkBatch(items.length);
        LeverageGuardStorage storage $ = _storage();
        ApprovalBudget memory budget = _approvalBudget();
        for (uint256 i = 0; i < items.length; ++i) {
            Verification calldata item = items[i];
            if ($.claims[item.claimId].status > ClaimStatus.Pending) {
                emit VerificationSkipped(item.claimId, SKIP_WRONG_STATUS);
                continue;
            }
            _verify(item.claimId, item.approved, item.payout, item.evidenceHash, item.reasonCode, budget);
        }
        _storeApprovalBudget(budget);
    }

    /// @notice Overturns an approval inside its challenge window (before its `payableAt`); the reservation
    /// is released. Guardian or governance.
    /// @param claimId An Approved claim whose challenge window is still open.
    /// @param reasonCode Why (100 = guardian veto by convention).
    /// @dev Emits ClaimVetoed.
    function vetoClaim(uint256 claimId, uint16 reasonCode) external onlyRoleOrGovernance(GUARDIAN_ROLE) {
        Claim storage claim = _storage().claims[claimId];
        if (claim.status != ClaimStatus.Approved) revert InvalidClaimStatus(claimId, claim.status);
        uint256 endsAt = _payableAt(claim);
        if (block.timestamp >= endsAt) revert ChallengePeriodOver(claimId, endsAt);
        (address user, uint96 amount) = _releaseApproval(claim, reasonCode);
        emit ClaimVetoed(claimId, msg.sender, user, amount, reasonCode);
    }

    /// @notice Pays an approved claim whose challenge window is over. Anyone may call.
    /// @param claimId The claim.
    /// @dev Emits PayoutExecuted; reverts PayoutTransferFailed if the token refuses the transfer.
    function executePayout(uint256 claimId) external nonReentrant whenNotPaused(PAUSE_PAYOUTS) {
        uint256[] memory claimIds = new uint256[](1);
        claimIds[0] = claimId;
        _executePayouts(claimIds, true);
    }

    /// @notice Pays many approved claims. Claims not payable now (wrong status, window open, blacklisted
    /// trader, daily payout limit reached, or listed twice) are skipped; a claim whose transfer the token
    /// refuses (e.g. a recipient blocked by the token issuer) stays Approved and reserved, and the rest are
    /// paid. Anyone may call.
    /// @param claimIds The claims (1 to MAX_BATCH_SIZE).
    /// @dev Emits PayoutExecuted per paid claim, PayoutSkipped(reason) per skipped one and PayoutFailed per
    /// refused transfer.
    function executePayouts(uint256[] calldata claimIds) external nonReentrant whenNotPaused(PAUSE_PAYOUTS) {
        _checkBatch(claimIds.length);
        _executePayouts(claimIds, false);
    }

    // ================================================================== views served here

    /// @notice The pool's token balance.
    function totalAssets() external view returns (uint256) {
        return _storage().asset.balanceOf(address(this));
    }

    /// @notice What is neither reserved for approved claims nor missing: totalAssets() - reservedAmount().
    function freeBalance() external view returns (uint256) {
        return _freeBalance();
    }

    // ================================================================== internals

    function _freeBalance() private view returns (uint256) {
        uint256 balance = _storage().asset.balanceOf(address(this));
        uint256 reserved = _storage().reserved;
        return balance > reserved ? balance - reserved : 0;
    }

    function _approvalBudget() private view returns (ApprovalBudget memory budget) {
        LeverageGuardStorage storage $ = _storage();
        budget.limit = $.dailyApprovalLimit;
        budget.approvedInDay = $.approvalDay == _today() ? $.approvedInDay : 0;
        budget.free = type(uint256).max; // read once, at the first approval
    }

    function _storeApprovalBudget(ApprovalBudget memory budget) private {
        if (budget.free == type(uint256).max) return; // nothing approved
        LeverageGuardStorage storage $ = _storage();
        $.approvalDay = _today();
        $.approvedInDay = uint96(budget.approvedInDay);
    }

    function _verify(
        uint256 claimId,
        bool approved,
        uint256 payout,
        bytes32 evidenceHash,
        uint16 reasonCode,
        ApprovalBudget memory budget
    ) private {
        LeverageGuardStorage storage $ = _storage();
        Claim storage claim = $.claims[claimId];
        if (claim.status != ClaimStatus.Pending) revert InvalidClaimStatus(claimId, claim.status);
        if (evidenceHash == bytes32(0)) revert ZeroEvidenceHash();
        address user = claim.user;
        if (user == msg.sender) revert ConflictOfInterest(claimId, msg.sender);
        if (approved) {
            if (payout == 0) revert ZeroAmount();
            Policy storage policy = $.policies[user];
            if (policy.blacklisted) revert UserBlacklisted(user);
            uint256 used = _used(policy);
            uint256 coverageLeft = policy.coverageLimit > used ? policy.coverageLimit - used : 0;
            uint256 cap = _min(_min(claim.claimedLoss, coverageLeft), $.maxPayoutPerClaim);
            if (payout > cap) revert PayoutTooLarge(payout, cap);
            if (budget.free == type(uint256).max) budget.free = _freeBalance();
            if (payout > budget.free) revert InsufficientFreeBalance(payout, budget.free);
            uint256 approvalsLeft = budget.limit > budget.approvedInDay ? budget.limit - budget.approvedInDay : 0;
            if (payout > approvalsLeft) revert DailyApprovalLimitExceeded(payout, approvalsLeft);
            budget.free -= payout;
            budget.approvedInDay += payout;
            claim.status = ClaimStatus.Approved;
            claim.payout = uint96(payout);
            claim.payableAt = uint40(block.timestamp + $.challengePeriod);
            _setUsed(policy, used + payout);
            $.reserved += uint128(payout);
        } else {
            if (payout != 0) revert PayoutOnRejection(payout);
            claim.status = ClaimStatus.Rejected;
        }
        claim.decidedAt = uint40(block.timestamp);
        claim.reasonCode = reasonCode;
        emit ClaimVerified(claimId, msg.sender, approved, payout, evidenceHash, reasonCode);
    }

    /// @dev One claim at a time, effects before its transfer: the claim is marked Paid and the pool's totals
    /// (reserved, paid out today) move by its amount in storage; then its transfer (`trySafeTransfer`). A
    /// refused transfer hands its amount back to the totals at once, so one blocked recipient fails only its
    /// own claim and holds no share of the daily payout limit from the claims after it. A refused claim stays
    /// marked Paid until the end of the batch (so a second listing of it is skipped as listed twice), then
    /// goes back to Approved. With `strict` (a single payout), a claim that cannot be paid reverts with the
    /// precise reason instead. Reentrancy: callers hold `nonReentrant`.
    function _executePayouts(uint256[] memory claimIds, bool strict) private {
        LeverageGuardStorage storage $ = _storage();
        DailyCounters memory daily = $.daily;
        uint32 today = _today();
        PayoutBatch memory batch = PayoutBatch({
            dailyLimit: $.dailyPayoutLimit,
            paidInDay: daily.payoutDay == today ? daily.paidInDay : 0,
            reserved: $.reserved,
            refusedCount: 0,
            strict: strict
        });
        IERC20 token = $.asset;
        uint256[] memory refused = new uint256[](claimIds.length);
        for (uint256 i = 0; i < claimIds.length; ++i) {
            uint256 claimId = claimIds[i];
            Claim storage claim = $.claims[claimId];
            uint8 skip = _payoutSkipReason(claimId, claim, batch);
            if (skip != 0) {
                emit PayoutSkipped(claimId, skip);
                continue;
            }
            address user = claim.user;
            uint256 amount = claim.payout;
            claim.status = ClaimStatus.Paid;
            batch.paidInDay += amount;
            batch.reserved -= amount;
            _storePayoutTotals(daily, today, batch.paidInDay, batch.reserved);
            uint256 gasBefore = gasleft();
            if (token.trySafeTransfer(user, amount)) {
                emit PayoutExecuted(claimId, user, amount);
                continue;
            }
            // A transfer left with under 1/64 of the gas it was given ran out of it: the caller's fault,
            // not the recipient's; revert rather than report a refusal.
            if (gasleft() <= gasBefore / 64) revert PayoutOutOfGas(claimId);
            if (strict) revert PayoutTransferFailed(claimId);
            batch.paidInDay -= amount;
            batch.reserved += amount;
            _storePayoutTotals(daily, today, batch.paidInDay, batch.reserved);
            refused[batch.refusedCount++] = claimId;
            emit PayoutFailed(claimId, user, amount);
        }
        for (uint256 i = 0; i < batch.refusedCount; ++i) {
            $.claims[refused[i]].status = ClaimStatus.Approved;
        }
    }

    function _storePayoutTotals(DailyCounters memory daily, uint32 today, uint256 paidInDay, uint256 reserved)
        private
    {
        LeverageGuardStorage storage $ = _storage();
        daily.payoutDay = today;
        daily.paidInDay = uint96(paidInDay);
        $.daily = daily;
        $.reserved = uint128(reserved);
    }

    /// @dev 0 if the claim can be paid now, else a SKIP_* reason (or, with `strict`, a revert).
    function _payoutSkipReason(uint256 claimId, Claim storage claim, PayoutBatch memory batch)
        private
        view
        returns (uint8)
    {
        bool strict = batch.strict;
        if (claim.status != ClaimStatus.Approved) {
            if (strict) revert InvalidClaimStatus(claimId, claim.status);
            return SKIP_WRONG_STATUS;
        }
        uint256 endsAt = _payableAt(claim);
        if (block.timestamp < endsAt) {
            if (strict) revert ChallengePeriodActive(claimId, endsAt);
            return SKIP_CHALLENGE_WINDOW_OPEN;
        }
        address user = claim.user;
        if (_storage().policies[user].blacklisted) {
            if (strict) revert UserBlacklisted(user);
            return SKIP_USER_BLACKLISTED;
        }
        uint256 amount = claim.payout;
        uint256 remainingToday = batch.dailyLimit > batch.paidInDay ? batch.dailyLimit - batch.paidInDay : 0;
        if (amount > remainingToday) {
            if (strict) revert DailyPayoutLimitExceeded(amount, remainingToday);
            return SKIP_DAILY_PAYOUT_LIMIT;
        }
        return 0;
    }

    /// @dev Whether `value` is 1 to `maxLength` bytes of `-`, `0-9`, `A-Z`, `_` (and `a-z` if `lowerCase`).
    /// Checks 32 bytes at a time (SWAR): every byte below 0x80, then each byte in one of the ranges. Bytes
    /// past the end of `value` are filled with "0" so that they pass.
    function _isToken(bytes calldata value, uint256 maxLength, bool lowerCase) private pure returns (bool) {
        uint256 length = value.length;
        if (length == 0 || length > maxLength) return false;
        for (uint256 offset = 0; offset < length; offset += WORD) {
            uint256 word;
            assembly {
                word := calldataload(add(value.offset, offset))
            }
            uint256 rest = length - offset;
            if (rest < WORD) {
                uint256 tail = (1 << ((WORD - rest) * 8)) - 1;
                word = (word & ~tail) | (FILL & tail);
            }
            if (word & HIGH_BITS != 0) return false;
            uint256 valid = _bytesInRange(word, "-", "-") | _bytesInRange(word, "0", "9")
                | _bytesInRange(word, "A", "Z") | _bytesInRange(word, "_", "_");
            if (lowerCase) valid |= _bytesInRange(word, "a", "z");
            if (valid != HIGH_BITS) return false;
        }
        return true;
    }

    /// @dev Per byte of `word` (each below 0x80), bit 7 set iff the byte is in [lo, hi]: x + (128 - lo)
    /// reaches bit 7 iff x >= lo, x + (127 - hi) reaches it iff x > hi; no sum carries into the next byte.
    function _bytesInRange(uint256 word, bytes1 lo, bytes1 hi) private pure returns (uint256) {
        unchecked {
            uint256 atLeastLo = word + BYTE_ONES * (128 - uint8(lo));
            uint256 aboveHi = word + BYTE_ONES * (127 - uint8(hi));
            return atLeastLo & ~aboveHi & HIGH_BITS;
        }
    }

    function _min(uint256 a, uint256 b) private pure returns (uint256) {
        return a < b ? a : b;
    }

    function _authorizeUpgrade(address) internal override onlyGovernance {}
}

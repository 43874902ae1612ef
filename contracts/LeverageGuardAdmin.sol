// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {IAccessControl} from "@openzeppelin/contracts/access/IAccessControl.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";

import {LeverageGuardBase} from "./LeverageGuardBase.sol";
import {MultisigGovernance} from "./governance/MultisigGovernance.sol";

/// @title LeverageGuardAdmin
/// @notice The second half of LeverageGuard: initialisation and the 1.0.0 migration, the multisig, every
/// governance parameter, the policy registry, claim appeals (batch veto, cancel, reopen), pause, rescue and
/// the read-only views.
/// @dev Never used on its own: LeverageGuard's fallback delegates here, so every function runs in the
/// proxy's storage with the caller's `msg.sender`. Called directly, it only sees its own empty storage
/// (initializers are disabled and no one is a signer or holds a role there).
contract LeverageGuardAdmin is LeverageGuardBase, MultisigGovernance {
    using SafeERC20 for IERC20;

    /// @dev `multicall(bytes[])`, served by LeverageGuard.
    bytes4 private constant MULTICALL_SELECTOR = 0xac9650d8;
    /// @dev Length of `revokeRole(bytes32,address)` calldata.
    uint256 private constant REVOKE_ROLE_CALL_LENGTH = 68;
    uint64 private constant VERSION_1_1 = 2;

    /// @custom:oz-upgrades-unsafe-allow constructor
    constructor() {
        _disableInitializers();
    }

    /// @notice Initialises the proxy: pool asset, signers and threshold. The challenge period starts at
    /// DEFAULT_CHALLENGE_PERIOD, the claim grace period at DEFAULT_CLAIM_GRACE_PERIOD, the execution delay
    /// at 0 (so the deployer can configure a fresh pool); every limit starts at zero (closed).
    /// @param asset_ The ERC-20 stablecoin of the pool.
    /// @param signers The multisig signers (1 to MAX_SIGNERS, distinct, non-zero, not this contract).
    /// @param threshold_ Confirmations needed to execute a proposal (1 to the signer count).
    /// @dev Emits SignerAdded per signer, ThresholdChanged, ProposalLifetimeChanged, RoleGranted,
    /// ChallengePeriodChanged, ClaimGracePeriodChanged.
    function initialize(address asset_, address[] calldata signers, uint256 threshold_)
        external
        reinitializer(VERSION_1_1)
    {
        if (asset_ == address(0)) revert ZeroAddress();
        LeverageGuardStorage storage $ = _storage();
        // reinitializer(2) also admits a 1.0.0 pool (initialised to 1): that one has an asset already.
        if (address($.asset) != address(0)) revert InvalidInitialization();
        __AccessControl_init();
        __MultisigGovernance_init(signers, threshold_);
        $.asset = IERC20(asset_);
        _grantRole(DEFAULT_ADMIN_ROLE, address(this));
        _setChallengePeriod(DEFAULT_CHALLENGE_PERIOD);
        _setClaimGracePeriod(DEFAULT_CLAIM_GRACE_PERIOD);
    }

    /// @notice Migrates a 1.0.0 pool; run inside the upgrade's `upgradeToAndCall`. Binds each given
    /// policyholder's account hash to it, raises the challenge period to MIN_CHALLENGE_PERIOD if lower, sets
    /// the claim grace period to its default, and keeps every order claimed under 1.0.0 taken (its 1.0.0
    /// key is checked too). Policies (paidOut + reserved become `used` on first write) and 1.0.0 approvals
    /// (payable at decidedAt + challengePeriod) need no rewrite. Governance only, once.
    /// @param policyholders Every address with a 1.0.0 policy (from the Whitelisted events).
    /// @dev Emits AccountRefBound per policyholder, ChallengePeriodChanged (if raised),
    /// ClaimGracePeriodChanged, MigratedFrom1_0, Initialized.
    function migrateFrom1_0(address[] calldata policyholders) external onlyGovernance reinitializer(VERSION_1_1) {
        LeverageGuardStorage storage $ = _storage();
        for (uint256 i = 0; i < policyholders.length; ++i) {
            address user = policyholders[i];
            bytes32 accountRef = $.policies[user].accountRef;
            if (accountRef == bytes32(0)) revert NotWhitelisted(user);
            address holder = $.accountRefHolder[accountRef];
            if (holder != address(0) && holder != user) revert AccountRefInUse(accountRef, holder);
            $.accountRefHolder[accountRef] = user;
            emit AccountRefBound(accountRef, user);
        }
        if ($.challengePeriod < MIN_CHALLENGE_PERIOD) _setChallengePeriod(MIN_CHALLENGE_PERIOD);
        _setClaimGracePeriod(DEFAULT_CLAIM_GRACE_PERIOD);
        bool legacy = $.claimCount != 0;
        $.legacyOrderKeys = legacy;
        emit MigratedFrom1_0(policyholders.length, legacy);
    }

    // ================================================================== parameters (governance)

    /// @notice Sets the most governance may withdraw per UTC day. Governance only.
    /// @param limit Token units (0 closes withdrawals).
    /// @dev Emits DailyWithdrawalLimitChanged.
    function setDailyWithdrawalLimit(uint256 limit) external onlyGovernance {
        LeverageGuardStorage storage $ = _storage();
        uint256 previous = $.dailyWithdrawalLimit;
        $.dailyWithdrawalLimit = _toUint96(limit);
        emit DailyWithdrawalLimitChanged(previous, limit);
    }

    /// @notice Sets the circuit breaker: the most paid out to traders per UTC day. Governance only.
    /// @param limit Token units (0 stops payouts), at least maxPayoutPerClaim.
    /// @dev Emits DailyPayoutLimitChanged.
    function setDailyPayoutLimit(uint256 limit) external onlyGovernance {
        LeverageGuardStorage storage $ = _storage();
        if ($.maxPayoutPerClaim > limit) revert MaxPayoutAboveDailyPayoutLimit($.maxPayoutPerClaim, limit);
        uint256 previous = $.dailyPayoutLimit;
        $.dailyPayoutLimit = _toUint96(limit);
        emit DailyPayoutLimitChanged(previous, limit);
    }

    /// @notice Sets the circuit breaker on the validator: the most approved (reserved) per UTC day.
    /// Governance only.
    /// @param limit Token units (0 stops approvals).
    /// @dev Emits DailyApprovalLimitChanged.
    function setDailyApprovalLimit(uint256 limit) external onlyGovernance {
        LeverageGuardStorage storage $ = _storage();
        uint256 previous = $.dailyApprovalLimit;
        $.dailyApprovalLimit = _toUint96(limit);
        emit DailyApprovalLimitChanged(previous, limit);
    }

    /// @notice Sets the largest payout a single claim may be approved for. Governance only.
    /// @param maxPayout Token units (0 blocks approvals), at most dailyPayoutLimit so every approval can be
    /// paid.
    /// @dev Emits MaxPayoutPerClaimChanged.
    function setMaxPayoutPerClaim(uint256 maxPayout) external onlyGovernance {
        LeverageGuardStorage storage $ = _storage();
        if (maxPayout > $.dailyPayoutLimit) revert MaxPayoutAboveDailyPayoutLimit(maxPayout, $.dailyPayoutLimit);
        uint256 previous = $.maxPayoutPerClaim;
        $.maxPayoutPerClaim = uint96(maxPayout);
        emit MaxPayoutPerClaimChanged(previous, maxPayout);
    }

    /// @notice Sets the largest coverage limit a policy may be given (the registrar is a hot key).
    /// Governance only.
    /// @param maxLimit Token units (0 blocks new policies and extensions).
    /// @dev Emits MaxCoverageLimitChanged.
    function setMaxCoverageLimit(uint256 maxLimit) external onlyGovernance {
        LeverageGuardStorage storage $ = _storage();
        uint256 previous = $.maxCoverageLimit;
        $.maxCoverageLimit = _toUint96(maxLimit);
        emit MaxCoverageLimitChanged(previous, maxLimit);
    }

    /// @notice Sets the challenge window of future approvals; approvals already made keep their
    /// `payableAt`. Governance only.
    /// @param period Seconds, MIN_CHALLENGE_PERIOD to MAX_CHALLENGE_PERIOD.
    /// @dev Emits ChallengePeriodChanged.
    function setChallengePeriod(uint256 period) external onlyGovernance {
        _setChallengePeriod(period);
    }

    /// @notice Sets how long after a policy's coverage ends a claim for a liquidation inside the term may
    /// still be filed. Governance only.
    /// @param period Seconds, at most MAX_CLAIM_GRACE_PERIOD.
    /// @dev Emits ClaimGracePeriodChanged.
    function setClaimGracePeriod(uint256 period) external onlyGovernance {
        _setClaimGracePeriod(period);
    }

    /// @notice Returns tokens sent here by mistake. Never the pool asset. Governance only.
    /// @param token The stray token.
    /// @param to Recipient.
    /// @param amount Token units.
    /// @dev Emits TokenRescued.
    function rescueToken(address token, address to, uint256 amount) external onlyGovernance nonReentrant {
        if (token == address(_storage().asset)) revert CannotRescueAsset(token);
        if (token == address(0) || to == address(0)) revert ZeroAddress();
        if (amount == 0) revert ZeroAmount();
        emit TokenRescued(token, to, amount);
        IERC20(token).safeTransfer(to, amount);
    }

    // ================================================================== pause

    /// @notice Pauses the operations named by `flags` (CLAIMS=1, VERIFICATIONS=2, PAYOUTS=4, WITHDRAWALS=8,
    /// DEPOSITS=16). Guardian or governance.
    /// @param flags Bitwise OR of the operations to pause.
    /// @dev Emits Paused.
    function pause(uint256 flags) external onlyRoleOrGovernance(GUARDIAN_ROLE) {
        _checkPauseFlags(flags);
        LeverageGuardStorage storage $ = _storage();
        uint8 paused = uint8($.pausedFlags | flags);
        $.pausedFlags = paused;
        emit Paused(msg.sender, flags, paused);
    }

    /// @notice Resumes the operations named by `flags`. Governance only.
    /// @param flags Bitwise OR of the operations to resume.
    /// @dev Emits Unpaused.
    function unpause(uint256 flags) external onlyGovernance {
        _checkPauseFlags(flags);
        LeverageGuardStorage storage $ = _storage();
        uint8 paused = uint8($.pausedFlags & ~flags);
        $.pausedFlags = paused;
        emit Unpaused(msg.sender, flags, paused);
    }

    // ================================================================== policyholders

    /// @notice Starts a policy term for traders without coverage in force: coverage from now until
    /// `coverageEnd`. Registrar or governance. What a trader has used (paid out + reserved) carries over
    /// from earlier terms, so `coverageLimit` is the trader's limit over all terms.
    /// @param users Traders (no coverage in force, not blacklisted).
    /// @param accountRefs Per trader, a hash committing to their exchange account (never the raw id); bound
    /// to that trader alone while the trader may file claims with it.
    /// @param coverageLimit Most that may be paid out to each trader, token units, at most maxCoverageLimit.
    /// @param coverageEnd Unix time the coverage ends (in the future).
    /// @dev Emits Whitelisted per trader, AccountRefBound per newly bound account hash.
    function addToWhitelist(
        address[] calldata users,
        bytes32[] calldata accountRefs,
        uint256 coverageLimit,
        uint256 coverageEnd
    ) external onlyRoleOrGovernance(REGISTRAR_ROLE) {
        _checkBatch(users.length);
        if (accountRefs.length != users.length) revert LengthMismatch(users.length, accountRefs.length);
        uint96 limit = _checkCoverage(coverageLimit, coverageEnd);
        LeverageGuardStorage storage $ = _storage();
        for (uint256 i = 0; i < users.length; ++i) {
            address user = users[i];
            bytes32 accountRef = accountRefs[i];
            if (user == address(0)) revert ZeroAddress();
            if (accountRef == bytes32(0)) revert ZeroAccountRef(user);
            Policy storage policy = $.policies[user];
            if (policy.whitelisted && policy.coverageEnd >= block.timestamp) revert AlreadyWhitelisted(user);
            if (policy.blacklisted) revert UserBlacklisted(user);
            uint256 used = _used(policy);
            if (limit < used) revert CoverageLimitBelowUsed(limit, used);
            _bindAccountRef(user, policy.accountRef, accountRef);
            policy.accountRef = accountRef;
            policy.coverageLimit = limit;
            policy.coverageStart = uint40(block.timestamp);
            policy.coverageEnd = uint40(coverageEnd);
            policy.whitelisted = true;
            emit Whitelisted(user, accountRef, coverageLimit, block.timestamp, coverageEnd);
        }
    }

    /// @notice Renews traders' policies in place: the end only moves later, the limit stays at least what
    /// each has used, the term's start and usage do not reset. Registrar or governance.
    /// @param users Traders with coverage in force, not blacklisted.
    /// @param coverageLimit The new limit, at most maxCoverageLimit and at least each trader's `used`.
    /// @param coverageEnd The new end: in the future and not before each trader's current end.
    /// @dev Emits CoverageExtended per trader.
    function extendCoverage(address[] calldata users, uint256 coverageLimit, uint256 coverageEnd)
        external
        onlyRoleOrGovernance(REGISTRAR_ROLE)
    {
        _checkBatch(users.length);
        uint96 limit = _checkCoverage(coverageLimit, coverageEnd);
        LeverageGuardStorage storage $ = _storage();
        for (uint256 i = 0; i < users.length; ++i) {
            address user = users[i];
            Policy storage policy = $.policies[user];
            if (!policy.whitelisted || policy.coverageEnd < block.timestamp) revert NotWhitelisted(user);
            if (policy.blacklisted) revert UserBlacklisted(user);
            if (coverageEnd < policy.coverageEnd) revert CoverageEndNotLater(coverageEnd, policy.coverageEnd);
            uint256 used = _used(policy);
            if (limit < used) revert CoverageLimitBelowUsed(limit, used);
            policy.coverageLimit = limit;
            policy.coverageEnd = uint40(coverageEnd);
            emit CoverageExtended(user, coverageLimit, coverageEnd);
        }
    }

    /// @notice Ends traders' coverage now (an earlier end stays); claims for liquidations inside the term may
    /// still be filed until coverageEnd + claimGracePeriod, and filed claims proceed. Registrar or
    /// governance.
    /// @param users Whitelisted traders.
    /// @dev Emits RemovedFromWhitelist per trader.
    function removeFromWhitelist(address[] calldata users) external onlyRoleOrGovernance(REGISTRAR_ROLE) {
        _checkBatch(users.length);
        LeverageGuardStorage storage $ = _storage();
        for (uint256 i = 0; i < users.length; ++i) {
            Policy storage policy = $.policies[users[i]];
            if (!policy.whitelisted) revert NotWhitelisted(users[i]);
            policy.whitelisted = false;
            if (policy.coverageEnd > block.timestamp) policy.coverageEnd = uint40(block.timestamp);
            emit RemovedFromWhitelist(users[i], policy.coverageEnd);
        }
    }

    /// @notice Blocks traders from claiming, being approved and being paid. Guardian, registrar or governance.
    /// @param users Traders not blacklisted yet.
    /// @dev Emits Blacklisted per trader.
    function addToBlacklist(address[] calldata users) external {
        if (msg.sender != address(this) && !hasRole(GUARDIAN_ROLE, msg.sender) && !hasRole(REGISTRAR_ROLE, msg.sender))
        {
            revert Unauthorized(msg.sender);
        }
        _checkBatch(users.length);
        LeverageGuardStorage storage $ = _storage();
        for (uint256 i = 0; i < users.length; ++i) {
            address user = users[i];
            if (user == address(0)) revert ZeroAddress();
            Policy storage policy = $.policies[user];
            if (policy.blacklisted) revert AlreadyBlacklisted(user);
            policy.blacklisted = true;
            emit Blacklisted(user, msg.sender);
        }
    }

    /// @notice Lifts the blacklist from traders. Governance only.
    /// @param users Blacklisted traders.
    /// @dev Emits RemovedFromBlacklist per trader.
    function removeFromBlacklist(address[] calldata users) external onlyGovernance {
        _checkBatch(users.length);
        LeverageGuardStorage storage $ = _storage();
        for (uint256 i = 0; i < users.length; ++i) {
            Policy storage policy = $.policies[users[i]];
            if (!policy.blacklisted) revert NotBlacklisted(users[i]);
            policy.blacklisted = false;
            emit RemovedFromBlacklist(users[i]);
        }
    }

    // ================================================================== claim appeals

    /// @notice Vetoes many approvals inside their challenge windows; items not vetoable are skipped with
    /// their reason. Guardian or governance.
    /// @param claimIds The claims (1 to MAX_BATCH_SIZE).
    /// @param reasonCode Why (100 = guardian veto by convention).
    /// @dev Emits ClaimVetoed per vetoed claim, VetoSkipped(SKIP_WRONG_STATUS or SKIP_CHALLENGE_WINDOW_OVER)
    /// per skipped one.
    function vetoClaims(uint256[] calldata claimIds, uint16 reasonCode) external onlyRoleOrGovernance(GUARDIAN_ROLE) {
        _checkBatch(claimIds.length);
        LeverageGuardStorage storage $ = _storage();
        for (uint256 i = 0; i < claimIds.length; ++i) {
            uint256 claimId = claimIds[i];
            Claim storage claim = $.claims[claimId];
            if (claim.status != ClaimStatus.Approved) {
                emit VetoSkipped(claimId, SKIP_WRONG_STATUS);
                continue;
            }
            if (block.timestamp >= _payableAt(claim)) {
                emit VetoSkipped(claimId, SKIP_CHALLENGE_WINDOW_OVER);
                continue;
            }
            (address user, uint96 amount) = _releaseApproval(claim, reasonCode);
            emit ClaimVetoed(claimId, msg.sender, user, amount, reasonCode);
        }
    }

    /// @notice Cancels an approved claim that cannot or should not be paid (e.g. its trader was blacklisted
    /// after the window, or its payout exceeds the daily payout limit): Approved -> Rejected, the
    /// reservation released. Governance only.
    /// @param claimId An Approved claim.
    /// @param reasonCode Why.
    /// @dev Emits ClaimCancelled.
    function cancelApprovedClaim(uint256 claimId, uint16 reasonCode) external onlyGovernance {
        Claim storage claim = _storage().claims[claimId];
        if (claim.status != ClaimStatus.Approved) revert InvalidClaimStatus(claimId, claim.status);
        (address user, uint96 amount) = _releaseApproval(claim, reasonCode);
        emit ClaimCancelled(claimId, user, amount, reasonCode);
    }

    /// @notice Reopens a rejected claim for a new verdict (the appeal path, e.g. for an order the exchange
    /// had aged out): Rejected -> Pending. The only backward step of the claim life cycle. Governance only.
    /// @param claimId A Rejected claim.
    /// @dev Emits ClaimReopened.
    function reopenClaim(uint256 claimId) external onlyGovernance {
        Claim storage claim = _storage().claims[claimId];
        if (claim.status != ClaimStatus.Rejected) revert InvalidClaimStatus(claimId, claim.status);
        claim.status = ClaimStatus.Pending;
        claim.decidedAt = 0;
        claim.reasonCode = 0;
        emit ClaimReopened(claimId, claim.user);
    }

    // ================================================================== views

    /// @notice The pool's ERC-20 asset.
    function asset() external view returns (address) {
        return address(_storage().asset);
    }

    /// @notice Sum of approved, unpaid payouts.
    function reservedAmount() external view returns (uint256) {
        return _storage().reserved;
    }

    /// @notice Withdrawn so far in the current UTC day.
    function withdrawnToday() external view returns (uint256) {
        DailyCounters memory daily = _storage().daily;
        return daily.withdrawalDay == _today() ? daily.withdrawnInDay : 0;
    }

    /// @notice Paid out to traders so far in the current UTC day.
    function paidOutToday() external view returns (uint256) {
        DailyCounters memory daily = _storage().daily;
        return daily.payoutDay == _today() ? daily.paidInDay : 0;
    }

    /// @notice Approved (reserved) so far in the current UTC day.
    function approvedToday() external view returns (uint256) {
        LeverageGuardStorage storage $ = _storage();
        return $.approvalDay == _today() ? $.approvedInDay : 0;
    }

    /// @notice The most governance may withdraw per UTC day.
    function dailyWithdrawalLimit() external view returns (uint256) {
        return _storage().dailyWithdrawalLimit;
    }

    /// @notice The most paid out to traders per UTC day.
    function dailyPayoutLimit() external view returns (uint256) {
        return _storage().dailyPayoutLimit;
    }

    /// @notice The most approved per UTC day.
    function dailyApprovalLimit() external view returns (uint256) {
        return _storage().dailyApprovalLimit;
    }

    /// @notice The largest payout per claim.
    function maxPayoutPerClaim() external view returns (uint256) {
        return _storage().maxPayoutPerClaim;
    }

    /// @notice The largest coverage limit of a policy.
    function maxCoverageLimit() external view returns (uint256) {
        return _storage().maxCoverageLimit;
    }

    /// @notice The challenge window stamped on new approvals, seconds.
    function challengePeriod() external view returns (uint256) {
        return _storage().challengePeriod;
    }

    /// @notice How long after coverage ends claims may still be filed, seconds.
    function claimGracePeriod() external view returns (uint256) {
        return _storage().claimGracePeriod;
    }

    /// @notice Bitwise OR of the paused operations.
    function pausedFlags() external view returns (uint256) {
        return _storage().pausedFlags;
    }

    /// @notice Whether the trader has a policy term that was not removed (its coverage may have ended).
    function isWhitelisted(address user) external view returns (bool) {
        return _storage().policies[user].whitelisted;
    }

    /// @notice Whether the trader is blacklisted.
    function isBlacklisted(address user) external view returns (bool) {
        return _storage().policies[user].blacklisted;
    }

    /// @notice A trader's policy. Remaining coverage = coverageLimit - used.
    function getPolicy(address user) external view returns (PolicyView memory) {
        Policy storage policy = _storage().policies[user];
        return PolicyView({
            accountRef: policy.accountRef,
            coverageLimit: policy.coverageLimit,
            coverageStart: policy.coverageStart,
            coverageEnd: policy.coverageEnd,
            used: _used(policy),
            whitelisted: policy.whitelisted,
            blacklisted: policy.blacklisted
        });
    }

    /// @notice What a trader may still claim: coverageLimit - used (0 if negative).
    function remainingCoverage(address user) external view returns (uint256) {
        return _remainingCoverage(_storage().policies[user]);
    }

    /// @notice A claim; unknown ids return status None.
    function getClaim(uint256 claimId) external view returns (ClaimView memory) {
        Claim storage claim = _storage().claims[claimId];
        return ClaimView({
            user: claim.user,
            exchange: claim.exchange,
            status: claim.status,
            claimedLoss: claim.claimedLoss,
            payout: claim.payout,
            submittedAt: claim.submittedAt,
            decidedAt: claim.decidedAt,
            reasonCode: claim.reasonCode,
            payableAt: claim.status == ClaimStatus.Approved || claim.status == ClaimStatus.Paid ? _payableAt(claim) : 0
        });
    }

    /// @notice Number of claims ever filed (the last id).
    function claimCount() external view returns (uint256) {
        return _storage().claimCount;
    }

    /// @notice The claim filed for an order of an exchange account, or 0.
    /// @param exchange 1 = OKX, 2 = Binance, 3 = Bybit.
    /// @param accountRef The policy's exchange account hash.
    /// @param instrument The instrument as filed (upper case).
    /// @param orderId The order id as filed.
    function claimIdByOrder(uint8 exchange, bytes32 accountRef, string calldata instrument, string calldata orderId)
        external
        view
        returns (uint256)
    {
        return _storage().claimIdByOrderKey[keccak256(abi.encode(exchange, accountRef, instrument, orderId))];
    }

    /// @notice The trader an exchange account hash is bound to, or the zero address.
    function accountRefHolder(bytes32 accountRef) external view returns (address) {
        return _storage().accountRefHolder[accountRef];
    }

    // ================================================================== internals

    /// @dev A guardian may cancel a scheduled proposal during its delay, unless its every call revokes
    /// GUARDIAN_ROLE (so governance can always remove a rogue guardian).
    function _authorizeCancel(uint256 proposalId, Proposal storage proposal) internal view override {
        if (!hasRole(GUARDIAN_ROLE, msg.sender)) revert NotProposer(proposalId, msg.sender);
        uint256 readyAt = proposal.readyAt;
        if (readyAt == 0 || block.timestamp >= readyAt) revert NotInDelay(proposalId, readyAt);
        if (_onlyRevokesGuardians(proposal.data)) revert GuardianRemovalNotCancellable(proposalId);
    }

    /// @dev Whether `data` is `revokeRole(GUARDIAN_ROLE, x)` or a `multicall` of nothing else. Parses the
    /// ABI encoding by hand without reverting: malformed data is "not only guardian removals".
    function _onlyRevokesGuardians(bytes memory data) private pure returns (bool) {
        uint256 length = data.length;
        if (_isGuardianRevocation(data, 0, length)) return true;
        if (length < 4 + 2 * 32 || bytes4(data) != MULTICALL_SELECTOR) return false;
        uint256 arrayOffset = _word(data, 4);
        if (arrayOffset > length - 4 - 32) return false;
        uint256 head = 4 + arrayOffset; // the array's length word
        uint256 count = _word(data, head);
        uint256 items = head + 32; // element offsets are relative to here
        if (count == 0 || count > (length - items) / 32) return false;
        for (uint256 i = 0; i < count; ++i) {
            uint256 offset = _word(data, items + 32 * i);
            if (offset > length - items - 32) return false;
            uint256 start = items + offset; // the element's length word
            uint256 itemLength = _word(data, start);
            if (itemLength > length - start - 32) return false;
            if (!_isGuardianRevocation(data, start + 32, itemLength)) return false;
        }
        return true;
    }

    function _isGuardianRevocation(bytes memory data, uint256 start, uint256 length) private pure returns (bool) {
        if (length != REVOKE_ROLE_CALL_LENGTH) return false;
        return bytes4(bytes32(_word(data, start))) == IAccessControl.revokeRole.selector
            && bytes32(_word(data, start + 4)) == GUARDIAN_ROLE;
    }

    /// @dev The 32 bytes of `data` from `position`; the caller checks `position + 32 <= data.length`.
    function _word(bytes memory data, uint256 position) private pure returns (uint256 word) {
        assembly {
            word := mload(add(add(data, 0x20), position))
        }
    }

    /// @dev Binds `accountRef` to `user`, unless another trader who may still file with it holds it; the
    /// user's previous account hash is released. A former holder loses the hash from its policy too, so a
    /// later, longer grace period cannot give it back a filing window under a hash that has moved on.
    function _bindAccountRef(address user, bytes32 previous, bytes32 accountRef) private {
        LeverageGuardStorage storage $ = _storage();
        address holder = $.accountRefHolder[accountRef];
        if (holder != user) {
            if (holder != address(0)) {
                Policy storage held = $.policies[holder];
                if (held.accountRef == accountRef) {
                    if (block.timestamp <= uint256(held.coverageEnd) + $.claimGracePeriod) {
                        revert AccountRefInUse(accountRef, holder);
                    }
                    held.accountRef = bytes32(0);
                }
            }
            $.accountRefHolder[accountRef] = user;
            emit AccountRefBound(accountRef, user);
        }
        if (previous != bytes32(0) && previous != accountRef && $.accountRefHolder[previous] == user) {
            delete $.accountRefHolder[previous];
        }
    }

    function _checkCoverage(uint256 coverageLimit, uint256 coverageEnd) private view returns (uint96) {
        if (coverageLimit == 0) revert ZeroAmount();
        uint256 max = _storage().maxCoverageLimit;
        if (coverageLimit > max) revert CoverageLimitAboveMax(coverageLimit, max);
        if (coverageEnd <= block.timestamp || coverageEnd > type(uint40).max) {
            revert InvalidCoverageEnd(coverageEnd, block.timestamp);
        }
        return uint96(coverageLimit);
    }

    function _setChallengePeriod(uint256 period) private {
        if (period < MIN_CHALLENGE_PERIOD || period > MAX_CHALLENGE_PERIOD) {
            revert InvalidChallengePeriod(period, MIN_CHALLENGE_PERIOD, MAX_CHALLENGE_PERIOD);
        }
        LeverageGuardStorage storage $ = _storage();
        uint256 previous = $.challengePeriod;
        $.challengePeriod = uint32(period);
        emit ChallengePeriodChanged(previous, period);
    }

    function _setClaimGracePeriod(uint256 period) private {
        if (period > MAX_CLAIM_GRACE_PERIOD) revert InvalidClaimGracePeriod(period, MAX_CLAIM_GRACE_PERIOD);
        LeverageGuardStorage storage $ = _storage();
        uint256 previous = $.claimGracePeriod;
        $.claimGracePeriod = uint32(period);
        emit ClaimGracePeriodChanged(previous, period);
    }

    function _checkPauseFlags(uint256 flags) private pure {
        if (flags == 0 || flags & ~PAUSE_ALL != 0) revert InvalidPauseFlags(flags);
    }
}

// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {AccessControlUpgradeable} from "@openzeppelin/contracts-upgradeable/access/AccessControlUpgradeable.sol";
import {UUPSUpgradeable} from "@openzeppelin/contracts-upgradeable/proxy/utils/UUPSUpgradeable.sol";
import {MulticallUpgradeable} from "@openzeppelin/contracts-upgradeable/utils/MulticallUpgradeable.sol";

import {MultisigGovernance} from "./governance/MultisigGovernance.sol";
import {ILeverageGuard} from "./interfaces/ILeverageGuard.sol";

/// @title LeverageGuard
/// @notice Liquidation insurance for leveraged traders on centralized exchanges. Sponsors deposit a stablecoin;
/// whitelisted traders file claims for liquidated orders; a validator (the keeper) posts a verdict with the hash
/// of its evidence; approved payouts are reserved at once and paid after a challenge window, singly or in
/// batches. Governance is the in-contract multisig: only executed proposals (`msg.sender == address(this)`)
/// hold DEFAULT_ADMIN_ROLE, grant roles, change parameters, withdraw, unpause and upgrade.
/// @dev UUPS implementation behind an ERC1967Proxy. State in ERC-7201 namespaced storage. Invariant:
/// `totalAssets() >= reservedAmount()` after every transaction. Reason codes are set by the validator; the
/// table lives in `keeper/reasons.py` (0 = approved, 100 = guardian veto).
contract LeverageGuard is
    ILeverageGuard,
    MultisigGovernance,
    AccessControlUpgradeable,
    MulticallUpgradeable,
    ReentrancyGuardTransient,
    UUPSUpgradeable
{
    using SafeERC20 for IERC20;

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

    /// @notice Largest batch accepted by every batch function (bounds gas per transaction).
    uint256 public constant MAX_BATCH_SIZE = 200;
    uint256 public constant MAX_ORDER_ID_LENGTH = 64;
    uint256 public constant MAX_INSTRUMENT_LENGTH = 32;
    /// @notice Longest challenge window governance may set.
    uint256 public constant MAX_CHALLENGE_PERIOD = 30 days;

    uint256 private constant DAY = 1 days;

    struct Policy {
        // slot 0
        bytes32 accountRef;
        // slot 1
        uint96 coverageLimit;
        uint40 coverageStart;
        uint40 coverageEnd;
        bool whitelisted;
        bool blacklisted;
        // slot 2
        uint96 paidOut;
        uint96 reserved;
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
    }

    // keccak256(abi.encode(uint256(keccak256("leverageguard.storage.LeverageGuard")) - 1)) & ~bytes32(uint256(0xff))
    bytes32 private constant STORAGE_LOCATION = 0x61e2c9bfc8811b94d687f6922bc0de4c1384e9a7327cf9c6f33a1843fa9e8800;

    function _storage() private pure returns (LeverageGuardStorage storage $) {
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

    /// @custom:oz-upgrades-unsafe-allow constructor
    constructor() {
        _disableInitializers();
    }

    /// @notice Initialises the proxy: pool asset, signers and threshold. All limits start at zero (closed)
    /// until governance sets them.
    /// @param asset_ The ERC-20 stablecoin of the pool.
    /// @param signers The multisig signers (1 to MAX_SIGNERS, distinct, non-zero).
    /// @param threshold_ Confirmations needed to execute a proposal (1 to the signer count).
    /// @dev Emits SignerAdded per signer, ThresholdChanged, ProposalLifetimeChanged, RoleGranted.
    function initialize(address asset_, address[] calldata signers, uint256 threshold_) external initializer {
        if (asset_ == address(0)) revert ZeroAddress();
        __AccessControl_init();
        __Multicall_init();
        __MultisigGovernance_init(signers, threshold_);
        _storage().asset = IERC20(asset_);
        _grantRole(DEFAULT_ADMIN_ROLE, address(this));
    }

    /// @notice Implementation version.
    function version() external pure virtual returns (string memory) {
        return "1.0.0";
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
        uint256 free = freeBalance();
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
    /// @param limit Token units (0 stops payouts).
    /// @dev Emits DailyPayoutLimitChanged.
    function setDailyPayoutLimit(uint256 limit) external onlyGovernance {
        LeverageGuardStorage storage $ = _storage();
        uint256 previous = $.dailyPayoutLimit;
        $.dailyPayoutLimit = _toUint96(limit);
        emit DailyPayoutLimitChanged(previous, limit);
    }

    /// @notice Sets the largest payout a single claim may be approved for. Governance only.
    /// @param maxPayout Token units (0 blocks approvals).
    /// @dev Emits MaxPayoutPerClaimChanged.
    function setMaxPayoutPerClaim(uint256 maxPayout) external onlyGovernance {
        LeverageGuardStorage storage $ = _storage();
        uint256 previous = $.maxPayoutPerClaim;
        $.maxPayoutPerClaim = _toUint96(maxPayout);
        emit MaxPayoutPerClaimChanged(previous, maxPayout);
    }

    /// @notice Sets the challenge window between approval and payout. Governance only.
    /// @param period Seconds, 0 to MAX_CHALLENGE_PERIOD. Applies to every approved, unpaid claim.
    /// @dev Emits ChallengePeriodChanged.
    function setChallengePeriod(uint256 period) external onlyGovernance {
        if (period > MAX_CHALLENGE_PERIOD) revert AmountTooLarge(period, MAX_CHALLENGE_PERIOD);
        LeverageGuardStorage storage $ = _storage();
        uint256 previous = $.challengePeriod;
        $.challengePeriod = uint32(period);
        emit ChallengePeriodChanged(previous, period);
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

    /// @notice Whitelists traders with coverage from now until `coverageEnd`. Registrar or governance.
    /// @param users Traders (not whitelisted now, not blacklisted).
    /// @param accountRefs Per trader, a hash committing to their exchange account (never the raw id).
    /// @param coverageLimit Most that may be paid out to each trader over the policy, token units.
    /// @param coverageEnd Unix time the coverage ends (in the future).
    /// @dev Emits Whitelisted per trader. A re-registered trader starts with paidOut 0; approved, unpaid
    /// payouts of an earlier policy stay reserved against the new one.
    function addToWhitelist(
        address[] calldata users,
        bytes32[] calldata accountRefs,
        uint256 coverageLimit,
        uint256 coverageEnd
    ) external onlyRoleOrGovernance(REGISTRAR_ROLE) {
        _checkBatch(users.length);
        if (accountRefs.length != users.length) revert LengthMismatch(users.length, accountRefs.length);
        if (coverageLimit == 0) revert ZeroAmount();
        uint96 limit = _toUint96(coverageLimit);
        if (coverageEnd <= block.timestamp || coverageEnd > type(uint40).max) {
            revert InvalidCoverageEnd(coverageEnd, block.timestamp);
        }
        LeverageGuardStorage storage $ = _storage();
        for (uint256 i = 0; i < users.length; ++i) {
            address user = users[i];
            bytes32 accountRef = accountRefs[i];
            if (user == address(0)) revert ZeroAddress();
            if (accountRef == bytes32(0)) revert ZeroAccountRef(user);
            Policy storage policy = $.policies[user];
            if (policy.whitelisted) revert AlreadyWhitelisted(user);
            if (policy.blacklisted) revert UserBlacklisted(user);
            policy.accountRef = accountRef;
            policy.coverageLimit = limit;
            policy.coverageStart = uint40(block.timestamp);
            policy.coverageEnd = uint40(coverageEnd);
            policy.whitelisted = true;
            policy.paidOut = 0;
            emit Whitelisted(user, accountRef, coverageLimit, block.timestamp, coverageEnd);
        }
    }

    /// @notice Ends the traders' coverage for new claims; their filed claims proceed. Registrar or governance.
    /// @param users Whitelisted traders.
    /// @dev Emits RemovedFromWhitelist per trader.
    function removeFromWhitelist(address[] calldata users) external onlyRoleOrGovernance(REGISTRAR_ROLE) {
        _checkBatch(users.length);
        LeverageGuardStorage storage $ = _storage();
        for (uint256 i = 0; i < users.length; ++i) {
            Policy storage policy = $.policies[users[i]];
            if (!policy.whitelisted) revert NotWhitelisted(users[i]);
            policy.whitelisted = false;
            emit RemovedFromWhitelist(users[i]);
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

    // ================================================================== claims

    /// @notice Files a claim for a liquidated order. The caller must be whitelisted, not blacklisted, and
    /// inside their coverage period; one claim per (exchange, orderId) ever.
    /// @param exchange 1 = OKX, 2 = Binance, 3 = Bybit.
    /// @param orderId The exchange's order id (1 to MAX_ORDER_ID_LENGTH bytes).
    /// @param instrument The instrument, e.g. "BTC-USDT-SWAP" (1 to MAX_INSTRUMENT_LENGTH bytes).
    /// @param claimedLoss Token units, 0 < claimedLoss <= remaining coverage.
    /// @return claimId The new claim's id (starting at 1).
    /// @dev Emits LiquidationClaimed.
    function submitClaim(uint8 exchange, string calldata orderId, string calldata instrument, uint256 claimedLoss)
        external
        whenNotPaused(PAUSE_CLAIMS)
        returns (uint256 claimId)
    {
        _checkClaimInput(exchange, orderId, instrument);
        if (claimedLoss == 0) revert ZeroAmount();
        bytes32 accountRef;
        (claimId, accountRef) = _recordClaim(exchange, _orderKey(exchange, orderId), claimedLoss);
        emit LiquidationClaimed(claimId, msg.sender, exchange, accountRef, orderId, instrument, claimedLoss);
    }

    /// @notice Posts the verdict on a pending claim. Validator only. An approval reserves the payout at once.
    /// @param claimId A Pending claim.
    /// @param approved Whether the liquidation is covered.
    /// @param payout If approved: 0 < payout <= min(claimedLoss, remaining coverage, maxPayoutPerClaim) and
    /// <= freeBalance(); if rejected: 0.
    /// @param evidenceHash keccak256 of the keeper's canonical evidence record (non-zero).
    /// @param reasonCode The keeper's reason code (see keeper/reasons.py).
    /// @dev Emits ClaimVerified.
    function postVerification(
        uint256 claimId,
        bool approved,
        uint256 payout,
        bytes32 evidenceHash,
        uint16 reasonCode
    ) external onlyRole(VALIDATOR_ROLE) whenNotPaused(PAUSE_VERIFICATIONS) {
        _verify(claimId, approved, payout, evidenceHash, reasonCode);
    }

    /// @notice Posts many verdicts at once. Items whose claim is already decided are skipped, so a restarted
    /// keeper can post the same batch again; any other bad item reverts the whole batch. Validator only.
    /// @param items The verdicts (1 to MAX_BATCH_SIZE).
    /// @dev Emits ClaimVerified per decided item, VerificationSkipped per skipped item.
    function postVerifications(Verification[] calldata items)
        external
        onlyRole(VALIDATOR_ROLE)
        whenNotPaused(PAUSE_VERIFICATIONS)
    {
        _checkBatch(items.length);
        LeverageGuardStorage storage $ = _storage();
        for (uint256 i = 0; i < items.length; ++i) {
            Verification calldata item = items[i];
            ClaimStatus status = $.claims[item.claimId].status;
            if (status > ClaimStatus.Pending) {
                emit VerificationSkipped(item.claimId);
                continue;
            }
            _verify(item.claimId, item.approved, item.payout, item.evidenceHash, item.reasonCode);
        }
    }

    /// @notice Overturns an approval inside its challenge window; the reservation is released. Guardian or
    /// governance.
    /// @param claimId An Approved claim whose challenge window is still open.
    /// @param reasonCode Why (100 = guardian veto by convention).
    /// @dev Emits ClaimVetoed.
    function vetoClaim(uint256 claimId, uint16 reasonCode) external onlyRoleOrGovernance(GUARDIAN_ROLE) {
        LeverageGuardStorage storage $ = _storage();
        Claim storage claim = $.claims[claimId];
        if (claim.status != ClaimStatus.Approved) revert InvalidClaimStatus(claimId, claim.status);
        uint256 endsAt = uint256(claim.decidedAt) + $.challengePeriod;
        if (block.timestamp >= endsAt) revert ChallengePeriodOver(claimId, endsAt);
        uint96 payout = claim.payout;
        claim.status = ClaimStatus.Rejected;
        claim.reasonCode = reasonCode;
        claim.payout = 0;
        $.policies[claim.user].reserved -= payout;
        $.reserved -= payout;
        emit ClaimVetoed(claimId, msg.sender, reasonCode);
    }

    /// @notice Pays an approved claim whose challenge window is over. Anyone may call.
    /// @param claimId The claim.
    /// @dev Emits PayoutExecuted.
    function executePayout(uint256 claimId) external nonReentrant whenNotPaused(PAUSE_PAYOUTS) {
        uint256[] memory claimIds = new uint256[](1);
        claimIds[0] = claimId;
        _executePayouts(claimIds, true);
    }

    /// @notice Pays many approved claims. Claims not payable now (wrong status, window open, blacklisted
    /// trader, daily payout limit reached, or listed twice) are skipped. Anyone may call.
    /// @param claimIds The claims (1 to MAX_BATCH_SIZE).
    /// @dev Emits PayoutExecuted per paid claim and PayoutSkipped per skipped one.
    function executePayouts(uint256[] calldata claimIds) external nonReentrant whenNotPaused(PAUSE_PAYOUTS) {
        _checkBatch(claimIds.length);
        _executePayouts(claimIds, false);
    }

    // ================================================================== views

    /// @notice The pool's ERC-20 asset.
    function asset() external view returns (address) {
        return address(_storage().asset);
    }

    /// @notice The pool's token balance.
    function totalAssets() public view returns (uint256) {
        return _storage().asset.balanceOf(address(this));
    }

    /// @notice Sum of approved, unpaid payouts.
    function reservedAmount() external view returns (uint256) {
        return _storage().reserved;
    }

    /// @notice What is neither reserved for approved claims nor missing: totalAssets() - reservedAmount().
    function freeBalance() public view returns (uint256) {
        uint256 balance = totalAssets();
        uint256 reserved = _storage().reserved;
        return balance > reserved ? balance - reserved : 0;
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

    function dailyWithdrawalLimit() external view returns (uint256) {
        return _storage().dailyWithdrawalLimit;
    }

    function dailyPayoutLimit() external view returns (uint256) {
        return _storage().dailyPayoutLimit;
    }

    function maxPayoutPerClaim() external view returns (uint256) {
        return _storage().maxPayoutPerClaim;
    }

    function challengePeriod() external view returns (uint256) {
        return _storage().challengePeriod;
    }

    /// @notice Bitwise OR of the paused operations.
    function pausedFlags() external view returns (uint256) {
        return _storage().pausedFlags;
    }

    function isWhitelisted(address user) external view returns (bool) {
        return _storage().policies[user].whitelisted;
    }

    function isBlacklisted(address user) external view returns (bool) {
        return _storage().policies[user].blacklisted;
    }

    /// @notice A trader's policy. Remaining coverage = coverageLimit - paidOut - reserved.
    function getPolicy(address user) external view returns (PolicyView memory) {
        Policy storage policy = _storage().policies[user];
        return PolicyView({
            accountRef: policy.accountRef,
            coverageLimit: policy.coverageLimit,
            coverageStart: policy.coverageStart,
            coverageEnd: policy.coverageEnd,
            paidOut: policy.paidOut,
            reserved: policy.reserved
        });
    }

    /// @notice What a trader may still claim: coverageLimit - paidOut - reserved (0 if negative).
    function remainingCoverage(address user) external view returns (uint256) {
        return _remainingCoverage(_storage().policies[user]);
    }

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
            reasonCode: claim.reasonCode
        });
    }

    /// @notice Number of claims ever filed (the last id).
    function claimCount() external view returns (uint256) {
        return _storage().claimCount;
    }

    /// @notice The claim filed for an order, or 0.
    function claimIdByOrder(uint8 exchange, string calldata orderId) external view returns (uint256) {
        return _storage().claimIdByOrderKey[_orderKey(exchange, orderId)];
    }

    // ================================================================== internals

    /// @dev Checks the caller's policy and the order's uniqueness, then stores a Pending claim.
    function _recordClaim(uint8 exchange, bytes32 orderKey, uint256 claimedLoss)
        private
        returns (uint256 claimId, bytes32 accountRef)
    {
        LeverageGuardStorage storage $ = _storage();
        Policy storage policy = $.policies[msg.sender];
        if (!policy.whitelisted) revert NotWhitelisted(msg.sender);
        if (policy.blacklisted) revert UserBlacklisted(msg.sender);
        if (block.timestamp < policy.coverageStart || block.timestamp > policy.coverageEnd) {
            revert OutsideCoverage(msg.sender, policy.coverageStart, policy.coverageEnd);
        }
        uint256 remaining = _remainingCoverage(policy);
        if (claimedLoss > remaining) revert ClaimExceedsCoverage(claimedLoss, remaining);
        uint256 existing = $.claimIdByOrderKey[orderKey];
        if (existing != 0) revert DuplicateClaim(existing);

        claimId = ++$.claimCount;
        $.claimIdByOrderKey[orderKey] = claimId;
        Claim storage claim = $.claims[claimId];
        claim.user = msg.sender;
        claim.exchange = exchange;
        claim.status = ClaimStatus.Pending;
        claim.submittedAt = uint40(block.timestamp);
        claim.claimedLoss = uint96(claimedLoss);
        accountRef = policy.accountRef;
    }

    function _verify(uint256 claimId, bool approved, uint256 payout, bytes32 evidenceHash, uint16 reasonCode)
        private
    {
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
            uint256 cap = _min(_min(claim.claimedLoss, _remainingCoverage(policy)), $.maxPayoutPerClaim);
            if (payout > cap) revert PayoutTooLarge(payout, cap);
            uint256 free = freeBalance();
            if (payout > free) revert InsufficientFreeBalance(payout, free);
            claim.status = ClaimStatus.Approved;
            claim.payout = uint96(payout);
            policy.reserved += uint96(payout);
            $.reserved += uint128(payout);
        } else {
            if (payout != 0) revert PayoutOnRejection(payout);
            claim.status = ClaimStatus.Rejected;
        }
        claim.decidedAt = uint40(block.timestamp);
        claim.reasonCode = reasonCode;
        emit ClaimVerified(claimId, msg.sender, approved, payout, evidenceHash, reasonCode);
    }

    /// @dev Running totals of one payout batch, kept in memory to stay within the stack.
    struct PayoutBatch {
        uint256 period;
        uint256 dailyLimit;
        uint256 paidInDay;
        uint256 totalPaid;
        uint256 transfers;
        bool strict;
    }

    /// @dev All effects and events first, then the transfers. With `strict`, a claim that cannot be paid
    /// reverts with the precise reason; otherwise it is skipped with PayoutSkipped.
    function _executePayouts(uint256[] memory claimIds, bool strict) private {
        LeverageGuardStorage storage $ = _storage();
        DailyCounters memory daily = $.daily;
        uint32 today = _today();
        PayoutBatch memory batch = PayoutBatch({
            period: $.challengePeriod,
            dailyLimit: $.dailyPayoutLimit,
            paidInDay: daily.payoutDay == today ? daily.paidInDay : 0,
            totalPaid: 0,
            transfers: 0,
            strict: strict
        });
        address[] memory recipients = new address[](claimIds.length);
        uint256[] memory amounts = new uint256[](claimIds.length);

        for (uint256 i = 0; i < claimIds.length; ++i) {
            uint256 claimId = claimIds[i];
            Claim storage claim = $.claims[claimId];
            if (!_isPayable(claimId, claim, batch)) {
                emit PayoutSkipped(claimId);
                continue;
            }
            address user = claim.user;
            uint96 amount = claim.payout;
            claim.status = ClaimStatus.Paid;
            Policy storage policy = $.policies[user];
            policy.reserved -= amount;
            policy.paidOut += amount;
            batch.paidInDay += amount;
            batch.totalPaid += amount;
            recipients[batch.transfers] = user;
            amounts[batch.transfers] = amount;
            ++batch.transfers;
            emit PayoutExecuted(claimId, user, amount);
        }

        if (batch.transfers == 0) return;
        daily.payoutDay = today;
        daily.paidInDay = uint96(batch.paidInDay);
        $.daily = daily;
        $.reserved -= uint128(batch.totalPaid);
        IERC20 token = $.asset;
        for (uint256 i = 0; i < batch.transfers; ++i) {
            token.safeTransfer(recipients[i], amounts[i]);
        }
    }

    function _isPayable(uint256 claimId, Claim storage claim, PayoutBatch memory batch) private view returns (bool) {
        bool strict = batch.strict;
        if (claim.status != ClaimStatus.Approved) {
            if (strict) revert InvalidClaimStatus(claimId, claim.status);
            return false;
        }
        uint256 endsAt = uint256(claim.decidedAt) + batch.period;
        if (block.timestamp < endsAt) {
            if (strict) revert ChallengePeriodActive(claimId, endsAt);
            return false;
        }
        address user = claim.user;
        if (_storage().policies[user].blacklisted) {
            if (strict) revert UserBlacklisted(user);
            return false;
        }
        uint256 amount = claim.payout;
        uint256 remainingToday = batch.dailyLimit > batch.paidInDay ? batch.dailyLimit - batch.paidInDay : 0;
        if (amount > remainingToday) {
            if (strict) revert DailyPayoutLimitExceeded(amount, remainingToday);
            return false;
        }
        return true;
    }

    function _remainingCoverage(Policy storage policy) private view returns (uint256) {
        uint256 used = uint256(policy.paidOut) + policy.reserved;
        return policy.coverageLimit > used ? policy.coverageLimit - used : 0;
    }

    function _checkClaimInput(uint8 exchange, string calldata orderId, string calldata instrument) private pure {
        if (exchange < EXCHANGE_OKX || exchange > EXCHANGE_BYBIT) revert UnsupportedExchange(exchange);
        uint256 orderIdLength = bytes(orderId).length;
        if (orderIdLength == 0 || orderIdLength > MAX_ORDER_ID_LENGTH) {
            revert InvalidOrderId(orderIdLength, MAX_ORDER_ID_LENGTH);
        }
        uint256 instrumentLength = bytes(instrument).length;
        if (instrumentLength == 0 || instrumentLength > MAX_INSTRUMENT_LENGTH) {
            revert InvalidInstrument(instrumentLength, MAX_INSTRUMENT_LENGTH);
        }
    }

    function _orderKey(uint8 exchange, string calldata orderId) private pure returns (bytes32) {
        return keccak256(abi.encode(exchange, orderId));
    }

    function _today() private view returns (uint32) {
        return uint32(block.timestamp / DAY);
    }

    function _checkBatch(uint256 length) private pure {
        if (length == 0) revert EmptyBatch();
        if (length > MAX_BATCH_SIZE) revert BatchTooLarge(length, MAX_BATCH_SIZE);
    }

    function _checkPauseFlags(uint256 flags) private pure {
        if (flags == 0 || flags & ~PAUSE_ALL != 0) revert InvalidPauseFlags(flags);
    }

    function _toUint96(uint256 amount) private pure returns (uint96) {
        if (amount > type(uint96).max) revert AmountTooLarge(amount, type(uint96).max);
        return uint96(amount);
    }

    function _min(uint256 a, uint256 b) private pure returns (uint256) {
        return a < b ? a : b;
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

    function _authorizeUpgrade(address) internal override onlyGovernance {}
}

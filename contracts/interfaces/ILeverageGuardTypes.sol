// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

/// @title Types, events and errors of the in-contract multisig that governs LeverageGuard.
interface IMultisigGovernanceTypes {
    /// @notice A proposal as signers see it. `confirmations` counts only confirmations of current signers;
    /// `readyAt` is 0 until the proposal first reaches its threshold, then the time it becomes executable.
    struct ProposalView {
        address target;
        uint256 value;
        bytes data;
        address proposer;
        uint256 createdAt;
        uint256 expiresAt;
        uint256 confirmations;
        bool executed;
        bool cancelled;
        uint256 readyAt;
    }

    /// @notice A signer proposed a call; its confirmation counts at once.
    event ProposalCreated(
        uint256 indexed proposalId,
        address indexed proposer,
        address indexed target,
        uint256 value,
        bytes data,
        uint256 expiresAt
    );
    /// @notice A signer confirmed a proposal.
    event ProposalConfirmed(uint256 indexed proposalId, address indexed signer);
    /// @notice A signer withdrew its confirmation.
    event ConfirmationRevoked(uint256 indexed proposalId, address indexed signer);
    /// @notice A proposal reached its threshold for the first time; it may be executed from `readyAt` on.
    event ProposalScheduled(uint256 indexed proposalId, uint256 readyAt);
    /// @notice A proposal's call was made.
    event ProposalExecuted(uint256 indexed proposalId, address indexed executor);
    /// @notice A proposal was cancelled (by its proposer, governance, or a guardian during the delay).
    event ProposalCancelled(uint256 indexed proposalId, address indexed by);
    /// @notice A signer joined.
    event SignerAdded(address indexed signer);
    /// @notice A signer left; its confirmations stop counting.
    event SignerRemoved(address indexed signer);
    /// @notice The confirmation threshold changed.
    event ThresholdChanged(uint256 previousThreshold, uint256 newThreshold);
    /// @notice The lifetime of new proposals changed.
    event ProposalLifetimeChanged(uint256 previousLifetime, uint256 newLifetime);
    /// @notice The delay between a proposal reaching its threshold and becoming executable changed.
    event ExecutionDelayChanged(uint256 previousDelay, uint256 newDelay);

    /// @notice `account` is not a current signer.
    error NotSigner(address account);
    /// @notice Only an executed proposal (`msg.sender == address(this)`) may call this.
    error OnlyGovernance(address caller);
    /// @notice The zero address was given.
    error ZeroAddress();
    /// @notice `account` cannot be a signer (the contract itself).
    error InvalidSigner(address account);
    /// @notice `account` is a signer already.
    error AlreadySigner(address account);
    /// @notice The signer set would exceed `max`.
    error TooManySigners(uint256 count, uint256 max);
    /// @notice The threshold must be between 1 and the signer count.
    error InvalidThreshold(uint256 threshold, uint256 signerCount);
    /// @notice The proposal lifetime must be in `[min, max]`.
    error InvalidProposalLifetime(uint256 lifetime, uint256 min, uint256 max);
    /// @notice The execution delay must be at most `max` (MAX_EXECUTION_DELAY, and short enough that a
    /// proposal scheduled at once stays executable for MIN_PROPOSAL_LIFETIME).
    error InvalidExecutionDelay(uint256 delay, uint256 max);
    /// @notice No proposal has this id.
    error UnknownProposal(uint256 proposalId);
    /// @notice The proposal was executed already.
    error ProposalAlreadyExecuted(uint256 proposalId);
    /// @notice The proposal was cancelled.
    error ProposalAlreadyCancelled(uint256 proposalId);
    /// @notice The proposal expired at `expiresAt`.
    error ProposalExpired(uint256 proposalId, uint256 expiresAt);
    /// @notice The proposal was scheduled already (executable from `readyAt`).
    error ProposalAlreadyScheduled(uint256 proposalId, uint256 readyAt);
    /// @notice The proposal is not executable before `readyAt` (0: it never reached its threshold).
    error ProposalNotReady(uint256 proposalId, uint256 readyAt);
    /// @notice `signer` confirmed this proposal already.
    error AlreadyConfirmed(uint256 proposalId, address signer);
    /// @notice `signer` has no counting confirmation on this proposal.
    error NotConfirmed(uint256 proposalId, address signer);
    /// @notice `caller` may not cancel this proposal.
    error NotProposer(uint256 proposalId, address caller);
    /// @notice A guardian may cancel only during the delay: after scheduling, before `readyAt`.
    error NotInDelay(uint256 proposalId, uint256 readyAt);
    /// @notice A proposal whose every call revokes GUARDIAN_ROLE cannot be cancelled by a guardian.
    error GuardianRemovalNotCancellable(uint256 proposalId);
    /// @notice Fewer than `need` current signers confirmed.
    error ThresholdNotMet(uint256 proposalId, uint256 have, uint256 need);
    /// @notice The call value exceeds `max`.
    error ValueTooLarge(uint256 value, uint256 max);
    /// @notice Proposals may only call the contract itself.
    error InvalidProposalTarget(address target);
}

/// @title Types, events and errors of the LeverageGuard liquidation-insurance pool.
interface ILeverageGuardTypes is IMultisigGovernanceTypes {
    /// @notice Life cycle of a claim. It only moves forward, except `reopenClaim` (Rejected -> Pending).
    enum ClaimStatus {
        None,
        Pending,
        Approved,
        Rejected,
        Paid
    }

    /// @notice One verdict, as posted in a batch by `postVerifications`.
    struct Verification {
        uint256 claimId;
        bool approved;
        uint256 payout;
        bytes32 evidenceHash;
        uint16 reasonCode;
    }

    /// @notice A claim as returned by `getClaim`. `payableAt` is stamped at approval (decidedAt + the
    /// challenge period then in force); the veto window closes and payment opens at that time.
    struct ClaimView {
        address user;
        uint8 exchange;
        ClaimStatus status;
        uint256 claimedLoss;
        uint256 payout;
        uint256 submittedAt;
        uint256 decidedAt;
        uint16 reasonCode;
        uint256 payableAt;
    }

    /// @notice A trader's policy as returned by `getPolicy`. `used` is paid out plus reserved for approved,
    /// unpaid claims: remaining coverage = coverageLimit - used.
    struct PolicyView {
        bytes32 accountRef;
        uint256 coverageLimit;
        uint256 coverageStart;
        uint256 coverageEnd;
        uint256 used;
        bool whitelisted;
        bool blacklisted;
    }

    // --- pool ---
    /// @notice `amount` was added to the pool by `from`.
    event Deposited(address indexed from, uint256 amount);
    /// @notice Governance withdrew free funds; `withdrawnToday` is the day's running total.
    event Withdrawn(address indexed to, uint256 amount, uint256 withdrawnToday);
    /// @notice The daily withdrawal limit changed.
    event DailyWithdrawalLimitChanged(uint256 previousLimit, uint256 newLimit);
    /// @notice The daily payout circuit breaker changed.
    event DailyPayoutLimitChanged(uint256 previousLimit, uint256 newLimit);
    /// @notice The daily approval circuit breaker changed.
    event DailyApprovalLimitChanged(uint256 previousLimit, uint256 newLimit);
    /// @notice The largest payout per claim changed.
    event MaxPayoutPerClaimChanged(uint256 previousMax, uint256 newMax);
    /// @notice The largest coverage limit of a policy changed.
    event MaxCoverageLimitChanged(uint256 previousMax, uint256 newMax);
    /// @notice The challenge period of future approvals changed.
    event ChallengePeriodChanged(uint256 previousPeriod, uint256 newPeriod);
    /// @notice The time after coverage ends in which claims may still be filed changed.
    event ClaimGracePeriodChanged(uint256 previousPeriod, uint256 newPeriod);
    /// @notice A stray token was returned.
    event TokenRescued(address indexed token, address indexed to, uint256 amount);
    /// @notice The pool was migrated from the 1.0.0 storage layout.
    event MigratedFrom1_0(uint256 policyholders, bool legacyOrderKeys);

    // --- pause ---
    /// @notice `flags` were paused; `pausedFlags` is the new set.
    event Paused(address indexed by, uint256 flags, uint256 pausedFlags);
    /// @notice `flags` were resumed; `pausedFlags` is the new set.
    event Unpaused(address indexed by, uint256 flags, uint256 pausedFlags);

    // --- policyholders ---
    /// @notice A trader's policy term began.
    event Whitelisted(
        address indexed user, bytes32 accountRef, uint256 coverageLimit, uint256 coverageStart, uint256 coverageEnd
    );
    /// @notice A trader's policy was extended; nothing else changed.
    event CoverageExtended(address indexed user, uint256 coverageLimit, uint256 coverageEnd);
    /// @notice A trader's coverage ended at `coverageEnd`; claims may be filed until the grace period ends.
    event RemovedFromWhitelist(address indexed user, uint256 coverageEnd);
    /// @notice A trader was blacklisted.
    event Blacklisted(address indexed user, address indexed by);
    /// @notice A trader's blacklisting was lifted.
    event RemovedFromBlacklist(address indexed user);

    // --- claims ---
    /// @notice A claim was filed.
    event LiquidationClaimed(
        uint256 indexed claimId,
        address indexed user,
        uint8 indexed exchange,
        bytes32 accountRef,
        string orderId,
        string instrument,
        uint256 claimedLoss
    );
    /// @notice The validator's verdict; an approval reserves `payout`.
    event ClaimVerified(
        uint256 indexed claimId,
        address indexed validator,
        bool approved,
        uint256 payout,
        bytes32 evidenceHash,
        uint16 reasonCode
    );
    /// @notice A batch verdict item was not applied (`reason`: a SKIP_* constant).
    event VerificationSkipped(uint256 indexed claimId, uint8 reason);
    /// @notice An approval was overturned inside its challenge window; `amount` was released.
    event ClaimVetoed(uint256 indexed claimId, address indexed by, address indexed user, uint256 amount, uint16 reasonCode);
    /// @notice A batch veto item was not applied (`reason`: a SKIP_* constant).
    event VetoSkipped(uint256 indexed claimId, uint8 reason);
    /// @notice Governance cancelled an approved claim; `amount` was released.
    event ClaimCancelled(uint256 indexed claimId, address indexed user, uint256 amount, uint16 reasonCode);
    /// @notice Governance reopened a rejected claim; it is Pending again.
    event ClaimReopened(uint256 indexed claimId, address indexed user);
    /// @notice An approved claim was paid.
    event PayoutExecuted(uint256 indexed claimId, address indexed user, uint256 amount);
    /// @notice A batch payout item was not paid (`reason`: a SKIP_* constant).
    event PayoutSkipped(uint256 indexed claimId, uint8 reason);
    /// @notice The token refused the transfer of a batch payout; the claim stays Approved and reserved.
    event PayoutFailed(uint256 indexed claimId, address indexed user, uint256 amount);
    /// @notice An exchange account hash was bound to a trader (one trader at a time).
    event AccountRefBound(bytes32 indexed accountRef, address indexed user);

    // --- errors ---
    /// @notice `account` lacks the role for this call.
    error Unauthorized(address account);
    /// @notice DEFAULT_ADMIN_ROLE belongs to the contract alone.
    error AdminRoleReserved(address account);
    /// @notice A zero amount was given.
    error ZeroAmount();
    /// @notice `amount` exceeds `max`.
    error AmountTooLarge(uint256 amount, uint256 max);
    /// @notice The withdrawal exceeds what the daily withdrawal limit leaves today.
    error DailyLimitExceeded(uint256 requested, uint256 remaining);
    /// @notice The payout exceeds what the daily payout limit leaves today.
    error DailyPayoutLimitExceeded(uint256 requested, uint256 remaining);
    /// @notice The approval exceeds what the daily approval limit leaves today.
    error DailyApprovalLimitExceeded(uint256 requested, uint256 remaining);
    /// @notice The largest payout per claim may not exceed the daily payout limit.
    error MaxPayoutAboveDailyPayoutLimit(uint256 maxPayoutPerClaim, uint256 dailyPayoutLimit);
    /// @notice Not enough unreserved funds.
    error InsufficientFreeBalance(uint256 needed, uint256 free);
    /// @notice The pool asset cannot be rescued.
    error CannotRescueAsset(address token);
    /// @notice The token moved a different amount than asked (fee-on-transfer).
    error UnsupportedTokenTransfer(uint256 expected, uint256 received);
    /// @notice The operation `flag` is paused.
    error OperationPaused(uint256 flag);
    /// @notice `flags` is empty or names unknown bits.
    error InvalidPauseFlags(uint256 flags);
    /// @notice The challenge period must be in `[min, max]`.
    error InvalidChallengePeriod(uint256 period, uint256 min, uint256 max);
    /// @notice The claim grace period must be at most `max`.
    error InvalidClaimGracePeriod(uint256 period, uint256 max);
    /// @notice A batch was empty.
    error EmptyBatch();
    /// @notice Two batch arrays differ in length.
    error LengthMismatch(uint256 expected, uint256 actual);
    /// @notice A batch exceeds `max` items.
    error BatchTooLarge(uint256 length, uint256 max);
    /// @notice `user` has coverage in force already (use extendCoverage).
    error AlreadyWhitelisted(address user);
    /// @notice `user` has no policy in force.
    error NotWhitelisted(address user);
    /// @notice `user` is blacklisted already.
    error AlreadyBlacklisted(address user);
    /// @notice `user` is not blacklisted.
    error NotBlacklisted(address user);
    /// @notice `user` is blacklisted.
    error UserBlacklisted(address user);
    /// @notice A zero account hash was given for `user`.
    error ZeroAccountRef(address user);
    /// @notice The exchange account hash is bound to another trader who may still file claims with it.
    error AccountRefInUse(bytes32 accountRef, address holder);
    /// @notice The coverage end must be in the future (and fit 40 bits).
    error InvalidCoverageEnd(uint256 coverageEnd, uint256 currentTime);
    /// @notice The coverage end may only move later.
    error CoverageEndNotLater(uint256 coverageEnd, uint256 currentEnd);
    /// @notice A coverage limit above the governance cap.
    error CoverageLimitAboveMax(uint256 coverageLimit, uint256 max);
    /// @notice A coverage limit below what the policy has used (paid out + reserved).
    error CoverageLimitBelowUsed(uint256 coverageLimit, uint256 used);
    /// @notice A claim filed outside `[coverageStart, claimDeadline]` (coverage end + grace period).
    error OutsideCoverage(address user, uint256 coverageStart, uint256 claimDeadline);
    /// @notice The exchange id is not 1 (OKX), 2 (Binance) or 3 (Bybit).
    error UnsupportedExchange(uint8 exchange);
    /// @notice The order id is empty, too long, or not `[A-Za-z0-9-_]`.
    error InvalidOrderId(string orderId);
    /// @notice The instrument is empty, too long, or not upper-case `[A-Z0-9-_]`.
    error InvalidInstrument(string instrument);
    /// @notice The order was claimed already, by claim `existingClaimId`.
    error DuplicateClaim(uint256 existingClaimId);
    /// @notice The claimed loss exceeds the trader's remaining coverage.
    error ClaimExceedsCoverage(uint256 claimedLoss, uint256 remainingCoverage);
    /// @notice The claim is not in a status this call accepts.
    error InvalidClaimStatus(uint256 claimId, ClaimStatus status);
    /// @notice The payout exceeds `cap` = min(claimed loss, remaining coverage, max payout per claim).
    error PayoutTooLarge(uint256 payout, uint256 cap);
    /// @notice A rejection must carry payout 0.
    error PayoutOnRejection(uint256 payout);
    /// @notice The evidence hash is zero.
    error ZeroEvidenceHash();
    /// @notice A validator may not decide its own claim.
    error ConflictOfInterest(uint256 claimId, address validator);
    /// @notice The claim's challenge window is open until `endsAt`.
    error ChallengePeriodActive(uint256 claimId, uint256 endsAt);
    /// @notice The claim's challenge window closed at `endedAt`.
    error ChallengePeriodOver(uint256 claimId, uint256 endedAt);
    /// @notice The token refused the payout transfer of the claim.
    error PayoutTransferFailed(uint256 claimId);
    /// @notice The call ran out of gas inside a payout transfer; retry with more gas.
    error PayoutOutOfGas(uint256 claimId);
}

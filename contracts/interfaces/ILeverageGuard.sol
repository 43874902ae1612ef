// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

/// @title Types, events and errors of the in-contract multisig that governs LeverageGuard.
interface IMultisigGovernance {
    /// @notice A proposal as signers see it. `confirmations` counts only confirmations of current signers.
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
    }

    event ProposalCreated(
        uint256 indexed proposalId,
        address indexed proposer,
        address indexed target,
        uint256 value,
        bytes data,
        uint256 expiresAt
    );
    event ProposalConfirmed(uint256 indexed proposalId, address indexed signer);
    event ConfirmationRevoked(uint256 indexed proposalId, address indexed signer);
    event ProposalExecuted(uint256 indexed proposalId, address indexed executor);
    event ProposalCancelled(uint256 indexed proposalId, address indexed by);
    event SignerAdded(address indexed signer);
    event SignerRemoved(address indexed signer);
    event ThresholdChanged(uint256 previousThreshold, uint256 newThreshold);
    event ProposalLifetimeChanged(uint256 previousLifetime, uint256 newLifetime);

    error NotSigner(address account);
    error OnlyGovernance(address caller);
    error ZeroAddress();
    error AlreadySigner(address account);
    error TooManySigners(uint256 count, uint256 max);
    error InvalidThreshold(uint256 threshold, uint256 signerCount);
    error InvalidProposalLifetime(uint256 lifetime, uint256 min, uint256 max);
    error UnknownProposal(uint256 proposalId);
    error ProposalAlreadyExecuted(uint256 proposalId);
    error ProposalAlreadyCancelled(uint256 proposalId);
    error ProposalExpired(uint256 proposalId, uint256 expiresAt);
    error AlreadyConfirmed(uint256 proposalId, address signer);
    error NotConfirmed(uint256 proposalId, address signer);
    error NotProposer(uint256 proposalId, address caller);
    error ThresholdNotMet(uint256 proposalId, uint256 have, uint256 need);
    error ValueTooLarge(uint256 value, uint256 max);
    error InvalidProposalTarget(address target);
}

/// @title Types, events and errors of the LeverageGuard liquidation-insurance pool.
interface ILeverageGuard is IMultisigGovernance {
    /// @notice Life cycle of a claim; it only ever moves forward.
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

    /// @notice A claim as returned by `getClaim`.
    struct ClaimView {
        address user;
        uint8 exchange;
        ClaimStatus status;
        uint256 claimedLoss;
        uint256 payout;
        uint256 submittedAt;
        uint256 decidedAt;
        uint16 reasonCode;
    }

    /// @notice A trader's policy as returned by `getPolicy`.
    struct PolicyView {
        bytes32 accountRef;
        uint256 coverageLimit;
        uint256 coverageStart;
        uint256 coverageEnd;
        uint256 paidOut;
        uint256 reserved;
    }

    // --- pool ---
    event Deposited(address indexed from, uint256 amount);
    event Withdrawn(address indexed to, uint256 amount, uint256 withdrawnToday);
    event DailyWithdrawalLimitChanged(uint256 previousLimit, uint256 newLimit);
    event DailyPayoutLimitChanged(uint256 previousLimit, uint256 newLimit);
    event MaxPayoutPerClaimChanged(uint256 previousMax, uint256 newMax);
    event ChallengePeriodChanged(uint256 previousPeriod, uint256 newPeriod);
    event TokenRescued(address indexed token, address indexed to, uint256 amount);

    // --- pause ---
    event Paused(address indexed by, uint256 flags, uint256 pausedFlags);
    event Unpaused(address indexed by, uint256 flags, uint256 pausedFlags);

    // --- policyholders ---
    event Whitelisted(
        address indexed user, bytes32 accountRef, uint256 coverageLimit, uint256 coverageStart, uint256 coverageEnd
    );
    event RemovedFromWhitelist(address indexed user);
    event Blacklisted(address indexed user, address indexed by);
    event RemovedFromBlacklist(address indexed user);

    // --- claims ---
    event LiquidationClaimed(
        uint256 indexed claimId,
        address indexed user,
        uint8 indexed exchange,
        bytes32 accountRef,
        string orderId,
        string instrument,
        uint256 claimedLoss
    );
    event ClaimVerified(
        uint256 indexed claimId,
        address indexed validator,
        bool approved,
        uint256 payout,
        bytes32 evidenceHash,
        uint16 reasonCode
    );
    event VerificationSkipped(uint256 indexed claimId);
    event ClaimVetoed(uint256 indexed claimId, address indexed by, uint16 reasonCode);
    event PayoutExecuted(uint256 indexed claimId, address indexed user, uint256 amount);
    event PayoutSkipped(uint256 indexed claimId);

    // --- errors ---
    error Unauthorized(address account);
    error AdminRoleReserved(address account);
    error ZeroAmount();
    error AmountTooLarge(uint256 amount, uint256 max);
    error DailyLimitExceeded(uint256 requested, uint256 remaining);
    error DailyPayoutLimitExceeded(uint256 requested, uint256 remaining);
    error InsufficientFreeBalance(uint256 needed, uint256 free);
    error CannotRescueAsset(address token);
    error UnsupportedTokenTransfer(uint256 expected, uint256 received);
    error OperationPaused(uint256 flag);
    error InvalidPauseFlags(uint256 flags);
    error EmptyBatch();
    error LengthMismatch(uint256 expected, uint256 actual);
    error BatchTooLarge(uint256 length, uint256 max);
    error AlreadyWhitelisted(address user);
    error NotWhitelisted(address user);
    error AlreadyBlacklisted(address user);
    error NotBlacklisted(address user);
    error UserBlacklisted(address user);
    error ZeroAccountRef(address user);
    error InvalidCoverageEnd(uint256 coverageEnd, uint256 currentTime);
    error OutsideCoverage(address user, uint256 coverageStart, uint256 coverageEnd);
    error UnsupportedExchange(uint8 exchange);
    error InvalidOrderId(uint256 length, uint256 maxLength);
    error InvalidInstrument(uint256 length, uint256 maxLength);
    error DuplicateClaim(uint256 existingClaimId);
    error ClaimExceedsCoverage(uint256 claimedLoss, uint256 remainingCoverage);
    error InvalidClaimStatus(uint256 claimId, ClaimStatus status);
    error PayoutTooLarge(uint256 payout, uint256 cap);
    error PayoutOnRejection(uint256 payout);
    error ZeroEvidenceHash();
    error ConflictOfInterest(uint256 claimId, address validator);
    error ChallengePeriodActive(uint256 claimId, uint256 endsAt);
    error ChallengePeriodOver(uint256 claimId, uint256 endedAt);
}

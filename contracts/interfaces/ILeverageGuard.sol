// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {IAccessControl} from "@openzeppelin/contracts/access/IAccessControl.sol";
import {IERC165} from "@openzeppelin/contracts/utils/introspection/IERC165.sol";

import {ILeverageGuardTypes} from "./ILeverageGuardTypes.sol";

/// @title ILeverageGuard
/// @notice The whole interface of a LeverageGuard proxy: what `LeverageGuard` (the UUPS implementation)
/// serves itself and what its fallback serves from `LeverageGuardAdmin`. Tooling, scripts and the keeper talk
/// to the proxy through this interface; `tests/contract/test_proxy_interface.py` checks that it is exactly the union
/// of the two implementations' functions, each served by one of them.
interface ILeverageGuard is ILeverageGuardTypes, IAccessControl, IERC165 {
    // --- events and errors of the OpenZeppelin parts (Initializable, ERC1967, UUPS, SafeERC20, guards)
    event Initialized(uint64 version);
    event Upgraded(address indexed implementation);

    error InvalidInitialization();
    error NotInitializing();
    error ERC1967InvalidImplementation(address implementation);
    error ERC1967NonPayable();
    error UUPSUnauthorizedCallContext();
    error UUPSUnsupportedProxiableUUID(bytes32 slot);
    error AddressEmptyCode(address target);
    error FailedCall();
    error SafeERC20FailedOperation(address token);
    error ReentrancyGuardReentrantCall();

    // --- served by LeverageGuard (pool, claims, verdicts, payouts, vetoes, upgrades, multicall)
    /// @notice The LeverageGuardAdmin implementation that serves every selector not defined here.
    function ADMIN() external view returns (address);
    function DEFAULT_ADMIN_ROLE() external view returns (bytes32);
    /// @notice Every daily limit counts per UTC day: `block.timestamp / DAY`.
    function DAY() external view returns (uint256);
    function DEFAULT_CHALLENGE_PERIOD() external view returns (uint256);
    /// @notice How long after coverage ends a claim may still be filed; `initialize` sets the default.
    function DEFAULT_CLAIM_GRACE_PERIOD() external view returns (uint256);
    function EXCHANGE_BINANCE() external view returns (uint8);
    function EXCHANGE_BYBIT() external view returns (uint8);
    function EXCHANGE_OKX() external view returns (uint8);
    function GUARDIAN_ROLE() external view returns (bytes32);
    /// @notice Largest batch accepted by every batch function (bounds gas per transaction).
    function MAX_BATCH_SIZE() external view returns (uint256);
    function MAX_CHALLENGE_PERIOD() external view returns (uint256);
    function MAX_CLAIM_GRACE_PERIOD() external view returns (uint256);
    function MAX_INSTRUMENT_LENGTH() external view returns (uint256);
    function MAX_ORDER_ID_LENGTH() external view returns (uint256);
    /// @notice Bounds of the challenge window governance may set; `initialize` sets DEFAULT_CHALLENGE_PERIOD.
    function MIN_CHALLENGE_PERIOD() external view returns (uint256);
    function PAUSE_ALL() external view returns (uint256);
    function PAUSE_CLAIMS() external view returns (uint256);
    function PAUSE_DEPOSITS() external view returns (uint256);
    function PAUSE_PAYOUTS() external view returns (uint256);
    function PAUSE_VERIFICATIONS() external view returns (uint256);
    function PAUSE_WITHDRAWALS() external view returns (uint256);
    function REGISTRAR_ROLE() external view returns (bytes32);
    function SKIP_CHALLENGE_WINDOW_OPEN() external view returns (uint8);
    function SKIP_CHALLENGE_WINDOW_OVER() external view returns (uint8);
    function SKIP_DAILY_PAYOUT_LIMIT() external view returns (uint8);
    function SKIP_USER_BLACKLISTED() external view returns (uint8);
    /// @notice Why a batch item was skipped (the `reason` of VerificationSkipped, PayoutSkipped, VetoSkipped).
    function SKIP_WRONG_STATUS() external view returns (uint8);
    function UPGRADE_INTERFACE_VERSION() external view returns (string memory);
    function VALIDATOR_ROLE() external view returns (bytes32);
    /// @notice Adds `amount` of the asset to the pool. Fee-on-transfer assets are rejected.
    function deposit(uint256 amount) external;
    /// @notice Pays an approved claim whose challenge window is over. Anyone may call.
    function executePayout(uint256 claimId) external;
    /// @notice Pays many approved claims. Claims not payable now (wrong status, window open, blacklisted trader, daily payout limit reached, or listed twice) are skipped; a claim whose transfer the token refuses (e.g. a recipient blocked by the token issuer) stays Approved and reserved, and the rest are paid. Anyone may call.
    function executePayouts(uint256[] calldata claimIds) external;
    /// @notice What is neither reserved for approved claims nor missing: totalAssets() - reservedAmount().
    function freeBalance() external view returns (uint256);
    function multicall(bytes[] calldata data) external returns (bytes[] memory results);
    /// @notice Posts the verdict on a pending claim. Validator only. An approval reserves the payout at once, counts against the daily approval limit, and stamps the claim's `payableAt`.
    function postVerification(uint256 claimId, bool approved, uint256 payout, bytes32 evidenceHash, uint16 reasonCode) external;
    function postVerifications(ILeverageGuardTypes.Verification[] calldata items) external;
    function proxiableUUID() external view returns (bytes32);
    /// @notice Files a claim for a liquidated order. The caller needs a policy, must not be blacklisted, and files between its coverage start and its coverage end plus the claim grace period. One claim per (exchange, accountRef, instrument, orderId) ever.
    function submitClaim(uint8 exchange, string calldata orderId, string calldata instrument, uint256 claimedLoss) external returns (uint256 claimId);
    /// @notice The pool's token balance.
    function totalAssets() external view returns (uint256);
    function upgradeToAndCall(address newImplementation, bytes calldata data) external payable;
    /// @notice Implementation version.
    function version() external pure returns (string memory);
    /// @notice Overturns an approval inside its challenge window (before its `payableAt`); the reservation is released. Guardian or governance.
    function vetoClaim(uint256 claimId, uint16 reasonCode) external;
    /// @notice Withdraws free (unreserved) funds, within the daily withdrawal limit. Governance only.
    function withdraw(address to, uint256 amount) external;

    // --- served by LeverageGuardAdmin through the fallback (initialisation, multisig, parameters, policies,
    // claim appeals, pause, rescue, views)
    /// @notice Proposal lifetime given at initialisation.
    function DEFAULT_PROPOSAL_LIFETIME() external view returns (uint256);
    /// @notice Longest execution delay governance may set.
    function MAX_EXECUTION_DELAY() external view returns (uint256);
    function MAX_PROPOSAL_LIFETIME() external view returns (uint256);
    /// @notice The largest number of signers; bounds every loop over signers.
    function MAX_SIGNERS() external view returns (uint256);
    function MIN_PROPOSAL_LIFETIME() external view returns (uint256);
    /// @notice The trader an exchange account hash is bound to, or the zero address.
    function accountRefHolder(bytes32 accountRef) external view returns (address);
    /// @notice Adds a signer. Governance only.
    function addSigner(address signer) external;
    /// @notice Blocks traders from claiming, being approved and being paid. Guardian, registrar or governance.
    function addToBlacklist(address[] calldata users) external;
    /// @notice Starts a policy term for traders without coverage in force: coverage from now until `coverageEnd`. Registrar or governance. What a trader has used (paid out + reserved) carries over from earlier terms, so `coverageLimit` is the trader's limit over all terms.
    function addToWhitelist(address[] calldata users, bytes32[] calldata accountRefs, uint256 coverageLimit, uint256 coverageEnd) external;
    /// @notice Approved (reserved) so far in the current UTC day.
    function approvedToday() external view returns (uint256);
    /// @notice The pool's ERC-20 asset.
    function asset() external view returns (address);
    /// @notice Cancels a proposal not yet executed: by its proposer while a signer, by governance, or by a guardian during the delay (see `_authorizeCancel`).
    function cancel(uint256 proposalId) external;
    /// @notice Cancels an approved claim that cannot or should not be paid (e.g. its trader was blacklisted after the window, or its payout exceeds the daily payout limit): Approved -> Rejected, the reservation released. Governance only.
    function cancelApprovedClaim(uint256 claimId, uint16 reasonCode) external;
    /// @notice The challenge window stamped on new approvals, seconds.
    function challengePeriod() external view returns (uint256);
    /// @notice Number of claims ever filed (the last id).
    function claimCount() external view returns (uint256);
    /// @notice How long after coverage ends claims may still be filed, seconds.
    function claimGracePeriod() external view returns (uint256);
    /// @notice The claim filed for an order of an exchange account, or 0.
    function claimIdByOrder(uint8 exchange, bytes32 accountRef, string calldata instrument, string calldata orderId) external view returns (uint256);
    /// @notice Confirms an open proposal; the confirmation that reaches the threshold schedules it.
    function confirm(uint256 proposalId) external;
    /// @notice The most approved per UTC day.
    function dailyApprovalLimit() external view returns (uint256);
    /// @notice The most paid out to traders per UTC day.
    function dailyPayoutLimit() external view returns (uint256);
    /// @notice The most governance may withdraw per UTC day.
    function dailyWithdrawalLimit() external view returns (uint256);
    /// @notice Executes a scheduled proposal confirmed by at least `threshold` current signers, once, from its `readyAt` until its expiry.
    function execute(uint256 proposalId) external returns (bytes memory result);
    /// @notice Seconds between a proposal reaching its threshold and becoming executable.
    function executionDelay() external view returns (uint256);
    /// @notice Renews traders' policies in place: the end only moves later, the limit stays at least what each has used, the term's start and usage do not reset. Registrar or governance.
    function extendCoverage(address[] calldata users, uint256 coverageLimit, uint256 coverageEnd) external;
    /// @notice A claim; unknown ids return status None.
    function getClaim(uint256 claimId) external view returns (ILeverageGuardTypes.ClaimView memory);
    /// @notice A trader's policy. Remaining coverage = coverageLimit - used.
    function getPolicy(address user) external view returns (ILeverageGuardTypes.PolicyView memory);
    /// @notice A proposal with its live confirmation count.
    function getProposal(uint256 proposalId) external view returns (ILeverageGuardTypes.ProposalView memory);
    /// @notice The current signers.
    function getSigners() external view returns (address[] memory);
    /// @notice Whether `signer` is a current signer whose confirmation of `proposalId` counts.
    function hasConfirmed(uint256 proposalId, address signer) external view returns (bool);
    /// @notice Initialises the proxy: pool asset, signers and threshold. The challenge period starts at DEFAULT_CHALLENGE_PERIOD, the claim grace period at DEFAULT_CLAIM_GRACE_PERIOD, the execution delay at 0 (so the deployer can configure a fresh pool); every limit starts at zero (closed).
    function initialize(address asset_, address[] calldata signers, uint256 threshold_) external;
    /// @notice Whether the trader is blacklisted.
    function isBlacklisted(address user) external view returns (bool);
    /// @notice Whether `account` is a current signer.
    function isSigner(address account) external view returns (bool);
    /// @notice Whether the trader has a policy term that was not removed (its coverage may have ended).
    function isWhitelisted(address user) external view returns (bool);
    /// @notice The largest coverage limit of a policy.
    function maxCoverageLimit() external view returns (uint256);
    /// @notice The largest payout per claim.
    function maxPayoutPerClaim() external view returns (uint256);
    /// @notice Migrates a 1.0.0 pool; run inside the upgrade's `upgradeToAndCall`. Binds each given policyholder's account hash to it, raises the challenge period to MIN_CHALLENGE_PERIOD if lower, sets the claim grace period to its default, and keeps every order claimed under 1.0.0 taken (its 1.0.0 key is checked too). Policies (paidOut + reserved become `used` on first write) and 1.0.0 approvals (payable at decidedAt + challengePeriod) need no rewrite. Governance only, once.
    function migrateFrom1_0(address[] calldata policyholders) external;
    /// @notice Paid out to traders so far in the current UTC day.
    function paidOutToday() external view returns (uint256);
    /// @notice Pauses the operations named by `flags` (CLAIMS=1, VERIFICATIONS=2, PAYOUTS=4, WITHDRAWALS=8, DEPOSITS=16). Guardian or governance.
    function pause(uint256 flags) external;
    /// @notice Bitwise OR of the paused operations.
    function pausedFlags() external view returns (uint256);
    /// @notice Number of proposals ever created (the last id).
    function proposalCount() external view returns (uint256);
    /// @notice Seconds a new proposal stays executable.
    function proposalLifetime() external view returns (uint256);
    /// @notice Proposes a call from the contract to itself; the proposer's confirmation counts at once.
    function propose(address target, uint256 value, bytes calldata data) external returns (uint256 proposalId);
    /// @notice What a trader may still claim: coverageLimit - used (0 if negative).
    function remainingCoverage(address user) external view returns (uint256);
    /// @notice Lifts the blacklist from traders. Governance only.
    function removeFromBlacklist(address[] calldata users) external;
    /// @notice Ends traders' coverage now (an earlier end stays); claims for liquidations inside the term may still be filed until coverageEnd + claimGracePeriod, and filed claims proceed. Registrar or governance.
    function removeFromWhitelist(address[] calldata users) external;
    /// @notice Removes a signer; their confirmations stop counting. Governance only.
    function removeSigner(address signer) external;
    /// @notice Reopens a rejected claim for a new verdict (the appeal path, e.g. for an order the exchange had aged out): Rejected -> Pending. The only backward step of the claim life cycle. Governance only.
    function reopenClaim(uint256 claimId) external;
    /// @notice Returns tokens sent here by mistake. Never the pool asset. Governance only.
    function rescueToken(address token, address to, uint256 amount) external;
    /// @notice Sum of approved, unpaid payouts.
    function reservedAmount() external view returns (uint256);
    /// @notice Withdraws the caller's confirmation of an open proposal.
    function revokeConfirmation(uint256 proposalId) external;
    /// @notice Schedules an open proposal that has reached its threshold without being scheduled (e.g. after the threshold was lowered). Any signer.
    function schedule(uint256 proposalId) external;
    /// @notice Sets the challenge window of future approvals; approvals already made keep their `payableAt`. Governance only.
    function setChallengePeriod(uint256 period) external;
    /// @notice Sets how long after a policy's coverage ends a claim for a liquidation inside the term may still be filed. Governance only.
    function setClaimGracePeriod(uint256 period) external;
    /// @notice Sets the circuit breaker on the validator: the most approved (reserved) per UTC day. Governance only.
    function setDailyApprovalLimit(uint256 limit) external;
    /// @notice Sets the circuit breaker: the most paid out to traders per UTC day. Governance only.
    function setDailyPayoutLimit(uint256 limit) external;
    /// @notice Sets the most governance may withdraw per UTC day. Governance only.
    function setDailyWithdrawalLimit(uint256 limit) external;
    /// @notice Sets the delay between a proposal reaching its threshold and becoming executable; applies to proposals scheduled from now on. Governance only (so lowering it waits out the current delay).
    function setExecutionDelay(uint256 delay) external;
    /// @notice Sets the largest coverage limit a policy may be given (the registrar is a hot key). Governance only.
    function setMaxCoverageLimit(uint256 maxLimit) external;
    /// @notice Sets the largest payout a single claim may be approved for. Governance only.
    function setMaxPayoutPerClaim(uint256 maxPayout) external;
    /// @notice Sets how long new proposals stay executable. Governance only.
    function setProposalLifetime(uint256 lifetime) external;
    /// @notice Sets how many signer confirmations execute a proposal. Governance only.
    function setThreshold(uint256 newThreshold) external;
    /// @notice Confirmations of current signers needed to execute a proposal.
    function threshold() external view returns (uint256);
    /// @notice Resumes the operations named by `flags`. Governance only.
    function unpause(uint256 flags) external;
    /// @notice Vetoes many approvals inside their challenge windows; items not vetoable are skipped with their reason. Guardian or governance.
    function vetoClaims(uint256[] calldata claimIds, uint16 reasonCode) external;
    /// @notice Withdrawn so far in the current UTC day.
    function withdrawnToday() external view returns (uint256);
}

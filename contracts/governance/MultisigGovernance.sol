// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {Initializable} from "@openzeppelin/contracts-upgradeable/proxy/utils/Initializable.sol";
import {SelfGoverned} from "./SelfGoverned.sol";

/// @title MultisigGovernance
/// @notice An in-contract M-of-N multisig. Executed proposals call their target with `msg.sender ==
/// address(this)`; that sender is "governance", the only holder of administrative powers.
/// A proposal becomes executable `executionDelay` seconds after it first reaches its threshold (it is then
/// "scheduled"); the threshold is checked again at execution.
/// @dev Confirmations are stamped with the confirming signer's epoch (a number given each time an address
/// becomes a signer), so a removed signer's confirmations stop counting at once and do not come back if the
/// address is added again later. State lives in ERC-7201 namespaced storage.
abstract contract MultisigGovernance is SelfGoverned, Initializable {
    /// @notice The largest number of signers; bounds every loop over signers.
    uint256 public constant MAX_SIGNERS = 20;
    /// @notice Proposal lifetime given at initialisation.
    uint256 public constant DEFAULT_PROPOSAL_LIFETIME = 7 days;
    uint256 public constant MIN_PROPOSAL_LIFETIME = 1 hours;
    uint256 public constant MAX_PROPOSAL_LIFETIME = 30 days;
    /// @notice Longest execution delay governance may set.
    uint256 public constant MAX_EXECUTION_DELAY = 30 days;

    struct Proposal {
        // slot 0
        address target;
        uint40 createdAt;
        uint40 expiresAt;
        bool executed;
        bool cancelled;
        // slot 1
        address proposer;
        uint96 value;
        // slot 2
        bytes data;
        // slot 3 (1.1)
        uint40 readyAt;
    }

    /// @custom:storage-location erc7201:leverageguard.storage.MultisigGovernance
    struct MultisigStorage {
        address[] signers;
        mapping(address signer => uint64 epoch) signerEpoch;
        uint64 lastEpoch;
        uint8 threshold;
        uint32 proposalLifetime;
        uint32 executionDelay; // 1.1
        uint256 proposalCount;
        mapping(uint256 proposalId => Proposal) proposals;
        mapping(uint256 proposalId => mapping(address signer => uint64 epoch)) confirmationEpoch;
    }

    // keccak256(abi.encode(uint256(keccak256("leverageguard.storage.MultisigGovernance")) - 1)) & ~bytes32(uint256(0xff))
    bytes32 private constant MULTISIG_STORAGE_LOCATION =
        0xc8b7dc1ab75e1d1703093dbde91762021ae683d2bca77d5b9f0aba44c1b00000;

    function _multisigStorage() private pure returns (MultisigStorage storage $) {
        assembly {
            $.slot := MULTISIG_STORAGE_LOCATION
        }
    }

    modifier onlySigner() {
        if (_multisigStorage().signerEpoch[msg.sender] == 0) revert NotSigner(msg.sender);
        _;
    }

    // solhint-disable-next-line func-name-mixedcase
    function __MultisigGovernance_init(address[] calldata initialSigners, uint256 initialThreshold)
        internal
        onlyInitializing
    {
        if (initialSigners.length > MAX_SIGNERS) revert TooManySigners(initialSigners.length, MAX_SIGNERS);
        for (uint256 i = 0; i < initialSigners.length; ++i) {
            _addSigner(initialSigners[i]);
        }
        _setThreshold(initialThreshold);
        _setProposalLifetime(DEFAULT_PROPOSAL_LIFETIME);
    }

    // ------------------------------------------------------------------ proposals

    /// @notice Proposes a call from the contract to itself; the proposer's confirmation counts at once.
    /// @param target Must be this contract: a proposal may only call the contract's own functions (use
    /// `multicall` for several), so no proposal can move the pool asset past `withdraw`'s checks.
    /// @param value Wei sent with the call.
    /// @param data Calldata of the call.
    /// @return proposalId The new proposal's id (starting at 1).
    /// @dev Emits ProposalCreated and ProposalConfirmed.
    function propose(address target, uint256 value, bytes calldata data)
        external
        onlySigner
        returns (uint256 proposalId)
    {
        if (target != address(this)) revert InvalidProposalTarget(target);
        if (value > type(uint96).max) revert ValueTooLarge(value, type(uint96).max);
        MultisigStorage storage $ = _multisigStorage();
        proposalId = ++$.proposalCount;
        uint256 expiresAt = block.timestamp + $.proposalLifetime;
        Proposal storage proposal = $.proposals[proposalId];
        proposal.target = target;
        proposal.createdAt = uint40(block.timestamp);
        proposal.expiresAt = uint40(expiresAt);
        proposal.proposer = msg.sender;
        proposal.value = uint96(value);
        proposal.data = data;
        $.confirmationEpoch[proposalId][msg.sender] = $.signerEpoch[msg.sender];
        emit ProposalCreated(proposalId, msg.sender, target, value, data, expiresAt);
        emit ProposalConfirmed(proposalId, msg.sender);
        _scheduleIfThresholdMet(proposalId, proposal);
    }

    /// @notice Confirms an open proposal; the confirmation that reaches the threshold schedules it.
    /// @param proposalId The proposal to confirm.
    /// @dev Emits ProposalConfirmed, and ProposalScheduled when the threshold is reached the first time.
    function confirm(uint256 proposalId) external onlySigner {
        MultisigStorage storage $ = _multisigStorage();
        Proposal storage proposal = _requireOpen(proposalId);
        uint64 epoch = $.signerEpoch[msg.sender];
        if ($.confirmationEpoch[proposalId][msg.sender] == epoch) revert AlreadyConfirmed(proposalId, msg.sender);
        $.confirmationEpoch[proposalId][msg.sender] = epoch;
        emit ProposalConfirmed(proposalId, msg.sender);
        _scheduleIfThresholdMet(proposalId, proposal);
    }

    /// @notice Schedules an open proposal that has reached its threshold without being scheduled (e.g.
    /// after the threshold was lowered). Any signer.
    /// @param proposalId The proposal.
    /// @dev Emits ProposalScheduled.
    function schedule(uint256 proposalId) external onlySigner {
        Proposal storage proposal = _requireOpen(proposalId);
        if (proposal.readyAt != 0) revert ProposalAlreadyScheduled(proposalId, proposal.readyAt);
        uint256 have = _confirmationCount(proposalId);
        uint256 need = _multisigStorage().threshold;
        if (have < need) revert ThresholdNotMet(proposalId, have, need);
        _schedule(proposalId, proposal);
    }

    /// @notice Withdraws the caller's confirmation of an open proposal.
    /// @param proposalId The proposal.
    /// @dev Emits ConfirmationRevoked.
    function revokeConfirmation(uint256 proposalId) external onlySigner {
        MultisigStorage storage $ = _multisigStorage();
        _requireOpen(proposalId);
        if ($.confirmationEpoch[proposalId][msg.sender] != $.signerEpoch[msg.sender]) {
            revert NotConfirmed(proposalId, msg.sender);
        }
        delete $.confirmationEpoch[proposalId][msg.sender];
        emit ConfirmationRevoked(proposalId, msg.sender);
    }

    /// @notice Executes a scheduled proposal confirmed by at least `threshold` current signers, once, from
    /// its `readyAt` until its expiry.
    /// @param proposalId The proposal.
    /// @return result What the call returned.
    /// @dev Emits ProposalExecuted. The proposal is marked executed before the call, so the call can neither
    /// re-execute it nor be blocked by a reentrancy guard on the governance function it invokes. A revert in
    /// the call reverts `execute` with the call's own revert data.
    function execute(uint256 proposalId) external onlySigner returns (bytes memory result) {
        MultisigStorage storage $ = _multisigStorage();
        Proposal storage proposal = _requireOpen(proposalId);
        uint256 have = _confirmationCount(proposalId);
        uint256 need = $.threshold;
        if (have < need) revert ThresholdNotMet(proposalId, have, need);
        uint256 readyAt = proposal.readyAt;
        if (readyAt == 0 || block.timestamp < readyAt) revert ProposalNotReady(proposalId, readyAt);
        proposal.executed = true;
        emit ProposalExecuted(proposalId, msg.sender);
        bool success;
        (success, result) = proposal.target.call{value: proposal.value}(proposal.data);
        if (!success) {
            assembly {
                revert(add(result, 0x20), mload(result))
            }
        }
    }

    /// @notice Cancels a proposal not yet executed: by its proposer while a signer, by governance, or by a
    /// guardian during the delay (see `_authorizeCancel`).
    /// @param proposalId The proposal.
    /// @dev Emits ProposalCancelled.
    function cancel(uint256 proposalId) external {
        Proposal storage proposal = _requireExisting(proposalId);
        if (proposal.executed) revert ProposalAlreadyExecuted(proposalId);
        if (proposal.cancelled) revert ProposalAlreadyCancelled(proposalId);
        bool byProposer = msg.sender == proposal.proposer && isSigner(msg.sender);
        if (!byProposer && msg.sender != address(this)) _authorizeCancel(proposalId, proposal);
        proposal.cancelled = true;
        emit ProposalCancelled(proposalId, msg.sender);
    }

    // ------------------------------------------------------------------ signer set (governance)

    /// @notice Adds a signer. Governance only.
    /// @param signer The new signer.
    /// @dev Emits SignerAdded.
    function addSigner(address signer) external onlyGovernance {
        if (_multisigStorage().signers.length >= MAX_SIGNERS) revert TooManySigners(MAX_SIGNERS + 1, MAX_SIGNERS);
        _addSigner(signer);
    }

    /// @notice Removes a signer; their confirmations stop counting. Governance only.
    /// @param signer The signer to remove; the threshold must stay <= the remaining signer count.
    /// @dev Emits SignerRemoved.
    function removeSigner(address signer) external onlyGovernance {
        MultisigStorage storage $ = _multisigStorage();
        if ($.signerEpoch[signer] == 0) revert NotSigner(signer);
        uint256 remaining = $.signers.length - 1;
        if ($.threshold > remaining) revert InvalidThreshold($.threshold, remaining);
        delete $.signerEpoch[signer];
        address[] storage signers = $.signers;
        for (uint256 i = 0; i < signers.length; ++i) {
            if (signers[i] == signer) {
                signers[i] = signers[signers.length - 1];
                signers.pop();
                break;
            }
        }
        emit SignerRemoved(signer);
    }

    /// @notice Sets how many signer confirmations execute a proposal. Governance only.
    /// @param newThreshold Between 1 and the signer count.
    /// @dev Emits ThresholdChanged.
    function setThreshold(uint256 newThreshold) external onlyGovernance {
        _setThreshold(newThreshold);
    }

    /// @notice Sets how long new proposals stay executable. Governance only.
    /// @param lifetime Seconds, between MIN_PROPOSAL_LIFETIME (plus the execution delay) and
    /// MAX_PROPOSAL_LIFETIME.
    /// @dev Emits ProposalLifetimeChanged.
    function setProposalLifetime(uint256 lifetime) external onlyGovernance {
        _setProposalLifetime(lifetime);
    }

    /// @notice Sets the delay between a proposal reaching its threshold and becoming executable; applies to
    /// proposals scheduled from now on. Governance only (so lowering it waits out the current delay).
    /// @param delay Seconds, at most MAX_EXECUTION_DELAY and at most the proposal lifetime minus
    /// MIN_PROPOSAL_LIFETIME.
    /// @dev Emits ExecutionDelayChanged.
    function setExecutionDelay(uint256 delay) external onlyGovernance {
        MultisigStorage storage $ = _multisigStorage();
        uint256 max = _maxExecutionDelay($.proposalLifetime);
        if (delay > max) revert InvalidExecutionDelay(delay, max);
        uint256 previous = $.executionDelay;
        $.executionDelay = uint32(delay);
        emit ExecutionDelayChanged(previous, delay);
    }

    // ------------------------------------------------------------------ views

    /// @notice The current signers.
    function getSigners() external view returns (address[] memory) {
        return _multisigStorage().signers;
    }

    /// @notice Whether `account` is a current signer.
    function isSigner(address account) public view returns (bool) {
        return _multisigStorage().signerEpoch[account] != 0;
    }

    /// @notice Confirmations of current signers needed to execute a proposal.
    function threshold() external view returns (uint256) {
        return _multisigStorage().threshold;
    }

    /// @notice Seconds a new proposal stays executable.
    function proposalLifetime() external view returns (uint256) {
        return _multisigStorage().proposalLifetime;
    }

    /// @notice Seconds between a proposal reaching its threshold and becoming executable.
    function executionDelay() external view returns (uint256) {
        return _multisigStorage().executionDelay;
    }

    /// @notice Number of proposals ever created (the last id).
    function proposalCount() external view returns (uint256) {
        return _multisigStorage().proposalCount;
    }

    /// @notice A proposal with its live confirmation count.
    /// @param proposalId The proposal.
    function getProposal(uint256 proposalId) external view returns (ProposalView memory) {
        Proposal storage proposal = _requireExisting(proposalId);
        return ProposalView({
            target: proposal.target,
            value: proposal.value,
            data: proposal.data,
            proposer: proposal.proposer,
            createdAt: proposal.createdAt,
            expiresAt: proposal.expiresAt,
            confirmations: _confirmationCount(proposalId),
            executed: proposal.executed,
            cancelled: proposal.cancelled,
            readyAt: proposal.readyAt
        });
    }

    /// @notice Whether `signer` is a current signer whose confirmation of `proposalId` counts.
    function hasConfirmed(uint256 proposalId, address signer) public view returns (bool) {
        MultisigStorage storage $ = _multisigStorage();
        uint64 epoch = $.signerEpoch[signer];
        return epoch != 0 && $.confirmationEpoch[proposalId][signer] == epoch;
    }

    // ------------------------------------------------------------------ internals

    /// @dev Who else than the proposer (while a signer) and governance may cancel; reverts if `msg.sender`
    /// may not. The pool lets a guardian cancel during the delay.
    function _authorizeCancel(uint256 proposalId, Proposal storage proposal) internal view virtual;

    function _scheduleIfThresholdMet(uint256 proposalId, Proposal storage proposal) private {
        if (proposal.readyAt == 0 && _confirmationCount(proposalId) >= _multisigStorage().threshold) {
            _schedule(proposalId, proposal);
        }
    }

    function _schedule(uint256 proposalId, Proposal storage proposal) private {
        uint256 readyAt = block.timestamp + _multisigStorage().executionDelay;
        proposal.readyAt = uint40(readyAt);
        emit ProposalScheduled(proposalId, readyAt);
    }

    function _maxExecutionDelay(uint256 lifetime) private pure returns (uint256) {
        uint256 byLifetime = lifetime - MIN_PROPOSAL_LIFETIME;
        return byLifetime < MAX_EXECUTION_DELAY ? byLifetime : MAX_EXECUTION_DELAY;
    }

    function _confirmationCount(uint256 proposalId) private view returns (uint256 count) {
        address[] storage signers = _multisigStorage().signers;
        for (uint256 i = 0; i < signers.length; ++i) {
            if (hasConfirmed(proposalId, signers[i])) ++count;
        }
    }

    function _requireExisting(uint256 proposalId) private view returns (Proposal storage proposal) {
        MultisigStorage storage $ = _multisigStorage();
        if (proposalId == 0 || proposalId > $.proposalCount) revert UnknownProposal(proposalId);
        proposal = $.proposals[proposalId];
    }

    function _requireOpen(uint256 proposalId) private view returns (Proposal storage proposal) {
        proposal = _requireExisting(proposalId);
        if (proposal.executed) revert ProposalAlreadyExecuted(proposalId);
        if (proposal.cancelled) revert ProposalAlreadyCancelled(proposalId);
        if (block.timestamp >= proposal.expiresAt) revert ProposalExpired(proposalId, proposal.expiresAt);
    }

    function _addSigner(address signer) private {
        MultisigStorage storage $ = _multisigStorage();
        if (signer == address(0)) revert ZeroAddress();
        if (signer == address(this)) revert InvalidSigner(signer);
        if ($.signerEpoch[signer] != 0) revert AlreadySigner(signer);
        $.signerEpoch[signer] = ++$.lastEpoch;
        $.signers.push(signer);
        emit SignerAdded(signer);
    }

    function _setThreshold(uint256 newThreshold) private {
        MultisigStorage storage $ = _multisigStorage();
        if (newThreshold == 0 || newThreshold > $.signers.length) {
            revert InvalidThreshold(newThreshold, $.signers.length);
        }
        uint256 previous = $.threshold;
        $.threshold = uint8(newThreshold);
        emit ThresholdChanged(previous, newThreshold);
    }

    function _setProposalLifetime(uint256 lifetime) private {
        MultisigStorage storage $ = _multisigStorage();
        uint256 min = MIN_PROPOSAL_LIFETIME + $.executionDelay;
        if (lifetime < min || lifetime > MAX_PROPOSAL_LIFETIME) {
            revert InvalidProposalLifetime(lifetime, min, MAX_PROPOSAL_LIFETIME);
        }
        uint256 previous = $.proposalLifetime;
        $.proposalLifetime = uint32(lifetime);
        emit ProposalLifetimeChanged(previous, lifetime);
    }
}

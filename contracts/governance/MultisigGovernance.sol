// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {Initializable} from "@openzeppelin/contracts-upgradeable/proxy/utils/Initializable.sol";
import {IMultisigGovernance} from "../interfaces/ILeverageGuard.sol";

/// @title MultisigGovernance
/// @notice An in-contract M-of-N multisig. Executed proposals call their target with `msg.sender ==
/// address(this)`; that sender is "governance", the only holder of administrative powers.
/// @dev Confirmations are stamped with the confirming signer's epoch (a number given each time an address
/// becomes a signer), so a removed signer's confirmations stop counting at once and do not come back if the
/// address is added again later. State lives in ERC-7201 namespaced storage.
abstract contract MultisigGovernance is Initializable, IMultisigGovernance {
    /// @notice The largest number of signers; bounds every loop over signers.
    uint256 public constant MAX_SIGNERS = 20;
    /// @notice Proposal lifetime given at initialisation.
    uint256 public constant DEFAULT_PROPOSAL_LIFETIME = 7 days;
    uint256 public constant MIN_PROPOSAL_LIFETIME = 1 hours;
    uint256 public constant MAX_PROPOSAL_LIFETIME = 30 days;

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
        // slot 2..
        bytes data;
    }

    /// @custom:storage-location erc7201:leverageguard.storage.MultisigGovernance
    struct MultisigStorage {
        address[] signers;
        mapping(address signer => uint64 epoch) signerEpoch;
        uint64 lastEpoch;
        uint8 threshold;
        uint32 proposalLifetime;
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

    modifier onlyGovernance() {
        _checkGovernance();
        _;
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
    }

    /// @notice Confirms an open proposal.
    /// @param proposalId The proposal to confirm.
    /// @dev Emits ProposalConfirmed.
    function confirm(uint256 proposalId) external onlySigner {
        MultisigStorage storage $ = _multisigStorage();
        _requireOpen(proposalId);
        uint64 epoch = $.signerEpoch[msg.sender];
        if ($.confirmationEpoch[proposalId][msg.sender] == epoch) revert AlreadyConfirmed(proposalId, msg.sender);
        $.confirmationEpoch[proposalId][msg.sender] = epoch;
        emit ProposalConfirmed(proposalId, msg.sender);
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

    /// @notice Executes a proposal confirmed by at least `threshold` current signers, once, before expiry.
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

    /// @notice Cancels an open proposal; by its proposer, or by governance.
    /// @param proposalId The proposal.
    /// @dev Emits ProposalCancelled.
    function cancel(uint256 proposalId) external {
        Proposal storage proposal = _requireExisting(proposalId);
        if (msg.sender != proposal.proposer && msg.sender != address(this)) {
            revert NotProposer(proposalId, msg.sender);
        }
        if (proposal.executed) revert ProposalAlreadyExecuted(proposalId);
        if (proposal.cancelled) revert ProposalAlreadyCancelled(proposalId);
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
    /// @param lifetime Seconds, between MIN_PROPOSAL_LIFETIME and MAX_PROPOSAL_LIFETIME.
    /// @dev Emits ProposalLifetimeChanged.
    function setProposalLifetime(uint256 lifetime) external onlyGovernance {
        _setProposalLifetime(lifetime);
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
            cancelled: proposal.cancelled
        });
    }

    /// @notice Whether `signer` is a current signer whose confirmation of `proposalId` counts.
    function hasConfirmed(uint256 proposalId, address signer) public view returns (bool) {
        MultisigStorage storage $ = _multisigStorage();
        uint64 epoch = $.signerEpoch[signer];
        return epoch != 0 && $.confirmationEpoch[proposalId][signer] == epoch;
    }

    // ------------------------------------------------------------------ internals

    function _checkGovernance() internal view {
        if (msg.sender != address(this)) revert OnlyGovernance(msg.sender);
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
        if (lifetime < MIN_PROPOSAL_LIFETIME || lifetime > MAX_PROPOSAL_LIFETIME) {
            revert InvalidProposalLifetime(lifetime, MIN_PROPOSAL_LIFETIME, MAX_PROPOSAL_LIFETIME);
        }
        MultisigStorage storage $ = _multisigStorage();
        uint256 previous = $.proposalLifetime;
        $.proposalLifetime = uint32(lifetime);
        emit ProposalLifetimeChanged(previous, lifetime);
    }
}

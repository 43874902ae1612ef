// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {Test} from "forge-std/Test.sol";
import {IAccessControl} from "@openzeppelin/contracts/access/IAccessControl.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";

import {ILeverageGuard} from "../../../contracts/interfaces/ILeverageGuard.sol";
import {IMultisigGovernanceTypes, ILeverageGuardTypes} from "../../../contracts/interfaces/ILeverageGuardTypes.sol";

/// @title GovernanceHandler
/// @notice The actors of the governance invariant campaign: the multisig's signers (honest, or a majority
/// raiding the pool inside the execution delay), a rogue guardian cancelling what it may, removed signers
/// replaying stale confirmations and outsiders calling governance functions directly. Every call is made
/// through try/catch and its outcome (success, or the exact revert data) is compared with a prediction of a
/// ghost model of the multisig (signers, epochs, per-epoch confirmations, threshold, readyAt, expiry,
/// executed/cancelled) and of every value governance controls; a success the model forbids or a revert it did
/// not predict is counted as a violation, and so is any change of a governed value that does not coincide
/// with an execution at or after its proposal's readyAt.
contract GovernanceHandler is Test {
    // ------------------------------------------------------------------ constants

    uint256 internal constant USDT = 1e6;
    uint256 internal constant HOUR = 1 hours;
    uint256 internal constant DAY = 1 days;
    uint256 internal constant MIN_LIFETIME = 1 hours;
    uint256 internal constant MAX_LIFETIME = 30 days;
    uint256 internal constant MAX_DELAY = 30 days;
    uint256 internal constant MIN_CHALLENGE = 1 hours;
    uint256 internal constant MAX_CHALLENGE = 30 days;
    uint256 internal constant MAX_GRACE = 90 days;
    uint256 internal constant MAX_SIGNERS = 20;
    bytes32 internal constant ADMIN_ROLE = 0x00;
    bytes32 internal constant GUARDIAN = keccak256("GUARDIAN_ROLE");
    /// @dev ERC-1967 implementation slot.
    bytes32 internal constant IMPLEMENTATION_SLOT = 0x360894a13ba1a3210667c828492db98dca3e2076cc3735a920a3ca505d382bbc;
    uint256 internal constant ROLE_ACCOUNTS = 3;
    uint256 internal constant CANDIDATES = 6;

    // payload menu (the tag of a proposal)
    uint8 internal constant P_WITHDRAW_LIMIT = 0;
    uint8 internal constant P_PAYOUT_LIMIT = 1;
    uint8 internal constant P_APPROVAL_LIMIT = 2;
    uint8 internal constant P_MAX_PAYOUT = 3;
    uint8 internal constant P_MAX_COVERAGE = 4;
    uint8 internal constant P_CHALLENGE = 5;
    uint8 internal constant P_GRACE = 6;
    uint8 internal constant P_LIFETIME = 7;
    uint8 internal constant P_DELAY = 8;
    uint8 internal constant P_WITHDRAW = 9;
    uint8 internal constant P_GRANT_GUARDIAN = 10;
    uint8 internal constant P_REVOKE_GUARDIAN = 11;
    uint8 internal constant P_GRANT_ADMIN = 12;
    uint8 internal constant P_REVOKE_ADMIN = 13;
    uint8 internal constant P_MULTI_REVOKE_GUARDIANS = 14;
    uint8 internal constant P_MIXED_REVOKE = 15;
    uint8 internal constant P_PADDED_REVOKE = 16;
    uint8 internal constant P_ADD_SIGNER = 17;
    uint8 internal constant P_REMOVE_SIGNER = 18;
    uint8 internal constant P_THRESHOLD = 19;
    uint8 internal constant P_VETO = 20;
    uint8 internal constant P_RAID = 21;
    uint8 internal constant P_DRAIN = 22;
    uint8 internal constant P_UPGRADE = 23;
    uint8 internal constant P_EXECUTE_PROPOSAL = 24;
    uint8 internal constant P_CONFIRM_PROPOSAL = 25;
    uint8 internal constant P_CANCEL_PROPOSAL = 26;
    uint8 internal constant MENU = 27;

    // ------------------------------------------------------------------ model types

    enum K {
        WithdrawLimit,
        PayoutLimit,
        ApprovalLimit,
        MaxPayout,
        MaxCoverage,
        Challenge,
        Grace,
        Lifetime,
        Delay,
        Withdraw,
        Grant,
        Revoke,
        AddSigner,
        RemoveSigner,
        Threshold,
        Veto,
        Upgrade,
        ExecuteProposal,
        ConfirmProposal,
        CancelProposal
    }

    /// @dev One call of a proposal (a multicall has several).
    struct Op {
        K kind;
        uint256 num;
        address account;
        bytes32 role;
    }

    /// @dev Everything governance controls apart from the signer set, as the model expects it on chain.
    struct Governed {
        uint256 withdrawLimit;
        uint256 payoutLimit;
        uint256 approvalLimit;
        uint256 maxPayout;
        uint256 maxCoverage;
        uint256 challenge;
        uint256 grace;
        uint256 lifetime;
        uint256 delay;
        uint256 balance;
        uint256 reserved;
        uint256 withdrawDay;
        uint256 withdrawnInDay;
        uint256 attackerBalance;
        uint8 claimStatus;
        address implementation;
        bool[3] guardianRole;
    }

    struct GhostProposal {
        address proposer;
        uint256 createdAt;
        uint256 expiresAt;
        uint256 readyAt;
        uint256 scheduledAt;
        uint256 executedAt;
        bool executed;
        bool cancelled;
        bool onlyRevokesGuardians;
        uint8 tag;
        bytes32 dataHash;
    }

    // ------------------------------------------------------------------ system under test

    ILeverageGuard public immutable guard;
    IERC20 public immutable token;
    address public immutable v1Implementation;
    address public immutable v2Implementation;
    address public immutable nonUupsImplementation;
    uint256 public immutable claimId;
    uint256 public immutable claimPayout;
    uint256 public immutable claimPayableAt;
    /// @notice Proposals made in setUp (all executed); the campaign's proposals come after.
    uint256 public immutable baseProposalCount;

    address public immutable attacker = makeAddr("attacker");
    address public immutable stranger = makeAddr("stranger");
    address[CANDIDATES] internal candidates;
    address[ROLE_ACCOUNTS] internal roleAccounts;

    // ------------------------------------------------------------------ ghost model

    address[] internal gSigners;
    mapping(address => uint64) internal gEpoch;
    mapping(address => bool) internal wasSigner;
    uint64 internal gLastEpoch;
    uint256 public gThreshold;
    Governed internal g;

    uint256 public gCount;
    mapping(uint256 => GhostProposal) internal gp;
    mapping(uint256 => Op[]) internal gOps;
    mapping(uint256 => mapping(address => uint64)) internal gConf;
    uint256[] internal raidIds;

    /// @dev Set by a successful execution at or after readyAt: the only step that may change governed state.
    bool internal effectAllowed;
    bool internal upgradeAllowed;
    bytes32 internal lastChainHash;
    address internal lastImplementation;
    /// @notice The proposal the last step touched (checked by the per-step invariants).
    uint256 public lastTouched;

    // ------------------------------------------------------------------ outcome accounting

    /// @notice Model violations by property ID (keccak256 of the ID string).
    mapping(bytes32 => uint256) public violationsOf;
    uint256 public violations;
    string public firstViolation;
    /// @notice How often each interesting outcome happened in this run.
    mapping(bytes32 => uint256) public outcome;

    constructor(
        ILeverageGuard guard_,
        address v2,
        address nonUups,
        address[] memory initialSigners,
        address guardian_,
        uint256 claimId_
    ) {
        guard = guard_;
        token = IERC20(guard_.asset());
        v1Implementation = address(uint160(uint256(vm.load(address(guard_), IMPLEMENTATION_SLOT))));
        v2Implementation = v2;
        nonUupsImplementation = nonUups;
        claimId = claimId_;
        ILeverageGuardTypes.ClaimView memory claim = guard_.getClaim(claimId_);
        claimPayout = claim.payout;
        claimPayableAt = claim.payableAt;
        for (uint256 i = 0; i < initialSigners.length; ++i) {
            candidates[i] = initialSigners[i];
            // initialize() gives epochs 1, 2, 3 in order
            gSigners.push(initialSigners[i]);
            gEpoch[initialSigners[i]] = uint64(i + 1);
            wasSigner[initialSigners[i]] = true;
        }
        gLastEpoch = uint64(initialSigners.length);
        for (uint256 i = initialSigners.length; i < CANDIDATES; ++i) {
            candidates[i] = makeAddr(string.concat("candidate", vm.toString(i)));
        }
        roleAccounts[0] = guardian_;
        roleAccounts[1] = makeAddr("guardian2");
        roleAccounts[2] = makeAddr("guardian3");
        gThreshold = guard_.threshold();
        baseProposalCount = guard_.proposalCount();
        gCount = baseProposalCount;
        for (uint256 id = 1; id <= baseProposalCount; ++id) {
            ILeverageGuardTypes.ProposalView memory p = guard_.getProposal(id);
            gp[id].proposer = p.proposer;
            gp[id].createdAt = p.createdAt;
            gp[id].expiresAt = p.expiresAt;
            gp[id].readyAt = p.readyAt;
            gp[id].executed = p.executed;
            gp[id].cancelled = p.cancelled;
            gp[id].dataHash = keccak256(p.data);
        }
        // The model starts from the state setUp left (read once) and from then on evolves on its own.
        g.withdrawLimit = guard_.dailyWithdrawalLimit();
        g.payoutLimit = guard_.dailyPayoutLimit();
        g.approvalLimit = guard_.dailyApprovalLimit();
        g.maxPayout = guard_.maxPayoutPerClaim();
        g.maxCoverage = guard_.maxCoverageLimit();
        g.challenge = guard_.challengePeriod();
        g.grace = guard_.claimGracePeriod();
        g.lifetime = guard_.proposalLifetime();
        g.delay = guard_.executionDelay();
        g.balance = token.balanceOf(address(guard_));
        g.reserved = guard_.reservedAmount();
        g.withdrawDay = block.timestamp / DAY;
        g.withdrawnInDay = guard_.withdrawnToday();
        g.attackerBalance = token.balanceOf(attacker);
        g.claimStatus = uint8(claim.status);
        g.implementation = v1Implementation;
        for (uint256 i = 0; i < ROLE_ACCOUNTS; ++i) {
            g.guardianRole[i] = guard_.hasRole(GUARDIAN, roleAccounts[i]);
        }
        lastChainHash = _rawGovernedHash();
        lastImplementation = v1Implementation;
        // the raw-slot layout below must be the one the views read
        if (_chainHash() != _ghostHash()) revert("model does not start equal to the chain");
        if (uint8(uint256(vm.load(address(guard_), bytes32(uint256(MULTISIG_SLOT) + 2))) >> 64) != gThreshold) {
            revert("multisig slot layout");
        }
        if (uint256(vm.load(address(token), keccak256(abi.encode(address(guard_), uint256(0))))) != g.balance) {
            revert("token balance slot layout");
        }
        if ((uint256(vm.load(address(guard_), _roleSlot(GUARDIAN, guardian_))) != 0) != g.guardianRole[0]) {
            revert("role slot layout");
        }
        if (uint96(uint256(vm.load(address(guard_), bytes32(uint256(POOL_SLOT) + 1)))) != g.withdrawLimit) {
            revert("pool slot layout");
        }
    }

    // ================================================================== per-step bookkeeping

    /// @dev After every action: any change of governed state (read as raw storage slots, which is cheap)
    /// must come from an execution at/after readyAt, and the raiding majority retries its raids while they
    /// are in delay. The invariants compare the chain with the model through the views (`modelMismatch`).
    modifier step() {
        effectAllowed = false;
        upgradeAllowed = false;
        _;
        _raidersRetry();
        bytes32 rawHash = _rawGovernedHash();
        if (rawHash != lastChainHash && !effectAllowed) {
            _violate("GOV-DELAY-1", string.concat("governed state changed outside a ready execution: ", _diff()));
        }
        address implementation = _implementation();
        if (implementation != lastImplementation && !upgradeAllowed) {
            _violate("GOV-DELAY-2", "implementation changed outside a ready upgrade execution");
        }
        lastChainHash = rawHash;
        lastImplementation = implementation;
    }

    // ================================================================== actions (fuzzer targets)

    /// @notice A signer (or, 1 in 10, a non-signer) proposes a payload of the menu.
    function propose(uint256 actorSeed, uint256 menuSeed, uint256 argSeed) external step {
        address caller = actorSeed % 10 == 0 ? _nonSigner(actorSeed / 10) : _signer(actorSeed / 10);
        _propose(caller, uint8(menuSeed % MENU), argSeed);
    }

    /// @notice A signer confirms a proposal.
    function confirm(uint256 actorSeed, uint256 idSeed) external step {
        _confirm(_signer(actorSeed), _pickId(idSeed));
    }

    /// @notice A signer withdraws its confirmation.
    function revokeConfirmation(uint256 actorSeed, uint256 idSeed) external step {
        _revokeConfirmation(_signer(actorSeed), _pickId(idSeed));
    }

    /// @notice A signer schedules a proposal (useful after the threshold was lowered).
    function schedule(uint256 actorSeed, uint256 idSeed) external step {
        _schedule(_signer(actorSeed), _pickId(idSeed));
    }

    /// @notice A signer executes a proposal.
    function execute(uint256 actorSeed, uint256 idSeed) external step {
        _execute(_signer(actorSeed), _pickId(idSeed));
    }

    /// @notice Someone cancels a proposal: its proposer, a signer, a guardian or a stranger.
    function cancel(uint256 actorSeed, uint256 idSeed) external step {
        uint256 id = _pickId(idSeed);
        address caller;
        uint256 who = actorSeed % 5;
        if (who == 0 && id > 0 && id <= gCount) caller = gp[id].proposer;
        else if (who <= 1) caller = _signer(actorSeed / 5);
        else if (who == 2) caller = roleAccounts[0];
        else if (who == 3) caller = roleAccounts[(actorSeed / 5) % ROLE_ACCOUNTS];
        else caller = stranger;
        _cancel(caller, id);
    }

    /// @notice The rogue guardian cancels whatever it may: preferably a proposal in its delay.
    function guardianCancel(uint256 idSeed) external step {
        uint256 id = _pickId(idSeed);
        for (uint256 back = 0; back < 8 && gCount > baseProposalCount + back; ++back) {
            uint256 candidateId = gCount - ((idSeed % 1024 + back) % (gCount - baseProposalCount));
            GhostProposal storage p = gp[candidateId];
            if (!p.executed && !p.cancelled && p.readyAt != 0 && block.timestamp < p.readyAt) {
                id = candidateId;
                break;
            }
        }
        _cancel(roleAccounts[0], id);
    }

    /// @notice A majority of the signers proposes and confirms a raid (the GOV-DELAY-1 multicall, a drain, or
    /// an upgrade) and tries to execute it at once; it retries after every later step while in delay.
    function raid(uint256 actorSeed, uint256 shapeSeed) external step {
        uint256 n = gSigners.length;
        uint256 shape = shapeSeed % 3;
        uint8 tag = shape == 0 ? P_RAID : shape == 1 ? P_DRAIN : P_UPGRADE;
        uint256 start = actorSeed % n;
        (bool ok, uint256 id) = _propose(gSigners[start], tag, shapeSeed / 3);
        if (!ok) return;
        raidIds.push(id);
        for (uint256 i = 1; i < gThreshold && i < n; ++i) {
            _confirm(gSigners[(start + i) % n], id);
        }
        _execute(gSigners[(start + 1) % n], id);
    }

    /// @notice GOV-DELAY-3: the majority moves to remove the rogue guardian (revokeRole alone, a multicall of
    /// guardian revocations, a padded revocation or a mixed multicall); the guardian tries to cancel it at once.
    function removeRogueGuardian(uint256 actorSeed, uint256 shapeSeed) external step {
        uint256 n = gSigners.length;
        uint256 shape = shapeSeed % 4;
        uint8 tag = shape == 0 ? P_REVOKE_GUARDIAN : shape == 1 ? P_MULTI_REVOKE_GUARDIANS : shape == 2 ? P_PADDED_REVOKE : P_MIXED_REVOKE;
        uint256 start = actorSeed % n;
        // argument 0: the rogue guardian is the target of the single and padded revocations
        (bool ok, uint256 id) = _propose(gSigners[start], tag, (shapeSeed / 4) % 2 == 0 ? 0 : shapeSeed / 4);
        if (!ok) return;
        for (uint256 i = 1; i < gThreshold && i < n; ++i) {
            _confirm(gSigners[(start + i) % n], id);
        }
        _cancel(roleAccounts[0], id);
    }

    /// @notice A whole honest round: propose, confirm up to the threshold, wait (to readyAt - 1, readyAt or
    /// readyAt + 1), execute.
    function governanceRound(uint256 actorSeed, uint256 menuSeed, uint256 argSeed, uint256 timing) external step {
        _round(actorSeed, uint8(menuSeed % MENU), argSeed, timing);
    }

    /// @notice A whole round changing the signer set, the threshold or the delay (the rarer payloads whose
    /// effects the other actions depend on: removed signers, stale confirmations, re-added signers).
    function signerSetRound(uint256 actorSeed, uint256 kindSeed, uint256 argSeed, uint256 timing) external step {
        uint8[4] memory tags = [P_ADD_SIGNER, P_REMOVE_SIGNER, P_THRESHOLD, P_DELAY];
        _round(actorSeed, tags[kindSeed % 4], argSeed, timing);
    }

    function _round(uint256 actorSeed, uint8 tag, uint256 argSeed, uint256 timing) internal {
        uint256 n = gSigners.length;
        uint256 start = actorSeed % n;
        (bool ok, uint256 id) = _propose(gSigners[start], tag, argSeed);
        if (!ok) return;
        for (uint256 i = 1; i < gThreshold && i < n; ++i) {
            _confirm(gSigners[(start + i) % n], id);
        }
        uint256 readyAt = gp[id].readyAt;
        if (readyAt == 0) return;
        uint256 mode = timing % 3;
        if (mode == 0 && readyAt > block.timestamp + 1) {
            vm.warp(readyAt - 1);
            _execute(gSigners[start], id);
        }
        if (readyAt > block.timestamp) vm.warp(readyAt + (mode == 2 ? 1 : 0));
        _execute(gSigners[start], id);
    }

    /// @notice A removed signer (or an address that never was one) replays what it could do as a signer.
    function removedSigner(uint256 actorSeed, uint256 idSeed, uint256 what) external step {
        address caller = _nonSigner(actorSeed);
        uint256 id = _pickId(idSeed);
        uint256 action = what % 6;
        if (action == 0) _confirm(caller, id);
        else if (action == 1) _execute(caller, id);
        else if (action == 2) _cancel(caller, id);
        else if (action == 3) _revokeConfirmation(caller, id);
        else if (action == 4) _schedule(caller, id);
        else _propose(caller, uint8((what / 6) % MENU), idSeed);
    }

    /// @notice Moves time forward: around a proposal's readyAt or expiresAt (-1 s, 0, +1 s), a short or a long
    /// jump, or the next UTC midnight.
    function warp(uint256 mode, uint256 idSeed, uint256 amount) external step {
        uint256 id = _pickId(idSeed);
        uint256 to = block.timestamp;
        GhostProposal storage p = gp[id];
        uint256 m = mode % 9;
        if (m <= 2 && id > baseProposalCount && id <= gCount && p.readyAt != 0) to = p.readyAt + m - 1;
        else if (m <= 5 && id > baseProposalCount && id <= gCount) to = p.expiresAt + m - 4;
        else if (m == 6) to = block.timestamp + 1 + amount % (3 * DAY);
        else if (m == 7) to = block.timestamp + 10 * DAY + amount % (20 * DAY);
        else to = (block.timestamp / DAY + 1) * DAY - (amount % 2);
        if (to > block.timestamp) vm.warp(to);
    }

    /// @notice AUTH-1: an outsider, a signer or a guardian calls a governance function directly.
    function directCall(uint256 callerSeed, uint256 fnSeed, uint256 arg) external step {
        uint256 c = callerSeed % 4;
        address caller = c == 0 ? stranger : c == 1 ? _signer(callerSeed / 4) : c == 2 ? roleAccounts[0] : attacker;
        bytes memory expected = abi.encodeWithSelector(IMultisigGovernanceTypes.OnlyGovernance.selector, caller);
        bytes memory data;
        uint256 f = fnSeed % 18;
        if (f == 0) data = abi.encodeCall(ILeverageGuard.setDailyWithdrawalLimit, (arg));
        else if (f == 1) data = abi.encodeCall(ILeverageGuard.setDailyPayoutLimit, (arg));
        else if (f == 2) data = abi.encodeCall(ILeverageGuard.setMaxPayoutPerClaim, (arg % 1e12));
        else if (f == 3) data = abi.encodeCall(ILeverageGuard.setDailyApprovalLimit, (arg));
        else if (f == 4) data = abi.encodeCall(ILeverageGuard.setMaxCoverageLimit, (arg));
        else if (f == 5) data = abi.encodeCall(ILeverageGuard.setChallengePeriod, (30 days));
        else if (f == 6) data = abi.encodeCall(ILeverageGuard.setClaimGracePeriod, (0));
        else if (f == 7) data = abi.encodeCall(ILeverageGuard.setProposalLifetime, (30 days));
        else if (f == 8) data = abi.encodeCall(ILeverageGuard.setExecutionDelay, (0));
        else if (f == 9) data = abi.encodeCall(ILeverageGuard.addSigner, (caller));
        else if (f == 10) data = abi.encodeCall(ILeverageGuard.removeSigner, (gSigners[arg % gSigners.length]));
        else if (f == 11) data = abi.encodeCall(ILeverageGuard.setThreshold, (1));
        else if (f == 12) data = abi.encodeCall(ILeverageGuard.withdraw, (caller, 1 + arg % (g.balance + 1)));
        else if (f == 13) data = abi.encodeCall(ILeverageGuard.upgradeToAndCall, (v2Implementation, ""));
        else if (f == 14) data = abi.encodeCall(ILeverageGuard.unpause, (8));
        else if (f == 15) data = abi.encodeCall(ILeverageGuard.cancelApprovedClaim, (claimId, 0));
        else {
            data = f == 16
                ? abi.encodeCall(IAccessControl.grantRole, (GUARDIAN, caller))
                : abi.encodeCall(IAccessControl.revokeRole, (GUARDIAN, roleAccounts[0]));
            // roles are administered by DEFAULT_ADMIN_ROLE, which only the proxy holds
            expected = abi.encodeWithSelector(
                IAccessControl.AccessControlUnauthorizedAccount.selector, caller, ADMIN_ROLE
            );
        }
        vm.prank(caller);
        (bool ok, bytes memory reason) = address(guard).call(data);
        if (_classify("AUTH-1", "direct governance call", ok, reason, expected)) _count("auth1Refused");
    }

    /// @notice SOLV-2: a signer proposes a direct call of the pool asset, or a value above uint96.
    function proposeToToken(uint256 actorSeed, uint256 amount) external step {
        address caller = _signer(actorSeed);
        bool valueTooLarge = actorSeed % 4 == 0;
        address target = valueTooLarge ? address(guard) : address(token);
        uint256 value = valueTooLarge ? uint256(type(uint96).max) + 1 + amount % 1000 : 0;
        bytes memory data = abi.encodeCall(IERC20.transfer, (attacker, g.balance));
        bytes memory expected = valueTooLarge
            ? abi.encodeWithSelector(IMultisigGovernanceTypes.ValueTooLarge.selector, value, type(uint96).max)
            : abi.encodeWithSelector(IMultisigGovernanceTypes.InvalidProposalTarget.selector, target);
        bool ok;
        bytes memory reason;
        vm.prank(caller);
        try guard.propose(target, value, data) returns (uint256) {
            ok = true;
        } catch (bytes memory r) {
            reason = r;
        }
        if (_classify(valueTooLarge ? "MODEL-1" : "SOLV-2", "propose to the asset", ok, reason, expected)) {
            _count(valueTooLarge ? "valueTooLargeRefused" : "tokenTargetRefused");
        }
    }

    // ================================================================== predicted multisig calls

    function _propose(address caller, uint8 tag, uint256 argSeed) internal returns (bool ok, uint256 id) {
        uint256 nextId = gCount + 1;
        (Op[] memory ops, bool multicall, bool padded) = _buildPayload(tag, argSeed, nextId);
        bytes memory data = _encode(ops, multicall, padded);
        bytes memory expected;
        if (gEpoch[caller] == 0) expected = _err1(IMultisigGovernanceTypes.NotSigner.selector, caller);
        bytes memory reason;
        vm.prank(caller);
        try guard.propose(address(guard), 0, data) returns (uint256 newId) {
            ok = true;
            id = newId;
        } catch (bytes memory r) {
            reason = r;
        }
        if (!_classify("MODEL-1", "propose", ok, reason, expected)) return (false, 0);
        if (!ok) {
            _noteNotSigner(caller);
            return (false, 0);
        }
        if (id != nextId) _violate("MODEL-1", "proposal id");
        gCount = nextId;
        GhostProposal storage p = gp[nextId];
        p.proposer = caller;
        p.createdAt = block.timestamp;
        p.expiresAt = block.timestamp + g.lifetime;
        p.tag = tag;
        p.dataHash = keccak256(data);
        p.onlyRevokesGuardians = !padded && _onlyGuardianRevocations(ops);
        for (uint256 i = 0; i < ops.length; ++i) {
            gOps[nextId].push(ops[i]);
        }
        gConf[nextId][caller] = gEpoch[caller];
        _scheduleIfMet(nextId);
        lastTouched = nextId;
        _count("proposed");
    }

    function _confirm(address caller, uint256 id) internal {
        bytes memory expected = _signerAndOpen(caller, id);
        if (expected.length == 0 && gConf[id][caller] == gEpoch[caller]) {
            expected = abi.encodeWithSelector(IMultisigGovernanceTypes.AlreadyConfirmed.selector, id, caller);
        }
        bool ok;
        bytes memory reason;
        vm.prank(caller);
        try guard.confirm(id) {
            ok = true;
        } catch (bytes memory r) {
            reason = r;
        }
        if (!_classify("MS-3", "confirm", ok, reason, expected)) return;
        _touch(id);
        if (!ok) {
            _noteNotSigner(caller);
            return;
        }
        gConf[id][caller] = gEpoch[caller];
        _scheduleIfMet(id);
        _count("confirmed");
    }

    function _revokeConfirmation(address caller, uint256 id) internal {
        bytes memory expected = _signerAndOpen(caller, id);
        if (expected.length == 0 && gConf[id][caller] != gEpoch[caller]) {
            expected = abi.encodeWithSelector(IMultisigGovernanceTypes.NotConfirmed.selector, id, caller);
        }
        bool ok;
        bytes memory reason;
        vm.prank(caller);
        try guard.revokeConfirmation(id) {
            ok = true;
        } catch (bytes memory r) {
            reason = r;
        }
        if (!_classify("MS-3", "revokeConfirmation", ok, reason, expected)) return;
        _touch(id);
        if (!ok) {
            _noteNotSigner(caller);
            return;
        }
        delete gConf[id][caller];
        _count("confirmationRevoked");
    }

    function _schedule(address caller, uint256 id) internal {
        bytes memory expected = _signerAndOpen(caller, id);
        if (expected.length == 0) {
            if (gp[id].readyAt != 0) {
                expected = abi.encodeWithSelector(
                    IMultisigGovernanceTypes.ProposalAlreadyScheduled.selector, id, gp[id].readyAt
                );
            } else if (_live(id) < gThreshold) {
                expected = abi.encodeWithSelector(
                    IMultisigGovernanceTypes.ThresholdNotMet.selector, id, _live(id), gThreshold
                );
            }
        }
        bool ok;
        bytes memory reason;
        vm.prank(caller);
        try guard.schedule(id) {
            ok = true;
        } catch (bytes memory r) {
            reason = r;
        }
        if (!_classify("GOV-DELAY-1", "schedule", ok, reason, expected)) return;
        _touch(id);
        if (!ok) {
            _noteNotSigner(caller);
            return;
        }
        gp[id].readyAt = block.timestamp + g.delay;
        gp[id].scheduledAt = block.timestamp;
        _count("scheduledLate");
    }

    function _execute(address caller, uint256 id) internal {
        bytes memory expected = _signerAndOpen(caller, id);
        bool multisigPasses = false;
        if (expected.length == 0) {
            uint256 have = _live(id);
            uint256 readyAt = gp[id].readyAt;
            if (have < gThreshold) {
                expected =
                    abi.encodeWithSelector(IMultisigGovernanceTypes.ThresholdNotMet.selector, id, have, gThreshold);
            } else if (readyAt == 0 || block.timestamp < readyAt) {
                expected = abi.encodeWithSelector(IMultisigGovernanceTypes.ProposalNotReady.selector, id, readyAt);
            } else {
                multisigPasses = true;
            }
        }
        Governed memory next = g;
        if (multisigPasses) expected = _simulate(id, next);
        bool ok;
        bytes memory reason;
        vm.prank(caller);
        try guard.execute(id) {
            ok = true;
        } catch (bytes memory r) {
            reason = r;
        }
        if (ok && !multisigPasses) {
            // the properties the multisig layer must never break, named
            GhostProposal storage q = gp[id];
            if (q.executed) _violate("MS-2", "proposal executed twice");
            if (q.cancelled || (id > 0 && id <= gCount && block.timestamp >= q.expiresAt)) {
                _violate("MS-4", "cancelled or expired proposal executed");
            }
            if (q.readyAt == 0 || block.timestamp < q.readyAt) _violate("MS-5", "executed before readyAt");
            if (_live(id) < gThreshold) _violate("MS-3", "executed without threshold of current signers");
        }
        uint8 tag = id > baseProposalCount && id <= gCount ? gp[id].tag : 0;
        if (!_classify(_propertyOf(tag, multisigPasses), "execute", ok, reason, expected)) return;
        _touch(id);
        bool isRaid = tag == P_RAID || tag == P_DRAIN || (tag == P_UPGRADE && _isRaid(id));
        if (!ok) {
            _noteNotSigner(caller);
            if (multisigPasses) {
                // a failed call leaves the proposal open (MS-2)
                _count("innerRevertLeftOpen");
                if (isRaid) _count("raidFailedAfterDelay");
                if (tag == P_EXECUTE_PROPOSAL || tag == P_CONFIRM_PROPOSAL) _count("risk2Refused");
                if (tag == P_GRANT_ADMIN || tag == P_REVOKE_ADMIN) _count("adminRoleReserved");
                if (tag == P_CANCEL_PROPOSAL) _count("selfOrDeadCancelRefused");
            } else if (bytes4(reason) == IMultisigGovernanceTypes.ProposalNotReady.selector) {
                _count("executeNotReady");
                if (isRaid) _count("raidBlockedNotReady");
            } else if (bytes4(reason) == IMultisigGovernanceTypes.ThresholdNotMet.selector) {
                _count("executeThresholdNotMet");
            } else if (bytes4(reason) == IMultisigGovernanceTypes.ProposalExpired.selector) {
                _count("executeExpired");
            } else if (bytes4(reason) == IMultisigGovernanceTypes.ProposalAlreadyCancelled.selector) {
                _count("executeCancelled");
            } else if (bytes4(reason) == IMultisigGovernanceTypes.ProposalAlreadyExecuted.selector) {
                _count("executeTwice");
            }
            return;
        }
        GhostProposal storage p = gp[id];
        p.executed = true;
        p.executedAt = block.timestamp;
        effectAllowed = true;
        if (tag == P_UPGRADE) upgradeAllowed = true;
        g = next;
        _applySideEffects(id);
        _count("executed");
        if (p.readyAt > p.scheduledAt) _count("executedAfterDelay");
        if (block.timestamp == p.readyAt) _count("executedAtReadyAt");
        if (isRaid) _count("raidExecutedAfterDelay");
    }

    function _cancel(address caller, uint256 id) internal {
        bytes memory expected;
        bool guardianPath = false;
        if (id == 0 || id > gCount) {
            expected = _err1(IMultisigGovernanceTypes.UnknownProposal.selector, id);
        } else {
            GhostProposal storage p = gp[id];
            if (p.executed) {
                expected = _err1(IMultisigGovernanceTypes.ProposalAlreadyExecuted.selector, id);
            } else if (p.cancelled) {
                expected = _err1(IMultisigGovernanceTypes.ProposalAlreadyCancelled.selector, id);
            } else if (!(caller == p.proposer && gEpoch[caller] != 0)) {
                guardianPath = true;
                if (!_isGuardian(caller)) {
                    expected = abi.encodeWithSelector(IMultisigGovernanceTypes.NotProposer.selector, id, caller);
                } else if (p.readyAt == 0 || block.timestamp >= p.readyAt) {
                    expected = abi.encodeWithSelector(IMultisigGovernanceTypes.NotInDelay.selector, id, p.readyAt);
                } else if (p.onlyRevokesGuardians) {
                    expected = _err1(IMultisigGovernanceTypes.GuardianRemovalNotCancellable.selector, id);
                }
            }
        }
        bool ok;
        bytes memory reason;
        vm.prank(caller);
        try guard.cancel(id) {
            ok = true;
        } catch (bytes memory r) {
            reason = r;
        }
        if (ok && guardianPath && gp[id].onlyRevokesGuardians) {
            _violate("GOV-DELAY-3", "a guardian cancelled a guardian removal");
        }
        if (ok && guardianPath && (gp[id].readyAt == 0 || block.timestamp >= gp[id].readyAt)) {
            _violate("GOV-DELAY-1", "a guardian cancelled outside the delay");
        }
        if (!_classify("MODEL-1", "cancel", ok, reason, expected)) return;
        _touch(id);
        if (!ok) {
            bytes4 selector = bytes4(reason);
            if (selector == IMultisigGovernanceTypes.NotInDelay.selector && _isGuardian(caller)) {
                _count("guardianNotInDelay");
            }
            else if (selector == IMultisigGovernanceTypes.GuardianRemovalNotCancellable.selector) {
                _count("guardianRemovalNotCancellable");
            } else if (selector == IMultisigGovernanceTypes.NotProposer.selector) {
                if (wasSigner[caller] && gEpoch[caller] == 0) _count("removedSignerRefused");
                else _count("cancelNotProposer");
            }
            return;
        }
        gp[id].cancelled = true;
        if (guardianPath) {
            _count("guardianCancelInDelay");
            if (_isRaid(id)) _count("raidCancelledByGuardian");
        } else {
            _count("cancelledByProposer");
        }
    }

    // ================================================================== model internals

    /// @dev The raiders try every open raid of theirs still in its delay, after every step.
    function _raidersRetry() internal {
        uint256 tried = 0;
        for (uint256 i = raidIds.length; i > 0 && tried < 1; --i) {
            uint256 id = raidIds[i - 1];
            GhostProposal storage p = gp[id];
            if (p.executed || p.cancelled || p.readyAt == 0 || block.timestamp >= p.readyAt) continue;
            if (block.timestamp >= p.expiresAt) continue;
            ++tried;
            _execute(gSigners[id % gSigners.length], id);
        }
    }

    /// @dev Which property a wrong prediction of an execution's inner call breaks.
    function _propertyOf(uint8 tag, bool inner) internal pure returns (string memory) {
        if (!inner) return "MODEL-1";
        if (tag == P_EXECUTE_PROPOSAL || tag == P_CONFIRM_PROPOSAL) return "RISK-2";
        if (tag == P_GRANT_ADMIN || tag == P_REVOKE_ADMIN) return "ROLE-1";
        if (tag == P_ADD_SIGNER || tag == P_REMOVE_SIGNER || tag == P_THRESHOLD) return "MS-1";
        if (tag == P_UPGRADE) return "UPG-1";
        if (tag == P_WITHDRAW || tag == P_RAID || tag == P_DRAIN) return "SOLV-2";
        return "MODEL-1";
    }

    function _isRaid(uint256 id) internal view returns (bool) {
        for (uint256 i = raidIds.length; i > 0; --i) {
            if (raidIds[i - 1] == id) return true;
        }
        return false;
    }

    function _signerAndOpen(address caller, uint256 id) internal view returns (bytes memory) {
        if (gEpoch[caller] == 0) return _err1(IMultisigGovernanceTypes.NotSigner.selector, caller);
        return _openError(id);
    }

    function _openError(uint256 id) internal view returns (bytes memory) {
        if (id == 0 || id > gCount) return _err1(IMultisigGovernanceTypes.UnknownProposal.selector, id);
        GhostProposal storage p = gp[id];
        if (p.executed) return _err1(IMultisigGovernanceTypes.ProposalAlreadyExecuted.selector, id);
        if (p.cancelled) return _err1(IMultisigGovernanceTypes.ProposalAlreadyCancelled.selector, id);
        if (block.timestamp >= p.expiresAt) {
            return abi.encodeWithSelector(IMultisigGovernanceTypes.ProposalExpired.selector, id, p.expiresAt);
        }
        return "";
    }

    /// @notice Live confirmations in the model: current signers whose confirmation carries their current epoch.
    function _live(uint256 id) internal view returns (uint256 live) {
        for (uint256 i = 0; i < gSigners.length; ++i) {
            address s = gSigners[i];
            if (gConf[id][s] == gEpoch[s]) ++live;
        }
    }

    function _scheduleIfMet(uint256 id) internal {
        if (gp[id].readyAt == 0 && _live(id) >= gThreshold) {
            gp[id].readyAt = block.timestamp + g.delay;
            gp[id].scheduledAt = block.timestamp;
            _count("scheduled");
        }
    }

    /// @dev Runs the proposal's calls on a copy of the model; returns the revert data the first failing call
    /// gives (the multicall bubbles it), or nothing if all succeed. Signer-set and proposal calls are always
    /// alone in their proposal, so they are predicted against the model itself.
    function _simulate(uint256 id, Governed memory s) internal view returns (bytes memory) {
        Op[] storage ops = gOps[id];
        for (uint256 i = 0; i < ops.length; ++i) {
            bytes memory err = _simulateOp(ops[i], s, id);
            if (err.length != 0) return err;
        }
        return "";
    }

    function _simulateOp(Op memory op, Governed memory s, uint256 selfId) internal view returns (bytes memory) {
        K k = op.kind;
        uint256 x = op.num;
        if (k == K.WithdrawLimit) {
            s.withdrawLimit = x;
        } else if (k == K.PayoutLimit) {
            if (s.maxPayout > x) {
                return abi.encodeWithSelector(ILeverageGuardTypes.MaxPayoutAboveDailyPayoutLimit.selector, s.maxPayout, x);
            }
            s.payoutLimit = x;
        } else if (k == K.ApprovalLimit) {
            s.approvalLimit = x;
        } else if (k == K.MaxPayout) {
            if (x > s.payoutLimit) {
                return abi.encodeWithSelector(
                    ILeverageGuardTypes.MaxPayoutAboveDailyPayoutLimit.selector, x, s.payoutLimit
                );
            }
            s.maxPayout = x;
        } else if (k == K.MaxCoverage) {
            s.maxCoverage = x;
        } else if (k == K.Challenge) {
            if (x < MIN_CHALLENGE || x > MAX_CHALLENGE) {
                return abi.encodeWithSelector(
                    ILeverageGuardTypes.InvalidChallengePeriod.selector, x, MIN_CHALLENGE, MAX_CHALLENGE
                );
            }
            s.challenge = x;
        } else if (k == K.Grace) {
            if (x > MAX_GRACE) {
                return abi.encodeWithSelector(ILeverageGuardTypes.InvalidClaimGracePeriod.selector, x, MAX_GRACE);
            }
            s.grace = x;
        } else if (k == K.Lifetime) {
            uint256 min = MIN_LIFETIME + s.delay;
            if (x < min || x > MAX_LIFETIME) {
                return abi.encodeWithSelector(
                    IMultisigGovernanceTypes.InvalidProposalLifetime.selector, x, min, MAX_LIFETIME
                );
            }
            s.lifetime = x;
        } else if (k == K.Delay) {
            uint256 max = s.lifetime - MIN_LIFETIME;
            if (max > MAX_DELAY) max = MAX_DELAY;
            if (x > max) return abi.encodeWithSelector(IMultisigGovernanceTypes.InvalidExecutionDelay.selector, x, max);
            s.delay = x;
        } else if (k == K.Withdraw) {
            if (x == 0) return abi.encodeWithSelector(ILeverageGuardTypes.ZeroAmount.selector);
            uint256 free = s.balance > s.reserved ? s.balance - s.reserved : 0;
            if (x > free) return abi.encodeWithSelector(ILeverageGuardTypes.InsufficientFreeBalance.selector, x, free);
            uint256 today = block.timestamp / DAY;
            uint256 used = s.withdrawDay == today ? s.withdrawnInDay : 0;
            uint256 remaining = s.withdrawLimit > used ? s.withdrawLimit - used : 0;
            if (x > remaining) {
                return abi.encodeWithSelector(ILeverageGuardTypes.DailyLimitExceeded.selector, x, remaining);
            }
            s.withdrawDay = today;
            s.withdrawnInDay = used + x;
            s.balance -= x;
            s.attackerBalance += x;
        } else if (k == K.Grant || k == K.Revoke) {
            if (op.role == ADMIN_ROLE && (k == K.Revoke || op.account != address(guard))) {
                return abi.encodeWithSelector(ILeverageGuardTypes.AdminRoleReserved.selector, op.account);
            }
            if (op.role == GUARDIAN) {
                for (uint256 i = 0; i < ROLE_ACCOUNTS; ++i) {
                    if (roleAccounts[i] == op.account) s.guardianRole[i] = k == K.Grant;
                }
            }
        } else if (k == K.AddSigner) {
            if (gSigners.length >= MAX_SIGNERS) {
                return abi.encodeWithSelector(
                    IMultisigGovernanceTypes.TooManySigners.selector, MAX_SIGNERS + 1, MAX_SIGNERS
                );
            }
            if (op.account == address(0)) return abi.encodeWithSelector(IMultisigGovernanceTypes.ZeroAddress.selector);
            if (op.account == address(guard)) return _err1(IMultisigGovernanceTypes.InvalidSigner.selector, op.account);
            if (gEpoch[op.account] != 0) return _err1(IMultisigGovernanceTypes.AlreadySigner.selector, op.account);
        } else if (k == K.RemoveSigner) {
            if (gEpoch[op.account] == 0) return _err1(IMultisigGovernanceTypes.NotSigner.selector, op.account);
            if (gThreshold > gSigners.length - 1) {
                return abi.encodeWithSelector(
                    IMultisigGovernanceTypes.InvalidThreshold.selector, gThreshold, gSigners.length - 1
                );
            }
        } else if (k == K.Threshold) {
            if (x == 0 || x > gSigners.length) {
                return abi.encodeWithSelector(IMultisigGovernanceTypes.InvalidThreshold.selector, x, gSigners.length);
            }
        } else if (k == K.Veto) {
            uint8 status = x == claimId ? s.claimStatus : 0;
            if (status != uint8(ILeverageGuardTypes.ClaimStatus.Approved)) {
                return abi.encodeWithSelector(ILeverageGuardTypes.InvalidClaimStatus.selector, x, status);
            }
            if (block.timestamp >= claimPayableAt) {
                return abi.encodeWithSelector(ILeverageGuardTypes.ChallengePeriodOver.selector, x, claimPayableAt);
            }
            s.claimStatus = uint8(ILeverageGuardTypes.ClaimStatus.Rejected);
            s.reserved -= claimPayout;
        } else if (k == K.Upgrade) {
            if (op.account == nonUupsImplementation) {
                return _err1(ILeverageGuard.ERC1967InvalidImplementation.selector, op.account);
            }
            s.implementation = op.account;
        } else if (k == K.ExecuteProposal || k == K.ConfirmProposal) {
            // RISK-2: the contract is no signer
            return _err1(IMultisigGovernanceTypes.NotSigner.selector, address(guard));
        } else if (k == K.CancelProposal) {
            if (x == 0 || x > gCount) return _err1(IMultisigGovernanceTypes.UnknownProposal.selector, x);
            // the proposal being executed is already marked executed when its call runs
            if (gp[x].executed || x == selfId) return _err1(IMultisigGovernanceTypes.ProposalAlreadyExecuted.selector, x);
            if (gp[x].cancelled) return _err1(IMultisigGovernanceTypes.ProposalAlreadyCancelled.selector, x);
        }
        return "";
    }

    /// @dev Effects of a successful execution that live outside `Governed`: the signer set and proposals.
    function _applySideEffects(uint256 id) internal {
        Op[] storage ops = gOps[id];
        for (uint256 i = 0; i < ops.length; ++i) {
            Op storage op = ops[i];
            if (op.kind == K.AddSigner) {
                if (wasSigner[op.account]) _count("signerReAdded");
                gEpoch[op.account] = ++gLastEpoch;
                gSigners.push(op.account);
                wasSigner[op.account] = true;
                _count("signerAdded");
            } else if (op.kind == K.RemoveSigner) {
                _countStaleConfirmations(op.account);
                delete gEpoch[op.account];
                for (uint256 j = 0; j < gSigners.length; ++j) {
                    if (gSigners[j] == op.account) {
                        gSigners[j] = gSigners[gSigners.length - 1];
                        gSigners.pop();
                        break;
                    }
                }
                _count("signerRemoved");
            } else if (op.kind == K.Threshold) {
                if (op.num != gThreshold) _count("thresholdChanged");
                gThreshold = op.num;
            } else if (op.kind == K.CancelProposal) {
                gp[op.num].cancelled = true;
                _count("cancelledByGovernance");
            } else if (op.kind == K.Upgrade) {
                _count(op.account == v2Implementation ? "upgradedToV2" : "upgradedToV1");
            } else if (op.kind == K.Delay) {
                _count("delayChanged");
            } else if (op.kind == K.Withdraw) {
                _count("withdrawn");
            } else if (op.kind == K.Veto) {
                _count("vetoedByGovernance");
            } else if (op.kind == K.Revoke && op.role == GUARDIAN) {
                _count("guardianRevoked");
            }
        }
    }

    /// @dev A removed signer's confirmations of open proposals stop counting (MS-3).
    function _countStaleConfirmations(address removed) internal {
        for (uint256 id = gCount; id > baseProposalCount; --id) {
            GhostProposal storage p = gp[id];
            if (!p.executed && !p.cancelled && gConf[id][removed] == gEpoch[removed]) _count("staleConfirmationDropped");
        }
    }

    function _buildPayload(uint8 tag, uint256 a, uint256 selfId)
        internal
        view
        returns (Op[] memory ops, bool multicall, bool padded)
    {
        uint256 pick = a % 6;
        uint256 free = g.balance > g.reserved ? g.balance - g.reserved : 0;
        if (tag == P_RAID) {
            ops = new Op[](4);
            ops[0] = Op(K.Challenge, 30 days, address(0), 0);
            ops[1] = Op(K.Veto, claimId, address(0), 0);
            ops[2] = Op(K.WithdrawLimit, g.balance, address(0), 0);
            ops[3] = Op(K.Withdraw, g.balance, attacker, 0);
            return (ops, true, false);
        }
        if (tag == P_DRAIN) {
            ops = new Op[](2);
            ops[0] = Op(K.WithdrawLimit, type(uint96).max, address(0), 0);
            ops[1] = Op(K.Withdraw, free, attacker, 0);
            return (ops, true, false);
        }
        if (tag == P_MULTI_REVOKE_GUARDIANS) {
            ops = new Op[](2);
            ops[0] = Op(K.Revoke, 0, roleAccounts[a % ROLE_ACCOUNTS], GUARDIAN);
            ops[1] = Op(K.Revoke, 0, roleAccounts[(a / 3) % ROLE_ACCOUNTS], GUARDIAN);
            return (ops, true, false);
        }
        if (tag == P_MIXED_REVOKE) {
            ops = new Op[](2);
            ops[0] = Op(K.Revoke, 0, roleAccounts[0], GUARDIAN);
            ops[1] = Op(K.WithdrawLimit, 1, address(0), 0);
            return (ops, true, false);
        }
        ops = new Op[](1);
        if (tag == P_WITHDRAW_LIMIT) ops[0] = Op(K.WithdrawLimit, [uint256(0), 1_000, 20_000, 200_000, 1_000, 20_000][pick] * USDT, address(0), 0);
        else if (tag == P_PAYOUT_LIMIT) ops[0] = Op(K.PayoutLimit, [uint256(100), 5_000, 50_000, 1_000_000, 4_999, 50_000][pick] * USDT, address(0), 0);
        else if (tag == P_APPROVAL_LIMIT) ops[0] = Op(K.ApprovalLimit, [uint256(0), 1, 60_000, 1_000_000, 5_000, 60_000][pick] * USDT, address(0), 0);
        else if (tag == P_MAX_PAYOUT) ops[0] = Op(K.MaxPayout, [uint256(0), 1_000, 5_000, 50_000, 60_000, 5_000][pick] * USDT, address(0), 0);
        else if (tag == P_MAX_COVERAGE) ops[0] = Op(K.MaxCoverage, [uint256(0), 10, 50_000, 1_000_000, 50_000, 10_000][pick] * USDT, address(0), 0);
        else if (tag == P_CHALLENGE) ops[0] = Op(K.Challenge, [uint256(30 minutes), 1 hours, 3 days, 30 days, 30 days + 1, 1 hours - 1][pick], address(0), 0);
        else if (tag == P_GRACE) ops[0] = Op(K.Grace, [uint256(0), 7 days, 90 days, 90 days + 1, 1 days, 7 days][pick], address(0), 0);
        else if (tag == P_LIFETIME) ops[0] = Op(K.Lifetime, [uint256(1 hours), 2 days + 1 hours, 7 days, 30 days, 30 days + 1, 49 hours - 1][pick], address(0), 0);
        else if (tag == P_DELAY) ops[0] = Op(K.Delay, [uint256(0), 1 hours, 48 hours, 3 days, 30 days, 30 days + 1][pick], address(0), 0);
        else if (tag == P_WITHDRAW) ops[0] = Op(K.Withdraw, [uint256(1_000 * USDT), free, g.balance, 0, 30_000 * USDT, 1][pick], attacker, 0);
        else if (tag == P_GRANT_GUARDIAN) ops[0] = Op(K.Grant, 0, roleAccounts[a % ROLE_ACCOUNTS], GUARDIAN);
        else if (tag == P_REVOKE_GUARDIAN) ops[0] = Op(K.Revoke, 0, roleAccounts[a % ROLE_ACCOUNTS], GUARDIAN);
        else if (tag == P_GRANT_ADMIN) ops[0] = Op(K.Grant, 0, [roleAccounts[0], attacker, address(guard)][a % 3], ADMIN_ROLE);
        else if (tag == P_REVOKE_ADMIN) ops[0] = Op(K.Revoke, 0, a % 2 == 0 ? address(guard) : roleAccounts[0], ADMIN_ROLE);
        else if (tag == P_PADDED_REVOKE) ops[0] = Op(K.Revoke, 0, roleAccounts[a % ROLE_ACCOUNTS], GUARDIAN);
        else if (tag == P_ADD_SIGNER) ops[0] = Op(K.AddSigner, 0, pick < 5 ? _addCandidate(a) : (a % 12 < 6 ? address(0) : address(guard)), 0);
        else if (tag == P_REMOVE_SIGNER) ops[0] = Op(K.RemoveSigner, 0, a % 4 != 0 ? gSigners[a % gSigners.length] : candidates[a % CANDIDATES], 0);
        else if (tag == P_THRESHOLD) ops[0] = Op(K.Threshold, a % (gSigners.length + 2), address(0), 0);
        else if (tag == P_VETO) ops[0] = Op(K.Veto, pick == 5 ? claimId + 1 : claimId, address(0), 0);
        else if (tag == P_UPGRADE) ops[0] = Op(K.Upgrade, 0, [v2Implementation, v1Implementation, v2Implementation, v1Implementation, nonUupsImplementation, v2Implementation][pick], 0);
        else if (tag == P_EXECUTE_PROPOSAL) ops[0] = Op(K.ExecuteProposal, pick < 3 ? selfId : _anyId(a), address(0), 0);
        else if (tag == P_CONFIRM_PROPOSAL) ops[0] = Op(K.ConfirmProposal, pick < 3 ? selfId : _anyId(a), address(0), 0);
        else ops[0] = Op(K.CancelProposal, pick < 2 ? selfId : _anyId(a), address(0), 0);
        return (ops, false, tag == P_PADDED_REVOKE);
    }

    function _encode(Op[] memory ops, bool multicall, bool padded) internal view returns (bytes memory) {
        if (!multicall) {
            bytes memory one = _encodeOp(ops[0]);
            // a trailing byte: still a valid revokeRole call, but not the 68-byte shape the guardian may not cancel
            return padded ? bytes.concat(one, hex"00") : one;
        }
        bytes[] memory calls = new bytes[](ops.length);
        for (uint256 i = 0; i < ops.length; ++i) {
            calls[i] = _encodeOp(ops[i]);
        }
        return abi.encodeCall(ILeverageGuard.multicall, (calls));
    }

    function _encodeOp(Op memory op) internal pure returns (bytes memory) {
        K k = op.kind;
        uint256 x = op.num;
        if (k == K.WithdrawLimit) return abi.encodeCall(ILeverageGuard.setDailyWithdrawalLimit, (x));
        if (k == K.PayoutLimit) return abi.encodeCall(ILeverageGuard.setDailyPayoutLimit, (x));
        if (k == K.ApprovalLimit) return abi.encodeCall(ILeverageGuard.setDailyApprovalLimit, (x));
        if (k == K.MaxPayout) return abi.encodeCall(ILeverageGuard.setMaxPayoutPerClaim, (x));
        if (k == K.MaxCoverage) return abi.encodeCall(ILeverageGuard.setMaxCoverageLimit, (x));
        if (k == K.Challenge) return abi.encodeCall(ILeverageGuard.setChallengePeriod, (x));
        if (k == K.Grace) return abi.encodeCall(ILeverageGuard.setClaimGracePeriod, (x));
        if (k == K.Lifetime) return abi.encodeCall(ILeverageGuard.setProposalLifetime, (x));
        if (k == K.Delay) return abi.encodeCall(ILeverageGuard.setExecutionDelay, (x));
        if (k == K.Withdraw) return abi.encodeCall(ILeverageGuard.withdraw, (op.account, x));
        if (k == K.Grant) return abi.encodeCall(IAccessControl.grantRole, (op.role, op.account));
        if (k == K.Revoke) return abi.encodeCall(IAccessControl.revokeRole, (op.role, op.account));
        if (k == K.AddSigner) return abi.encodeCall(ILeverageGuard.addSigner, (op.account));
        if (k == K.RemoveSigner) return abi.encodeCall(ILeverageGuard.removeSigner, (op.account));
        if (k == K.Threshold) return abi.encodeCall(ILeverageGuard.setThreshold, (x));
        if (k == K.Veto) return abi.encodeCall(ILeverageGuard.vetoClaim, (x, 0));
        if (k == K.Upgrade) return abi.encodeCall(ILeverageGuard.upgradeToAndCall, (op.account, ""));
        if (k == K.ExecuteProposal) return abi.encodeCall(ILeverageGuard.execute, (x));
        if (k == K.ConfirmProposal) return abi.encodeCall(ILeverageGuard.confirm, (x));
        return abi.encodeCall(ILeverageGuard.cancel, (x));
    }

    function _onlyGuardianRevocations(Op[] memory ops) internal pure returns (bool) {
        for (uint256 i = 0; i < ops.length; ++i) {
            if (ops[i].kind != K.Revoke || ops[i].role != GUARDIAN) return false;
        }
        return true;
    }

    function _isGuardian(address account) internal view returns (bool) {
        for (uint256 i = 0; i < ROLE_ACCOUNTS; ++i) {
            if (roleAccounts[i] == account) return g.guardianRole[i];
        }
        return false;
    }

    // ================================================================== chain vs model

    bytes32 internal constant POOL_SLOT = 0x61e2c9bfc8811b94d687f6922bc0de4c1384e9a7327cf9c6f33a1843fa9e8800;
    bytes32 internal constant MULTISIG_SLOT = 0xc8b7dc1ab75e1d1703093dbde91762021ae683d2bca77d5b9f0aba44c1b00000;
    bytes32 internal constant ACCESS_SLOT = 0x02dd7bc7dec4dceedda775e58dd541e08a116c6c53815c0bd028192f7b626800;

    function _roleSlot(bytes32 role, address account) internal pure returns (bytes32) {
        return keccak256(abi.encode(account, keccak256(abi.encode(role, ACCESS_SLOT))));
    }

    /// @dev Hash of the raw storage words holding every governed value: pool parameters and totals, daily
    /// withdrawal counter, the raid target claim, threshold/lifetime/delay/epochs, the signer list, the
    /// guardian and admin roles of the known accounts, the pool's and the attacker's token balances and the
    /// implementation. Proposals (count, confirmations) are not governed values and are left out.
    function _rawGovernedHash() internal view returns (bytes32) {
        bytes32 claimSlot = keccak256(abi.encode(claimId, uint256(POOL_SLOT) + 6));
        uint256 signerCount = uint256(vm.load(address(guard), MULTISIG_SLOT));
        bytes32[] memory words = new bytes32[](17 + signerCount);
        words[0] = vm.load(address(guard), POOL_SLOT);
        words[1] = vm.load(address(guard), bytes32(uint256(POOL_SLOT) + 1));
        words[2] = vm.load(address(guard), bytes32(uint256(POOL_SLOT) + 2));
        words[3] = vm.load(address(guard), bytes32(uint256(POOL_SLOT) + 3));
        words[4] = vm.load(address(guard), bytes32(uint256(POOL_SLOT) + 8));
        words[5] = vm.load(address(guard), bytes32(uint256(POOL_SLOT) + 9));
        words[6] = vm.load(address(guard), claimSlot);
        words[7] = vm.load(address(guard), bytes32(uint256(claimSlot) + 1));
        words[8] = vm.load(address(guard), bytes32(uint256(MULTISIG_SLOT) + 2));
        words[9] = vm.load(address(guard), _roleSlot(GUARDIAN, roleAccounts[0]));
        words[10] = vm.load(address(guard), _roleSlot(GUARDIAN, roleAccounts[1]));
        words[11] = vm.load(address(guard), _roleSlot(GUARDIAN, roleAccounts[2]));
        words[12] = vm.load(address(guard), _roleSlot(ADMIN_ROLE, address(guard)));
        words[13] = vm.load(address(guard), _roleSlot(ADMIN_ROLE, attacker));
        words[14] = vm.load(address(token), keccak256(abi.encode(address(guard), uint256(0))));
        words[15] = vm.load(address(token), keccak256(abi.encode(attacker, uint256(0))));
        words[16] = vm.load(address(guard), IMPLEMENTATION_SLOT);
        uint256 elements = uint256(keccak256(abi.encode(MULTISIG_SLOT)));
        for (uint256 i = 0; i < signerCount; ++i) {
            words[17 + i] = vm.load(address(guard), bytes32(elements + i));
        }
        return keccak256(abi.encode(signerCount, words));
    }

    /// @notice "" if every governed value read through the views equals the model, else the first that differs.
    function modelMismatch() external view returns (string memory) {
        if (_chainHash() == _ghostHash() && guard.proposalCount() == gCount) return "";
        return _diff();
    }

    function _implementation() internal view returns (address) {
        return address(uint160(uint256(vm.load(address(guard), IMPLEMENTATION_SLOT))));
    }

    function _chainHash() internal view returns (bytes32) {
        uint256[15] memory v;
        v[0] = guard.dailyWithdrawalLimit();
        v[1] = guard.dailyPayoutLimit();
        v[2] = guard.dailyApprovalLimit();
        v[3] = guard.maxPayoutPerClaim();
        v[4] = guard.maxCoverageLimit();
        v[5] = guard.challengePeriod();
        v[6] = guard.claimGracePeriod();
        v[7] = guard.proposalLifetime();
        v[8] = guard.executionDelay();
        v[9] = token.balanceOf(address(guard));
        v[10] = guard.reservedAmount();
        v[11] = token.balanceOf(attacker);
        v[12] = uint8(guard.getClaim(claimId).status);
        v[13] = uint160(_implementation());
        v[14] = guard.threshold();
        bool[3] memory roles;
        for (uint256 i = 0; i < ROLE_ACCOUNTS; ++i) {
            roles[i] = guard.hasRole(GUARDIAN, roleAccounts[i]);
        }
        return keccak256(abi.encode(v, roles, guard.getSigners()));
    }

    function _ghostHash() internal view returns (bytes32) {
        uint256[15] memory v;
        v[0] = g.withdrawLimit;
        v[1] = g.payoutLimit;
        v[2] = g.approvalLimit;
        v[3] = g.maxPayout;
        v[4] = g.maxCoverage;
        v[5] = g.challenge;
        v[6] = g.grace;
        v[7] = g.lifetime;
        v[8] = g.delay;
        v[9] = g.balance;
        v[10] = g.reserved;
        v[11] = g.attackerBalance;
        v[12] = g.claimStatus;
        v[13] = uint160(g.implementation);
        v[14] = gThreshold;
        bool[3] memory roles = g.guardianRole;
        return keccak256(abi.encode(v, roles, gSigners));
    }

    /// @dev Names the first governed value where chain and model differ (for the failure message).
    function _diff() internal view returns (string memory) {
        if (guard.dailyWithdrawalLimit() != g.withdrawLimit) return "dailyWithdrawalLimit";
        if (guard.dailyPayoutLimit() != g.payoutLimit) return "dailyPayoutLimit";
        if (guard.dailyApprovalLimit() != g.approvalLimit) return "dailyApprovalLimit";
        if (guard.maxPayoutPerClaim() != g.maxPayout) return "maxPayoutPerClaim";
        if (guard.maxCoverageLimit() != g.maxCoverage) return "maxCoverageLimit";
        if (guard.challengePeriod() != g.challenge) return "challengePeriod";
        if (guard.claimGracePeriod() != g.grace) return "claimGracePeriod";
        if (guard.proposalLifetime() != g.lifetime) return "proposalLifetime";
        if (guard.executionDelay() != g.delay) return "executionDelay";
        if (token.balanceOf(address(guard)) != g.balance) return "pool balance";
        if (guard.reservedAmount() != g.reserved) return "reservedAmount";
        if (token.balanceOf(attacker) != g.attackerBalance) return "attacker balance";
        if (uint8(guard.getClaim(claimId).status) != g.claimStatus) return "claim status";
        if (_implementation() != g.implementation) return "implementation";
        for (uint256 i = 0; i < ROLE_ACCOUNTS; ++i) {
            if (guard.hasRole(GUARDIAN, roleAccounts[i]) != g.guardianRole[i]) return "guardian role";
        }
        if (guard.threshold() != gThreshold) return "threshold";
        if (keccak256(abi.encode(guard.getSigners())) != keccak256(abi.encode(gSigners))) return "signers";
        if (guard.proposalCount() != gCount) return "proposalCount";
        return "(only the previous snapshot)";
    }

    // ================================================================== helpers

    /// @dev Compares an outcome with the prediction (`expected` empty = success); true if they agree.
    function _classify(string memory id, string memory what, bool ok, bytes memory reason, bytes memory expected)
        internal
        returns (bool)
    {
        if (expected.length == 0) {
            if (ok) return true;
            _violate(id, string.concat(what, ": unexpected revert ", vm.toString(reason)));
            return false;
        }
        if (ok) {
            _violate(id, string.concat(what, ": unexpected success, expected ", vm.toString(expected)));
            return false;
        }
        if (keccak256(reason) != keccak256(expected)) {
            _violate(id, string.concat(what, ": revert ", vm.toString(reason), " expected ", vm.toString(expected)));
            return false;
        }
        return true;
    }

    function _violate(string memory id, string memory detail) internal {
        ++violations;
        ++violationsOf[keccak256(bytes(id))];
        if (bytes(firstViolation).length == 0) {
            firstViolation = string.concat(id, " at t=", vm.toString(block.timestamp), ": ", detail);
        }
    }

    function _count(string memory name) internal {
        ++outcome[keccak256(bytes(name))];
    }

    function _noteNotSigner(address caller) internal {
        if (gEpoch[caller] == 0) {
            _count("notSignerRefused");
            if (wasSigner[caller]) _count("removedSignerRefused");
        }
    }

    function _touch(uint256 id) internal {
        if (id > baseProposalCount && id <= gCount) lastTouched = id;
    }

    function _err1(bytes4 selector, uint256 arg) internal pure returns (bytes memory) {
        return abi.encodeWithSelector(selector, arg);
    }

    function _err1(bytes4 selector, address arg) internal pure returns (bytes memory) {
        return abi.encodeWithSelector(selector, arg);
    }

    function _signer(uint256 seed) internal view returns (address) {
        return gSigners[seed % gSigners.length];
    }

    /// @dev A candidate that is not a signer now (a removed signer if there is one), else a stranger.
    function _nonSigner(uint256 seed) internal view returns (address) {
        for (uint256 i = 0; i < CANDIDATES; ++i) {
            address c = candidates[(seed % CANDIDATES + i) % CANDIDATES];
            if (gEpoch[c] == 0 && (wasSigner[c] || i >= CANDIDATES / 2)) return c;
        }
        return stranger;
    }

    /// @dev Mostly one of the 8 latest proposals; sometimes an unknown id or one made in setUp.
    function _pickId(uint256 seed) internal view returns (uint256) {
        uint256 r = seed % 16;
        if (r == 0) return gCount + 1;
        if (r == 1) return seed % 2 == 0 || baseProposalCount == 0 ? 0 : 1 + (seed / 16) % baseProposalCount;
        uint256 fresh = gCount - baseProposalCount;
        if (fresh == 0) return gCount + 1;
        uint256 window = fresh < 8 ? fresh : 8;
        return gCount - (seed / 16) % window;
    }

    /// @dev Mostly a removed signer (to re-add it: its old confirmations must not come back), else any candidate.
    function _addCandidate(uint256 seed) internal view returns (address) {
        if (seed % 3 != 0) {
            for (uint256 i = 0; i < CANDIDATES; ++i) {
                address c = candidates[(seed % CANDIDATES + i) % CANDIDATES];
                if (wasSigner[c] && gEpoch[c] == 0) return c;
            }
        }
        return candidates[seed % CANDIDATES];
    }

    function _anyId(uint256 seed) internal view returns (uint256) {
        if (gCount == baseProposalCount) return gCount + 1;
        return baseProposalCount + 1 + (seed / 7) % (gCount - baseProposalCount);
    }

    // ================================================================== views for the invariants

    function count(string memory name) external view returns (uint256) {
        return outcome[keccak256(bytes(name))];
    }

    function violationsFor(string memory id) external view returns (uint256) {
        return violationsOf[keccak256(bytes(id))];
    }

    function ghostSigners() external view returns (address[] memory) {
        return gSigners;
    }

    function ghostProposal(uint256 id) external view returns (GhostProposal memory) {
        return gp[id];
    }

    function ghostLive(uint256 id) external view returns (uint256) {
        return _live(id);
    }

    function ghostHasConfirmed(uint256 id, address signer) external view returns (bool) {
        return gEpoch[signer] != 0 && gConf[id][signer] == gEpoch[signer];
    }

    function ghostGoverned() external view returns (Governed memory) {
        return g;
    }

    function candidate(uint256 i) external view returns (address) {
        return candidates[i];
    }

    function roleAccount(uint256 i) external view returns (address) {
        return roleAccounts[i];
    }

    function candidateCount() external pure returns (uint256) {
        return CANDIDATES;
    }

    function roleAccountCount() external pure returns (uint256) {
        return ROLE_ACCOUNTS;
    }
}

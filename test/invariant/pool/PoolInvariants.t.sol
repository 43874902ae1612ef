// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {StdInvariant} from "forge-std/StdInvariant.sol";
import {console2} from "forge-std/console2.sol";

import {GuardFixture} from "../../utils/GuardFixture.sol";
import {MockStablecoin} from "../../mocks/MockStablecoin.sol";
import {ILeverageGuardTypes as T} from "../../../contracts/interfaces/ILeverageGuardTypes.sol";
import {PoolHandler, poolRef} from "./PoolHandler.sol";

/// @title PoolInvariantsBase
/// @notice The pool-side invariant campaign of LeverageGuard 1.1: a proxied pool configured as the Python
/// fixtures (plus a 48 h execution delay, so governance always waits), five policyholders and a ref thief,
/// driven by PoolHandler. One `invariant_*` per pool-side property of PROPERTIES.md; EXIT-1 in afterInvariant.
/// @dev Claim-level invariants read the handler's snapshot of the claims, taken from the chain right after
/// the last call (nothing changes the chain between the call and the invariant check); policy-, balance- and
/// parameter-level invariants read the chain directly.
abstract contract PoolInvariantsBase is StdInvariant, GuardFixture {
    /// @dev Non-zero, so every governance call of the campaign waits it out; 6 h rather than 48 h so that a
    /// 200-call run is not dominated by governance's clock (each governance action warps to its readyAt).
    uint256 internal constant EXECUTION_DELAY = 6 hours;
    uint256 internal constant ACTORS = 6;

    PoolHandler internal handler;
    address[ACTORS] internal actors;

    /// @dev The pool asset: MockStablecoin here, the re-entering token in ReentrantPoolInvariants.
    function _newAsset() internal virtual returns (MockStablecoin) {
        return new MockStablecoin();
    }

    function setUp() public virtual {
        MockStablecoin asset_ = _newAsset();
        _deployPool(address(asset_));
        _configure();
        _govern(abi.encodeCall(guard.setExecutionDelay, (EXECUTION_DELAY)));
        _fund(POOL_FUNDS);
        _afterDeploy();
        for (uint256 i = 0; i < ACTORS; ++i) {
            actors[i] = makeAddr(string.concat("actor", vm.toString(i)));
        }
        for (uint256 i = 0; i < 5; ++i) {
            _whitelist(actors[i], poolRef(i, 0), COVERAGE_LIMIT, 30 days);
        }
        handler = new PoolHandler(
            guard, token, signers, actors, guardian, validator, registrar, sponsor, _isReentrant()
        );
        targetContract(address(handler));
        bytes4[] memory selectors = new bytes4[](28);
        uint256 n;
        selectors[n++] = PoolHandler.deposit.selector;
        selectors[n++] = PoolHandler.deposit.selector;
        selectors[n++] = PoolHandler.withdraw.selector;
        selectors[n++] = PoolHandler.addToWhitelist.selector;
        selectors[n++] = PoolHandler.extendCoverage.selector;
        selectors[n++] = PoolHandler.removeFromWhitelist.selector;
        selectors[n++] = PoolHandler.addToBlacklist.selector;
        selectors[n++] = PoolHandler.removeFromBlacklist.selector;
        selectors[n++] = PoolHandler.submitClaim.selector;
        selectors[n++] = PoolHandler.submitClaim.selector;
        selectors[n++] = PoolHandler.squatThenFile.selector;
        selectors[n++] = PoolHandler.postVerification.selector;
        selectors[n++] = PoolHandler.rogueApprove.selector;
        selectors[n++] = PoolHandler.postVerifications.selector;
        selectors[n++] = PoolHandler.vetoClaim.selector;
        selectors[n++] = PoolHandler.vetoAll.selector;
        selectors[n++] = PoolHandler.pause.selector;
        selectors[n++] = PoolHandler.unpause.selector;
        selectors[n++] = PoolHandler.cancelApprovedClaim.selector;
        selectors[n++] = PoolHandler.reopenClaim.selector;
        selectors[n++] = PoolHandler.executePayout.selector;
        selectors[n++] = PoolHandler.executePayouts.selector;
        selectors[n++] = PoolHandler.executePayoutsWithRefusedRecipient.selector;
        selectors[n++] = PoolHandler.setTokenBlocked.selector;
        selectors[n++] = PoolHandler.setParameter.selector;
        selectors[n++] = PoolHandler.warp.selector;
        selectors[n++] = PoolHandler.warpToMidnight.selector;
        selectors[n++] = PoolHandler.warpPastWindows.selector;
        bytes4[] memory rare = new bytes4[](2);
        rare[0] = PoolHandler.proposeToAsset.selector;
        rare[1] = PoolHandler.touchAdminRole.selector;
        targetSelector(FuzzSelector({addr: address(handler), selectors: _concat(selectors, rare)}));
    }

    function _afterDeploy() internal virtual {}

    function _isReentrant() internal pure virtual returns (bool) {
        return false;
    }

    // ================================================================== the campaign

    /// @notice The pool-side properties, checked together in one campaign (forge runs one campaign per
    /// invariant_ function; twenty campaigns would not fit the time budget): SOLV-1, SOLV-2, ACCT-1, ACCT-2,
    /// ACCT-3, POL-1, POL-2, POL-3, CLAIM-1, CLAIM-2, CLAIM-3 (+ CLAIM-5 stamps), CLAIM-4, CLAIM-4 squatting,
    /// CLAIM-6 refused recipient, LIM-1, LIM-2, LIM-4, LIM-5, PAUSE-1, ROLE-1, MODEL-1 (every outcome as
    /// predicted) and, on the re-entering token, RISK-1. Each check is one function below named after its ID;
    /// each assertion message starts with the ID. Every violation the handler sees is kept in a counter, so
    /// checking every 10th call (FOUNDRY_INVARIANT_CHECK_INTERVAL=10, see the report) loses none of them.
    function invariant_pool_properties() public view {
        // read once and shared: every external read costs campaign time
        PoolHandler.ClaimSnapshot memory c = handler.snapshot();
        PoolHandler.Ghosts memory g = handler.ghosts();
        T.PolicyView[ACTORS] memory policies;
        for (uint256 i = 0; i < ACTORS; ++i) {
            policies[i] = guard.getPolicy(actors[i]);
        }
        uint256 balance = token.balanceOf(address(guard));
        uint256 reserved = guard.reservedAmount();
        _SOLV_1__balance_covers_reserved(balance, reserved);
        _SOLV_2__asset_moves_only_through_pool_paths(g);
        _ACCT_1__balance_is_deposits_minus_withdrawals_minus_payouts(balance, c, g);
        _ACCT_2__free_balance_is_assets_minus_reserved(balance, reserved);
        _ACCT_3__reserved_and_used_match_claims(reserved, c, policies);
        _POL_1__used_within_coverage_limit(policies);
        _POL_2__account_ref_bound_to_one_trader(policies);
        _POL_3__coverage_capped_and_renewed_in_place(policies, g);
        _CLAIM_1__status_moves_forward_only(g);
        _CLAIM_2__no_claim_paid_twice(c);
        _CLAIM_3__payout_within_caps_at_approval(c, g);
        _CLAIM_4__order_key_maps_to_first_claim(g, false);
        _CLAIM_4__squatting__legitimate_claim_always_fileable(g);
        _CLAIM_6__no_failed_transfer_blocks_another_claim(g);
        _LIM_1__withdrawals_within_daily_limit(g);
        _LIM_2__payouts_within_daily_limit(g);
        _LIM_4__approvals_within_daily_approval_limit(g);
        _LIM_5__max_payout_within_daily_payout_limit();
        _PAUSE_1__paused_operations_revert_with_their_bit(g);
        _ROLE_1__default_admin_held_by_proxy_only();
        _MODEL_1__every_outcome_as_predicted(g);
        _extraChecks();
    }

    function _extraChecks() internal view virtual {}

    // ================================================================== valid states

    /// @notice SOLV-1: the pool's token balance covers every reservation, and totalAssets() is that balance.
    function _SOLV_1__balance_covers_reserved(uint256 balance, uint256 reserved) internal view {
        assertGe(balance, reserved, "SOLV-1: balance < reserved");
        assertEq(guard.totalAssets(), balance, "SOLV-1: totalAssets != balance");
    }

    /// @notice SOLV-2: the pool asset moves only through deposit, withdraw and payouts: the treasury (the only
    /// withdrawal recipient) holds exactly the ghost sum of successful withdrawals (with ACCT-1's conservation,
    /// nothing else moved the asset), and a proposal targeting the asset is refused with
    /// InvalidProposalTarget(asset) (the handler's proposeToAsset, counted by MODEL-1).
    function _SOLV_2__asset_moves_only_through_pool_paths(PoolHandler.Ghosts memory g) internal view {
        assertEq(token.balanceOf(handler.treasury()), g.withdrawals, "SOLV-2: treasury != sum of withdrawals");
    }

    /// @notice ACCT-1: balance == Σ deposits − Σ withdrawals − Σ payouts (ghost sums of successful calls); each
    /// trader's token balance == the sum of their Paid claims; every operation moved balances by its amount.
    function _ACCT_1__balance_is_deposits_minus_withdrawals_minus_payouts(
        uint256 balance,
        PoolHandler.ClaimSnapshot memory c,
        PoolHandler.Ghosts memory g
    ) internal view {
        assertEq(balance, g.deposits - g.withdrawals - g.payouts, "ACCT-1: conservation");
        for (uint256 i = 0; i < ACTORS; ++i) {
            uint256 paid;
            for (uint256 id = 1; id < c.status.length; ++id) {
                if (c.user[id] == actors[i] && c.status[id] == uint8(T.ClaimStatus.Paid)) paid += c.payout[id];
            }
            assertEq(token.balanceOf(actors[i]), paid, "ACCT-1: trader balance != sum of Paid claims");
            assertEq(g.paidTo[i], paid, "ACCT-1: ghost paid-to");
        }
        assertEq(g.balanceViolations, 0, "ACCT-1: an operation moved balances otherwise");
    }

    /// @notice ACCT-2: freeBalance() == totalAssets() − reservedAmount().
    function _ACCT_2__free_balance_is_assets_minus_reserved(uint256 balance, uint256 reserved) internal view {
        assertEq(guard.freeBalance(), balance - reserved, "ACCT-2");
    }

    /// @notice ACCT-3: reservedAmount() == Σ payout of Approved claims; each policy's `used` == Σ payout of its
    /// trader's Approved and Paid claims.
    function _ACCT_3__reserved_and_used_match_claims(
        uint256 reserved,
        PoolHandler.ClaimSnapshot memory c,
        T.PolicyView[ACTORS] memory policies
    ) internal view {
        uint256 sum;
        uint256[ACTORS] memory used;
        for (uint256 id = 1; id < c.status.length; ++id) {
            bool approved = c.status[id] == uint8(T.ClaimStatus.Approved);
            if (approved) sum += c.payout[id];
            if (approved || c.status[id] == uint8(T.ClaimStatus.Paid)) {
                for (uint256 i = 0; i < ACTORS; ++i) {
                    if (c.user[id] == actors[i]) used[i] += c.payout[id];
                }
            }
        }
        assertEq(reserved, sum, "ACCT-3: reserved != sum of Approved payouts");
        for (uint256 i = 0; i < ACTORS; ++i) {
            assertEq(policies[i].used, used[i], "ACCT-3: used != sum of Approved+Paid payouts");
        }
    }

    /// @notice POL-1: every policy's `used` <= its coverageLimit.
    function _POL_1__used_within_coverage_limit(T.PolicyView[ACTORS] memory policies) internal pure {
        for (uint256 i = 0; i < ACTORS; ++i) {
            assertLe(policies[i].used, policies[i].coverageLimit, "POL-1: used > coverageLimit");
        }
    }

    /// @notice POL-2: an accountRef is bound to one trader at a time: every policy's ref is held by its trader
    /// and no two traders carry the same ref (the ref thief's AccountRefInUse outcomes are predicted exactly).
    function _POL_2__account_ref_bound_to_one_trader(T.PolicyView[ACTORS] memory policies) internal view {
        for (uint256 i = 0; i < ACTORS; ++i) {
            bytes32 ref = policies[i].accountRef;
            if (ref == bytes32(0)) continue;
            assertEq(guard.accountRefHolder(ref), actors[i], "POL-2: ref not held by its policy's trader");
            for (uint256 j = i + 1; j < ACTORS; ++j) {
                assertTrue(policies[j].accountRef != ref, "POL-2: two traders share a ref");
            }
        }
    }

    /// @notice POL-3: each coverage limit <= maxCoverageLimit in force when it was set; coverageStart is the time
    /// of the last addToWhitelist (extendCoverage keeps it and `used`; removeFromWhitelist ends coverage now).
    function _POL_3__coverage_capped_and_renewed_in_place(
        T.PolicyView[ACTORS] memory policies,
        PoolHandler.Ghosts memory g
    ) internal pure {
        for (uint256 i = 0; i < ACTORS; ++i) {
            assertLe(policies[i].coverageLimit, g.limitCapAtSet[i], "POL-3: limit above max at set");
            assertEq(policies[i].coverageStart, g.coverageStartSet[i], "POL-3: coverageStart moved");
        }
        assertEq(g.policyViolations, 0, "POL-3: a registry call changed more than it may");
    }

    // ================================================================== state transitions

    /// @notice CLAIM-1: statuses only move None→Pending→{Approved,Rejected}, Approved→{Rejected,Paid}, and
    /// Rejected→Pending only by reopenClaim; Paid is final; claims never disappear.
    function _CLAIM_1__status_moves_forward_only(PoolHandler.Ghosts memory g) internal view {
        if (g.badTransitions != 0) assertTrue(false, string.concat("CLAIM-1: ", handler.lastTransition()));
    }

    /// @notice CLAIM-2: no claim is paid twice: at most one PayoutExecuted per claim (also when listed twice in a
    /// batch), and exactly the Paid claims have one.
    function _CLAIM_2__no_claim_paid_twice(PoolHandler.ClaimSnapshot memory c) internal pure {
        for (uint256 id = 1; id < c.status.length; ++id) {
            assertLe(c.events[id], 1, "CLAIM-2: paid twice");
            assertEq(c.events[id] == 1, c.status[id] == uint8(T.ClaimStatus.Paid), "CLAIM-2: Paid != one event");
        }
    }

    /// @notice CLAIM-3: an Approved/Paid claim carries the payout it was approved for, 0 < payout <=
    /// min(claimedLoss, remaining coverage, maxPayoutPerClaim) at approval; Pending and Rejected carry none.
    /// CLAIM-5: each approval stamped payableAt = decidedAt + the challenge period then in force.
    function _CLAIM_3__payout_within_caps_at_approval(PoolHandler.ClaimSnapshot memory c, PoolHandler.Ghosts memory g)
        internal
        pure
    {
        for (uint256 id = 1; id < c.status.length; ++id) {
            if (c.status[id] == uint8(T.ClaimStatus.Approved) || c.status[id] == uint8(T.ClaimStatus.Paid)) {
                assertGt(c.payout[id], 0, "CLAIM-3: zero payout");
                assertEq(c.payout[id], c.approvedPayout[id], "CLAIM-3: payout != approved payout");
                assertLe(c.payout[id], c.capAtApproval[id], "CLAIM-3: payout above the caps at approval");
            } else {
                assertEq(c.payout[id], 0, "CLAIM-3: payout on a Pending/Rejected claim");
            }
        }
        assertEq(g.stampViolations, 0, "CLAIM-5: payableAt != decidedAt + challenge period");
    }

    /// @notice CLAIM-4: every filed (exchange, accountRef, instrument, orderId) maps to the claim that first used
    /// it, whatever happened to that claim since. After a call: the newest key and a rotating one (the handler
    /// also predicts each DuplicateClaim(first id) exactly); at the end of each run (`all`): every key.
    function _CLAIM_4__order_key_maps_to_first_claim(PoolHandler.Ghosts memory g, bool all) internal view {
        uint256 n = g.orderKeyCount;
        if (n == 0) return;
        uint256 checks = all ? n : 2;
        for (uint256 j = 0; j < checks; ++j) {
            uint256 k = all ? j : (j == 0 ? n - 1 : (g.actionCount * 7) % n);
            PoolHandler.OrderKey memory key = handler.orderKey(k);
            assertEq(
                guard.claimIdByOrder(
                    key.exchange, key.accountRef, handler.instrumentOf(key.instrument), handler.orderIdOf(key.orderId)
                ),
                key.claimId,
                "CLAIM-4: claimIdByOrder != first claim"
            );
        }
    }

    /// @notice CLAIM-4 (attack, order-id squatting): after the squatter files a victim's order under its own
    /// policy, the victim's own filing of it succeeds whenever the victim's own preconditions hold.
    function _CLAIM_4__squatting__legitimate_claim_always_fileable(PoolHandler.Ghosts memory g) internal pure {
        assertEq(g.legitFilingsFailed, 0, "CLAIM-4: a legitimate filing failed after squatting");
    }

    /// @notice CLAIM-6 (attack, refused recipient): each executePayouts paid exactly the predicted claims
    /// (PayoutExecuted), the token-refused one emitted PayoutFailed and stayed Approved with its reservation.
    function _CLAIM_6__no_failed_transfer_blocks_another_claim(PoolHandler.Ghosts memory g) internal pure {
        assertEq(g.refusalViolations, 0, "CLAIM-6: a batch paid other than predicted");
    }

    // ================================================================== limits

    /// @notice LIM-1: per UTC day, the running sum of withdrawals never exceeds the limit in force at each one;
    /// withdrawnToday() matches the ghost sum.
    function _LIM_1__withdrawals_within_daily_limit(PoolHandler.Ghosts memory g) internal view {
        assertEq(g.withdrawalLimitViolations, 0, "LIM-1: withdrawals above the daily limit");
        assertEq(guard.withdrawnToday(), g.withdrawnToday, "LIM-1: withdrawnToday");
    }

    /// @notice LIM-2: the same for payouts (single and batch) against dailyPayoutLimit; paidOutToday() matches.
    function _LIM_2__payouts_within_daily_limit(PoolHandler.Ghosts memory g) internal view {
        assertEq(g.payoutLimitViolations, 0, "LIM-2: payouts above the daily limit");
        assertEq(guard.paidOutToday(), g.paidToday, "LIM-2: paidOutToday");
    }

    /// @notice LIM-4: however hard the rogue validator approves, no UTC day approves more than the
    /// dailyApprovalLimit in force at each approval; approvedToday() matches; the challenge period >= 1 h.
    function _LIM_4__approvals_within_daily_approval_limit(PoolHandler.Ghosts memory g) internal view {
        assertEq(g.approvalLimitViolations, 0, "LIM-4: approvals above the daily approval limit");
        assertEq(guard.approvedToday(), g.approvedToday, "LIM-4: approvedToday");
        assertGe(guard.challengePeriod(), 1 hours, "LIM-4: challenge period below minimum");
    }

    /// @notice LIM-5: maxPayoutPerClaim <= dailyPayoutLimit, always.
    function _LIM_5__max_payout_within_daily_payout_limit() internal view {
        assertLe(guard.maxPayoutPerClaim(), guard.dailyPayoutLimit(), "LIM-5");
    }

    // ================================================================== high level

    /// @notice PAUSE-1: every operation attempted under its pause bit reverted OperationPaused(bit) (asserted in
    /// the handler at each call); the other bits' operations worked as predicted (MODEL-1).
    function _PAUSE_1__paused_operations_revert_with_their_bit(PoolHandler.Ghosts memory g) internal pure {
        assertEq(g.pauseViolations, 0, "PAUSE-1");
    }

    /// @notice ROLE-1: DEFAULT_ADMIN_ROLE is held by the proxy alone (governance's grant/revoke/renounce attempts
    /// revert AdminRoleReserved, predicted by the handler).
    function _ROLE_1__default_admin_held_by_proxy_only() internal view {
        bytes32 admin = guard.DEFAULT_ADMIN_ROLE();
        assertTrue(guard.hasRole(admin, address(guard)), "ROLE-1: proxy lost admin");
        address[5] memory others = [guardian, validator, registrar, sponsor, address(handler)];
        for (uint256 i = 0; i < others.length; ++i) {
            assertFalse(guard.hasRole(admin, others[i]), "ROLE-1: admin held by another");
        }
        for (uint256 i = 0; i < signers.length; ++i) {
            assertFalse(guard.hasRole(admin, signers[i]), "ROLE-1: admin held by a signer");
        }
    }

    /// @notice MODEL-1 (forge counterpart of SM:transact): every handler call ended as predicted from the chain
    /// before it: success, or the exact custom error with its arguments.
    function _MODEL_1__every_outcome_as_predicted(PoolHandler.Ghosts memory g) internal view {
        if (g.unexpected != 0) {
            assertTrue(false, string.concat("MODEL-1: ", handler.lastUnexpected(), " ", vm.toString(handler.lastUnexpectedData())));
        }
    }

    /// @notice EXIT-1: after the run, governance unpauses, lifts blacklists (the token unblocks), raises the
    /// limits, waits out the delay and every payableAt, pays every Approved claim and withdraws the rest over
    /// as many days as needed: then reserved == 0, the pool balance is 0 and no claim is Approved.
    function afterInvariant() public {
        _logCounters();
        _CLAIM_4__order_key_maps_to_first_claim(handler.ghosts(), true);
        assertTrue(handler.exit(), string.concat("EXIT-1: a step of the exit failed: ", handler.exitFailure()));
        assertEq(guard.reservedAmount(), 0, "EXIT-1: reserved");
        assertEq(token.balanceOf(address(guard)), 0, "EXIT-1: balance");
        uint256 n = guard.claimCount();
        for (uint256 id = 1; id <= n; ++id) {
            assertTrue(guard.getClaim(id).status != T.ClaimStatus.Approved, "EXIT-1: claim left Approved");
        }
        PoolHandler.Ghosts memory g = handler.ghosts();
        assertEq(g.deposits, g.withdrawals + g.payouts, "EXIT-1: conservation");
        assertEq(token.balanceOf(handler.treasury()), g.withdrawals, "EXIT-1: treasury");
        _afterExit();
    }

    function _afterExit() internal virtual {}

    function _logCounters() internal view {
        console2.log("claims/approvals/rogue", handler.nClaims(), handler.nApprovals(), handler.nRogueApprovals());
        console2.log("payouts/refused", handler.nPayouts(), handler.nRefusedTransfers());
        console2.log("vetoes/squat+victim/days", handler.nVetoes(), handler.nSquatThenVictim(), handler.nDayRollovers());
        console2.log("deposits/withdrawals/pauseChecks", handler.nDeposits(), handler.nWithdrawals(), handler.nPauseChecks());
    }

    function _concat(bytes4[] memory a, bytes4[] memory b) internal pure returns (bytes4[] memory c) {
        c = new bytes4[](a.length + b.length);
        for (uint256 i = 0; i < a.length; ++i) {
            c[i] = a[i];
        }
        for (uint256 i = 0; i < b.length; ++i) {
            c[a.length + i] = b[i];
        }
    }
}

/// @title PoolInvariants
/// @notice The pool-side campaign on MockStablecoin (a token that refuses blocked recipients, like USDC).
contract PoolInvariants is PoolInvariantsBase {}

// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {CommonBase} from "forge-std/Base.sol";
import {StdCheats} from "forge-std/StdCheats.sol";
import {StdUtils} from "forge-std/StdUtils.sol";
import {Vm} from "forge-std/Vm.sol";

import {ILeverageGuard} from "../../../contracts/interfaces/ILeverageGuard.sol";
import {ILeverageGuardTypes as T, IMultisigGovernanceTypes as M} from "../../../contracts/interfaces/ILeverageGuardTypes.sol";
import {MockStablecoin} from "../../mocks/MockStablecoin.sol";
import {ReenteringStablecoin} from "./ReenteringStablecoin.sol";

/// @notice The exchange-account hash of actor `i`, variant `v` (each actor owns two, so it can move).
function poolRef(uint256 i, uint256 v) pure returns (bytes32) {
    return keccak256(abi.encode("LG-ACCT", i, v));
}

/// @title PoolHandler
/// @notice Drives every pool-side external function of LeverageGuard 1.1 through named actors with bounded
/// inputs, predicts each outcome (success, or the exact custom error with its arguments) from the chain
/// state before the call, and keeps the ghost state the invariants of PoolInvariants.t.sol compare with the
/// chain. Governance acts only through real proposals (propose, confirm, wait out the execution delay,
/// execute). A call that changes nothing and reveals no violation reverts `NoOp`, so forge's show_metrics
/// "reverts" column counts ineffective calls and calls − reverts counts the effective ones per action.
/// @dev Adversarial actors: a squatter filing other traders' order ids under its own policy, a ref thief
/// trying to bind other traders' account hashes, a rogue validator approving colluders for every cap allows,
/// a rogue guardian vetoing everything and pausing all, a token-refused recipient inside payout batches.
contract PoolHandler is CommonBase, StdCheats, StdUtils {
    error NoOp();

    uint256 internal constant USDT = 1e6;
    uint256 internal constant DAY = 1 days;
    /// @notice Bound on claims per run, so the claim-iterating invariants stay cheap.
    uint256 public constant MAX_CLAIMS = 24;
    uint256 public constant ACTORS = 6;
    uint256 internal constant TRADERS = 4; // actors 0..3 are ordinary traders; 0 and 1 collude with the validator
    uint256 internal constant SQUATTER = 4;
    uint256 internal constant THIEF = 5;
    uint256 internal constant ORDER_IDS = 5;
    uint16 internal constant VETO_REASON = 100;
    bytes32 internal constant EVIDENCE = bytes32(uint256(0xe1));
    bytes internal constant ANY_REVERT = hex"ffffffff";
    bytes32 internal constant PAYOUT_EXECUTED = keccak256("PayoutExecuted(uint256,address,uint256)");
    bytes32 internal constant PAYOUT_FAILED = keccak256("PayoutFailed(uint256,address,uint256)");

    ILeverageGuard public immutable guard;
    MockStablecoin public immutable token;
    bool public immutable reentrant;
    address[] internal signers;
    address public guardian;
    address public validator;
    address public registrar;
    address public sponsor;
    address public keeper = makeAddr("keeper");
    address public treasury = makeAddr("treasury");
    address[ACTORS] public actors;

    // ------------------------------------------------------------------ ghosts: money
    uint256 public ghostDeposits;
    uint256 public ghostWithdrawals;
    uint256 public ghostPayouts;
    mapping(address => uint256) public ghostPaidTo;
    mapping(uint256 day => uint256) public ghostApprovedInDay;
    mapping(uint256 day => uint256) public ghostPaidInDay;
    mapping(uint256 day => uint256) public ghostWithdrawnInDay;

    // ------------------------------------------------------------------ ghosts: violations (all must stay 0)
    uint256 public unexpected; // an outcome other than predicted
    string public lastUnexpected;
    bytes public lastUnexpectedData;
    uint256 public pauseViolations; // PAUSE-1
    uint256 public badTransitions; // CLAIM-1
    uint256 public legitFilingsFailed; // squatting attack
    uint256 public refusalViolations; // CLAIM-6: a batch did not pay exactly the predicted claims
    uint256 public approvalLimitViolations; // LIM-4
    uint256 public payoutLimitViolations; // LIM-2
    uint256 public withdrawalLimitViolations; // LIM-1
    uint256 public policyViolations; // POL-3
    uint256 public balanceViolations; // ACCT-1: a balance moved otherwise than the operation says
    uint256 public stampViolations; // CLAIM-5
    string public lastTransition;

    // ------------------------------------------------------------------ ghosts: claims
    mapping(uint256 => uint256) public payoutEvents; // PayoutExecuted per claim (CLAIM-2)
    mapping(uint256 => uint256) public approvedPayout; // payout at the last approval (CLAIM-3)
    mapping(uint256 => uint256) public capAtApproval; // min(claimedLoss, coverage left, maxPayoutPerClaim)
    mapping(address => uint256) public limitCapAtSet; // maxCoverageLimit when the limit was last set (POL-3)
    mapping(address => uint256) public coverageStartSet; // coverageStart as last set (POL-3)

    struct OrderKey {
        uint8 exchange;
        bytes32 accountRef;
        uint8 instrument;
        uint8 orderId;
        uint256 claimId;
    }

    OrderKey[] internal orderKeys;
    mapping(bytes32 => uint256) public keyClaim;

    uint8[MAX_CLAIMS + 1] internal sStatus;
    uint256[MAX_CLAIMS + 1] internal sPayout;
    address[MAX_CLAIMS + 1] internal sUser;
    uint256 public synced;
    uint256 internal reopenAllowed;
    uint256 public actionCount;
    string public exitFailure;
    uint256[] internal touched;
    bool internal achieved;

    // ------------------------------------------------------------------ counters (per run)
    uint256 public nDeposits;
    uint256 public nClaims;
    uint256 public nApprovals;
    uint256 public nRogueApprovals;
    uint256 public nRejections;
    uint256 public nPayouts;
    uint256 public nRefusedTransfers;
    uint256 public nVetoes;
    uint256 public nSquatThenVictim;
    uint256 public nDayRollovers;
    uint256 public nWithdrawals;
    uint256 public nPauseChecks;

    constructor(
        ILeverageGuard guard_,
        MockStablecoin token_,
        address[] memory signers_,
        address[ACTORS] memory actors_,
        address guardian_,
        address validator_,
        address registrar_,
        address sponsor_,
        bool reentrant_
    ) {
        guard = guard_;
        token = token_;
        signers = signers_;
        actors = actors_;
        guardian = guardian_;
        validator = validator_;
        registrar = registrar_;
        sponsor = sponsor_;
        reentrant = reentrant_;
        ghostDeposits = token_.balanceOf(address(guard_));
        uint256 maxCov = guard_.maxCoverageLimit();
        for (uint256 i = 0; i < ACTORS; ++i) {
            T.PolicyView memory p = guard_.getPolicy(actors_[i]);
            coverageStartSet[actors_[i]] = p.coverageStart;
            limitCapAtSet[actors_[i]] = p.coverageStart == 0 ? 0 : maxCov;
        }
    }

    modifier action() {
        uint256 before = violations();
        achieved = false;
        delete touched;
        _;
        _sync(++actionCount % 16 == 0);
        if (!achieved && violations() == before) revert NoOp();
    }

    /// @notice Sum of every violation counter (the invariants check each one separately).
    function violations() public view returns (uint256 v) {
        v = unexpected + pauseViolations + badTransitions + legitFilingsFailed + refusalViolations
            + approvalLimitViolations + payoutLimitViolations + withdrawalLimitViolations + policyViolations
            + balanceViolations + stampViolations;
        if (reentrant) {
            ReenteringStablecoin t = ReenteringStablecoin(address(token));
            v += t.reentrySuccesses() + t.reentryUnexpected();
        }
    }

    // ================================================================== pool

    /// @notice The sponsor deposits 1..20,000 USDT.
    function deposit(uint256 amountSeed) external action {
        uint256 amount = bound(amountSeed, 1, 20_000 * USDT);
        token.mint(sponsor, amount);
        vm.prank(sponsor);
        token.approve(address(guard), amount);
        bytes memory expected = _pausedError(guard.PAUSE_DEPOSITS());
        uint256 before = token.balanceOf(address(guard));
        (bool ok, bytes memory ret) = _as(sponsor, abi.encodeCall(ILeverageGuard.deposit, (amount)));
        if (_expect("deposit", ok, ret, expected)) {
            ghostDeposits += amount;
            if (token.balanceOf(address(guard)) != before + amount) ++balanceViolations;
            ++nDeposits;
            achieved = true;
        }
    }

    /// @notice Governance withdraws to the treasury: within the free balance and the day's limit, or above.
    function withdraw(uint256 amountSeed, uint256 mode) external action {
        uint256 free = guard.freeBalance();
        uint256 amount;
        if (mode % 4 == 0) amount = free + 1;
        else if (mode % 4 == 1) amount = guard.dailyWithdrawalLimit() + 1;
        else amount = bound(amountSeed, 1, _max(1, _min(free, guard.dailyWithdrawalLimit())));
        uint256 id = _schedule(abi.encodeCall(ILeverageGuard.withdraw, (treasury, amount)));
        bytes memory expected = _pausedError(guard.PAUSE_WITHDRAWALS());
        free = guard.freeBalance();
        uint256 used = guard.withdrawnToday();
        uint256 limit = guard.dailyWithdrawalLimit();
        uint256 left = limit > used ? limit - used : 0;
        if (expected.length == 0) {
            if (amount > free) expected = abi.encodeWithSelector(T.InsufficientFreeBalance.selector, amount, free);
            else if (amount > left) expected = abi.encodeWithSelector(T.DailyLimitExceeded.selector, amount, left);
        }
        uint256 poolBefore = token.balanceOf(address(guard));
        uint256 treasuryBefore = token.balanceOf(treasury);
        (bool ok, bytes memory ret) = _execute(id);
        if (_expect("withdraw", ok, ret, expected)) {
            uint256 day = _day();
            ghostWithdrawals += amount;
            ghostWithdrawnInDay[day] += amount;
            if (ghostWithdrawnInDay[day] > limit || guard.withdrawnToday() != ghostWithdrawnInDay[day]) {
                ++withdrawalLimitViolations;
            }
            if (
                token.balanceOf(address(guard)) != poolBefore - amount
                    || token.balanceOf(treasury) != treasuryBefore + amount
            ) ++balanceViolations;
            ++nWithdrawals;
            achieved = true;
        }
    }

    // ================================================================== policy registry

    /// @notice The registrar whitelists an actor: usually with its own account hash, sometimes with another
    /// actor's (the ref thief always does): POL-2 predicts AccountRefInUse while the holder may still file.
    function addToWhitelist(uint256 actorSeed, uint256 refSeed, uint256 limitSeed, uint256 termSeed)
        external
        action
    {
        uint256 i = actorSeed % ACTORS;
        address user = actors[i];
        bytes32 ref;
        if (i == THIEF || refSeed % 4 == 0) ref = poolRef((refSeed / 4) % 5, (refSeed / 20) % 2);
        else ref = poolRef(i, refSeed % 2);
        uint256 maxCov = guard.maxCoverageLimit();
        uint256 limit = bound(limitSeed, 1, maxCov + 1_000 * USDT);
        uint256 end = _now() + bound(termSeed, 1 hours, 30 days);
        bytes memory expected = _checkCoverageError(limit, end, maxCov);
        T.PolicyView memory p = guard.getPolicy(user);
        if (expected.length == 0) {
            if (p.whitelisted && p.coverageEnd >= _now()) {
                expected = abi.encodeWithSelector(T.AlreadyWhitelisted.selector, user);
            } else if (p.blacklisted) {
                expected = abi.encodeWithSelector(T.UserBlacklisted.selector, user);
            } else if (limit < p.used) {
                expected = abi.encodeWithSelector(T.CoverageLimitBelowUsed.selector, limit, p.used);
            } else {
                address holder = guard.accountRefHolder(ref);
                if (holder != user && holder != address(0)) {
                    T.PolicyView memory held = guard.getPolicy(holder);
                    if (held.accountRef == ref && _now() <= held.coverageEnd + guard.claimGracePeriod()) {
                        expected = abi.encodeWithSelector(T.AccountRefInUse.selector, ref, holder);
                    }
                }
            }
        }
        (bool ok, bytes memory ret) = _as(
            registrar, abi.encodeCall(ILeverageGuard.addToWhitelist, (_one(user), _oneRef(ref), limit, end))
        );
        if (_expect("addToWhitelist", ok, ret, expected)) {
            T.PolicyView memory q = guard.getPolicy(user);
            if (
                q.accountRef != ref || q.coverageLimit != limit || q.coverageStart != _now() || q.coverageEnd != end
                    || q.used != p.used || guard.accountRefHolder(ref) != user
            ) ++policyViolations;
            limitCapAtSet[user] = maxCov;
            coverageStartSet[user] = _now();
            achieved = true;
        }
    }

    /// @notice The registrar renews a policy in place (POL-3): start and used must not move.
    function extendCoverage(uint256 actorSeed, uint256 limitSeed, uint256 endSeed) external action {
        address user = actors[actorSeed % ACTORS];
        uint256 maxCov = guard.maxCoverageLimit();
        uint256 limit = bound(limitSeed, 1, maxCov + 1_000 * USDT);
        T.PolicyView memory p = guard.getPolicy(user);
        uint256 end = endSeed % 8 == 0 && p.coverageEnd > _now() + 1
            ? p.coverageEnd - 1
            : _max(p.coverageEnd, _now()) + bound(endSeed, 1, 30 days);
        bytes memory expected = _checkCoverageError(limit, end, maxCov);
        if (expected.length == 0) {
            if (!p.whitelisted || p.coverageEnd < _now()) {
                expected = abi.encodeWithSelector(T.NotWhitelisted.selector, user);
            } else if (p.blacklisted) {
                expected = abi.encodeWithSelector(T.UserBlacklisted.selector, user);
            } else if (end < p.coverageEnd) {
                expected = abi.encodeWithSelector(T.CoverageEndNotLater.selector, end, p.coverageEnd);
            } else if (limit < p.used) {
                expected = abi.encodeWithSelector(T.CoverageLimitBelowUsed.selector, limit, p.used);
            }
        }
        (bool ok, bytes memory ret) =
            _as(registrar, abi.encodeCall(ILeverageGuard.extendCoverage, (_one(user), limit, end)));
        if (_expect("extendCoverage", ok, ret, expected)) {
            T.PolicyView memory q = guard.getPolicy(user);
            if (
                q.coverageStart != p.coverageStart || q.used != p.used || q.coverageLimit != limit
                    || q.coverageEnd != end || q.accountRef != p.accountRef
            ) ++policyViolations;
            limitCapAtSet[user] = maxCov;
            achieved = true;
        }
    }

    /// @notice The registrar ends an actor's coverage now.
    function removeFromWhitelist(uint256 actorSeed) external action {
        address user = actors[actorSeed % ACTORS];
        T.PolicyView memory p = guard.getPolicy(user);
        bytes memory expected = p.whitelisted ? bytes("") : abi.encodeWithSelector(T.NotWhitelisted.selector, user);
        (bool ok, bytes memory ret) = _as(registrar, abi.encodeCall(ILeverageGuard.removeFromWhitelist, (_one(user))));
        if (_expect("removeFromWhitelist", ok, ret, expected)) {
            T.PolicyView memory q = guard.getPolicy(user);
            if (q.whitelisted || q.coverageEnd != _min(p.coverageEnd, _now()) || q.coverageStart != p.coverageStart) {
                ++policyViolations;
            }
            achieved = true;
        }
    }

    /// @notice The guardian or the registrar blacklists an actor.
    function addToBlacklist(uint256 actorSeed, bool byGuardian) external action {
        address user = actors[actorSeed % ACTORS];
        bytes memory expected =
            guard.isBlacklisted(user) ? abi.encodeWithSelector(T.AlreadyBlacklisted.selector, user) : bytes("");
        (bool ok, bytes memory ret) =
            _as(byGuardian ? guardian : registrar, abi.encodeCall(ILeverageGuard.addToBlacklist, (_one(user))));
        if (_expect("addToBlacklist", ok, ret, expected)) achieved = true;
    }

    /// @notice Governance lifts an actor's blacklist.
    function removeFromBlacklist(uint256 actorSeed) external action {
        address user = actors[actorSeed % ACTORS];
        uint256 id = _schedule(abi.encodeCall(ILeverageGuard.removeFromBlacklist, (_one(user))));
        bytes memory expected =
            guard.isBlacklisted(user) ? bytes("") : abi.encodeWithSelector(T.NotBlacklisted.selector, user);
        (bool ok, bytes memory ret) = _execute(id);
        if (_expect("removeFromBlacklist", ok, ret, expected)) achieved = true;
    }

    // ================================================================== claims

    /// @notice An actor files a claim; order ids come from a small pool so that keys collide.
    function submitClaim(uint256 actorSeed, uint8 exchange, uint8 instrument, uint8 orderId, uint256 lossSeed)
        external
        action
    {
        if (guard.claimCount() >= MAX_CLAIMS) return;
        _file(actorSeed % ACTORS, 1 + exchange % 3, instrument % 2, uint8(orderId % ORDER_IDS), lossSeed);
    }

    /// @notice The squatter files a victim's order (exchange, instrument, order id) under its own policy,
    /// then the victim files it: the victim must succeed whenever its own preconditions hold.
    function squatThenFile(uint256 victimSeed, uint8 exchange, uint8 instrument, uint8 orderId, uint256 lossSeed)
        external
        action
    {
        if (guard.claimCount() + 2 > MAX_CLAIMS) return;
        uint8 ex = 1 + exchange % 3;
        uint8 inst = instrument % 2;
        uint8 ord = uint8(orderId % ORDER_IDS);
        (, bool squatted) = _file(SQUATTER, ex, inst, ord, lossSeed);
        (bool predicted, bool filed) = _file(victimSeed % TRADERS, ex, inst, ord, lossSeed >> 8);
        if (predicted && !filed) ++legitFilingsFailed;
        if (squatted && filed) ++nSquatThenVictim;
    }

    /// @notice The validator posts one verdict: a rejection, an approval within every cap, or one above.
    function postVerification(uint256 claimSeed, uint8 mode, uint256 payoutSeed) external action {
        uint256 id = _pickClaim(claimSeed, T.ClaimStatus.Pending);
        (uint256 cap, uint256 free, uint256 left) = _approvalCaps(id);
        uint256 fits = _min(cap, _min(free, left));
        bool approved = mode % 4 != 0;
        uint256 payout;
        if (!approved) payout = 0;
        else if (mode % 4 == 3) payout = fits + 1;
        else payout = bound(payoutSeed, 1, _max(1, fits));
        _verifyOne(id, approved, payout, false);
    }

    /// @notice The rogue validator approves a colluding trader's (actor 0 or 1) pending claim for the largest
    /// payout every cap allows: min(claimedLoss, coverage left, maxPayoutPerClaim, free balance, approvals left).
    function rogueApprove(uint256 claimSeed) external action {
        uint256 n = guard.claimCount();
        uint256 id = 0;
        for (uint256 k = 0; k < n; ++k) {
            uint256 c = 1 + (claimSeed + k) % n;
            if (sStatus[c] == uint8(T.ClaimStatus.Pending) && (sUser[c] == actors[0] || sUser[c] == actors[1])) {
                id = c;
                break;
            }
        }
        if (id == 0) return;
        (uint256 cap, uint256 free, uint256 left) = _approvalCaps(id);
        _verifyOne(id, true, _max(1, _min(cap, _min(free, left))), true);
    }

    /// @notice The validator posts a batch of up to 4 verdicts, possibly listing decided or repeated claims.
    function postVerifications(uint256 seed, uint8 size) external action {
        uint256 len = 1 + size % 4;
        T.Verification[] memory items = new T.Verification[](len);
        for (uint256 k = 0; k < len; ++k) {
            uint256 s = uint256(keccak256(abi.encode(seed, k)));
            items[k] = T.Verification({
                claimId: _pickClaim(s, s % 3 == 0 ? T.ClaimStatus.Approved : T.ClaimStatus.Pending),
                approved: (s >> 8) % 3 != 0,
                payout: 0,
                evidenceHash: EVIDENCE,
                reasonCode: uint16(s >> 16)
            });
        }
        (bytes memory expected, uint256[] memory decided) = _simulateVerifications(items, seed);
        uint256 day = _day();
        uint256 limit = guard.dailyApprovalLimit();
        (bool ok, bytes memory ret) = _as(validator, abi.encodeCall(ILeverageGuard.postVerifications, (items)));
        if (!_expect("postVerifications", ok, ret, expected)) return;
        for (uint256 k = 0; k < len; ++k) {
            if (decided[k] == 0) continue;
            T.Verification memory item = items[k];
            _touch(item.claimId);
            T.ClaimView memory c = guard.getClaim(item.claimId);
            T.ClaimStatus want = item.approved ? T.ClaimStatus.Approved : T.ClaimStatus.Rejected;
            if (c.status != want || c.payout != item.payout) _unexpected("postVerifications: decided item", "");
            if (item.approved) _recordApproval(item.claimId, item.payout, decided[k] - 1, day, limit, false);
            else ++nRejections;
        }
        if (guard.approvedToday() != ghostApprovedInDay[day]) ++approvalLimitViolations;
        achieved = true;
    }

    /// @notice The guardian vetoes one claim.
    function vetoClaim(uint256 claimSeed) external action {
        uint256 id = _pickClaim(claimSeed, T.ClaimStatus.Approved);
        T.ClaimView memory c = guard.getClaim(id);
        bytes memory expected;
        if (c.status != T.ClaimStatus.Approved) {
            expected = abi.encodeWithSelector(T.InvalidClaimStatus.selector, id, c.status);
        } else if (_now() >= c.payableAt) {
            expected = abi.encodeWithSelector(T.ChallengePeriodOver.selector, id, c.payableAt);
        }
        (bool ok, bytes memory ret) = _as(guardian, abi.encodeCall(ILeverageGuard.vetoClaim, (id, VETO_REASON)));
        if (_expect("vetoClaim", ok, ret, expected)) {
            _touch(id);
            ++nVetoes;
            achieved = true;
        }
    }

    /// @notice The rogue guardian vetoes every claim at once (vetoClaims); only approvals inside their window go.
    function vetoAll() external action {
        uint256 n = guard.claimCount();
        if (n == 0) return;
        uint256[] memory ids = new uint256[](n);
        bool[] memory vetoable = new bool[](n);
        uint256 count;
        for (uint256 k = 0; k < n; ++k) {
            ids[k] = k + 1;
            T.ClaimView memory c = guard.getClaim(k + 1);
            vetoable[k] = c.status == T.ClaimStatus.Approved && _now() < c.payableAt;
            if (vetoable[k]) ++count;
        }
        (bool ok, bytes memory ret) = _as(guardian, abi.encodeCall(ILeverageGuard.vetoClaims, (ids, VETO_REASON)));
        if (!_expect("vetoClaims", ok, ret, "")) return;
        for (uint256 k = 0; k < n; ++k) {
            if (!vetoable[k]) continue;
            _touch(k + 1);
            if (guard.getClaim(k + 1).status != T.ClaimStatus.Rejected) _unexpected("vetoClaims: not vetoed", "");
        }
        nVetoes += count;
        if (count != 0) achieved = true;
    }

    /// @notice The rogue guardian pauses (any flags, often all).
    function pause(uint8 flagsSeed) external action {
        uint256 flags = flagsSeed % 3 == 0 ? guard.PAUSE_ALL() : 1 + flagsSeed % 31;
        uint256 before = guard.pausedFlags();
        (bool ok, bytes memory ret) = _as(guardian, abi.encodeCall(ILeverageGuard.pause, (flags)));
        if (_expect("pause", ok, ret, "")) {
            if (guard.pausedFlags() != before | flags) _unexpected("pause: flags", "");
            achieved = before != before | flags;
        }
    }

    /// @notice Governance unpauses some or all flags.
    function unpause(uint8 flagsSeed) external action {
        uint256 flags = flagsSeed % 2 == 0 ? guard.PAUSE_ALL() : 1 + flagsSeed % 31;
        uint256 id = _schedule(abi.encodeCall(ILeverageGuard.unpause, (flags)));
        uint256 before = guard.pausedFlags();
        (bool ok, bytes memory ret) = _execute(id);
        if (_expect("unpause", ok, ret, "")) {
            if (guard.pausedFlags() != before & ~flags) _unexpected("unpause: flags", "");
            achieved = true;
        }
    }

    /// @notice Governance cancels an approved claim (CLAIM-7).
    function cancelApprovedClaim(uint256 claimSeed) external action {
        uint256 id = _pickClaim(claimSeed, T.ClaimStatus.Approved);
        uint256 pid = _schedule(abi.encodeCall(ILeverageGuard.cancelApprovedClaim, (id, 7)));
        T.ClaimView memory c = guard.getClaim(id);
        bytes memory expected = c.status == T.ClaimStatus.Approved
            ? bytes("")
            : abi.encodeWithSelector(T.InvalidClaimStatus.selector, id, c.status);
        (bool ok, bytes memory ret) = _execute(pid);
        if (_expect("cancelApprovedClaim", ok, ret, expected)) {
            _touch(id);
            achieved = true;
        }
    }

    /// @notice Governance reopens a rejected claim (the one allowed backward step, CLAIM-1).
    function reopenClaim(uint256 claimSeed) external action {
        uint256 id = _pickClaim(claimSeed, T.ClaimStatus.Rejected);
        uint256 pid = _schedule(abi.encodeCall(ILeverageGuard.reopenClaim, (id)));
        T.ClaimView memory c = guard.getClaim(id);
        bytes memory expected = c.status == T.ClaimStatus.Rejected
            ? bytes("")
            : abi.encodeWithSelector(T.InvalidClaimStatus.selector, id, c.status);
        (bool ok, bytes memory ret) = _execute(pid);
        if (_expect("reopenClaim", ok, ret, expected)) {
            reopenAllowed = id;
            _touch(id);
            _sync(false);
            reopenAllowed = 0;
            achieved = true;
        }
    }

    // ================================================================== payouts

    /// @notice A keeper pays one claim; every reason not to pay is predicted exactly.
    function executePayout(uint256 claimSeed) external action {
        uint256 id = _pickClaim(claimSeed, T.ClaimStatus.Approved);
        T.ClaimView memory c = guard.getClaim(id);
        bytes memory expected = _pausedError(guard.PAUSE_PAYOUTS());
        uint256 paidToday = guard.paidOutToday();
        uint256 limit = guard.dailyPayoutLimit();
        uint256 left = limit > paidToday ? limit - paidToday : 0;
        if (expected.length == 0) {
            if (c.status != T.ClaimStatus.Approved) {
                expected = abi.encodeWithSelector(T.InvalidClaimStatus.selector, id, c.status);
            } else if (_now() < c.payableAt) {
                expected = abi.encodeWithSelector(T.ChallengePeriodActive.selector, id, c.payableAt);
            } else if (guard.isBlacklisted(c.user)) {
                expected = abi.encodeWithSelector(T.UserBlacklisted.selector, c.user);
            } else if (c.payout > left) {
                expected = abi.encodeWithSelector(T.DailyPayoutLimitExceeded.selector, c.payout, left);
            } else if (token.blocked(c.user)) {
                expected = abi.encodeWithSelector(T.PayoutTransferFailed.selector, id);
            }
        }
        uint256[] memory ids = new uint256[](1);
        ids[0] = id;
        bool[] memory pays = new bool[](1);
        pays[0] = expected.length == 0;
        _payAndCheck("executePayout", ids, pays, new bool[](1), abi.encodeCall(ILeverageGuard.executePayout, (id)), expected, limit);
    }

    /// @notice A keeper pays a batch of up to 6 claims, with repeats.
    function executePayouts(uint256 seed, uint8 size) external action {
        _payoutBatch(seed, size, false);
    }

    /// @notice The same, with a trader the token refuses (MockStablecoin.setBlocked) listed in the batch:
    /// exactly the predicted claims are paid, the refused one stays Approved with its reservation.
    function executePayoutsWithRefusedRecipient(uint256 seed, uint8 size) external action {
        _payoutBatch(seed, size, true);
    }

    /// @notice The token starts or stops refusing transfers to an actor.
    function setTokenBlocked(uint256 actorSeed, bool blocked) external action {
        address user = actors[actorSeed % ACTORS];
        achieved = token.blocked(user) != blocked;
        token.setBlocked(user, blocked);
    }

    // ================================================================== governance parameters

    /// @notice Governance changes a limit, the challenge period or the claim grace period (through a proposal).
    function setParameter(uint8 which, uint256 valueSeed) external action {
        which %= 7;
        bytes memory data;
        uint256 value;
        if (which == 0) {
            value = bound(valueSeed, 0, 60_000 * USDT);
            data = abi.encodeCall(ILeverageGuard.setDailyWithdrawalLimit, (value));
        } else if (which == 1) {
            value = bound(valueSeed, 2_000 * USDT, 80_000 * USDT);
            data = abi.encodeCall(ILeverageGuard.setDailyPayoutLimit, (value));
        } else if (which == 2) {
            value = bound(valueSeed, 0, 80_000 * USDT);
            data = abi.encodeCall(ILeverageGuard.setDailyApprovalLimit, (value));
        } else if (which == 3) {
            value = bound(valueSeed, 0, 12_000 * USDT);
            data = abi.encodeCall(ILeverageGuard.setMaxPayoutPerClaim, (value));
        } else if (which == 4) {
            value = bound(valueSeed, 0, 60_000 * USDT);
            data = abi.encodeCall(ILeverageGuard.setMaxCoverageLimit, (value));
        } else if (which == 5) {
            value = bound(valueSeed, 30 minutes, 3 days);
            data = abi.encodeCall(ILeverageGuard.setChallengePeriod, (value));
        } else {
            value = bound(valueSeed, 0, 14 days);
            data = abi.encodeCall(ILeverageGuard.setClaimGracePeriod, (value));
        }
        uint256 id = _schedule(data);
        bytes memory expected;
        if (which == 1 && guard.maxPayoutPerClaim() > value) {
            expected = abi.encodeWithSelector(T.MaxPayoutAboveDailyPayoutLimit.selector, guard.maxPayoutPerClaim(), value);
        } else if (which == 3 && value > guard.dailyPayoutLimit()) {
            expected = abi.encodeWithSelector(T.MaxPayoutAboveDailyPayoutLimit.selector, value, guard.dailyPayoutLimit());
        } else if (which == 5 && value < 1 hours) {
            expected = abi.encodeWithSelector(T.InvalidChallengePeriod.selector, value, 1 hours, 30 days);
        }
        (bool ok, bytes memory ret) = _execute(id);
        if (_expect("setParameter", ok, ret, expected)) achieved = true;
    }

    /// @notice A signer proposes a call to the pool asset itself (SOLV-2): InvalidProposalTarget(token).
    function proposeToAsset(uint256 amountSeed) external action {
        bytes memory data = abi.encodeCall(token.transfer, (treasury, bound(amountSeed, 1, 1_000_000 * USDT)));
        vm.prank(signers[0]);
        (bool ok, bytes memory ret) =
            address(guard).call(abi.encodeCall(ILeverageGuard.propose, (address(token), 0, data)));
        _expect("propose(token)", ok, ret, abi.encodeWithSelector(M.InvalidProposalTarget.selector, address(token)));
    }

    /// @notice Governance tries to hand out or drop DEFAULT_ADMIN_ROLE (ROLE-1): AdminRoleReserved.
    function touchAdminRole(uint8 which) external action {
        bytes32 admin = guard.DEFAULT_ADMIN_ROLE();
        bytes memory data;
        bytes memory expected;
        if (which % 3 == 0) {
            data = abi.encodeCall(guard.grantRole, (admin, signers[0]));
            expected = abi.encodeWithSelector(T.AdminRoleReserved.selector, signers[0]);
        } else if (which % 3 == 1) {
            data = abi.encodeCall(guard.revokeRole, (admin, address(guard)));
            expected = abi.encodeWithSelector(T.AdminRoleReserved.selector, address(guard));
        } else {
            data = abi.encodeCall(guard.renounceRole, (admin, address(guard)));
            expected = abi.encodeWithSelector(T.AdminRoleReserved.selector, address(guard));
        }
        uint256 id = _schedule(data);
        (bool ok, bytes memory ret) = _execute(id);
        _expect("adminRole", ok, ret, expected);
    }

    // ================================================================== time

    /// @notice A small step: 1 s to 6 h.
    function warp(uint256 seed) external action {
        _warpTo(_now() + bound(seed, 1, 6 hours));
        achieved = true;
    }

    /// @notice To 1 s before, at, or 1 s after the next UTC midnight.
    function warpToMidnight(uint8 mode) external action {
        uint256 midnight = (_now() / DAY + 1) * DAY;
        _warpTo(midnight - 1 + mode % 3);
        achieved = true;
    }

    /// @notice Past every open challenge window (or one challenge period on).
    function warpPastWindows() external action {
        uint256 target = _now() + guard.challengePeriod();
        for (uint256 id = 1; id <= synced; ++id) {
            if (sStatus[id] == uint8(T.ClaimStatus.Approved)) target = _max(target, guard.getClaim(id).payableAt);
        }
        _warpTo(target);
        achieved = true;
    }

    // ================================================================== EXIT-1 (called by afterInvariant only)

    /// @notice EXIT-1: governance unpauses, lifts blacklists, the token unblocks, limits are raised, every
    /// approved claim is paid after its payableAt and the rest withdrawn over as many days as needed.
    /// Returns whether every step succeeded.
    function exit() external returns (bool) {
        if (guard.pausedFlags() != 0) {
            if (!_governOk(abi.encodeCall(ILeverageGuard.unpause, (guard.PAUSE_ALL())))) return _exitFailed("unpause");
        }
        for (uint256 i = 0; i < ACTORS; ++i) {
            if (guard.isBlacklisted(actors[i])) {
                if (!_governOk(abi.encodeCall(ILeverageGuard.removeFromBlacklist, (_one(actors[i]))))) return _exitFailed("unblacklist");
            }
            token.setBlocked(actors[i], false);
        }
        uint256 reserved = guard.reservedAmount();
        if (guard.dailyPayoutLimit() < reserved) {
            if (!_governOk(abi.encodeCall(ILeverageGuard.setDailyPayoutLimit, (reserved)))) return _exitFailed("payout limit");
        }
        if (guard.dailyWithdrawalLimit() < 20_000 * USDT) {
            if (!_governOk(abi.encodeCall(ILeverageGuard.setDailyWithdrawalLimit, (20_000 * USDT)))) return _exitFailed("withdrawal limit");
        }
        uint256 n = guard.claimCount();
        uint256[] memory approved = new uint256[](n);
        uint256 count;
        uint256 latest = _now();
        for (uint256 id = 1; id <= n; ++id) {
            T.ClaimView memory c = guard.getClaim(id);
            if (c.status == T.ClaimStatus.Approved) {
                approved[count++] = id;
                latest = _max(latest, c.payableAt);
            }
        }
        _warpTo((latest / DAY + 1) * DAY); // a fresh UTC day, past every payableAt
        if (count != 0) {
            assembly ("memory-safe") {
                mstore(approved, count)
            }
            uint256 before = token.balanceOf(address(guard));
            vm.prank(keeper);
            guard.executePayouts(approved);
            for (uint256 k = 0; k < count; ++k) {
                T.ClaimView memory c = guard.getClaim(approved[k]);
                if (c.status != T.ClaimStatus.Paid) return _exitFailed("claim not paid");
                ghostPaidTo[c.user] += c.payout;
                ghostPayouts += c.payout;
            }
            if (token.balanceOf(address(guard)) + reserved != before) return _exitFailed("payout sum");
        }
        for (uint256 round = 0; round < 200 && token.balanceOf(address(guard)) != 0; ++round) {
            uint256 limit = guard.dailyWithdrawalLimit();
            uint256 today = guard.withdrawnToday();
            uint256 amount = _min(guard.freeBalance(), limit > today ? limit - today : 0);
            if (amount == 0) {
                _warpTo((_now() / DAY + 1) * DAY); // the day's withdrawals are used up: the next UTC day
                continue;
            }
            if (!_governOk(abi.encodeCall(ILeverageGuard.withdraw, (treasury, amount)))) return _exitFailed("withdraw");
            ghostWithdrawals += amount;
        }
        return token.balanceOf(address(guard)) == 0 || _exitFailed("balance left");
    }

    function _exitFailed(string memory step) internal returns (bool) {
        exitFailure = step;
        return false;
    }

    // ================================================================== views for the invariants

    /// @notice The claim snapshot taken after the last action (index = claim id 1..synced), with the ghosts
    /// kept per claim: PayoutExecuted events seen, payout and caps at the last approval.
    struct ClaimSnapshot {
        uint8[] status;
        uint256[] payout;
        address[] user;
        uint256[] events;
        uint256[] approvedPayout;
        uint256[] capAtApproval;
    }

    function snapshot() external view returns (ClaimSnapshot memory c) {
        uint256 n = synced;
        c.status = new uint8[](n + 1);
        c.payout = new uint256[](n + 1);
        c.user = new address[](n + 1);
        c.events = new uint256[](n + 1);
        c.approvedPayout = new uint256[](n + 1);
        c.capAtApproval = new uint256[](n + 1);
        for (uint256 id = 1; id <= n; ++id) {
            c.status[id] = sStatus[id];
            c.payout[id] = sPayout[id];
            c.user[id] = sUser[id];
            c.events[id] = payoutEvents[id];
            c.approvedPayout[id] = approvedPayout[id];
            c.capAtApproval[id] = capAtApproval[id];
        }
    }

    /// @notice Every money ghost and violation counter in one read.
    struct Ghosts {
        uint256 deposits;
        uint256 withdrawals;
        uint256 payouts;
        uint256 approvedToday;
        uint256 paidToday;
        uint256 withdrawnToday;
        uint256 unexpected;
        uint256 pauseViolations;
        uint256 badTransitions;
        uint256 legitFilingsFailed;
        uint256 refusalViolations;
        uint256 approvalLimitViolations;
        uint256 payoutLimitViolations;
        uint256 withdrawalLimitViolations;
        uint256 policyViolations;
        uint256 balanceViolations;
        uint256 stampViolations;
        uint256 actionCount;
        uint256 orderKeyCount;
        uint256[ACTORS] paidTo;
        uint256[ACTORS] limitCapAtSet;
        uint256[ACTORS] coverageStartSet;
    }

    function ghosts() external view returns (Ghosts memory g) {
        uint256 day = _day();
        g.deposits = ghostDeposits;
        g.withdrawals = ghostWithdrawals;
        g.payouts = ghostPayouts;
        g.approvedToday = ghostApprovedInDay[day];
        g.paidToday = ghostPaidInDay[day];
        g.withdrawnToday = ghostWithdrawnInDay[day];
        g.unexpected = unexpected;
        g.pauseViolations = pauseViolations;
        g.badTransitions = badTransitions;
        g.legitFilingsFailed = legitFilingsFailed;
        g.refusalViolations = refusalViolations;
        g.approvalLimitViolations = approvalLimitViolations;
        g.payoutLimitViolations = payoutLimitViolations;
        g.withdrawalLimitViolations = withdrawalLimitViolations;
        g.policyViolations = policyViolations;
        g.balanceViolations = balanceViolations;
        g.stampViolations = stampViolations;
        g.actionCount = actionCount;
        g.orderKeyCount = orderKeys.length;
        for (uint256 i = 0; i < ACTORS; ++i) {
            g.paidTo[i] = ghostPaidTo[actors[i]];
            g.limitCapAtSet[i] = limitCapAtSet[actors[i]];
            g.coverageStartSet[i] = coverageStartSet[actors[i]];
        }
    }

    function orderKeyCount() external view returns (uint256) {
        return orderKeys.length;
    }

    function orderKey(uint256 k) external view returns (OrderKey memory) {
        return orderKeys[k];
    }

    function actorList() external view returns (address[ACTORS] memory) {
        return actors;
    }

    function orderIdOf(uint8 k) public pure returns (string memory) {
        return string(abi.encodePacked("ord-", bytes1(uint8(48 + k)), "_X"));
    }

    function instrumentOf(uint8 k) public pure returns (string memory) {
        return k == 0 ? "BTC-USDT-SWAP" : "ETH-USDT-SWAP";
    }

    // ================================================================== internals: claims

    function _file(uint256 i, uint8 ex, uint8 inst, uint8 ord, uint256 lossSeed)
        internal
        returns (bool predicted, bool ok)
    {
        address user = actors[i];
        T.PolicyView memory p = guard.getPolicy(user);
        uint256 remaining = guard.remainingCoverage(user);
        uint256 loss = lossSeed % 8 == 0 ? remaining + 1 : bound(lossSeed, 1, _max(1, _min(remaining, 3_000 * USDT)));
        bytes32 key = keccak256(abi.encode(ex, p.accountRef, inst, ord));
        bytes memory expected = _filingError(user, p, loss, remaining, key);
        predicted = expected.length == 0;
        ok = _submitAndRecord(user, OrderKey({exchange: ex, accountRef: p.accountRef, instrument: inst, orderId: ord, claimId: 0}), loss, key, expected);
    }

    /// @dev Files the claim as `user`, checks the outcome against `expected`, records the key on success.
    function _submitAndRecord(address user, OrderKey memory order, uint256 loss, bytes32 key, bytes memory expected)
        internal
        returns (bool)
    {
        uint256 id = guard.claimCount() + 1;
        (bool ok, bytes memory ret) = _as(user, _submitClaimCall(order.exchange, order.instrument, order.orderId, loss));
        if (!_expect("submitClaim", ok, ret, expected)) return false;
        if (abi.decode(ret, (uint256)) != id) _unexpected("submitClaim: id", ret);
        keyClaim[key] = id;
        order.claimId = id;
        orderKeys.push(order);
        _touch(id);
        ++nClaims;
        achieved = true;
        return true;
    }

    function _submitClaimCall(uint8 ex, uint8 inst, uint8 ord, uint256 loss) internal pure returns (bytes memory) {
        return abi.encodeCall(ILeverageGuard.submitClaim, (ex, orderIdOf(ord), instrumentOf(inst), loss));
    }

    /// @dev The exact error submitClaim must revert with, in the contract's order of checks; empty = success.
    function _filingError(address user, T.PolicyView memory p, uint256 loss, uint256 remaining, bytes32 key)
        internal
        view
        returns (bytes memory expected)
    {
        expected = _pausedError(guard.PAUSE_CLAIMS());
        if (expected.length != 0) return expected;
        uint256 deadline = p.coverageEnd + guard.claimGracePeriod();
        if (p.accountRef == bytes32(0)) {
            expected = abi.encodeWithSelector(T.NotWhitelisted.selector, user);
        } else if (p.blacklisted) {
            expected = abi.encodeWithSelector(T.UserBlacklisted.selector, user);
        } else if (_now() < p.coverageStart || _now() > deadline) {
            expected = abi.encodeWithSelector(T.OutsideCoverage.selector, user, p.coverageStart, deadline);
        } else if (loss > remaining) {
            expected = abi.encodeWithSelector(T.ClaimExceedsCoverage.selector, loss, remaining);
        } else if (keyClaim[key] != 0) {
            expected = abi.encodeWithSelector(T.DuplicateClaim.selector, keyClaim[key]);
        }
    }

    function _approvalCaps(uint256 id) internal view returns (uint256 cap, uint256 free, uint256 left) {
        T.ClaimView memory c = guard.getClaim(id);
        T.PolicyView memory p = guard.getPolicy(c.user);
        uint256 coverageLeft = p.coverageLimit > p.used ? p.coverageLimit - p.used : 0;
        cap = _min(_min(c.claimedLoss, coverageLeft), guard.maxPayoutPerClaim());
        free = guard.freeBalance();
        uint256 limit = guard.dailyApprovalLimit();
        uint256 today = guard.approvedToday();
        left = limit > today ? limit - today : 0;
    }

    function _verifyOne(uint256 id, bool approved, uint256 payout, bool rogue) internal {
        T.ClaimView memory c = guard.getClaim(id);
        (uint256 cap, uint256 free, uint256 left) = _approvalCaps(id);
        bytes memory expected = _pausedError(guard.PAUSE_VERIFICATIONS());
        if (expected.length == 0) {
            if (c.status != T.ClaimStatus.Pending) {
                expected = abi.encodeWithSelector(T.InvalidClaimStatus.selector, id, c.status);
            } else if (approved) {
                if (payout == 0) expected = abi.encodeWithSelector(T.ZeroAmount.selector);
                else if (guard.isBlacklisted(c.user)) expected = abi.encodeWithSelector(T.UserBlacklisted.selector, c.user);
                else if (payout > cap) expected = abi.encodeWithSelector(T.PayoutTooLarge.selector, payout, cap);
                else if (payout > free) expected = abi.encodeWithSelector(T.InsufficientFreeBalance.selector, payout, free);
                else if (payout > left) {
                    expected = abi.encodeWithSelector(T.DailyApprovalLimitExceeded.selector, payout, left);
                }
            }
        }
        uint256 limit = guard.dailyApprovalLimit();
        (bool ok, bytes memory ret) = _as(
            validator, abi.encodeCall(ILeverageGuard.postVerification, (id, approved, payout, EVIDENCE, uint16(payout)))
        );
        if (!_expect(rogue ? "rogueApprove" : "postVerification", ok, ret, expected)) return;
        _touch(id);
        if (approved) {
            _recordApproval(id, payout, cap, _day(), limit, rogue);
            if (guard.approvedToday() != ghostApprovedInDay[_day()]) ++approvalLimitViolations;
        } else {
            ++nRejections;
        }
        achieved = true;
    }

    function _recordApproval(uint256 id, uint256 payout, uint256 cap, uint256 day, uint256 limit, bool rogue) internal {
        ghostApprovedInDay[day] += payout;
        if (ghostApprovedInDay[day] > limit) ++approvalLimitViolations;
        approvedPayout[id] = payout;
        capAtApproval[id] = cap;
        if (guard.getClaim(id).payableAt != _now() + guard.challengePeriod()) ++stampViolations;
        ++nApprovals;
        if (rogue) ++nRogueApprovals;
    }

    /// @dev Predicts postVerifications item by item as the contract runs it: decided claims (also decided
    /// earlier in the batch) are skipped; any other bad item reverts the batch with its error. Fills the
    /// approved payouts (within the running caps) and returns, per item, 0 if skipped else 1 + its cap.
    function _simulateVerifications(T.Verification[] memory items, uint256 seed)
        internal
        view
        returns (bytes memory expected, uint256[] memory decided)
    {
        decided = new uint256[](items.length);
        expected = _pausedError(guard.PAUSE_VERIFICATIONS());
        if (expected.length != 0) return (expected, decided);
        uint256[ACTORS] memory extraUsed;
        ApprovalBudget memory b = ApprovalBudget({
            free: guard.freeBalance(),
            limit: guard.dailyApprovalLimit(),
            approvedToday: guard.approvedToday(),
            maxPayout: guard.maxPayoutPerClaim()
        });
        for (uint256 k = 0; k < items.length; ++k) {
            uint256 id = items[k].claimId;
            T.ClaimView memory c = guard.getClaim(id);
            bool decidedHere = false;
            for (uint256 j = 0; j < k; ++j) {
                if (items[j].claimId == id && decided[j] != 0) decidedHere = true;
            }
            if (decidedHere || uint8(c.status) > uint8(T.ClaimStatus.Pending)) continue;
            if (c.status != T.ClaimStatus.Pending) {
                return (abi.encodeWithSelector(T.InvalidClaimStatus.selector, id, c.status), decided);
            }
            if (!items[k].approved) {
                decided[k] = 1;
                continue;
            }
            uint256 a = _actorIndex(c.user);
            T.PolicyView memory p = guard.getPolicy(c.user);
            uint256 used = p.used + extraUsed[a];
            uint256 cap = _min(_min(c.claimedLoss, p.coverageLimit > used ? p.coverageLimit - used : 0), b.maxPayout);
            uint256 payout = bound(uint256(keccak256(abi.encode(seed, k, "payout"))), 1, _max(1, cap));
            items[k].payout = payout;
            if (p.blacklisted) return (abi.encodeWithSelector(T.UserBlacklisted.selector, c.user), decided);
            expected = _approvalError(b, payout, cap);
            if (expected.length != 0) return (expected, decided);
            b.free -= payout;
            b.approvedToday += payout;
            extraUsed[a] += payout;
            decided[k] = 1 + cap;
        }
    }

    /// @dev The running budget of one predicted verdict batch.
    struct ApprovalBudget {
        uint256 free;
        uint256 limit;
        uint256 approvedToday;
        uint256 maxPayout;
    }

    /// @dev The error an approval of `payout` against `cap` and the budget reverts with, in `_verify`'s order.
    function _approvalError(ApprovalBudget memory b, uint256 payout, uint256 cap) internal pure returns (bytes memory) {
        uint256 left = b.limit > b.approvedToday ? b.limit - b.approvedToday : 0;
        if (payout > cap) return abi.encodeWithSelector(T.PayoutTooLarge.selector, payout, cap);
        if (payout > b.free) return abi.encodeWithSelector(T.InsufficientFreeBalance.selector, payout, b.free);
        if (payout > left) return abi.encodeWithSelector(T.DailyApprovalLimitExceeded.selector, payout, left);
        return "";
    }

    // ================================================================== internals: payouts

    function _payoutBatch(uint256 seed, uint8 size, bool withRefused) internal {
        uint256 len = 1 + size % 6;
        uint256[] memory ids = new uint256[](len);
        for (uint256 k = 0; k < len; ++k) {
            uint256 s = uint256(keccak256(abi.encode(seed, k)));
            ids[k] = (k > 0 && s % 5 == 0) ? ids[s % k] : _pickClaim(s, T.ClaimStatus.Approved);
        }
        if (withRefused) {
            // block the trader of a listed claim that is payable now, so its transfer is refused
            for (uint256 k = 0; k < len; ++k) {
                T.ClaimView memory c = guard.getClaim(ids[k]);
                if (c.status == T.ClaimStatus.Approved && _now() >= c.payableAt && !guard.isBlacklisted(c.user)) {
                    token.setBlocked(c.user, true);
                    break;
                }
            }
        }
        bytes memory expected = _pausedError(guard.PAUSE_PAYOUTS());
        uint256 limit = guard.dailyPayoutLimit();
        bool[] memory pays = new bool[](len);
        bool[] memory refused = new bool[](len);
        if (expected.length == 0) {
            // in list order, first listing only: a refused transfer hands its budget back at once, so it
            // never displaces a later claim of the batch ("no failed transfer blocks another claim")
            uint256 paidToday = guard.paidOutToday();
            for (uint256 k = 0; k < len; ++k) {
                T.ClaimView memory c = guard.getClaim(ids[k]);
                bool first = true;
                for (uint256 j = 0; j < k; ++j) {
                    if (ids[j] == ids[k]) first = false;
                }
                if (!first || c.status != T.ClaimStatus.Approved || _now() < c.payableAt || guard.isBlacklisted(c.user))
                {
                    continue;
                }
                if (c.payout > (limit > paidToday ? limit - paidToday : 0)) continue;
                if (token.blocked(c.user)) {
                    refused[k] = true;
                    continue;
                }
                paidToday += c.payout;
                pays[k] = true;
            }
        }
        _payAndCheck("executePayouts", ids, pays, refused, abi.encodeCall(ILeverageGuard.executePayouts, (ids)), expected, limit);
    }

    /// @dev Runs a payout call and checks it paid exactly the `pays` claims (PayoutExecuted once each, status
    /// Paid, balances and reservation moved by their sum) and refused exactly the `refused` ones (PayoutFailed,
    /// still Approved with their payout reserved); every other listed claim is unchanged.
    function _payAndCheck(
        string memory what,
        uint256[] memory ids,
        bool[] memory pays,
        bool[] memory refused,
        bytes memory data,
        bytes memory expected,
        uint256 limit
    ) internal {
        PayoutSnapshot memory snap = _snapshotPayout(ids, pays);
        vm.recordLogs();
        (bool ok, bytes memory ret) = _as(keeper, data);
        Vm.Log[] memory logs = vm.getRecordedLogs();
        if (!_expect(what, ok, ret, expected)) return;
        (uint256 expectedExecuted, uint256 expectedFailed) = _checkPayoutClaims(ids, pays, refused, snap.before);
        _checkPayoutEvents(logs, ids, pays, refused, expectedExecuted, expectedFailed);
        _checkPayoutBalances(ids, pays, snap);
        uint256 sum = snap.sum;
        uint256 paidTodayBefore = snap.paidTodayBefore;
        if (sum != 0) {
            uint256 day = _day();
            ghostPayouts += sum;
            ghostPaidInDay[day] += sum;
            if (ghostPaidInDay[day] > limit || guard.paidOutToday() != ghostPaidInDay[day]) ++payoutLimitViolations;
            if (guard.paidOutToday() != paidTodayBefore + sum) ++payoutLimitViolations;
            nPayouts += expectedExecuted;
            achieved = true;
        }
        if (expectedFailed != 0) {
            nRefusedTransfers += expectedFailed;
            achieved = true;
        }
    }

    /// @dev What a payout call is checked against, read before it.
    struct PayoutSnapshot {
        T.ClaimView[] before;
        uint256[] traderBefore;
        uint256 sum;
        uint256 poolBefore;
        uint256 reservedBefore;
        uint256 paidTodayBefore;
    }

    function _snapshotPayout(uint256[] memory ids, bool[] memory pays) internal view returns (PayoutSnapshot memory snap) {
        uint256 len = ids.length;
        snap.before = new T.ClaimView[](len);
        snap.traderBefore = new uint256[](len);
        for (uint256 k = 0; k < len; ++k) {
            snap.before[k] = guard.getClaim(ids[k]);
            snap.traderBefore[k] = token.balanceOf(snap.before[k].user);
            if (pays[k]) snap.sum += snap.before[k].payout;
        }
        snap.poolBefore = token.balanceOf(address(guard));
        snap.reservedBefore = guard.reservedAmount();
        snap.paidTodayBefore = guard.paidOutToday();
    }

    /// @dev The pool and the reservation moved by the paid sum; each trader received exactly its paid claims.
    function _checkPayoutBalances(uint256[] memory ids, bool[] memory pays, PayoutSnapshot memory snap) internal {
        uint256 len = ids.length;
        if (
            token.balanceOf(address(guard)) != snap.poolBefore - snap.sum
                || guard.reservedAmount() != snap.reservedBefore - snap.sum
        ) ++balanceViolations;
        for (uint256 k = 0; k < len; ++k) {
            uint256 got = 0;
            for (uint256 j = 0; j < len; ++j) {
                if (pays[j] && snap.before[j].user == snap.before[k].user) got += snap.before[j].payout;
            }
            if (token.balanceOf(snap.before[k].user) != snap.traderBefore[k] + got) ++balanceViolations;
        }
    }

    function _checkPayoutClaims(
        uint256[] memory ids,
        bool[] memory pays,
        bool[] memory refused,
        T.ClaimView[] memory before
    ) internal returns (uint256 expectedExecuted, uint256 expectedFailed) {
        for (uint256 k = 0; k < ids.length; ++k) {
            T.ClaimView memory c = guard.getClaim(ids[k]);
            _touch(ids[k]);
            if (pays[k]) {
                ++expectedExecuted;
                if (c.status != T.ClaimStatus.Paid) ++refusalViolations;
                ghostPaidTo[c.user] += c.payout;
            } else if (refused[k]) {
                ++expectedFailed;
                if (c.status != T.ClaimStatus.Approved || c.payout != before[k].payout) ++refusalViolations;
            } else {
                bool paidEarlierInList = false;
                for (uint256 j = 0; j < k; ++j) {
                    if (ids[j] == ids[k] && pays[j]) paidEarlierInList = true;
                }
                if (!paidEarlierInList && c.status != before[k].status) ++refusalViolations;
            }
        }
    }

    /// @dev PayoutExecuted exactly for the `pays` claims (counted per claim for CLAIM-2), PayoutFailed exactly
    /// for the `refused` ones.
    function _checkPayoutEvents(
        Vm.Log[] memory logs,
        uint256[] memory ids,
        bool[] memory pays,
        bool[] memory refused,
        uint256 expectedExecuted,
        uint256 expectedFailed
    ) internal {
        uint256 executed;
        uint256 failed;
        for (uint256 l = 0; l < logs.length; ++l) {
            if (logs[l].emitter != address(guard) || logs[l].topics.length < 2) continue;
            bytes32 topic = logs[l].topics[0];
            uint256 id = uint256(logs[l].topics[1]);
            if (topic == PAYOUT_EXECUTED) {
                ++payoutEvents[id];
                ++executed;
                if (!_listedWith(ids, pays, id)) ++refusalViolations;
            } else if (topic == PAYOUT_FAILED) {
                ++failed;
                if (!_listedWith(ids, refused, id)) ++refusalViolations;
            }
        }
        if (executed != expectedExecuted || failed != expectedFailed) ++refusalViolations;
    }

    function _listedWith(uint256[] memory ids, bool[] memory flags, uint256 id) internal pure returns (bool) {
        for (uint256 k = 0; k < ids.length; ++k) {
            if (ids[k] == id && flags[k]) return true;
        }
        return false;
    }

    // ================================================================== internals: plumbing

    /// @dev Re-reads the claims this action touched (or all, every 16th action) and checks each status
    /// change against CLAIM-1's allowed transitions.
    function _sync(bool all) internal {
        uint256 n = guard.claimCount();
        if (n > MAX_CLAIMS) n = MAX_CLAIMS;
        if (all) {
            for (uint256 id = 1; id <= n; ++id) {
                _syncOne(id);
            }
        } else {
            for (uint256 k = 0; k < touched.length; ++k) {
                if (touched[k] <= n) _syncOne(touched[k]);
            }
            for (uint256 id = synced + 1; id <= n; ++id) {
                _syncOne(id);
            }
        }
        synced = n;
    }

    function _syncOne(uint256 id) internal {
        T.ClaimView memory c = guard.getClaim(id);
        uint8 prev = sStatus[id];
        uint8 next = uint8(c.status);
        if (prev != next) {
            bool allowed = (prev == 0 && next == 1) || (prev == 1 && (next == 2 || next == 3))
                || (prev == 2 && (next == 3 || next == 4)) || (prev == 3 && next == 1 && reopenAllowed == id);
            if (!allowed) {
                ++badTransitions;
                lastTransition = string.concat(vm.toString(id), ": ", vm.toString(uint256(prev)), " -> ", vm.toString(uint256(next)));
            }
        }
        sStatus[id] = next;
        sPayout[id] = c.payout;
        sUser[id] = c.user;
    }

    function _touch(uint256 id) internal {
        touched.push(id);
    }

    /// @dev A claim id: usually one with `preferred` status in the snapshot, else any id 1..count+1.
    function _pickClaim(uint256 seed, T.ClaimStatus preferred) internal view returns (uint256) {
        uint256 n = synced;
        if (n == 0) return 1;
        if (seed % 5 != 0) {
            for (uint256 k = 0; k < n; ++k) {
                uint256 id = 1 + (seed / 5 + k) % n;
                if (sStatus[id] == uint8(preferred)) return id;
            }
        }
        return 1 + (seed / 5) % (n + 1);
    }

    function _actorIndex(address user) internal view returns (uint256) {
        for (uint256 i = 0; i < ACTORS; ++i) {
            if (actors[i] == user) return i;
        }
        revert("unknown actor");
    }

    function _as(address who, bytes memory data) internal returns (bool ok, bytes memory ret) {
        vm.prank(who);
        (ok, ret) = address(guard).call(data);
    }

    function _schedule(bytes memory data) internal returns (uint256 id) {
        vm.prank(signers[0]);
        id = guard.propose(address(guard), 0, data);
        vm.prank(signers[1]);
        guard.confirm(id);
        uint256 readyAt = guard.getProposal(id).readyAt;
        if (_now() < readyAt) _warpTo(readyAt);
    }

    function _execute(uint256 id) internal returns (bool ok, bytes memory ret) {
        vm.prank(signers[0]);
        (ok, ret) = address(guard).call(abi.encodeCall(ILeverageGuard.execute, (id)));
    }

    function _governOk(bytes memory data) internal returns (bool ok) {
        (ok,) = _execute(_schedule(data));
    }

    function _warpTo(uint256 t) internal {
        if (t / DAY != _now() / DAY) ++nDayRollovers;
        vm.warp(t);
    }

    /// @dev Predicts one outcome: `expected` empty = success, ANY_REVERT = some revert, else this exact error.
    /// A mismatch is a violation (and a PAUSE-1 violation if the prediction was OperationPaused).
    function _expect(string memory what, bool ok, bytes memory ret, bytes memory expected) internal returns (bool) {
        bool pausePrediction = expected.length == 36 && bytes4(expected) == T.OperationPaused.selector;
        if (pausePrediction) ++nPauseChecks;
        if (expected.length == 0) {
            if (!ok) _unexpected(string.concat(what, ": reverted"), ret);
            return ok;
        }
        if (ok) {
            _unexpected(string.concat(what, ": succeeded"), expected);
            if (pausePrediction) ++pauseViolations;
            return true;
        }
        if (keccak256(expected) != keccak256(ANY_REVERT) && keccak256(ret) != keccak256(expected)) {
            _unexpected(string.concat(what, ": other error"), ret);
            if (pausePrediction) ++pauseViolations;
        }
        return false;
    }

    function _unexpected(string memory what, bytes memory data) internal {
        ++unexpected;
        lastUnexpected = what;
        lastUnexpectedData = data;
    }

    function _pausedError(uint256 bit) internal view returns (bytes memory) {
        if (guard.pausedFlags() & bit == 0) return "";
        return abi.encodeWithSelector(T.OperationPaused.selector, bit);
    }

    function _checkCoverageError(uint256 limit, uint256 end, uint256 maxCov) internal view returns (bytes memory) {
        if (limit == 0) return abi.encodeWithSelector(T.ZeroAmount.selector);
        if (limit > maxCov) return abi.encodeWithSelector(T.CoverageLimitAboveMax.selector, limit, maxCov);
        if (end <= _now()) return abi.encodeWithSelector(T.InvalidCoverageEnd.selector, end, _now());
        return "";
    }

    function _one(address a) internal pure returns (address[] memory list) {
        list = new address[](1);
        list[0] = a;
    }

    function _oneRef(bytes32 r) internal pure returns (bytes32[] memory list) {
        list = new bytes32[](1);
        list[0] = r;
    }

    /// @dev vm.getBlockTimestamp, not block.timestamp: via-IR may keep block.timestamp across a vm.warp.
    function _now() internal view returns (uint256) {
        return vm.getBlockTimestamp();
    }

    function _day() internal view returns (uint256) {
        return _now() / DAY;
    }

    function _min(uint256 a, uint256 b) internal pure returns (uint256) {
        return a < b ? a : b;
    }

    function _max(uint256 a, uint256 b) internal pure returns (uint256) {
        return a > b ? a : b;
    }
}

// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

/// @title FloorWriter
/// @notice Benchmark floor, never deployed anywhere but a local bench chain. It does the least LeverageGuard's
/// claim, verdict and whitelist functions must do: write the same packed storage slots and emit the same
/// events, with no access control, no checks and no token calls. `bench/gas.py` compares LeverageGuard's gas
/// with this contract's, measured in the same run.
/// @dev The structs mirror LeverageGuard's packing: a claim is two slots, a policy three, and the pool's
/// `reserved` total shares its slot with a non-zero `maxPayoutPerClaim`, as in LeverageGuard (so the first
/// reservation is a non-zero to non-zero write there too).
contract FloorWriter {
    enum ClaimStatus {
        None,
        Pending,
        Approved,
        Rejected,
        Paid
    }

    struct Verification {
        uint256 claimId;
        bool approved;
        uint256 payout;
        bytes32 evidenceHash;
        uint16 reasonCode;
    }

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
        uint96 used;
        uint96 legacyReserved;
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
        uint40 payableAt;
    }

    event Whitelisted(
        address indexed user, bytes32 accountRef, uint256 coverageLimit, uint256 coverageStart, uint256 coverageEnd
    );
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

    event AccountRefBound(bytes32 indexed accountRef, address indexed user);

    uint256 public claimCount;
    uint96 public maxPayoutPerClaim;
    uint128 public reserved;
    mapping(address user => Policy) internal policies;
    mapping(uint256 claimId => Claim) internal claims;
    mapping(bytes32 orderKey => uint256 claimId) internal claimIdByOrderKey;
    // The daily approval counter: one slot, written once per verdict transaction.
    uint96 internal dailyApprovalLimit = 1;
    uint32 internal approvalDay;
    uint96 internal approvedInDay;
    mapping(bytes32 accountRef => address user) internal accountRefHolder;

    constructor() {
        maxPayoutPerClaim = 5_000e6;
    }

    /// @notice Writes a policy's slots 0 and 1 and the account hash's holder; emits AccountRefBound and
    /// Whitelisted, per trader.
    function addToWhitelist(
        address[] calldata users,
        bytes32[] calldata accountRefs,
        uint256 coverageLimit,
        uint256 coverageEnd
    ) external {
        for (uint256 i = 0; i < users.length; ++i) {
            Policy storage policy = policies[users[i]];
            policy.accountRef = accountRefs[i];
            policy.coverageLimit = uint96(coverageLimit);
            policy.coverageStart = uint40(block.timestamp);
            policy.coverageEnd = uint40(coverageEnd);
            policy.whitelisted = true;
            accountRefHolder[accountRefs[i]] = users[i];
            emit AccountRefBound(accountRefs[i], users[i]);
            emit Whitelisted(users[i], accountRefs[i], coverageLimit, block.timestamp, coverageEnd);
        }
    }

    /// @notice Writes the claim counter, the order index and the claim's two slots; emits LiquidationClaimed.
    function submitClaim(uint8 exchange, string calldata orderId, string calldata instrument, uint256 claimedLoss)
        external
        returns (uint256 claimId)
    {
        claimId = ++claimCount;
        bytes32 accountRef = policies[msg.sender].accountRef;
        claimIdByOrderKey[keccak256(abi.encode(exchange, accountRef, instrument, orderId))] = claimId;
        Claim storage claim = claims[claimId];
        claim.user = msg.sender;
        claim.exchange = exchange;
        claim.status = ClaimStatus.Pending;
        claim.submittedAt = uint40(block.timestamp);
        claim.claimedLoss = uint96(claimedLoss);
        emit LiquidationClaimed(claimId, msg.sender, exchange, accountRef, orderId, instrument, claimedLoss);
    }

    /// @notice One verdict: the claim's two slots, the policy's `used` slot, the pool total and the daily
    /// approval counter.
    function postVerification(
        uint256 claimId,
        bool approved,
        uint256 payout,
        bytes32 evidenceHash,
        uint16 reasonCode
    ) external {
        uint256 total = _write(claimId, approved, payout, evidenceHash, reasonCode);
        reserved += uint128(total);
        _countApprovals(total);
    }

    /// @notice Many verdicts; the pool total and the approval counter are written once.
    function postVerifications(Verification[] calldata items) external {
        uint256 total = 0;
        for (uint256 i = 0; i < items.length; ++i) {
            Verification calldata item = items[i];
            total += _write(item.claimId, item.approved, item.payout, item.evidenceHash, item.reasonCode);
        }
        reserved += uint128(total);
        _countApprovals(total);
    }

    function _countApprovals(uint256 total) private {
        approvalDay = uint32(block.timestamp / 1 days);
        approvedInDay += uint96(total);
    }

    function _write(uint256 claimId, bool approved, uint256 payout, bytes32 evidenceHash, uint16 reasonCode)
        private
        returns (uint256)
    {
        Claim storage claim = claims[claimId];
        address user = claim.user;
        if (approved) {
            claim.status = ClaimStatus.Approved;
            claim.payout = uint96(payout);
            claim.payableAt = uint40(block.timestamp + 1 hours);
            policies[user].used += uint96(payout);
        } else {
            claim.status = ClaimStatus.Rejected;
        }
        claim.decidedAt = uint40(block.timestamp);
        claim.reasonCode = reasonCode;
        emit ClaimVerified(claimId, msg.sender, approved, payout, evidenceHash, reasonCode);
        return approved ? payout : 0;
    }
}

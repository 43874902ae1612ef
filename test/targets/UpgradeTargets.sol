// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

// The upgrade targets of the Python suite, compiled here (via-IR, like contracts/) so that forge tests can
// deploy them from their artifacts with `deployCode("LeverageGuardV2.sol:LeverageGuardV2", …)`.
import {LeverageGuardV2} from "../../tests/fixture_contracts/LeverageGuardV2.sol";
import {NonUUPSImplementation} from "../../tests/fixture_contracts/NonUUPSImplementation.sol";

"""LeverageGuard keeper: verifies liquidation claims off chain and posts verdicts on chain."""

"""Operations on a LeverageGuard deployment shared by the ape scripts, the demo and the tests."""

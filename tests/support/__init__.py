"""Helpers shared by the Python test suites (contract, keeper, cli, console, bench): builders, fakes, the
pool under test and its figures. Fixtures stay in each suite's conftest.py."""

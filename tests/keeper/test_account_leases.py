"""Which accounts a keeper takes due claims from (keeper/store/account_leases.py), without a database."""

from __future__ import annotations

from keeper.store.account_leases import AccountBacklog, AccountKey, AccountPick, pick_accounts

X: AccountKey = (2, "0xaa")
Y: AccountKey = (2, "0xbb")
Z: AccountKey = (2, "0xcc")


def backlog(
    account: AccountKey, leasable: int, first_claim_id: int, due: int | None = None
) -> AccountBacklog:
    return AccountBacklog(account, leasable if due is None else due, leasable, first_claim_id)


def test_pick_accounts__nothing_held__free_accounts_oldest_claim_first_up_to_the_limit() -> None:
    backlogs = [backlog(X, 3, 5), backlog(Y, 2, 1), backlog(Z, 4, 9)]

    assert pick_accounts("a", backlogs, {}, limit=4) == AccountPick((Y, X))  # 2 < 4: X too; 5 >= 4: not Z


def test_pick_accounts__held_accounts__kept_and_counted_against_the_limit() -> None:
    backlogs = [backlog(X, 1, 5), backlog(Y, 4, 1)]

    assert pick_accounts("a", backlogs, {X: "a"}, limit=1) == AccountPick((X,))


def test_pick_accounts__account_held_by_other_keeper__skipped() -> None:
    backlogs = [backlog(X, 3, 1), backlog(Y, 3, 2)]

    assert pick_accounts("b", backlogs, {X: "a"}, limit=10) == AccountPick((Y,))


def test_pick_accounts__held_account_without_due_claims__given_up() -> None:
    """An account with no due claims is not in the backlog: the keeper does not hold it on."""
    assert pick_accounts("a", [backlog(Y, 2, 4)], {X: "a"}, limit=10) == AccountPick((Y,))


def test_pick_accounts__nothing_free__one_account_taken_over_from_the_keeper_holding_the_most() -> None:
    backlogs = [backlog(X, 2, 1), backlog(Y, 5, 2), backlog(Z, 9, 3)]
    holders = {X: "a", Y: "a", Z: "c"}

    assert pick_accounts("b", backlogs, holders, limit=10) == AccountPick((Y,))  # a's busiest; c keeps Z


def test_pick_accounts__every_keeper_holds_one__the_busiest_account_stolen_its_lease_left() -> None:
    backlogs = [backlog(X, 2, 1), backlog(Y, 5, 2)]

    pick = pick_accounts("c", backlogs, {X: "a", Y: "b"}, limit=10)

    assert pick == AccountPick((), steal=Y)
    assert pick.accounts == (Y,)


def test_pick_accounts__own_account_with_every_claim_leased_by_others__steals_too() -> None:
    """A keeper whose account's claims another keeper is working on has nothing to lease: it helps out."""
    backlogs = [backlog(X, 0, 1, due=3), backlog(Y, 4, 2)]

    assert pick_accounts("a", backlogs, {X: "a", Y: "b"}, limit=10) == AccountPick((X,), steal=Y)


def test_pick_accounts__no_claims_at_all__nothing() -> None:
    assert pick_accounts("a", [], {X: "b"}, limit=10) == AccountPick(())

"""Hypothesis stateful test: random operation sequences never break the ledger invariants.

A plain-Python model runs beside the ledger. After every step: stock is never
negative, reserved <= on hand, the movements sum to the stock (balance check)
and the ledger equals the model. Every refused operation must leave every
table exactly as before.
"""

from __future__ import annotations

import itertools
from collections import defaultdict

from hypothesis import HealthCheck, event, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    rule,
    run_state_machine_as_test,
)

from wms.inventory_types import Condition
from wms.ledger import LedgerError
from wms.ledger.demo import tiny_ledger
from wms.ledger.storage import scratch_schemas

# A small key space (mostly valid values, some invalid) so that operations often
# meet stock that earlier steps created, and refusals are still common.
SKUS = st.sampled_from(["A", "A", "B", "B", "C", "NOPE"])
LOCS = st.sampled_from(["F1", "F1", "R1", "R1", "RET", "NOWHERE"])
CONDS = st.sampled_from([Condition.NEW, Condition.NEW, Condition.NEW, Condition.USED_GOOD])
QTYS = st.one_of(
    st.integers(min_value=1, max_value=8),
    st.integers(min_value=1, max_value=8),
    st.integers(min_value=1, max_value=8),
    st.sampled_from([0, -2, 2.5, "3", True]),
)


def operation_name(operation) -> str:
    if operation.__name__ != "<lambda>":
        return operation.__qualname__.split(".")[-3]
    return operation.__code__.co_names[-1] if operation.__code__.co_names else "?"


class LedgerMachine(RuleBasedStateMachine):
    def __init__(self, url: str = ":memory:") -> None:
        super().__init__()
        self.ledger = tiny_ledger(url)
        self.stock: dict[tuple[str, str, Condition], list[int]] = defaultdict(lambda: [0, 0])
        self.reservations: dict[int, list] = {}
        self.transfers: dict[int, list] = {}
        self.sold: dict[str, int] = defaultdict(int)
        self.returned: dict[str, int] = defaultdict(int)

    @staticmethod
    def some_id(known: dict[int, list]) -> st.SearchStrategy[int]:
        """Mostly an id that is still open, sometimes a closed or unknown one."""
        open_ids = sorted(k for k, v in known.items() if v[1] > 0)
        others = st.integers(min_value=1, max_value=len(known) + 2)
        return st.one_of(st.sampled_from(open_ids), others) if open_ids else others

    def attempt(self, operation, on_success) -> None:
        """Run one ledger operation; on refusal the database must be byte-for-byte unchanged."""
        before = self.ledger.snapshot()
        try:
            result = operation()
        except LedgerError:
            assert self.ledger.snapshot() == before
            event(f"{operation_name(operation)} refused")
            return
        on_success(result)
        event(f"{operation_name(operation)} applied")

    @initialize(qty=st.integers(min_value=1, max_value=30))
    def opening_stock(self, qty) -> None:
        for sku, loc in (("A", "F1"), ("A", "R1"), ("B", "R1")):
            self.ledger.receive(sku, loc, qty)
            self.stock[(sku, loc, Condition.NEW)][0] += qty

    @rule(sku=SKUS, loc=LOCS, qty=QTYS, cond=CONDS)
    def receive(self, sku, loc, qty, cond) -> None:
        self.attempt(
            lambda: self.ledger.receive(sku, loc, qty, cond),
            lambda _: self.stock[(sku, loc, cond)].__setitem__(
                0, self.stock[(sku, loc, cond)][0] + qty
            ),
        )

    @rule(sku=SKUS, loc=LOCS, qty=QTYS, cond=CONDS)
    def reserve(self, sku, loc, qty, cond) -> None:
        def done(rid: int) -> None:
            self.stock[(sku, loc, cond)][1] += qty
            self.reservations[rid] = [(sku, loc, cond), qty]

        self.attempt(lambda: self.ledger.reserve(sku, loc, qty, cond), done)

    @rule(data=st.data(), qty=st.one_of(st.none(), QTYS))
    def release(self, data, qty) -> None:
        rid = data.draw(self.some_id(self.reservations))

        def done(_: int) -> None:
            key, open_qty = self.reservations[rid]
            taken = open_qty if qty is None else qty
            self.reservations[rid][1] -= taken
            self.stock[key][1] -= taken

        self.attempt(lambda: self.ledger.release(rid, qty), done)

    @rule(sku=SKUS, loc=LOCS, qty=QTYS, cond=CONDS)
    def pick(self, sku, loc, qty, cond) -> None:
        def done(_: int) -> None:
            self.stock[(sku, loc, cond)][0] -= qty
            self.sold[sku] += qty

        self.attempt(lambda: self.ledger.pick(sku, loc, qty, cond), done)

    @rule(data=st.data(), qty=st.one_of(st.none(), QTYS))
    def pick_reserved(self, data, qty) -> None:
        rid = data.draw(self.some_id(self.reservations))

        def done(_: int) -> None:
            key, open_qty = self.reservations[rid]
            taken = open_qty if qty is None else qty
            self.reservations[rid][1] -= taken
            self.stock[key][0] -= taken
            self.stock[key][1] -= taken
            self.sold[key[0]] += taken

        self.attempt(lambda: self.ledger.pick_reserved(rid, qty), done)

    @rule(sku=SKUS, src=LOCS, dst=LOCS, qty=QTYS, cond=CONDS)
    def move(self, sku, src, dst, qty, cond) -> None:
        def done(_: int) -> None:
            self.stock[(sku, src, cond)][0] -= qty
            self.stock[(sku, dst, cond)][0] += qty

        self.attempt(lambda: self.ledger.move(sku, src, dst, qty, cond), done)

    @rule(sku=SKUS, loc=LOCS, delta=st.integers(min_value=-6, max_value=6), cond=CONDS)
    def adjust(self, sku, loc, delta, cond) -> None:
        self.attempt(
            lambda: self.ledger.adjust(sku, loc, delta, cond),
            lambda _: self.stock[(sku, loc, cond)].__setitem__(
                0, self.stock[(sku, loc, cond)][0] + delta
            ),
        )

    @rule(sku=SKUS, loc=LOCS, qty=QTYS, old=CONDS, new=CONDS)
    def regrade(self, sku, loc, qty, old, new) -> None:
        def done(_: int) -> None:
            self.stock[(sku, loc, old)][0] -= qty
            self.stock[(sku, loc, new)][0] += qty

        self.attempt(lambda: self.ledger.regrade(sku, loc, qty, old, new), done)

    @rule(sku=SKUS, loc=LOCS, qty=QTYS, cond=CONDS)
    def return_in(self, sku, loc, qty, cond) -> None:
        def done(_: int) -> None:
            self.stock[(sku, loc, cond)][0] += qty
            self.returned[sku] += qty

        self.attempt(lambda: self.ledger.return_in(sku, loc, qty, cond), done)

    @rule(sku=SKUS, src=st.one_of(st.none(), LOCS), dst=LOCS, qty=QTYS, cond=CONDS)
    def dispatch(self, sku, src, dst, qty, cond) -> None:
        def done(tid: int) -> None:
            if src is not None:
                self.stock[(sku, src, cond)][0] -= qty
            self.transfers[tid] = [(sku, dst, cond), qty]

        self.attempt(lambda: self.ledger.dispatch(sku, dst, qty, src, cond), done)

    @rule(data=st.data(), qty=st.one_of(st.none(), QTYS))
    def arrive(self, data, qty) -> None:
        tid = data.draw(self.some_id(self.transfers))

        def done(_: int) -> None:
            key, open_qty = self.transfers[tid]
            taken = open_qty if qty is None else qty
            self.transfers[tid][1] -= taken
            self.stock[key][0] += taken

        self.attempt(lambda: self.ledger.arrive(tid, qty), done)

    @rule(sku=SKUS, src=LOCS, dst=LOCS, qty=QTYS, take=QTYS)
    def batch(self, sku, src, dst, qty, take) -> None:
        """Receive, move and pick in one transaction: all of it happens or none of it."""

        def operation() -> None:
            with self.ledger.transaction():
                self.ledger.receive(sku, src, qty)
                self.ledger.move(sku, src, dst, qty)
                self.ledger.pick(sku, dst, take)

        def done(_: None) -> None:
            self.stock[(sku, dst, Condition.NEW)][0] += qty - take
            self.sold[sku] += take

        self.attempt(operation, done)

    @invariant()
    def never_negative_and_reserved_within_on_hand(self) -> None:
        for row in self.ledger.stock(include_empty=True):
            assert row.on_hand >= 0
            assert 0 <= row.reserved <= row.on_hand

    @invariant()
    def movements_sum_to_stock(self) -> None:
        report = self.ledger.balance_check()
        assert report.ok, report.problems

    @invariant()
    def ledger_matches_model(self) -> None:
        actual = {
            (r.sku, r.location_id, r.condition): [r.on_hand, r.reserved]
            for r in self.ledger.stock(include_empty=True)
            if r.on_hand or r.reserved
        }
        expected = {k: v for k, v in self.stock.items() if v[0] or v[1]}
        assert actual == expected
        assert {t.transfer_id: t.qty for t in self.ledger.transfers()} == {
            k: v[1] for k, v in self.transfers.items() if v[1]
        }
        for sku in ("A", "B", "C"):
            assert self.ledger.sold_qty(sku) == self.sold[sku]
            assert self.ledger.returned_qty(sku) <= self.ledger.sold_qty(sku)

    def teardown(self) -> None:
        self.ledger.close()


LedgerMachine.TestCase.settings = settings(
    max_examples=120,
    stateful_step_count=50,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
TestLedgerInvariants = LedgerMachine.TestCase
TestLedgerInvariants.__doc__ = "Random operation sequences keep every ledger invariant."


def test_ledger_invariants_on_postgresql(postgres_database: str) -> None:
    """The same machine on a real PostgreSQL server, each example in a new schema."""
    names = itertools.count()
    with scratch_schemas(postgres_database) as new_url:
        run_state_machine_as_test(
            lambda: LedgerMachine(new_url(f"example{next(names)}")),
            settings=settings(
                max_examples=30,
                stateful_step_count=30,
                deadline=None,
                suppress_health_check=[HealthCheck.too_slow],
            ),
        )

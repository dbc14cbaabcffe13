"""`LedgerBooker`: returns and top-ups booked in the ledger only when a robot's drop is
reported, each exactly once however often or in whatever order reports arrive."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from fleet.manager.booking import LedgerBooker
from fleet.manager.events import ConfirmPicks
from fleet.manager.model import PickLine, Stop, StopAction, TaskKind, TaskSpec
from wms.inventory_types import Condition, LocationKind
from wms.ledger import Ledger, LocationRecord, SkuRecord
from wms.returns import Cosmetic, FunctionalTest, Inspection, Packaging, ReturnReason, load_policy

STATION = (0, 5)
LOCATIONS = (
    LocationRecord("F1", LocationKind.FORWARD, (1, 1)),
    LocationRecord("R1", LocationKind.RESERVE, (1, 2)),
    LocationRecord("R2", LocationKind.RESERVE, (1, 3)),
    LocationRecord("RET-D1", LocationKind.RETURNS, (0, 0)),
    LocationRecord("D1", LocationKind.DOCK, (0, 0)),
)


def sold_ledger(sold: int) -> Ledger:
    ledger = Ledger.open(":memory:")
    ledger.add_skus([SkuRecord("A", "kettle", "general", 30.0)])
    ledger.add_locations(LOCATIONS)
    ledger.set_forward_slot("F1", "A", 4, 10)
    ledger.receive("A", "R1", 50)
    ledger.receive("A", "F1", 10)
    ledger.pick("A", "F1", sold, ref="sold before")
    return ledger


def inspection(i: int, cosmetic: Cosmetic) -> Inspection:
    return Inspection(
        f"RMA-{i}",
        "A",
        "general",
        30.0,
        ReturnReason.UNWANTED_ITEM,
        Packaging.OPENED,
        cosmetic,
        FunctionalTest.PASS,
    )


def drop(spec: TaskSpec) -> ConfirmPicks:
    index, stop = next((i, s) for i, s in enumerate(spec.stops) if s.lines)
    assert stop.action is StopAction.DROP
    return ConfirmPicks(spec.task_id, "sim/r0", index, stop.lines)


def return_movements(ledger: Ledger) -> list[str]:
    return [m.ref for m in ledger.movements() if m.kind.value == "return-in"]


@settings(max_examples=40, deadline=None)
@given(
    cosmetics=st.lists(st.sampled_from(list(Cosmetic)), min_size=1, max_size=5),
    repeats=st.lists(st.integers(1, 3), min_size=10, max_size=10),
    order=st.randoms(use_true_random=False),
)
def test_each_return_is_booked_once_and_only_at_its_putaway_drop(
    cosmetics: list[Cosmetic], repeats: list[int], order: object
) -> None:
    ledger = sold_ledger(sold=5)
    booker = LedgerBooker(ledger, replenish=False, policy=load_policy())
    inbound = [
        booker.receive_return(inspection(i, c), "RET-D1", STATION) for i, c in enumerate(cosmetics)
    ]
    assert all(t.kind is TaskKind.RETURN_TO_INSPECTION for t in inbound)
    assert all(t.stops[0].cell == (0, 0) and t.stops[-1].cell == STATION for t in inbound)
    reports = [drop(t) for t, n in zip(inbound, repeats, strict=False) for _ in range(n)]
    order.shuffle(reports)  # type: ignore[attr-defined]
    for report in reports:
        booker.confirm(report)
    assert return_movements(ledger) == []  # at inspection: graded, not yet in stock
    putaways = booker.take_requests()
    assert sorted(t.task_id for t in putaways) == sorted(
        f"putaway-RMA-{i}" for i in range(len(cosmetics))
    )
    assert all(t.kind is TaskKind.PUTAWAY and t.stops[0].cell == STATION for t in putaways)
    reports = [drop(t) for t, n in zip(putaways, reversed(repeats), strict=False) for _ in range(n)]
    order.shuffle(reports)  # type: ignore[attr-defined]
    for report in reports:
        booker.confirm(report)
    assert sorted(return_movements(ledger)) == sorted(f"RMA-{i}" for i in range(len(cosmetics)))
    assert booker.returns_open == 0 and booker.take_requests() == []
    for outcome in booker.returns:  # in stock where the robot dropped it, with its grade
        assert ledger.on_hand("A", outcome.destination, outcome.grade) >= 1
    assert ledger.balance_check().ok


def test_refused_return_is_counted_not_booked() -> None:
    """Two returns of one sold unit: the second putaway is refused by the ledger."""
    ledger = sold_ledger(sold=1)
    booker = LedgerBooker(ledger, replenish=False, policy=load_policy())
    for i in range(2):
        booker.confirm(
            drop(booker.receive_return(inspection(i, Cosmetic.AS_NEW), "RET-D1", STATION))
        )
    for spec in booker.take_requests():
        booker.confirm(drop(spec))
    assert (len(booker.returns), booker.returns_refused) == (1, 1)
    assert return_movements(ledger) == ["RMA-0"] and ledger.balance_check().ok


def test_a_face_that_cannot_cover_the_coming_picks_is_topped_up_by_a_robot() -> None:
    """The wave-release trigger: F1 holds 5, the submitted picks want 8 → one replenish task
    from reserve, booked as a move only when its drop is reported."""
    ledger = sold_ledger(sold=5)
    booker = LedgerBooker(ledger)
    line = PickLine("b/0", "o1", "A", 8, "F1")
    picks = TaskSpec(
        "batch-1", TaskKind.PICK_ROUTE, (Stop((1, 1), StopAction.PICK_LINES, lines=(line,)),)
    )
    booker.expect([picks])
    (top_up,) = booker.take_requests()
    assert top_up.kind is TaskKind.REPLENISH and top_up.stops[0].cell == (1, 2)
    assert ledger.on_hand("A", "F1") == 5  # nothing moves before the robot does
    booker.confirm(drop(top_up))
    booker.confirm(drop(top_up))  # a repeated report moves nothing twice
    assert ledger.on_hand("A", "F1") == 10 and booker.moves == 1
    assert ledger.on_hand("A", "R1", Condition.NEW) == 45

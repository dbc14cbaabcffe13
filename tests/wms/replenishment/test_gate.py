"""`wms.replenishment.gate`: a pick task goes only when its faces cover it, waits first come
first served for a top-up the warehouse can bring, and goes uncovered only when the face
and the reserve together cannot cover it."""

from __future__ import annotations

from wms.replenishment.gate import FaceStock, HeldTask, Need, ShortReason, gate


def task(task_id: str, *needs: tuple[str, int]) -> HeldTask:
    return HeldTask(
        task_id, tuple(Need(f"{task_id}/{i}", face, qty) for i, (face, qty) in enumerate(needs))
    )


FACES = {
    "F1": FaceStock("A", on_hand=10, claimed=4, capacity=10),
    "F2": FaceStock("B", on_hand=5, claimed=0, capacity=10),
}


def test_covered_tasks_go_and_a_short_face_waits_for_its_top_up() -> None:
    """F1 has 6 free: t1 (5) goes; t2 (3) waits for a top-up of 2, which the reserve has."""
    decision = gate([task("t1", ("F1", 5)), task("t2", ("F1", 3))], FACES, {"A": 100})
    assert decision.release == ("t1",)
    assert decision.waiting == {"F1": 2} and not decision.uncovered


def test_waiting_is_first_come_first_served_per_face() -> None:
    """t1 waits at F1 and keeps F2's 5 units: t2, which needs only 1 at F2, waits behind it
    (a top-up of F2 is due) instead of taking what t1 waits with."""
    held = [task("t1", ("F1", 8), ("F2", 5)), task("t2", ("F2", 1))]
    decision = gate(held, FACES, {"A": 100, "B": 100})
    assert decision.release == ()
    assert decision.waiting == {"F1": 2, "F2": 1}


def test_a_line_the_warehouse_cannot_cover_goes_uncovered() -> None:
    """F1 has 6 free and the reserve 1: a line of 8 cannot be covered, so it does not hold
    its task back; a face with no forward slot, or a line larger than the face, likewise."""
    faces = {**FACES, "X": FaceStock("C", on_hand=0, claimed=0, capacity=None)}
    held = [task("t1", ("F1", 8), ("F2", 2)), task("t2", ("X", 1)), task("t3", ("F2", 11))]
    decision = gate(held, faces, {"A": 1, "B": 100, "C": 5})
    assert decision.release == ("t1", "t2", "t3")
    assert decision.uncovered == {
        "t1/0": ShortReason.OUT_OF_STOCK,
        "t2/0": ShortReason.NOT_REPLENISHED,
        "t3/0": ShortReason.FACE_TOO_SMALL,
    }
    assert decision.waiting == {}


def test_reserve_kept_for_an_earlier_task_is_not_promised_twice() -> None:
    """F1 has 6 free and the reserve 4: t1 (10) waits for all 4; t2 (1) cannot be covered."""
    decision = gate([task("t1", ("F1", 10)), task("t2", ("F1", 1))], FACES, {"A": 4})
    assert decision.release == ("t2",)
    assert decision.uncovered == {"t2/0": ShortReason.OUT_OF_STOCK}
    assert decision.waiting == {"F1": 4}


def test_two_lines_at_one_face_are_gated_one_by_one() -> None:
    """F1 has 6 free and the reserve 1: of a task's two lines of 4 there the first is
    covered and the second (2 left + 1 in reserve < 4) uncovered, so the task goes; with a
    second line of 3 it waits for the one reserve unit instead."""
    decision = gate([task("t1", ("F1", 4), ("F1", 4))], FACES, {"A": 1})
    assert decision.release == ("t1",) and decision.uncovered == {"t1/1": ShortReason.OUT_OF_STOCK}
    decision = gate([task("t1", ("F1", 4), ("F1", 3))], FACES, {"A": 1})
    assert decision.release == () and decision.waiting == {"F1": 1}


def test_waiting_tasks_report_the_units_they_keep() -> None:
    """t1 waits at F1 (8 of its 6 free) and keeps F2's 5 as well; t2 goes with a line the
    reserve cannot cover. `kept` is what t1 holds at each face, so the caller lets t2's
    uncovered line take only units beyond it."""
    held = [task("t1", ("F1", 8), ("F2", 5)), task("t2", ("F2", 1))]
    decision = gate(held, FACES, {"A": 100, "B": 0})
    assert decision.release == ("t2",)
    assert decision.uncovered == {"t2/0": ShortReason.OUT_OF_STOCK}
    assert decision.kept == {"F1": 8, "F2": 5}

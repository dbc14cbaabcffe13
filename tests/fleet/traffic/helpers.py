"""Shared by the traffic planner tests: random floors, and the step check through the
independent checker."""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

from fleet.traffic.check import check_step
from fleet.traffic.graph import row_col
from fleet.traffic.planner import ActionModel


@st.composite
def scenarios(draw):
    """A random small floor (every third cell free), a robot count and a seed."""
    height = draw(st.integers(2, 7))
    width = draw(st.integers(2, 7))
    bits = draw(st.lists(st.booleans(), min_size=height * width, max_size=height * width))
    nav = ~np.array(bits, dtype=bool).reshape(height, width) | (
        np.arange(height * width).reshape(height, width) % 3 != 0
    )
    free = np.flatnonzero(nav.ravel())
    count = draw(st.integers(1, max(1, min(len(free), 12))))
    seed = draw(st.integers(0, 2**16))
    return nav, count, seed


def random_fleet(
    nav: np.ndarray, count: int, seed: int
) -> tuple[np.random.Generator, np.ndarray, np.ndarray, np.ndarray]:
    """A seeded generator, the free cells, ``count`` distinct start cells and headings."""
    rng = np.random.default_rng(seed)
    free = np.flatnonzero(nav.ravel())
    cells = rng.choice(free, count, replace=False)
    return rng, free, cells, rng.integers(0, 4, count)


def assert_legal_step(
    nav: np.ndarray,
    before: np.ndarray,
    after: np.ndarray,
    model: ActionModel,
    headings_before: np.ndarray | None = None,
    headings_after: np.ndarray | None = None,
    step: int = 0,
) -> None:
    """Flat cells (and headings) before and after one step pass `check_step`."""
    width = nav.shape[1]
    rotation = model is ActionModel.ROTATION
    found = check_step(
        nav,
        row_col(before, width),
        row_col(after, width),
        step=step,
        model=model,
        headings_before=headings_before if rotation else None,
        headings_after=headings_after if rotation else None,
    )
    assert found == [], found


class SteppingClock:
    """A fake clock: each reading is ``step`` seconds after the last."""

    def __init__(self, step: float) -> None:
        self.now, self.step = 0.0, step

    def __call__(self) -> float:
        self.now += self.step
        return self.now

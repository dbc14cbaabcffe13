"""Small floors for the traffic tests, written as rows of a MovingAI map."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

from wms.layout.grid import passable_mask
from wms.layout.mapfile import parse_map

# A loop core with dead-end aisles two cells deep hanging off it.
DEAD_ENDS = ["..........", ".TTTT.TT..", "..........", "T.T.T.T.TT", "T.T.T.T.TT"]


def floor_of(rows: list[str]) -> np.ndarray:
    text = f"type octile\nheight {len(rows)}\nwidth {len(rows[0])}\nmap\n" + "\n".join(rows)
    return passable_mask(parse_map(text, "test"))


@pytest.fixture
def make_floor() -> Callable[[list[str]], np.ndarray]:
    """Navigable mask from map rows."""
    return floor_of


@pytest.fixture
def dead_end_floor() -> np.ndarray:
    """A dense little floor whose goals include dead-end aisle ends."""
    return floor_of(DEAD_ENDS)

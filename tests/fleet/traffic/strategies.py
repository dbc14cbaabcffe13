"""Hypothesis strategies shared by the traffic planner tests."""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st


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

"""Robot kinds: what a robot can carry, which decides the tasks it may take.

Here, not in `fleet.manager.model`, because the assignment core's feasibility
rules need it and must not depend on the manager; `fleet.manager.model`
re-exports it, so there is one `RobotKind`.
"""

from __future__ import annotations

import enum


class RobotKind(enum.Enum):
    """What a robot can carry; it decides which tasks it may take."""

    AMR = "amr"
    """Carries totes along a multi-stop pick route."""
    AGV = "agv"
    """Lifts storage pods (racks) and brings them to a station: goods-to-person."""

"""The bus and protocol stay free of pygame and the simulator."""

from __future__ import annotations

import subprocess
import sys


def test_fleet_bus_imports_neither_pygame_nor_sim() -> None:
    """Importing every bus and protocol module loads no pygame and no sim module."""
    code = (
        "import sys, fleet.protocol, fleet.protocol.positions, fleet.bus.server, "
        "fleet.bus.robot_client, fleet.bus.subscriber, fleet.bus.bench; "
        "bad = [m for m in sys.modules if m.split('.')[0] in ('pygame', 'sim')]; "
        "print(bad); sys.exit(1 if bad else 0)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr

"""Dispatch: who does which task — the assignment core shared by the fleet manager and traffic.

Pure: plain offers and `FloorDistances` in, an `Assignment` out. The fleet
manager's assignment phase (`fleet.manager.core`) and the Robot Runners 2024
scheduler (`fleet.traffic.schedule`) both call this code, so neither depends
on the other: `fleet.traffic` never imports `fleet.manager`
(tests/test_architecture.py).
"""

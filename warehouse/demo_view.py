"""The supervisor viewer on a running day: what the demo's ``--view`` and ``--screenshot`` do.

Each tick the viewer gets the manager's fleet snapshot plus what only the
simulator knows (each robot's activity, where robots waited, KPIs so far). Its
controls act on the run: block or unblock a cell (the fleet is told, the world
gets the obstacle once no robot holds the cell), break a robot, pause, speed.
With ``--view`` the lockstep run is paced to the viewer's speed (× real time).
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from sim.kpi import compute_kpis
from sim.record import RunRecord
from sim.viewer.controls import BlockCell, BreakRobot, SetPaused, SetSpeed, ViewerRequest
from sim.viewer.live import Viewer
from sim.viewer.view_model import ViewExtras
from warehouse.floor_sim import LockstepFloor
from wms.layout import Cell, Floor

KPI_KEYS = (
    "orders_per_hour",
    "lines_per_hour",
    "cycle_time_s_p50",
    "cycle_time_s_p90",
    "utilisation",
    "waiting_share",
    "charging_share",
    "energy_kwh",
)


class DemoView:
    def __init__(self, floor: Floor, window: bool, screenshot: Path | None) -> None:
        self.viewer = Viewer(floor, "window" if window else "image", on_request=self._request)
        self.window = window
        self.screenshot_path = screenshot
        self.paused = False
        self.speed = 10.0
        self.pending_blocks: list[tuple[Cell, bool]] = []
        self.breaks: list[str] = []
        self.waiting = np.zeros(floor.shape, dtype=np.int64)
        self._wall = time.monotonic()
        self._sim = 0.0
        self.record: RunRecord | None = None
        self._last: LockstepFloor | None = None
        self._snapshot: dict | None = None
        self._kpis: dict | None = None
        self._draws = 0

    def _request(self, request: ViewerRequest) -> None:
        if isinstance(request, BlockCell):
            self.pending_blocks.append((request.cell, request.blocked))
        elif isinstance(request, BreakRobot):
            self.breaks.append(request.robot)
        elif isinstance(request, SetPaused):
            self.paused = request.paused
        elif isinstance(request, SetSpeed):
            self.speed = max(0.1, request.factor)

    def on_tick(self, lock: LockstepFloor, record: RunRecord) -> None:
        self._last, self.record = lock, record
        for sample in record.samples[-len(record.robots) :]:
            if sample.activity.value == "waiting":
                self.waiting[sample.cell] += 1
        self._apply(lock)
        if not self.window:
            self._snapshot = lock.service.call(lambda core: core.snapshot())
            return
        self._draw(lock, record)
        while self.paused and self.viewer.running:  # keep the window alive while paused
            time.sleep(0.03)
            self._draw(lock, record)
        due = self._wall + (lock.now_s - self._sim) / self.speed
        while time.monotonic() < due and self.viewer.running:
            time.sleep(min(0.03, due - time.monotonic()))
            self._draw(lock, record)
        self._wall, self._sim = time.monotonic(), lock.now_s

    def _apply(self, lock: LockstepFloor) -> None:
        for cell, blocked in self.pending_blocks:
            if blocked:
                lock.service.call(lambda core, c=cell: core.block([c]))
                lock.pending_blocks.add(cell)
            else:
                lock.pending_blocks.discard(cell)
                assert lock.runner is not None
                lock.runner.block([cell], blocked=False)
                lock.service.call(lambda core, c=cell: core.block([c], blocked=False))
        self.pending_blocks.clear()
        for robot in self.breaks:
            if lock.runner is not None and robot in lock.runner.robot_ids:
                lock.runner.break_down(robot)
        self.breaks.clear()

    def _draw(self, lock: LockstepFloor | None, record: RunRecord) -> None:
        if lock is not None:
            self._snapshot = lock.service.call(lambda core: core.snapshot())
        snapshot = self._snapshot
        last = {s.robot: s.activity for s in record.samples[-len(record.robots) :]}
        self._draws += 1
        if self._kpis is None or self._draws % 30 == 0 or lock is None:
            self._kpis = {k: v for k, v in compute_kpis(record).as_dict().items() if k in KPI_KEYS}
        extras = ViewExtras(activity=last, heatmap=self.waiting, kpis=self._kpis)
        self.viewer.update(snapshot, extras)

    def finish(self) -> Path | None:
        """Save the screenshot asked for (of the last tick) and close the viewer."""
        path = None
        if self.screenshot_path is not None and self._snapshot is not None and self.record:
            self._draw(None, self.record)
            path = self.viewer.screenshot(self.screenshot_path)
        self.viewer.close()
        return path

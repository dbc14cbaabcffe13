"""Scenario files: the TOML contract that tests and outside users script runs with.

A scenario names a config (the floor and every package's section), the fleet,
the orders, the opening stock and a list of faults. The format is documented
key by key in ``docs/scenarios.md``; in short::

    [scenario]
    config = "../default.toml"   # relative to this file; required
    seed = 4                     # default 0
    max_sim_s = 36000            # required: the run stops here even if orders remain
    mode = "picking"             # picking | goods_to_person | sortation (default picking)
    seconds_per_tick = 1.0       # default 1.0
    start_battery_pct = 80       # default: the robot model's (full)
    [robots]
    amr = 20                     # and/or agv = N; robot i < amr is an AMR, then the AGVs
    starts = [[r, c], ...]       # optional, one cell per robot
    [orders]
    count = 200                  # synthetic; or csv = "orders.csv"; neither: the config's
    [stock]
    source = "demo"              # the demo history (default); or csv = "stock.csv"
    [returns]
    count = 20                   # customer returns reaching the docks (default 0)
    at_s = 0                     # the first arrives then, one every interval_s (30)
    station = "P4"               # the inspection station (default: the floor's last)
    [[faults]]
    at_s = 300
    kind = "breakdown"           # breakdown | comm_loss | block | station_closed | battery_drain
    robot = 3                    # robot faults: index in the fleet
    duration_s = 120             # omitted: until the end (not for battery_drain)

``battery_drain`` takes ``pct``: the battery is *set to* that percent at
``at_s`` (a sudden drain, like a cell failing), once. ``block`` takes
``cells = [[r, c], ...]`` or ``polygon = [[x, y], ...]`` in metres (rasterised
by cell centre, like zones). ``station_closed`` takes ``station``: a station
point id (``"P2"``) or its index among the floor's stations.

Reading is in two steps because `sim` sits below `warehouse`, which loads
configs: `load_scenario` checks everything that needs no floor (keys, types,
times, kinds, robot indices, that the files named exist); `bind` then checks
the scenario against the `Floor` the caller loaded from ``scenario.config``
(cells and polygons on the floor, stations known, starts on free cells that no
fault blocks at time 0). Every refusal is an `InputError` naming the scenario
file and the line of the offending key or table.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Annotated

from core.config import (
    AtLeast,
    ExistingFile,
    Percent,
    Positive,
    TomlLines,
    Where,
    known_keys,
    load,
    read_toml,
)
from core.errors import dotted
from wms.errors import InputError
from wms.layout import Cell, Floor, ZoneKind
from wms.layout.zones import make_zone
from wms.orders import OrderBook
from wms.planning import load_order_book
from wms.planning_config import PlanningConfig

PathPart = str | int
NonNegative = Annotated[float, AtLeast(0)]


class Mode(enum.Enum):
    """The floor style a scenario runs: which robots do what."""

    PICKING = "picking"
    """AMRs carry totes along pick routes from the wave plan."""
    GOODS_TO_PERSON = "goods_to_person"
    """AGVs bring pods to the stations."""
    SORTATION = "sortation"
    """AMRs carry parcels from induct stations to their destination's chute."""


MODE_ROBOT_KIND = {Mode.PICKING: "amr", Mode.GOODS_TO_PERSON: "agv", Mode.SORTATION: "amr"}
"""The robot kind a mode's work needs: the scenario must have at least one."""


class FaultKind(enum.Enum):
    BREAKDOWN = "breakdown"
    COMM_LOSS = "comm_loss"
    BLOCK = "block"
    STATION_CLOSED = "station_closed"
    BATTERY_DRAIN = "battery_drain"

    @property
    def is_robot_fault(self) -> bool:
        """Robot faults name a robot; the others change the floor."""
        return self in ROBOT_FAULTS


ROBOT_FAULTS = frozenset({FaultKind.BREAKDOWN, FaultKind.COMM_LOSS, FaultKind.BATTERY_DRAIN})

_FAULT_KEYS = {
    FaultKind.BREAKDOWN: ("robot", "duration_s"),
    FaultKind.COMM_LOSS: ("robot", "duration_s"),
    FaultKind.BATTERY_DRAIN: ("robot", "pct"),
    FaultKind.BLOCK: ("cells", "polygon", "duration_s"),
    FaultKind.STATION_CLOSED: ("station", "duration_s"),
}
"""Keys each fault kind takes besides ``at_s`` and ``kind``."""


class StockSource(enum.Enum):
    DEMO = "demo"
    """The opening stock of the demo history."""
    CSV = "csv"
    """A stock file named by ``[stock] csv``."""


StationKey = str | Annotated[int, AtLeast(0)]
"""A station named by id (``"P2"``) or by index among the floor's stations."""


@dataclass(frozen=True)
class Fault:
    """One ``[[faults]]`` entry as written; floor faults get their cells from `bind`.

    ``index`` is its position in the file (from 0) and ``line`` the line of its header.
    """

    index: int
    line: int
    kind: FaultKind
    at_s: float
    duration_s: float | None = None
    robot: int | None = None
    pct: float | None = None
    cells: tuple[Cell, ...] = ()
    polygon: tuple[tuple[float, float], ...] | None = None
    station: str | int | None = None

    @property
    def end_s(self) -> float:
        """When the fault ends: ``inf`` for until the end (and for a one-off drain)."""
        return math.inf if self.duration_s is None else self.at_s + self.duration_s


@dataclass(frozen=True)
class Robots:
    """The fleet: ``amr`` AMRs (indices ``0..amr-1``), then ``agv`` AGVs."""

    amr: Annotated[int, AtLeast(0)] = 0
    agv: Annotated[int, AtLeast(0)] = 0
    starts: tuple[Cell, ...] | None = None

    @property
    def size(self) -> int:
        return self.amr + self.agv

    def kind_of(self, index: int) -> str:
        """``"amr"`` or ``"agv"`` for a robot index of the fleet."""
        if not 0 <= index < self.size:
            raise IndexError(f"robot {index} is not in a fleet of {self.size}")
        return "amr" if index < self.amr else "agv"

    def validate(self, where: Where) -> None:
        """Called by `core.config.load`."""
        if self.size == 0:
            raise where.error("needs at least one robot (amr = N and/or agv = N)")
        starts = self.starts
        if starts is None:
            return
        if len(starts) != self.size:
            raise (where / "starts").error(f"has {len(starts)} cells for {self.size} robots")
        if len(set(starts)) != len(starts):
            twice = next(c for c in starts if starts.count(c) > 1)
            raise (where / "starts").error(f"two robots start on cell {list(twice)}")


@dataclass(frozen=True)
class Orders:
    """``count`` synthetic orders, or the orders of ``csv``; neither: the config's profile."""

    count: Annotated[int, AtLeast(1)] | None = None
    csv: Path | None = None

    def validate(self, where: Where) -> None:
        """Called by `core.config.load`."""
        if self.count is not None and self.csv is not None:
            raise (where / "csv").error("give count or csv, not both")
        if self.csv is not None:
            ExistingFile.check(self.csv, where / "csv")


@dataclass(frozen=True)
class Stock:
    source: StockSource = StockSource.DEMO
    csv: Path | None = None


@dataclass(frozen=True)
class StockSection:
    """``[stock]`` as written: ``csv`` alone implies ``source = "csv"``."""

    source: StockSource | None = None
    csv: Path | None = None

    def validate(self, where: Where) -> None:
        """Called by `core.config.load`."""
        if self.csv is not None:
            if self.source not in (None, StockSource.CSV):
                raise (where / "csv").error('a stock csv goes with source = "csv" or no source')
            ExistingFile.check(self.csv, where / "csv")
        elif self.source is StockSource.CSV:
            raise (where / "source").error('source = "csv" needs csv = "stock.csv"')

    @property
    def stock(self) -> Stock:
        if self.csv is not None:
            return Stock(StockSource.CSV, self.csv)
        return Stock(self.source or StockSource.DEMO)


@dataclass(frozen=True)
class Returns:
    """``count`` customer returns reaching the docks from ``at_s``, one every ``interval_s``,
    carried to the inspection ``station`` (a station id or index; ``None``: the last)."""

    count: Annotated[int, AtLeast(0)] = 0
    at_s: NonNegative = 0.0
    interval_s: NonNegative = 30.0
    station: StationKey | None = None

    def arrivals(self) -> list[float]:
        """When each return reaches its dock, in simulated seconds."""
        return [self.at_s + i * self.interval_s for i in range(self.count)]


@dataclass(frozen=True)
class ScenarioHead:
    """The ``[scenario]`` table."""

    config: Annotated[Path, ExistingFile]
    max_sim_s: Annotated[float, AtLeast(0), Positive]
    seed: Annotated[int, AtLeast(0)] = 0
    mode: Mode = Mode.PICKING
    seconds_per_tick: Annotated[float, AtLeast(0), Positive] = 1.0
    start_battery_pct: Annotated[float, AtLeast(0), Percent] | None = None


@dataclass(frozen=True)
class FaultSection:
    """One ``[[faults]]`` table as written: which keys apply depends on ``kind``."""

    kind: FaultKind
    at_s: NonNegative
    duration_s: Annotated[float, AtLeast(0), Positive] | None = None
    robot: int | None = None
    pct: Annotated[float, AtLeast(0), Percent] | None = None
    cells: tuple[Cell, ...] | None = None
    polygon: tuple[tuple[float, float], ...] | None = None
    station: StationKey | None = None

    def validate(self, where: Where) -> None:
        """Called by `core.config.load`: the keys of its kind, and the ones it needs."""
        allowed = ("at_s", "kind", *_FAULT_KEYS[self.kind])
        for key in known_keys(FaultSection):
            if getattr(self, key) is not None and key not in allowed:
                raise (where / key).error(f"unknown key (known: {', '.join(sorted(allowed))})")
        if self.kind.is_robot_fault:
            needed: tuple[str, ...] = ("robot",)
            if self.kind is FaultKind.BATTERY_DRAIN:
                needed += ("pct",)
        elif self.kind is FaultKind.STATION_CLOSED:
            needed = ("station",)
        else:
            needed = ()
            if (self.cells is None) == (self.polygon is None):
                raise where.error("a block needs cells = [[r, c], ...] or polygon = [[x, y], ...]")
            if self.cells is not None and not self.cells:
                raise (where / "cells").error("must name at least one cell")
            if self.polygon is not None and len(self.polygon) < 3:
                raise (where / "polygon").error(
                    "must be a list of at least 3 [x, y] points in metres"
                )
        for key in needed:
            if getattr(self, key) is None:
                raise (where / key).error("is required")


@dataclass(frozen=True)
class ScenarioFile:
    """The tables of a scenario file (the one list of them)."""

    scenario: ScenarioHead
    robots: Robots
    orders: Orders = Orders()
    stock: StockSection = StockSection()
    returns: Returns = Returns()
    faults: tuple[FaultSection, ...] = ()


@dataclass(frozen=True)
class Scenario:
    """A scenario file read and checked as far as it can be without its floor.

    Paths are resolved against the scenario file's folder.
    """

    path: Path
    config: Path
    max_sim_s: float
    robots: Robots
    seed: int = 0
    mode: Mode = Mode.PICKING
    seconds_per_tick: float = 1.0
    start_battery_pct: float | None = None
    orders: Orders = Orders()
    stock: Stock = Stock()
    returns: Returns = Returns()
    faults: tuple[Fault, ...] = ()
    lines: TomlLines | None = field(default=None, compare=False, repr=False)
    """Where each key is in the file, so that `bind` can name lines too."""

    def where(self, path: Sequence[PathPart]) -> str:
        """``file: line N: a.b[2].c`` for a key path, the prefix of every error about it."""
        return str(Where(str(self.path), tuple(path), self.lines))


@dataclass(frozen=True)
class BoundFault:
    """A fault checked against the floor; ``cells`` are what a floor fault blocks."""

    fault: Fault
    cells: tuple[Cell, ...] = ()


@dataclass(frozen=True)
class BoundScenario:
    """A scenario checked against its floor: what the runner and `FaultSchedule` take."""

    scenario: Scenario
    floor: Floor = field(compare=False, repr=False)
    faults: tuple[BoundFault, ...] = ()
    returns_station: Cell | None = None
    """The inspection station's cell when the scenario has returns."""


# --- reading -----------------------------------------------------------------------------------


def load_scenario(path: str | Path) -> Scenario:
    """Read and check a scenario file, except for what needs the floor (see `bind`)."""
    path = Path(path)
    document = read_toml(path)
    root = document.where
    file = load(ScenarioFile, document.data, root)
    head, robots = file.scenario, file.robots
    kind = MODE_ROBOT_KIND[head.mode]
    if getattr(robots, kind) == 0:
        raise (root / "scenario" / "mode").error(
            f"{head.mode.value} needs at least one {kind} in [robots]"
        )
    if file.returns.at_s >= head.max_sim_s:
        raise _not_before(root / "returns" / "at_s", file.returns.at_s, head.max_sim_s)
    stock = file.stock.stock
    if file.returns.count and stock.source is not StockSource.DEMO:
        raise (root / "returns" / "count").error(
            "returns need SKUs sold before the day: the demo stock history, not a file"
        )
    faults = tuple(
        _fault(section, root / "faults" / i, robots, head.max_sim_s)
        for i, section in enumerate(file.faults)
    )
    return Scenario(
        path=path,
        config=head.config,
        max_sim_s=head.max_sim_s,
        robots=robots,
        seed=head.seed,
        mode=head.mode,
        seconds_per_tick=head.seconds_per_tick,
        start_battery_pct=head.start_battery_pct,
        orders=file.orders,
        stock=stock,
        returns=file.returns,
        faults=faults,
        lines=root.lines,
    )


def _not_before(where: Where, at_s: float, max_sim_s: float) -> InputError:
    return where.error(f"{at_s:g} is not before max_sim_s {max_sim_s:g}")


def _fault(section: FaultSection, where: Where, robots: Robots, max_sim_s: float) -> Fault:
    if section.at_s >= max_sim_s:
        raise _not_before(where / "at_s", section.at_s, max_sim_s)
    robot = section.robot
    if robot is not None and not 0 <= robot < robots.size:
        raise (where / "robot").error(
            f"no robot {robot} in a fleet of {robots.size} (0..{robots.size - 1})"
        )
    index = where.path[-1]
    assert isinstance(index, int) and where.line is not None
    return Fault(
        index,
        where.line,
        section.kind,
        section.at_s,
        section.duration_s,
        robot,
        section.pct,
        section.cells or (),
        section.polygon,
        section.station,
    )


# --- binding to the floor ----------------------------------------------------------------------


def bind(scenario: Scenario, floor: Floor) -> BoundScenario:
    """Check the scenario against the floor of its config; resolve each floor fault's cells.

    Refused (`InputError` naming the scenario file and line): cells or a polygon
    outside the floor, a polygon covering no cell centre, an unknown station, a
    start outside the floor, on a rack or wall, or on a cell a fault blocks at
    time 0. Cells that are racks or walls may be blocked: that changes nothing.
    """
    faults = tuple(_bind_fault(scenario, floor, fault) for fault in scenario.faults)
    starts = scenario.robots.starts or ()
    blocked_at_start = {
        cell: bound.fault
        for bound in faults
        if bound.fault.at_s == 0 and not bound.fault.kind.is_robot_fault
        for cell in bound.cells
    }
    for robot, cell in enumerate(starts):
        where = scenario.where(("robots", "starts", robot))
        if not floor.is_navigable(cell):
            raise InputError(where, f"robot {robot} starts on {list(cell)}, not a free cell")
        if cell in blocked_at_start:
            fault = blocked_at_start[cell]
            raise InputError(
                where,
                f"robot {robot} starts on {list(cell)}, which faults[{fault.index}] "
                f"(line {fault.line}) blocks at 0 s",
            )
    return BoundScenario(scenario, floor, faults, _returns_station(scenario, floor))


def _returns_station(scenario: Scenario, floor: Floor) -> Cell | None:
    returns = scenario.returns
    if returns.count == 0:
        return None
    where = scenario.where(("returns", "count"))
    if not floor.docks:
        raise InputError(where, f"returns arrive at docks and floor {floor.name} has none")
    if returns.station is None:
        if not floor.stations:
            raise InputError(where, f"floor {floor.name} has no station to inspect returns at")
        return floor.stations[-1].cell
    return _station_cell(scenario.where(("returns", "station")), floor, returns.station)


def _bind_fault(scenario: Scenario, floor: Floor, fault: Fault) -> BoundFault:
    path = ("faults", fault.index)
    if fault.kind is FaultKind.STATION_CLOSED:
        assert fault.station is not None
        where = scenario.where(("faults", fault.index, "station"))
        return BoundFault(fault, (_station_cell(where, floor, fault.station),))
    if fault.kind is not FaultKind.BLOCK:
        return BoundFault(fault)
    height, width = floor.shape
    if fault.polygon is not None:
        zone = make_zone(
            dotted(path),
            ZoneKind.NO_GO,
            fault.polygon,
            floor.shape,
            floor.cell_size_m,
            source=scenario.where((*path, "polygon")),
        )
        cells = tuple((int(r), int(c)) for r, c in zip(*zone.mask.nonzero(), strict=True))
        if not cells:
            raise InputError(scenario.where((*path, "polygon")), "covers no cell centre")
        return BoundFault(fault, cells)
    for cell in fault.cells:
        if not (0 <= cell[0] < height and 0 <= cell[1] < width):
            raise InputError(
                scenario.where((*path, "cells")),
                f"cell {list(cell)} is outside the floor ({height} rows × {width} columns)",
            )
    return BoundFault(fault, tuple(sorted(set(fault.cells))))


def _station_cell(where: str, floor: Floor, station: str | int) -> Cell:
    stations = floor.stations
    known = ", ".join(p.point_id for p in stations) or "none"
    if isinstance(station, int):
        if station >= len(stations):
            raise InputError(
                where, f"no station {station}: the floor has {len(stations)} ({known})"
            )
        return stations[station].cell
    for point in stations:
        if point.point_id == station:
            return point.cell
    raise InputError(where, f"unknown station {station!r} (known: {known})")


def scenario_orders(scenario: Scenario, planning: PlanningConfig) -> OrderBook:
    """The scenario's orders, with the catalogue and tote of the config's planning section.

    A CSV with bad rows is refused by `wms.orders.read_orders_csv` naming the CSV
    file and row; ``count`` replaces the config profile's order count.
    """
    if scenario.orders.count is not None:
        profile = replace(planning.profile, orders=scenario.orders.count)
        planning = replace(planning, profile=profile)
    return load_order_book(planning, scenario.orders.csv, scenario.seed)

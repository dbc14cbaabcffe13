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
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from core.files import MiB, read_input_bytes
from wms.config_tables import check_keys, get_cells, get_float, get_int, get_str, read_toml
from wms.errors import InputError
from wms.layout import Cell, Floor, ZoneKind
from wms.layout.zones import make_zone
from wms.orders import OrderBook
from wms.planning import load_order_book
from wms.planning_config import PlanningConfig

PathPart = str | int


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

    amr: int = 0
    agv: int = 0
    starts: tuple[Cell, ...] | None = None

    @property
    def size(self) -> int:
        return self.amr + self.agv

    def kind_of(self, index: int) -> str:
        """``"amr"`` or ``"agv"`` for a robot index of the fleet."""
        if not 0 <= index < self.size:
            raise IndexError(f"robot {index} is not in a fleet of {self.size}")
        return "amr" if index < self.amr else "agv"


@dataclass(frozen=True)
class Orders:
    """``count`` synthetic orders, or the orders of ``csv``; neither: the config's profile."""

    count: int | None = None
    csv: Path | None = None


@dataclass(frozen=True)
class Stock:
    source: StockSource = StockSource.DEMO
    csv: Path | None = None


@dataclass(frozen=True)
class Returns:
    """``count`` customer returns reaching the docks from ``at_s``, one every ``interval_s``,
    carried to the inspection ``station`` (a station id or index; ``None``: the last)."""

    count: int = 0
    at_s: float = 0.0
    interval_s: float = 30.0
    station: str | int | None = None

    def arrivals(self) -> list[float]:
        """When each return reaches its dock, in simulated seconds."""
        return [self.at_s + i * self.interval_s for i in range(self.count)]


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
        return located(self.path, self.lines, path)


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


def located(
    file: Path,
    lines: TomlLines | None,
    path: Sequence[PathPart],
    shown: Sequence[PathPart] | None = None,
) -> str:
    """``file: line N: a.b[2].c``: the line of ``path``, naming ``shown`` (default ``path``)."""
    line = lines.line_of(path) if lines is not None else 1
    return f"{file}: line {line}: {dotted(path if shown is None else shown)}"


def dotted(path: Sequence[PathPart]) -> str:
    """``("faults", 2, "robot")`` → ``faults[2].robot``."""
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else part)
    return text


# --- line numbers ------------------------------------------------------------------------------

_KEY = r'(?:[A-Za-z0-9_-]+|"[^"\\]*"|\'[^\']*\')'
_DOTTED = rf"{_KEY}(?:\s*\.\s*{_KEY})*"
_ARRAY_HEADER = re.compile(rf"^\s*\[\[\s*({_DOTTED})\s*\]\]\s*(?:#.*)?$")
_TABLE_HEADER = re.compile(rf"^\s*\[\s*({_DOTTED})\s*\]\s*(?:#.*)?$")
_KEY_LINE = re.compile(rf"^\s*({_DOTTED})\s*=(.*)$")
_KEY_PART = re.compile(_KEY)


class TomlLines:
    """The line (from 1) where each table and key of one TOML text is, by path.

    `tomllib` gives no line numbers. Paths are those of the parsed data:
    ``("scenario", "seed")``, ``("faults", 2, "robot")`` for the third
    ``[[faults]]`` table. This is a locator for error messages, not a parser:
    the text has already parsed, so it only has to tell headers and keys from
    values, which it does by tracking brackets and strings across lines (a
    ``[[12, 5]]`` inside a multi-line array is not a header).
    """

    def __init__(self, text: str) -> None:
        self._lines: dict[tuple[PathPart, ...], int] = {}
        self._arrays: dict[tuple[PathPart, ...], int] = {}
        self._scan(text)

    def line_of(self, path: Sequence[PathPart]) -> int:
        """Line of ``path``, else of its longest known prefix, else 1.

        An element of a multi-line value (``cells[3]``) reports its key's line;
        a missing key reports its table's header.
        """
        key = tuple(path)
        for end in range(len(key), 0, -1):
            line = self._lines.get(key[:end])
            if line is not None:
                return line
        return 1

    def _resolve(self, names: list[str]) -> tuple[PathPart, ...]:
        """Header names with the current index after each array of tables (``[faults.x]``)."""
        resolved: list[PathPart] = []
        for name in names:
            resolved.append(name)
            count = self._arrays.get(tuple(resolved))
            if count is not None:
                resolved.append(count - 1)
        return tuple(resolved)

    def _scan(self, text: str) -> None:
        table: tuple[PathPart, ...] = ()
        depth = 0
        quote: str | None = None
        for number, line in enumerate(text.splitlines(), start=1):
            rest = line
            if depth == 0 and quote is None:
                if match := _ARRAY_HEADER.match(line):
                    names = _key_parts(match.group(1))
                    array = (*self._resolve(names[:-1]), names[-1])
                    self._arrays[array] = self._arrays.get(array, 0) + 1
                    table = (*array, self._arrays[array] - 1)
                    self._lines.setdefault(array, number)
                    self._lines.setdefault(table, number)
                    continue
                if match := _TABLE_HEADER.match(line):
                    table = self._resolve(_key_parts(match.group(1)))
                    self._lines.setdefault(table, number)
                    continue
                if match := _KEY_LINE.match(line):
                    names = _key_parts(match.group(1))
                    for end in range(1, len(names) + 1):
                        self._lines.setdefault((*table, *names[:end]), number)
                    rest = match.group(2)
            depth, quote = _scan_value(rest, depth, quote)


def _key_parts(dotted_key: str) -> list[str]:
    return [part.strip("\"'") for part in _KEY_PART.findall(dotted_key)]


def _scan_value(text: str, depth: int, quote: str | None) -> tuple[int, str | None]:
    """Bracket depth and the open multi-line string quote after ``text``; comments skipped."""
    i = 0
    while i < len(text):
        if quote is not None:
            if text.startswith(quote, i):
                i, quote = i + len(quote), None
            else:
                i += 2 if quote == '"""' and text[i] == "\\" else 1
            continue
        char = text[i]
        if char == "#":
            break
        if text.startswith(('"""', "'''"), i):
            quote, i = text[i : i + 3], i + 3
            continue
        if char in "\"'":
            i = _string_end(text, i)
            continue
        depth += 1 if char in "[{" else -1 if char in "]}" else 0
        i += 1
    return max(depth, 0), quote


def _string_end(text: str, start: int) -> int:
    """Index just past the one-line string whose opening quote is at ``start``."""
    quote = text[start]
    i = start + 1
    while i < len(text):
        if quote == '"' and text[i] == "\\":
            i += 2
        elif text[i] == quote:
            return i + 1
        else:
            i += 1
    return len(text)


# --- reading -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Table:
    """One table of the scenario with its key path: typed getters whose errors name the line."""

    scenario_path: Path
    lines: TomlLines
    data: Mapping[str, Any]
    path: tuple[PathPart, ...]

    def at(self, key: str | None = None) -> str:
        """Error prefix for ``key`` of this table (the table itself when ``None``)."""
        full = self.path if key is None else (*self.path, key)
        return located(self.scenario_path, self.lines, full)

    def error(self, key: str | None, problem: str) -> InputError:
        return InputError(self.at(key), problem)

    def check_keys(self, allowed: Sequence[str]) -> None:
        for key in self.data:
            # config_tables words the message; the prefix is located at the bad key's line.
            check_keys({key: None}, allowed, self._prefix(key))

    def _prefix(self, key: str) -> str:
        """What `wms.config_tables` joins ``.key`` onto: this table, at the key's line."""
        return located(self.scenario_path, self.lines, (*self.path, key), shown=self.path)

    def integer(self, key: str, default: int | None = None, minimum: int | None = None) -> int:
        value = get_int(self.data, key, self._prefix(key), default)
        if minimum is not None and value < minimum:
            raise self.error(key, f"must be at least {minimum}, got {value}")
        return value

    def number(self, key: str, default: float | None = None, minimum: float = 0.0) -> float:
        """A finite number ≥ ``minimum``."""
        value = get_float(self.data, key, self._prefix(key), default)
        if value < minimum:
            raise self.error(key, f"must be at least {minimum:g}, got {value:g}")
        return value

    def positive(self, key: str, default: float | None = None) -> float:
        value = self.number(key, default)
        if value <= 0:
            raise self.error(key, f"must be positive, got {value:g}")
        return value

    def pct(self, key: str, default: float | None = None) -> float:
        value = self.number(key, default)
        if value > 100:
            raise self.error(key, f"must be a percentage in 0..100, got {value:g}")
        return value

    def text(self, key: str, default: str | None = None) -> str:
        return get_str(self.data, key, self._prefix(key), default)

    def choice(self, key: str, kind: type[enum.Enum], default: enum.Enum | None = None) -> Any:
        text = self.text(key, None if default is None else default.value)
        try:
            return kind(text)
        except ValueError:
            known = " | ".join(str(member.value) for member in kind)
            raise self.error(key, f"unknown {key} {text!r} (known: {known})") from None

    def file(self, key: str) -> Path:
        """A file named relative to the scenario's folder, which must exist."""
        path = Path(os.path.normpath(self.scenario_path.parent / self.text(key)))
        if not path.is_file():
            raise self.error(key, f"file not found: {path}")
        return path

    def cells(self, key: str) -> tuple[Cell, ...]:
        return tuple(get_cells(self.data, key, self._prefix(key)))

    def table(self, key: str, required: bool = False) -> _Table:
        value = self.data.get(key)
        if value is None and not required:
            value = {}
        if not isinstance(value, Mapping):
            raise self.error(key, "is required" if value is None else "must be a table")
        return _Table(self.scenario_path, self.lines, value, (*self.path, key))


TABLES = ("scenario", "robots", "orders", "stock", "returns", "faults")


def load_scenario(path: str | Path) -> Scenario:
    """Read and check a scenario file, except for what needs the floor (see `bind`)."""
    path = Path(path)
    data = read_toml(path)
    lines = TomlLines(read_input_bytes(path, 16 * MiB).decode("utf-8"))
    root = _Table(path, lines, data, ())
    for key in data:
        if key not in TABLES:
            raise InputError(
                located(path, lines, (key,)), f"unknown table (known: {', '.join(TABLES)})"
            )
    head = root.table("scenario", required=True)
    head.check_keys(
        ("config", "seed", "max_sim_s", "mode", "seconds_per_tick", "start_battery_pct")
    )
    max_sim_s = head.positive("max_sim_s")
    robots = _robots(root.table("robots", required=True))
    mode = head.choice("mode", Mode, Mode.PICKING)
    kind = MODE_ROBOT_KIND[mode]
    if getattr(robots, kind) == 0:
        raise head.error("mode", f"{mode.value} needs at least one {kind} in [robots]")
    battery = head.pct("start_battery_pct") if "start_battery_pct" in head.data else None
    stock = _stock(root.table("stock"))
    returns = _returns(root.table("returns"), max_sim_s)
    if returns.count and stock.source is not StockSource.DEMO:
        raise root.table("returns").error(
            "count", "returns need SKUs sold before the day: the demo stock history, not a file"
        )
    return Scenario(
        path=path,
        config=head.file("config"),
        max_sim_s=max_sim_s,
        robots=robots,
        seed=head.integer("seed", 0, minimum=0),
        mode=mode,
        seconds_per_tick=head.positive("seconds_per_tick", 1.0),
        start_battery_pct=battery,
        orders=_orders(root.table("orders")),
        stock=stock,
        returns=returns,
        faults=_faults(root, robots, max_sim_s),
        lines=lines,
    )


def _robots(table: _Table) -> Robots:
    table.check_keys(("amr", "agv", "starts"))
    amr = table.integer("amr", 0, minimum=0)
    agv = table.integer("agv", 0, minimum=0)
    if amr + agv == 0:
        raise table.error(None, "needs at least one robot (amr = N and/or agv = N)")
    starts = None
    if "starts" in table.data:
        starts = table.cells("starts")
        if len(starts) != amr + agv:
            raise table.error("starts", f"has {len(starts)} cells for {amr + agv} robots")
        if len(set(starts)) != len(starts):
            twice = next(c for c in starts if starts.count(c) > 1)
            raise table.error("starts", f"two robots start on cell {list(twice)}")
    return Robots(amr, agv, starts)


def _orders(table: _Table) -> Orders:
    table.check_keys(("count", "csv"))
    if "count" in table.data and "csv" in table.data:
        raise table.error("csv", "give count or csv, not both")
    if "csv" in table.data:
        return Orders(csv=table.file("csv"))
    if "count" in table.data:
        return Orders(count=table.integer("count", minimum=1))
    return Orders()


def _stock(table: _Table) -> Stock:
    table.check_keys(("source", "csv"))
    if "csv" in table.data:
        if table.data.get("source", StockSource.CSV.value) != StockSource.CSV.value:
            raise table.error("csv", 'a stock csv goes with source = "csv" or no source')
        return Stock(StockSource.CSV, table.file("csv"))
    source = table.choice("source", StockSource, StockSource.DEMO)
    if source is StockSource.CSV:
        raise table.error("source", 'source = "csv" needs csv = "stock.csv"')
    return Stock(source)


def _returns(table: _Table, max_sim_s: float) -> Returns:
    table.check_keys(("count", "at_s", "interval_s", "station"))
    at_s = table.number("at_s", 0.0)
    if at_s >= max_sim_s:
        raise table.error("at_s", f"{at_s:g} is not before max_sim_s {max_sim_s:g}")
    return Returns(
        count=table.integer("count", 0, minimum=0),
        at_s=at_s,
        interval_s=table.number("interval_s", 30.0),
        station=_station_key(table, "station") if "station" in table.data else None,
    )


def _station_key(table: _Table, key: str) -> str | int:
    """A station named by id (``"P2"``) or by index among the floor's stations."""
    station = table.data.get(key)
    if station is None:
        raise table.error(key, "is required: a station id or index")
    if isinstance(station, bool) or not isinstance(station, int | str):
        raise table.error(key, f"must be a station id or index, got {station!r}")
    if isinstance(station, int) and station < 0:
        raise table.error(key, f"must be at least 0, got {station}")
    return station


def _faults(root: _Table, robots: Robots, max_sim_s: float) -> tuple[Fault, ...]:
    entries = root.data.get("faults", [])
    if not isinstance(entries, list) or not all(isinstance(e, Mapping) for e in entries):
        raise root.error("faults", "must be an array of tables: [[faults]]")
    return tuple(
        _fault(_Table(root.scenario_path, root.lines, entry, ("faults", i)), i, robots, max_sim_s)
        for i, entry in enumerate(entries)
    )


def _fault(table: _Table, index: int, robots: Robots, max_sim_s: float) -> Fault:
    kind = table.choice("kind", FaultKind)
    table.check_keys(("at_s", "kind", *_FAULT_KEYS[kind]))
    at_s = table.number("at_s")
    if at_s >= max_sim_s:
        raise table.error("at_s", f"{at_s:g} is not before max_sim_s {max_sim_s:g}")
    fault = Fault(
        index,
        table.lines.line_of(table.path),
        kind,
        at_s,
        table.positive("duration_s") if "duration_s" in table.data else None,
    )
    if kind.is_robot_fault:
        robot = table.integer("robot")
        if not 0 <= robot < robots.size:
            raise table.error(
                "robot", f"no robot {robot} in a fleet of {robots.size} (0..{robots.size - 1})"
            )
        pct = table.pct("pct") if kind is FaultKind.BATTERY_DRAIN else None
        return replace(fault, robot=robot, pct=pct)
    if kind is FaultKind.STATION_CLOSED:
        return replace(fault, station=_station_key(table, "station"))
    has_cells, has_polygon = "cells" in table.data, "polygon" in table.data
    if has_cells == has_polygon:
        raise table.error(None, "a block needs cells = [[r, c], ...] or polygon = [[x, y], ...]")
    if has_cells:
        cells = table.cells("cells")
        if not cells:
            raise table.error("cells", "must name at least one cell")
        return replace(fault, cells=tuple(cells))
    return replace(fault, polygon=_polygon(table))


def _polygon(table: _Table) -> tuple[tuple[float, float], ...]:
    value = table.data["polygon"]
    if not isinstance(value, list) or len(value) < 3:
        raise table.error("polygon", "must be a list of at least 3 [x, y] points in metres")
    points = []
    for point in value:
        if (
            not isinstance(point, list)
            or len(point) != 2
            or not all(isinstance(v, int | float) and not isinstance(v, bool) for v in point)
            or not all(math.isfinite(v) for v in point)
        ):
            raise table.error("polygon", f"points must be [x, y] pairs of numbers, got {point!r}")
        points.append((float(point[0]), float(point[1])))
    return tuple(points)


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

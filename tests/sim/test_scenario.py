"""Scenario files: the contract parses, and every bad input names the file and the line."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from core.config import TomlLines
from sim.scenario import (
    BoundScenario,
    FaultKind,
    Mode,
    Robots,
    StockSource,
    bind,
    load_scenario,
    scenario_orders,
)
from warehouse.config import load_config
from wms.errors import InputError

REPO = Path(__file__).resolve().parents[2]
DEFAULT_CONFIG = REPO / "configs" / "default.toml"
EXAMPLES = sorted((REPO / "configs" / "scenarios").glob("*.toml"))
MARK = "# <-"
"""Bad-input cases mark the line the error must name with this comment."""

CONTRACT = """\
[scenario]
config = "configs/default.toml"   # relative to this file
seed = 4
max_sim_s = 36000                 # stop here even if orders remain
mode = "picking"                  # "picking" | "goods_to_person" | "sortation" (default picking)
[robots]
amr = 20                          # and/or agv = N
[orders]
count = 200                       # synthetic; or csv = "orders.csv" (relative to this file)
[[faults]]
at_s = 300
kind = "breakdown"                # breakdown | comm_loss | block | station_closed | battery_drain
robot = 3                         # index in the fleet, for robot faults
duration_s = 120                  # omitted = until the end
[[faults]]
at_s = 600
kind = "block"
cells = [[12, 5], [12, 6]]        # or polygon = [[x, y], ...] in metres
duration_s = 300
"""

HEAD = f"""\
[scenario]
config = "{DEFAULT_CONFIG}"
max_sim_s = 3600
[robots]
amr = 4
"""


@pytest.fixture(scope="module")
def floor():
    """The default config's floor (34 × 40), loaded once."""
    return load_config(DEFAULT_CONFIG).floor


def write(tmp_path: Path, text: str, name: str = "scenario.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def marked_line(text: str) -> int:
    lines = [n for n, line in enumerate(text.splitlines(), start=1) if MARK in line]
    assert len(lines) == 1, "a case marks exactly one line"
    return lines[0]


def refusal(path: Path, floor=None) -> InputError:
    """The `InputError` loading (and, given a floor, binding) the scenario raises."""
    with pytest.raises(InputError) as caught:
        scenario = load_scenario(path)
        if floor is not None:
            bind(scenario, floor)
    return caught.value


# --- the contract ------------------------------------------------------------------------------


def test_contract_example_parses_to_its_values(tmp_path: Path, floor) -> None:
    """The issue's example, word for word, reads as the values it states."""
    (tmp_path / "configs").mkdir()
    shutil.copy(DEFAULT_CONFIG, tmp_path / "configs" / "default.toml")
    scenario = load_scenario(write(tmp_path, CONTRACT))
    assert scenario.config == tmp_path / "configs" / "default.toml"
    assert (scenario.seed, scenario.max_sim_s, scenario.mode) == (4, 36000.0, Mode.PICKING)
    assert scenario.robots == Robots(amr=20)
    assert (scenario.orders.count, scenario.orders.csv) == (200, None)
    assert scenario.stock.source is StockSource.DEMO
    assert scenario.seconds_per_tick == 1.0 and scenario.start_battery_pct is None
    breakdown, block = scenario.faults
    assert (breakdown.kind, breakdown.at_s, breakdown.robot) == (FaultKind.BREAKDOWN, 300.0, 3)
    assert (breakdown.duration_s, breakdown.end_s, breakdown.line) == (120.0, 420.0, 10)
    assert (block.kind, block.cells, block.end_s, block.line) == (
        FaultKind.BLOCK,
        ((12, 5), (12, 6)),
        900.0,
        15,
    )
    bound = bind(scenario, floor)
    assert bound.faults[1].cells == ((12, 5), (12, 6))
    assert bound.faults[0].cells == ()


def test_defaults_when_optional_keys_are_left_out(tmp_path: Path) -> None:
    """No seed, mode, tick, orders, stock or faults: 0, picking, 1 s, the config's, demo, none."""
    scenario = load_scenario(write(tmp_path, HEAD))
    assert (scenario.seed, scenario.mode, scenario.seconds_per_tick) == (0, Mode.PICKING, 1.0)
    assert (scenario.orders.count, scenario.orders.csv, scenario.faults) == (None, None, ())
    assert scenario.stock.source is StockSource.DEMO and scenario.robots.starts is None


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_example_scenarios_load_and_bind(path: Path, floor, request) -> None:
    """Every file in configs/scenarios/ loads and binds to its config's floor (one on the
    Robot Runners sortation map needs ``../shared``: it skips with the reason without)."""
    if "robotrunners" in path.name:
        request.getfixturevalue("shared_dir")
    scenario = load_scenario(path)
    bound = bind(scenario, load_config(scenario.config).floor)
    assert isinstance(bound, BoundScenario)
    floor_faults = [b for b in bound.faults if not b.fault.kind.is_robot_fault]
    assert all(b.cells for b in floor_faults)


def test_polygon_block_is_rasterised_by_cell_centre(floor) -> None:
    """The example's aisle polygon (x 3..13, y 25..26 m) blocks row 8, columns 3..12."""
    bound = bind(load_scenario(REPO / "configs" / "scenarios" / "picking_faults.toml"), floor)
    polygon = next(b for b in bound.faults if b.fault.polygon is not None)
    assert polygon.cells == tuple((8, c) for c in range(3, 13))


def test_station_closed_blocks_the_station_cell_by_id_or_index(tmp_path: Path, floor) -> None:
    """``station = "P2"`` and ``station = 1`` both close the second station's cell."""
    faults = "".join(
        f'[[faults]]\nat_s = 0\nkind = "station_closed"\nstation = {s}\n' for s in ('"P2"', 1)
    )
    bound = bind(load_scenario(write(tmp_path, HEAD + faults)), floor)
    assert [b.cells for b in bound.faults] == [(floor.stations[1].cell,)] * 2


def test_robot_kinds_by_index() -> None:
    """AMRs come first in the fleet, then AGVs; an index outside it is refused."""
    robots = Robots(amr=2, agv=1)
    assert [robots.kind_of(i) for i in range(3)] == ["amr", "amr", "agv"]
    with pytest.raises(IndexError):
        robots.kind_of(3)


def test_scenario_orders_count_replaces_the_profile(tmp_path: Path) -> None:
    """``[orders] count = 30`` gives 30 synthetic orders with the config's catalogue."""
    scenario = load_scenario(write(tmp_path, HEAD + "[orders]\ncount = 30\n"))
    planning = load_config(DEFAULT_CONFIG).wms.planning
    book = scenario_orders(scenario, planning)
    assert len(book.orders) == 30 and book.source_format == "synthetic"


def test_scenario_orders_from_csv(tmp_path: Path) -> None:
    """``[orders] csv`` reads our CSV format relative to the scenario file."""
    shutil.copy(REPO / "configs" / "orders_example.csv", tmp_path / "orders.csv")
    scenario = load_scenario(write(tmp_path, HEAD + '[orders]\ncsv = "orders.csv"\n'))
    planning = load_config(DEFAULT_CONFIG).wms.planning
    book = scenario_orders(scenario, planning)
    assert book.source_format == "own" and book.orders[0].order_id == "A1001"


def test_order_csv_with_a_bad_row_names_the_csv_and_its_row(tmp_path: Path) -> None:
    """A quantity that is not a number in row 3 refuses order A2 as ``orders.csv:3``; A1 is read."""
    (tmp_path / "orders.csv").write_text(
        "order_id,sku,qty,due,priority\n"
        "A1,SKU-0007,1,2026-01-05 11:00,same_day\n"
        "A2,SKU-0007,lots,2026-01-05 11:00,same_day\n"
    )
    scenario = load_scenario(write(tmp_path, HEAD + '[orders]\ncsv = "orders.csv"\n'))
    planning = load_config(DEFAULT_CONFIG).wms.planning
    book = scenario_orders(scenario, planning)
    assert [o.order_id for o in book.orders] == ["A1"]
    [refused] = book.exceptions
    assert refused.order_id == "A2" and "orders.csv:3: quantity 'lots'" in refused.reason


# --- bad input: every refusal names the file and the line ---------------------------------------

FAULT = '[[faults]]\nat_s = 10\nkind = "breakdown"\nrobot = 1\n'

LOAD_CASES = {
    "unknown scenario key": (
        HEAD.replace("max_sim_s", f"sede = 4 {MARK}\nmax_sim_s"),
        "scenario.sede: unknown key",
    ),
    "unknown table": (HEAD + f"[robot] {MARK}\namr = 1\n", "robot: unknown section"),
    "seed of the wrong type": (
        HEAD.replace("max_sim_s", f'seed = "four" {MARK}\nmax_sim_s'),
        "scenario.seed: must be an integer",
    ),
    "no max_sim_s": (
        HEAD.replace("max_sim_s = 3600\n", "").replace("[scenario]", f"[scenario] {MARK}"),
        "scenario.max_sim_s: is required",
    ),
    "mode not in the list": (
        HEAD.replace("max_sim_s", f'mode = "kitting" {MARK}\nmax_sim_s'),
        "unknown mode 'kitting' (known: picking | goods_to_person | sortation)",
    ),
    "mode without its robots": (
        HEAD.replace("max_sim_s", f'mode = "goods_to_person" {MARK}\nmax_sim_s'),
        "goods_to_person needs at least one agv",
    ),
    "missing config file": (
        HEAD.replace(f'config = "{DEFAULT_CONFIG}"', f'config = "nowhere.toml" {MARK}'),
        "scenario.config: file not found",
    ),
    "no robots": (
        HEAD.replace("[robots]\namr = 4", f"[robots] {MARK}\namr = 0"),
        "robots: needs at least one robot",
    ),
    "negative robot count": (
        HEAD.replace("amr = 4", f"amr = -1 {MARK}"),
        "robots.amr: must be at least 0",
    ),
    "starts of the wrong length": (
        HEAD + f"starts = [[1, 1]] {MARK}\n",
        "robots.starts: has 1 cells for 4 robots",
    ),
    "two robots on one start": (
        HEAD + f"starts = [[1, 1], [1, 2], [1, 1], [1, 4]] {MARK}\n",
        "two robots start on cell [1, 1]",
    ),
    "orders count and csv": (
        HEAD + f'[orders]\ncount = 5\ncsv = "x.csv" {MARK}\n',
        "give count or csv, not both",
    ),
    "orders csv missing": (
        HEAD + f'[orders]\ncsv = "missing.csv" {MARK}\n',
        "orders.csv: file not found",
    ),
    "stock source unknown": (
        HEAD + f'[stock]\nsource = "guess" {MARK}\n',
        "unknown source 'guess'",
    ),
    "faults as a table": (
        HEAD + f"[faults] {MARK}\nat_s = 1\n",
        "faults: must be an array of tables",
    ),
    "unknown fault kind": (
        HEAD + FAULT + f'[[faults]]\nat_s = 20\nkind = "fire" {MARK}\n',
        "faults[1].kind: unknown kind 'fire'",
    ),
    "negative time": (
        HEAD + FAULT + FAULT.replace("at_s = 10", f"at_s = -5 {MARK}"),
        "faults[1].at_s: must be at least 0",
    ),
    "fault after the run": (
        HEAD + FAULT.replace("at_s = 10", f"at_s = 3600 {MARK}"),
        "faults[0].at_s: 3600 is not before max_sim_s 3600",
    ),
    "zero duration": (
        HEAD + FAULT + f"duration_s = 0 {MARK}\n",
        "faults[0].duration_s: must be positive",
    ),
    "unknown robot": (
        HEAD + FAULT + FAULT.replace("robot = 1", f"robot = 4 {MARK}"),
        "faults[1].robot: no robot 4 in a fleet of 4 (0..3)",
    ),
    "robot fault without robot": (
        HEAD + FAULT.replace("robot = 1\n", "").replace("[[faults]]", f"[[faults]] {MARK}"),
        "faults[0].robot: is required",
    ),
    "robot of the wrong type": (
        HEAD + FAULT.replace("robot = 1", f'robot = "r1" {MARK}'),
        "faults[0].robot: must be an integer",
    ),
    "key of another kind": (
        HEAD + FAULT + f"cells = [[1, 1]] {MARK}\n",
        "faults[0].cells: unknown key (known: at_s, duration_s, kind, robot)",
    ),
    "battery drain with a duration": (
        HEAD + FAULT.replace("breakdown", "battery_drain") + f"pct = 5\nduration_s = 9 {MARK}\n",
        "faults[0].duration_s: unknown key",
    ),
    "battery drain beyond 100 %": (
        HEAD + FAULT.replace("breakdown", "battery_drain") + f"pct = 120 {MARK}\n",
        "faults[0].pct: must be a percentage in 0..100",
    ),
    "block without cells or polygon": (
        HEAD + FAULT + f'[[faults]] {MARK}\nat_s = 30\nkind = "block"\nduration_s = 5\n',
        "faults[1]: a block needs cells",
    ),
    "block with a bad cell in a multi-line list": (
        HEAD + f'[[faults]]\nat_s = 0\nkind = "block"\ncells = [ {MARK}\n  [1, 2],\n  [3],\n]\n',
        "faults[0].cells[1]: must be an array of 2 integers",
    ),
    "polygon of two points": (
        HEAD + f'[[faults]]\nat_s = 0\nkind = "block"\npolygon = [[0, 0], [1, 1]] {MARK}\n',
        "faults[0].polygon: must be a list of at least 3",
    ),
    "station closed without station": (
        HEAD + f'[[faults]] {MARK}\nat_s = 0\nkind = "station_closed"\n',
        "faults[0].station: is required",
    ),
}


@pytest.mark.parametrize("case", sorted(LOAD_CASES))
def test_bad_scenario_names_file_and_line(tmp_path: Path, case: str) -> None:
    """Each bad key, type, time, kind or robot is one InputError naming the file and line."""
    text, problem = LOAD_CASES[case]
    path = write(tmp_path, text)
    message = str(refusal(path))
    assert message.startswith(f"{path}: line {marked_line(text)}: "), message
    assert problem in message


def block(spec: str, at_s: int = 0) -> str:
    return f'[[faults]]\nat_s = {at_s}\nkind = "block"\n{spec} {MARK}\n'


BIND_CASES = {
    "cell outside the floor": (
        block("cells = [[1, 1], [34, 2]]"),
        "cell [34, 2] is outside the floor (34 rows × 40 columns)",
    ),
    "polygon outside the floor": (
        block("polygon = [[38, 1], [41, 1], [41, 3], [38, 3]]"),
        "reaches outside the floor",
    ),
    "polygon covering no cell centre": (
        block("polygon = [[1.1, 1.1], [1.4, 1.1], [1.4, 1.4]]"),
        "faults[0].polygon: covers no cell centre",
    ),
    "unknown station id": (
        f'[[faults]]\nat_s = 0\nkind = "station_closed"\nstation = "P9" {MARK}\n',
        "unknown station 'P9' (known: P1, P2, P3, P4)",
    ),
    "station index beyond the stations": (
        f'[[faults]]\nat_s = 0\nkind = "station_closed"\nstation = 4 {MARK}\n',
        "no station 4: the floor has 4",
    ),
}


@pytest.mark.parametrize("case", sorted(BIND_CASES))
def test_fault_off_the_floor_names_file_and_line(tmp_path: Path, floor, case: str) -> None:
    """Cells, polygons and stations are checked against the floor at bind time."""
    faults, problem = BIND_CASES[case]
    text = HEAD + faults
    path = write(tmp_path, text)
    load_scenario(path)  # the floor-free part is fine
    message = str(refusal(path, floor))
    assert message.startswith(f"{path}: line {marked_line(text)}: "), message
    assert problem in message


def test_start_on_a_rack_is_refused(tmp_path: Path, floor) -> None:
    """A robot starting on a rack cell is refused at its starts line."""
    text = HEAD + f"starts = [[1, 1], [1, 2], [3, 3], [1, 4]] {MARK}\n"
    message = str(refusal(write(tmp_path, text), floor))
    assert f"line {marked_line(text)}: robots.starts[2]: robot 2 starts on [3, 3]" in message


def test_start_on_a_cell_blocked_at_time_zero_is_refused(tmp_path: Path, floor) -> None:
    """A start inside a block that begins at 0 s is refused, naming the fault's line."""
    text = (
        HEAD
        + f"starts = [[1, 1], [1, 2], [1, 3], [1, 4]] {MARK}\n"
        + '[[faults]]\nat_s = 0\nkind = "block"\ncells = [[1, 3]]\n'
    )
    message = str(refusal(write(tmp_path, text), floor))
    assert f"line {marked_line(text)}: robots.starts[2]" in message
    assert "which faults[0] (line 7) blocks at 0 s" in message


def test_start_on_a_cell_blocked_later_is_allowed(tmp_path: Path, floor) -> None:
    """A block that begins after 0 s is the fleet's business, not a scenario error."""
    text = (
        HEAD
        + "starts = [[1, 1], [1, 2], [1, 3], [1, 4]]\n"
        + '[[faults]]\nat_s = 5\nkind = "block"\ncells = [[1, 3]]\n'
    )
    assert bind(load_scenario(write(tmp_path, text)), floor).faults[0].cells == ((1, 3),)


def test_invalid_toml_is_one_line(tmp_path: Path) -> None:
    """Text that is not TOML is an InputError naming the file (tomllib gives the line)."""
    path = write(tmp_path, "[scenario\n")
    assert str(refusal(path)).startswith(f"{path}: not valid TOML (")


# --- line numbers ------------------------------------------------------------------------------

LOCATOR_TEXT = """\
# a comment [not] a header
top = 1
[scenario]
seed = 4   # [[faults]] in a comment
name = "a [[x]] string" # 5
[[faults]]
kind = "block"
cells = [
  [[1, 2]],
  [3, 4],
]
note = '''
[[faults]]
'''
[[faults]]
"robot" = 3
a.b = 2
[faults.extra]
deep = 1
"""


@pytest.mark.parametrize(
    ("path", "line"),
    [
        (("top",), 2),
        (("scenario",), 3),
        (("scenario", "seed"), 4),
        (("scenario", "name"), 5),
        (("faults",), 6),
        (("faults", 0), 6),
        (("faults", 0, "kind"), 7),
        (("faults", 0, "cells"), 8),
        (("faults", 0, "cells", 1), 8),
        (("faults", 0, "note"), 12),
        (("faults", 1), 15),
        (("faults", 1, "robot"), 16),
        (("faults", 1, "a", "b"), 17),
        (("faults", 1, "extra", "deep"), 19),
        (("faults", 1, "missing"), 15),
        (("nowhere",), 1),
    ],
)
def test_toml_lines_finds_tables_and_keys(path: tuple, line: int) -> None:
    """Headers, the k-th [[faults]], keys in it; brackets in values or strings are no header."""
    assert TomlLines(LOCATOR_TEXT).line_of(path) == line

"""The ``[fleet]`` and ``[sim]`` sections read through the whole config, strictly."""

from __future__ import annotations

from pathlib import Path

import pytest

from fleet.manager.model import RobotKind
from warehouse.config import DEFAULT_CONFIG, load_config
from wms.errors import InputError

DEFAULT = DEFAULT_CONFIG.read_text(encoding="utf-8")


def config_with(tmp_path: Path, extra: str) -> Path:
    """The default config with tables appended; its floor's map paths stay valid."""
    assert "[fleet]" not in DEFAULT and "[sim]" not in DEFAULT
    path = tmp_path / "c.toml"
    path.write_text(DEFAULT + "\n" + extra, encoding="utf-8")
    return path


def test_fleet_section_gives_robots_their_kind_and_payload(tmp_path: Path) -> None:
    """``[[fleet.robots]]`` patterns give kinds; a rule without payload takes the default."""
    path = config_with(
        tmp_path,
        "[fleet]\ncycle_s = 0.5\ndefault_payload_kg = 40\n"
        '[[fleet.robots]]\nid = "sim/agv*"\nkind = "agv"\nmax_payload_kg = 600\n'
        '[[fleet.robots]]\nid = "sim/small*"\nkind = "amr"\n',
    )
    fleet = load_config(path).fleet
    assert fleet.cycle_s == 0.5
    assert fleet.robot_info("sim/agv3").kind is RobotKind.AGV
    assert fleet.robot_info("sim/agv3").max_payload_kg == 600.0
    assert fleet.robot_info("sim/small1").max_payload_kg == 40.0
    assert fleet.robot_info("sim/r001").kind is RobotKind.AMR


def test_sim_section_sets_the_simulated_robots(tmp_path: Path) -> None:
    """``[sim]`` is the simulated robots' drive and battery; absent, the defaults."""
    assert load_config(DEFAULT_CONFIG).sim.charge_pct_per_s == 0.5
    sim = load_config(config_with(tmp_path, "[sim]\nspeed_factor = 2\n")).sim
    assert sim.seconds_per_move == 0.5


@pytest.mark.parametrize(
    ("extra", "fragment"),
    [
        ("[fleet]\ncycle_s = 0\n", "fleet.cycle_s: must be positive"),
        ("[fleet]\ncycle = 1\n", "fleet.cycle: unknown key (known: "),
        ('[fleet]\nplanner = "astar"\n', "fleet.planner: unknown planner 'astar'"),
        ('[fleet]\nassigner = "x"\n', "fleet.assigner: unknown assigner 'x'"),
        ("[fleet]\ngo_charge_pct = 90\n", "fleet.go_charge_pct: must be below back_to_work_pct"),
        ("[fleet]\nreserve_pct = 120\n", "fleet.reserve_pct: must be a percentage in 0..100"),
        ('[fleet]\ndefault_kind = "drone"\n', "fleet.default_kind: unknown default_kind 'drone'"),
        ('[[fleet.robots]]\nid = "a*"\nkind = "agv"\nspeed = 1\n', "fleet.robots[0].speed"),
        ('[[fleet.robots]]\nkind = "agv"\n', "fleet.robots[0].id: is required"),
        ('[fleet]\nrobots = "all"\n', "fleet.robots: must be an array of tables"),
        ("[sim]\nspeed_factor = -1\n", "sim: seconds_per_cell and speed_factor must be positive"),
        ("[sim]\nwheels = 4\n", "sim.wheels: unknown key"),
    ],
)
def test_bad_fleet_or_sim_key_is_one_line(tmp_path: Path, extra: str, fragment: str) -> None:
    """Each bad key is one InputError naming the file, the line and the key."""
    path = config_with(tmp_path, extra)
    with pytest.raises(InputError) as caught:
        load_config(path)
    message = str(caught.value)
    assert message.startswith(f"{path}: line "), message
    assert fragment in message and "\n" not in message

"""The whole-system TOML config: the floor plus one section per package.

`ConfigFile` is the one list of the sections a config may have; each package
describes its own section as a dataclass, and `core.config` reads the whole
file against them at load time, so an unknown section or key, or a value of
the wrong type, anywhere fails any command with one line naming file, line,
section and key.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from core.config import load as load_section
from core.config import read_toml
from fleet.bus.config import BusConfig
from fleet.manager.config import FleetConfig
from sim.controller import SimRobotParams
from wms.config import WmsConfig
from wms.layout import Floor, FloorSection, build_floor

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CONFIG = REPO_ROOT / "configs" / "default.toml"


@dataclass(frozen=True)
class ConfigFile:
    """The top-level sections of a config file; only ``[floor]`` is required."""

    floor: FloorSection
    wms: WmsConfig = field(default_factory=WmsConfig)
    bus: BusConfig = field(default_factory=BusConfig)
    fleet: FleetConfig = field(default_factory=FleetConfig)
    sim: SimRobotParams = field(default_factory=SimRobotParams)
    """How the simulated robots drive and drain (``warehouse sim``, the demo's floor)."""


@dataclass(frozen=True)
class AppConfig:
    """A config file read and checked whole, with its floor built."""

    path: Path
    floor: Floor
    wms: WmsConfig = field(default_factory=WmsConfig)
    bus: BusConfig = field(default_factory=BusConfig)
    fleet: FleetConfig = field(default_factory=FleetConfig)
    sim: SimRobotParams = field(default_factory=SimRobotParams)


def load_config(path: str | Path | None = None) -> AppConfig:
    path = Path(path) if path is not None else DEFAULT_CONFIG
    document = read_toml(path)
    sections = load_section(ConfigFile, document.data, document.where)
    floor = build_floor(sections.floor, document.where / "floor")
    return AppConfig(path, floor, sections.wms, sections.bus, sections.fleet, sections.sim)

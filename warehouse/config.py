"""The whole-system TOML config: the floor plus one section per package.

Each package validates its own section strictly (unknown keys are errors);
this module knows which sections exist, builds the floor, which every command
needs, and has every section parsed at load time so that a bad key anywhere
fails any command with one line.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fleet.bus.config import BusConfig
from fleet.manager.config import FleetConfig
from wms.config import wms_config
from wms.config_tables import check_keys, read_toml, require_table
from wms.errors import InputError
from wms.layout import Floor, floor_from_table

KNOWN_SECTIONS = ("floor", "wms", "bus", "fleet")
REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CONFIG = REPO_ROOT / "configs" / "default.toml"


@dataclass(frozen=True)
class AppConfig:
    path: Path
    floor: Floor
    sections: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)

    def section(self, name: str) -> Mapping[str, Any]:
        """A package's raw section (empty when absent), for the package to validate."""
        return self.sections.get(name, {})


def load_config(path: str | Path | None = None) -> AppConfig:
    path = Path(path) if path is not None else DEFAULT_CONFIG
    data = read_toml(path)
    source = str(path)
    check_keys(data, KNOWN_SECTIONS, source)
    if "floor" not in data:
        raise InputError(source, "has no [floor] section")
    sections = {
        name: require_table(value, f"{source}: {name}")
        for name, value in data.items()
        if name != "floor"
    }
    floor = floor_from_table(data["floor"], path.parent, source)
    # Parse every package section now, so a bad key fails every command at once.
    wms_config(sections.get("wms", {}), path.parent, source)
    BusConfig.from_section(sections.get("bus", {}), f"{source}: bus")
    FleetConfig.from_section(sections.get("fleet", {}), f"{source}: fleet")
    return AppConfig(path=path, floor=floor, sections=sections)

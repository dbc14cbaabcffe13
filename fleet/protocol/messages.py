"""VDA 5050 v2 messages as frozen dataclasses.

Field names on the wire are the standard's (camelCase); attribute names are their
snake_case. Optional fields default to ``None`` (or an empty tuple for lists the
standard marks optional) and are left out of the encoded map when unset.
Positions are metres in the floor frame of `wms.layout.grid`; ``mapId`` is the
floor name.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any

PROTOCOL_VERSION = "2.1.0"
"""What the bus announces; robots of any 2.x version are accepted (`codec.check_header`)."""
NON_NEGATIVE = {"min": 0}
PI = 3.141592654
"""π as the VDA 5050 2.1.0 JSON schemas write their angle bounds (a float π passes)."""
ANGLE = {"min": -PI, "max": PI}
ALWAYS: Any = field(default=(), metadata={"always": True})
"""An array the standard requires even when empty; old peers may still omit it."""


def _opt(**meta: Any) -> Any:
    return field(default=None, metadata=meta)


# --- enums ---------------------------------------------------------------------------


class BlockingType(enum.Enum):
    NONE = "NONE"
    SOFT = "SOFT"
    HARD = "HARD"


class ActionStatus(enum.Enum):
    """WAITING -> INITIALIZING -> RUNNING <-> PAUSED -> FINISHED | FAILED (see `actions`)."""

    WAITING = "WAITING"
    INITIALIZING = "INITIALIZING"
    RUNNING = "RUNNING"
    PAUSED = "PAUSED"
    FINISHED = "FINISHED"
    FAILED = "FAILED"


class ErrorLevel(enum.Enum):
    WARNING = "WARNING"
    FATAL = "FATAL"


class InfoLevel(enum.Enum):
    INFO = "INFO"
    DEBUG = "DEBUG"


class OperatingMode(enum.Enum):
    AUTOMATIC = "AUTOMATIC"
    SEMIAUTOMATIC = "SEMIAUTOMATIC"
    MANUAL = "MANUAL"
    SERVICE = "SERVICE"
    TEACHIN = "TEACHIN"


class EStop(enum.Enum):
    AUTOACK = "AUTOACK"
    MANUAL = "MANUAL"
    REMOTE = "REMOTE"
    NONE = "NONE"


class ConnectionState(enum.Enum):
    ONLINE = "ONLINE"
    OFFLINE = "OFFLINE"
    CONNECTIONBROKEN = "CONNECTIONBROKEN"


# Factsheet enumerations of the 2.1.0 schema, kept as strings on the dataclasses.
AGV_KINEMATICS = ("DIFF", "OMNI", "THREEWHEEL")
AGV_CLASSES = ("FORKLIFT", "CONVEYOR", "TUGGER", "CARRIER")
LOCALIZATION_TYPES = ("NATURAL", "REFLECTOR", "RFID", "DMC", "SPOT", "GRID")
NAVIGATION_TYPES = ("PHYSICAL_LINE_GUIDED", "VIRTUAL_LINE_GUIDED", "AUTONOMOUS")
ACTION_SCOPES = ("INSTANT", "NODE", "EDGE")

# --- shared parts ----------------------------------------------------------------------


@dataclass(frozen=True)
class Header:
    """``headerId`` counts per topic per sender; ``timestamp`` is ISO 8601 UTC."""

    header_id: int = field(metadata=NON_NEGATIVE)
    timestamp: str
    version: str
    manufacturer: str
    serial_number: str

    @property
    def robot_id(self) -> str:
        return robot_id(self.manufacturer, self.serial_number)


def robot_id(manufacturer: str, serial_number: str) -> str:
    """The DEALER routing identity of a robot: ``manufacturer/serialNumber``."""
    return f"{manufacturer}/{serial_number}"


@dataclass(frozen=True)
class NodePosition:
    x: float
    y: float
    map_id: str
    theta: float | None = _opt(**ANGLE)
    allowed_deviation_xy: float | None = _opt(wire="allowedDeviationXY", min=0)
    allowed_deviation_theta: float | None = _opt(**ANGLE)
    """The 2.1.0 order schema bounds it to [-π, π] (a negative value is allowed there)."""
    map_description: str | None = None


@dataclass(frozen=True)
class ActionParameter:
    key: str
    value: Any


@dataclass(frozen=True)
class Action:
    action_type: str
    action_id: str
    blocking_type: BlockingType
    action_description: str | None = None
    action_parameters: tuple[ActionParameter, ...] = ()

    def parameter(self, key: str, default: Any = None) -> Any:
        for p in self.action_parameters:
            if p.key == key:
                return p.value
        return default


@dataclass(frozen=True)
class Node:
    node_id: str
    sequence_id: int = field(metadata=NON_NEGATIVE)
    released: bool
    actions: tuple[Action, ...] = ALWAYS
    node_position: NodePosition | None = None
    node_description: str | None = None


@dataclass(frozen=True)
class Edge:
    edge_id: str
    sequence_id: int = field(metadata=NON_NEGATIVE)
    released: bool
    start_node_id: str
    end_node_id: str
    actions: tuple[Action, ...] = ALWAYS
    max_speed: float | None = _opt(min=0)
    orientation: float | None = None
    length: float | None = _opt(min=0)
    edge_description: str | None = None


# --- order and instant actions (fleet -> robot) --------------------------------------------


@dataclass(frozen=True)
class Order:
    header: Header = field(metadata={"flatten": True})
    order_id: str
    order_update_id: int = field(metadata=NON_NEGATIVE)
    nodes: tuple[Node, ...]
    edges: tuple[Edge, ...]
    zone_set_id: str | None = None


@dataclass(frozen=True)
class InstantActions:
    header: Header = field(metadata={"flatten": True})
    actions: tuple[Action, ...]


# --- state (robot -> fleet) ----------------------------------------------------------------


@dataclass(frozen=True)
class NodeState:
    node_id: str
    sequence_id: int = field(metadata=NON_NEGATIVE)
    released: bool
    node_position: NodePosition | None = None
    node_description: str | None = None


@dataclass(frozen=True)
class EdgeState:
    edge_id: str
    sequence_id: int = field(metadata=NON_NEGATIVE)
    released: bool
    edge_description: str | None = None


@dataclass(frozen=True)
class AgvPosition:
    x: float
    y: float
    theta: float = field(metadata=ANGLE)
    map_id: str
    position_initialized: bool
    localization_score: float | None = _opt(min=0, max=1)
    deviation_range: float | None = _opt(min=0)
    map_description: str | None = None


@dataclass(frozen=True)
class Velocity:
    vx: float | None = None
    vy: float | None = None
    omega: float | None = None


@dataclass(frozen=True)
class Load:
    load_id: str | None = None
    load_type: str | None = None
    load_position: str | None = None
    weight: float | None = _opt(min=0)


@dataclass(frozen=True)
class ActionState:
    action_id: str
    action_status: ActionStatus
    action_type: str | None = None
    action_description: str | None = None
    result_description: str | None = None


@dataclass(frozen=True)
class BatteryState:
    battery_charge: float = field(metadata={"min": 0, "max": 100})
    charging: bool
    battery_voltage: float | None = None
    battery_health: int | None = _opt(min=0, max=100)
    reach: int | None = _opt(min=0)


@dataclass(frozen=True)
class ErrorReference:
    reference_key: str
    reference_value: str


@dataclass(frozen=True)
class Error:
    error_type: str
    error_level: ErrorLevel
    error_references: tuple[ErrorReference, ...] = ()
    error_description: str | None = None
    error_hint: str | None = None

    def reference(self, key: str) -> str | None:
        for ref in self.error_references:
            if ref.reference_key == key:
                return ref.reference_value
        return None


@dataclass(frozen=True)
class Info:
    info_type: str
    info_level: InfoLevel
    info_description: str | None = None


@dataclass(frozen=True)
class SafetyState:
    e_stop: EStop
    field_violation: bool


@dataclass(frozen=True)
class State:
    header: Header = field(metadata={"flatten": True})
    order_id: str
    order_update_id: int
    """No minimum: the 2.1.0 state schema sets none (the order schema's is 0)."""
    last_node_id: str
    last_node_sequence_id: int = field(metadata=NON_NEGATIVE)
    node_states: tuple[NodeState, ...]
    edge_states: tuple[EdgeState, ...]
    driving: bool
    action_states: tuple[ActionState, ...]
    battery_state: BatteryState
    operating_mode: OperatingMode
    errors: tuple[Error, ...]
    safety_state: SafetyState
    paused: bool | None = None
    new_base_request: bool | None = None
    distance_since_last_node: float | None = _opt(min=0)
    agv_position: AgvPosition | None = None
    velocity: Velocity | None = None
    loads: tuple[Load, ...] = ()
    information: tuple[Info, ...] = ()
    zone_set_id: str | None = None

    def action_status(self, action_id: str) -> ActionStatus | None:
        for a in self.action_states:
            if a.action_id == action_id:
                return a.action_status
        return None


# --- connection, factsheet, visualization ------------------------------------------------------


@dataclass(frozen=True)
class Connection:
    header: Header = field(metadata={"flatten": True})
    connection_state: ConnectionState


@dataclass(frozen=True)
class TypeSpecification:
    series_name: str
    agv_kinematic: str = field(metadata={"one_of": AGV_KINEMATICS})
    agv_class: str = field(metadata={"one_of": AGV_CLASSES})
    max_load_mass: float = field(metadata=NON_NEGATIVE)
    localization_types: tuple[str, ...] = field(metadata={"one_of": LOCALIZATION_TYPES})
    navigation_types: tuple[str, ...] = field(metadata={"one_of": NAVIGATION_TYPES})
    series_description: str | None = None


@dataclass(frozen=True)
class PhysicalParameters:
    speed_min: float = field(metadata=NON_NEGATIVE)
    speed_max: float = field(metadata=NON_NEGATIVE)
    acceleration_max: float = field(metadata=NON_NEGATIVE)
    deceleration_max: float = field(metadata=NON_NEGATIVE)
    height_max: float = field(metadata=NON_NEGATIVE)
    width: float = field(metadata=NON_NEGATIVE)
    length: float = field(metadata=NON_NEGATIVE)
    height_min: float | None = _opt(min=0)


@dataclass(frozen=True)
class AgvActionSpec:
    action_type: str
    action_scopes: tuple[str, ...] = field(metadata={"one_of": ACTION_SCOPES})
    action_description: str | None = None


@dataclass(frozen=True)
class ProtocolFeatures:
    """2.1 requires both lists, even empty (`ALWAYS` is one field object: one use per class)."""

    optional_parameters: tuple[Any, ...] = field(default=(), metadata={"always": True})
    agv_actions: tuple[AgvActionSpec, ...] = field(default=(), metadata={"always": True})


@dataclass(frozen=True)
class Timing:
    min_order_interval: float = field(metadata=NON_NEGATIVE)
    min_state_interval: float = field(metadata=NON_NEGATIVE)
    default_state_interval: float | None = _opt(min=0)
    visualization_interval: float | None = _opt(min=0)


@dataclass(frozen=True)
class ProtocolLimits:
    """The robot's declared limits; ``maxStringLens`` / ``maxArrayLens`` are kept as sent.

    Their keys (``idLen``, ``order.nodes``, ...) are the standard's; the fleet
    does not act on them yet, so they stay plain maps rather than 23 fields.
    """

    max_string_lens: Any
    max_array_lens: Any
    timing: Timing


@dataclass(frozen=True)
class AgvGeometry:
    """Wheels and 2D/3D envelopes, kept as sent (the grid fleet plans by cell, not by shape)."""

    wheel_definitions: tuple[Any, ...] = ()
    envelopes2d: tuple[Any, ...] = ()
    envelopes3d: tuple[Any, ...] = ()


@dataclass(frozen=True)
class LoadSpecification:
    load_positions: tuple[str, ...] = ()
    load_sets: tuple[Any, ...] = ()
    """Load sets (``setName``, ``loadType``, ...), kept as sent."""


@dataclass(frozen=True)
class Factsheet:
    """VDA 5050 2.1 requires every section; the last four stay optional on input.

    A 2.0 controller (ours included, until now) may omit ``protocolLimits``,
    ``protocolFeatures``, ``agvGeometry`` and ``loadSpecification``; refusing
    its factsheet would cut it off over sections the fleet does not use.
    Factsheets this code writes fill them in.
    """

    header: Header = field(metadata={"flatten": True})
    type_specification: TypeSpecification
    physical_parameters: PhysicalParameters
    protocol_features: ProtocolFeatures | None = None
    protocol_limits: ProtocolLimits | None = None
    agv_geometry: AgvGeometry | None = None
    load_specification: LoadSpecification | None = None


@dataclass(frozen=True)
class Visualization:
    header: Header = field(metadata={"flatten": True})
    agv_position: AgvPosition | None = None
    velocity: Velocity | None = None


# --- bus extension (not VDA 5050) -------------------------------------------------------------


@dataclass(frozen=True)
class BusError:
    """The server's answer to a frame it rejected (VDA 5050 has no master->AGV error topic).

    ``reason`` is the rejection code (``validation``, ``not_msgpack``, ...);
    ``refTopic`` / ``refHeaderId`` point at the offending message when they could be read.
    """

    header: Header = field(metadata={"flatten": True})
    reason: str
    description: str
    ref_topic: str | None = None
    ref_header_id: int | None = None


Message = Order | InstantActions | State | Connection | Factsheet | Visualization | BusError

TOPICS: dict[str, type] = {
    "order": Order,
    "instantActions": InstantActions,
    "state": State,
    "connection": Connection,
    "factsheet": Factsheet,
    "visualization": Visualization,
    "error": BusError,
}
TOPIC_OF: dict[type, str] = {cls: topic for topic, cls in TOPICS.items()}

UPSTREAM_TOPICS = frozenset({"state", "connection", "factsheet", "visualization"})
"""Topics a robot may send to the fleet; anything else from a robot is rejected."""
DOWNSTREAM_TOPICS = frozenset({"order", "instantActions", "error"})
"""Topics the fleet sends to a robot."""

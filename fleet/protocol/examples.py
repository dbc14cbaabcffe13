"""One filled-in example of every message, with every optional field set.

The same values appear in docs/protocol.md (a test checks that the JSON shown
there decodes to these), and the round-trip tests encode and decode them, so the
docs cannot drift from the code.
"""

from __future__ import annotations

from fleet.protocol.messages import (
    PROTOCOL_VERSION,
    Action,
    ActionParameter,
    ActionState,
    ActionStatus,
    AgvActionSpec,
    AgvGeometry,
    AgvPosition,
    BatteryState,
    BlockingType,
    BusError,
    Connection,
    ConnectionState,
    Edge,
    EdgeState,
    Error,
    ErrorLevel,
    ErrorReference,
    EStop,
    Factsheet,
    Header,
    Info,
    InfoLevel,
    InstantActions,
    Load,
    LoadSpecification,
    Message,
    Node,
    NodePosition,
    NodeState,
    OperatingMode,
    Order,
    PhysicalParameters,
    ProtocolFeatures,
    ProtocolLimits,
    SafetyState,
    State,
    Timing,
    TypeSpecification,
    Velocity,
    Visualization,
)

MAP_ID = "default"


def header(header_id: int = 7) -> Header:
    return Header(header_id, "2026-01-05T10:00:00.000Z", PROTOCOL_VERSION, "acme", "r1")


def node(node_id: str, sequence_id: int, released: bool, x: float, y: float) -> Node:
    return Node(node_id, sequence_id, released, node_position=NodePosition(x, y, MAP_ID))


def order() -> Order:
    pick = Action(
        "pick",
        "a-pick-1",
        BlockingType.HARD,
        "lift the pod",
        (ActionParameter("loadId", "pod-17"), ActionParameter("stationType", "floor")),
    )
    nodes = (
        Node(
            "c12_5",
            0,
            True,
            (),
            NodePosition(5.5, 21.5, MAP_ID, 0.0, 0.1, 0.2, "ground floor"),
            "start",
        ),
        Node("c12_6", 2, True, (pick,), NodePosition(6.5, 21.5, MAP_ID)),
        Node("c12_7", 4, False, (), NodePosition(7.5, 21.5, MAP_ID)),
    )
    edges = (
        Edge("c12_5-c12_6", 1, True, "c12_5", "c12_6", (), 1.5, 0.0, 1.0, "east"),
        Edge("c12_6-c12_7", 3, False, "c12_6", "c12_7"),
    )
    return Order(header(), "order-42", 0, nodes, edges, "zones-1")


def instant_actions() -> InstantActions:
    return InstantActions(
        header(),
        (
            Action("startPause", "ia-1", BlockingType.HARD),
            Action("startCharging", "ia-2", BlockingType.HARD, "charge to 90 %"),
        ),
    )


def state() -> State:
    return State(
        header=header(),
        order_id="order-42",
        order_update_id=4,
        last_node_id="c12_5",
        last_node_sequence_id=0,
        node_states=(
            NodeState("c12_6", 2, True, NodePosition(6.5, 21.5, MAP_ID), "pick here"),
            NodeState("c12_7", 4, False),
        ),
        edge_states=(
            EdgeState("c12_5-c12_6", 1, True, "east"),
            EdgeState("c12_6-c12_7", 3, False),
        ),
        driving=True,
        action_states=(
            ActionState("a-pick-1", ActionStatus.WAITING, "pick", "lift the pod"),
            ActionState("ia-1", ActionStatus.FINISHED, "startPause", None, "paused"),
        ),
        battery_state=BatteryState(81.5, False, 48.1, 97, 5400),
        operating_mode=OperatingMode.AUTOMATIC,
        errors=(
            Error(
                "orderUpdateError",
                ErrorLevel.WARNING,
                (
                    ErrorReference("orderId", "order-42"),
                    ErrorReference("orderUpdateId", "3"),
                ),
                "orderUpdateId 3 is older than 4",
                "resend with a newer orderUpdateId",
            ),
        ),
        safety_state=SafetyState(EStop.NONE, False),
        paused=False,
        new_base_request=False,
        distance_since_last_node=0.4,
        agv_position=AgvPosition(5.9, 21.5, 0.0, MAP_ID, True, 0.98, 0.05, "ground floor"),
        velocity=Velocity(1.0, 0.0, 0.0),
        loads=(Load("pod-17", "pod", "front", 120.0),),
        information=(Info("batteryTemperature", InfoLevel.DEBUG, "31 C"),),
        zone_set_id="zones-1",
    )


def connection() -> Connection:
    return Connection(header(), ConnectionState.ONLINE)


def factsheet() -> Factsheet:
    return Factsheet(
        header(),
        TypeSpecification(
            "acme-lift-1",
            "DIFF",
            "CARRIER",
            600.0,
            ("NATURAL", "GRID"),
            ("VIRTUAL_LINE_GUIDED",),
            "pod-lifting drive unit",
        ),
        PhysicalParameters(0.0, 1.5, 1.0, 1.0, 0.4, 0.8, 1.0, 0.3),
        ProtocolFeatures(
            (),
            (AgvActionSpec("pick", ("NODE", "INSTANT"), "lift a pod"),),
        ),
        ProtocolLimits(
            {"msgLen": 262144, "idLen": 64},
            {"order.nodes": 10000, "order.edges": 10000},
            Timing(0.1, 0.05, 1.0, 0.1),
        ),
        AgvGeometry(
            envelopes2d=(
                {
                    "set": "default",
                    "polygonPoints": [
                        {"x": -0.5, "y": -0.4},
                        {"x": 0.5, "y": -0.4},
                        {"x": 0.5, "y": 0.4},
                        {"x": -0.5, "y": 0.4},
                    ],
                },
            ),
        ),
        LoadSpecification(("top",), ({"setName": "DEFAULT", "loadType": "pod"},)),
    )


def visualization() -> Visualization:
    return Visualization(
        header(),
        AgvPosition(5.9, 21.5, 0.0, MAP_ID, True),
        Velocity(1.0, 0.0, 0.0),
    )


def bus_error() -> BusError:
    return BusError(header(), "stale_header", "state headerId 6 is not above 7", "state", 6)


def all_examples() -> dict[str, Message]:
    """Topic -> example message, for every topic."""
    return {
        "order": order(),
        "instantActions": instant_actions(),
        "state": state(),
        "connection": connection(),
        "factsheet": factsheet(),
        "visualization": visualization(),
        "error": bus_error(),
    }

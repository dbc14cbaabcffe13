"""docs/protocol.md stays true: its examples decode to the code's, every field is documented."""

from __future__ import annotations

import dataclasses
import json
import re
import typing
from pathlib import Path

import msgpack
import pytest

from fleet.protocol import decode
from fleet.protocol.examples import all_examples
from fleet.protocol.messages import TOPICS
from fleet.protocol.schema import wire_codec, wire_names

DOC = Path(__file__).resolve().parents[3] / "docs" / "protocol.md"


def _sections() -> dict[str, str]:
    text = DOC.read_text()
    parts = re.split(r"^### 4\.\d+ `(\w+)`.*$", text, flags=re.MULTILINE)
    return dict(zip(parts[1::2], parts[2::2], strict=True))


@pytest.mark.parametrize("topic", sorted(TOPICS))
def test_documented_example_decodes_to_the_code_example(topic: str) -> None:
    """The JSON example shown for each message is exactly the code's example, and valid."""
    section = _sections()[topic]
    (block,) = re.findall(r"```json\n(.*?)\n```", section, flags=re.DOTALL)
    body = msgpack.packb(json.loads(block), use_bin_type=True)
    assert decode(topic.encode(), body) == all_examples()[topic]


def _field_names(cls: type, seen: set[type]) -> set[str]:
    """Wire names of a message's fields and of every nested map's fields."""
    if cls in seen:
        return set()
    seen.add(cls)
    hints = typing.get_type_hints(cls)
    names = set()
    for f in wire_codec(cls).fields:
        if not f.flatten:
            names.add(f.wire)
        tp = hints[f.attr]
        for arg in (tp, *typing.get_args(tp)):
            for inner in (arg, *typing.get_args(arg)):
                if dataclasses.is_dataclass(inner):
                    names |= _field_names(inner, seen)
    return names


@pytest.mark.parametrize("topic", sorted(TOPICS))
def test_every_field_is_documented(topic: str) -> None:
    """Each wire field of each message, nested maps included, is named in the docs."""
    text = DOC.read_text()
    names = _field_names(TOPICS[topic], set()) | {n for n, _ in wire_names(TOPICS[topic])}
    missing = sorted(n for n in names if f"`{n}`" not in text)
    assert not missing, f"{topic}: undocumented fields {missing}"


def test_documented_bytes_are_a_valid_connection_message() -> None:
    """The hex dump in the framing section decodes to acme/r1's ONLINE connection message."""
    from fleet.protocol import Connection, ConnectionState, encode

    (dump,) = re.findall(r"```hex\n(.*?)\n```", DOC.read_text(), flags=re.DOTALL)
    body = bytes.fromhex(dump.replace("\n", " "))
    message = decode(b"connection", body)
    assert isinstance(message, Connection)
    assert message.connection_state is ConnectionState.ONLINE
    assert message.header.robot_id == "acme/r1" and message.header.header_id == 0
    assert encode(message)[1] == body


def test_documented_limits_are_the_code_limits() -> None:
    """Every limit docs/protocol.md states for the wire is the one the code enforces."""
    from fleet.bus import admission, server
    from fleet.bus.config import FRAME_SLACK_BYTES, BusConfig
    from fleet.protocol.codec import MAX_DEPTH, MAX_MESSAGE_BYTES
    from fleet.protocol.schema import MAX_ITEMS

    text = DOC.read_text()
    config = BusConfig()
    assert MAX_MESSAGE_BYTES == 256 * 1024 and "**256 KiB**" in text
    assert f"+ **{FRAME_SLACK_BYTES}** bytes" in text
    assert f"+ **{FRAME_SLACK_BYTES - 33}** bytes" in text  # CURVE's 33-byte envelope
    assert f"**{MAX_ITEMS:,}** entries" in text and f"**{MAX_DEPTH}** levels" in text
    assert f"`RCVHWM={server.RECEIVE_HWM}`" in text and f"`SNDHWM={server.SEND_HWM}`" in text
    assert f"(default **{config.max_state_age_s:g} s**)" in text
    assert f"`error_answer_burst` ({config.error_answer_burst})" in text
    assert f"`error_answers_per_s` ({config.error_answers_per_s:g})" in text
    assert f"at most {server.PROBES_PER_S} per second" in text
    reasons = {
        value
        for name, value in vars(admission).items()
        if name.isupper() and isinstance(value, str)
    }
    from fleet.protocol import errors

    reasons |= {
        cls.reason
        for cls in vars(errors).values()
        if isinstance(cls, type)
        and issubclass(cls, errors.ProtocolError)
        and cls is not errors.ProtocolError
    }
    table = text.split("## 9.", 1)[1].split("## 10.", 1)[0]
    missing = sorted(r for r in reasons if f"| `{r}` |" not in table)
    assert not missing, f"reasons missing from §9: {missing}"

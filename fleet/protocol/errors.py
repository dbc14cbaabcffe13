"""Typed protocol errors: every rejected frame says why, with a stable reason code."""

from __future__ import annotations

from wms.errors import InputError


class ProtocolError(InputError):
    """A frame or message that cannot be accepted.

    ``reason`` is a stable machine-readable code (the per-reason counters and the
    ``error`` answer to a robot use it); ``source`` names the offending field.
    """

    reason = "invalid"

    def __init__(self, source: str, problem: str) -> None:
        super().__init__(source, problem)


class ValidationError(ProtocolError):
    """A map with a missing, wrongly typed or out-of-range field."""

    reason = "validation"


class NotMsgpackError(ProtocolError):
    reason = "not_msgpack"


class DuplicateKeyError(ProtocolError):
    """A msgpack map naming a key twice: re-published as is, peers would disagree on it."""

    reason = "duplicate_key"


class UnknownTopicError(ProtocolError):
    reason = "unknown_topic"


class OversizedError(ProtocolError):
    reason = "oversized"


class FramingError(ProtocolError):
    """Wrong number of frames in a multipart message."""

    reason = "framing"


class VersionError(ProtocolError):
    reason = "version"

"""The one error a parser may raise: the bytes are not a well-formed packet.

Every parser in :mod:`wirelab.wire`, given any bytes at all, either returns a value or raises
:class:`MalformedPacket` with a :class:`Malformation` reason. Never ``IndexError``, ``struct.error``
or ``ValueError``: a peer's bad bytes are the peer's fault (a *remote* error), and the runtime that
received them counts the reason and drops the frame.
"""

from __future__ import annotations

import enum


class Malformation(enum.Enum):
    """Why a packet was refused. The value is the counter name a runtime uses."""

    TRUNCATED = "truncated"
    BAD_LENGTH = "bad-length"
    BAD_VERSION = "bad-version"
    BAD_CHECKSUM = "bad-checksum"
    BAD_OPTION = "bad-option"
    BAD_VALUE = "bad-value"
    UNSUPPORTED = "unsupported"


class MalformedPacket(Exception):  # noqa: N818 - the name says what the bytes are
    """Bytes that do not parse as the protocol they claim to be."""

    def __init__(self, protocol: str, reason: Malformation, detail: str = "") -> None:
        self.protocol = protocol
        self.reason = reason
        self.detail = detail
        text = f"{protocol}: {reason.value}"
        super().__init__(f"{text}: {detail}" if detail else text)

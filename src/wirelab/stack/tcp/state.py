"""The TCP connection states (RFC 9293 §3.3.2), spelled as the RFC spells them."""

from __future__ import annotations

import enum


class TcpState(enum.Enum):
    CLOSED = "CLOSED"
    LISTEN = "LISTEN"
    SYN_SENT = "SYN-SENT"
    SYN_RECEIVED = "SYN-RECEIVED"
    ESTABLISHED = "ESTABLISHED"
    FIN_WAIT_1 = "FIN-WAIT-1"
    FIN_WAIT_2 = "FIN-WAIT-2"
    CLOSE_WAIT = "CLOSE-WAIT"
    CLOSING = "CLOSING"
    LAST_ACK = "LAST-ACK"
    TIME_WAIT = "TIME-WAIT"

    def __str__(self) -> str:
        return self.value

    @property
    def synchronized(self) -> bool:
        """States after the handshake has seen the peer's SYN acknowledged (RFC 9293 §3.5.2)."""
        return self not in (TcpState.CLOSED, TcpState.LISTEN, TcpState.SYN_SENT, TcpState.SYN_RECEIVED)

    @property
    def can_receive_data(self) -> bool:
        """States in which segment text is accepted (RFC 9293 §3.10.7.4, seventh)."""
        return self in (TcpState.ESTABLISHED, TcpState.FIN_WAIT_1, TcpState.FIN_WAIT_2)

    @property
    def can_send_data(self) -> bool:
        """States in which the user may still send (the peer in CLOSE-WAIT keeps sending: half-close)."""
        return self in (TcpState.ESTABLISHED, TcpState.CLOSE_WAIT)

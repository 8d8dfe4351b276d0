"""TCP settings, with Linux's defaults where the RFCs leave a choice (each says which)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, Final

SECOND: Final = 1_000_000_000
MILLISECOND: Final = 1_000_000


@dataclass(frozen=True, slots=True)
class TcpConfig:
    mss: int = 1460  # advertised: the interface MTU minus 40 (set by the endpoint from the MTU)
    send_buffer: int = 262_144  # octets the application may queue (SO_SNDBUF)
    receive_buffer: int = 131_072  # octets held for the application (SO_RCVBUF): the window
    window_scaling: bool = True  # RFC 7323 §2
    timestamps: bool = True  # RFC 7323 §3, §5 (PAWS)
    sack: bool = True  # RFC 2018
    nagle: bool = True  # RFC 9293 §3.7.4; TCP_NODELAY turns it off
    initial_window_segments: int = 10  # RFC 6928 (Linux)
    delayed_ack: int = 40 * MILLISECOND  # RFC 9293 §3.8.6.3: < 0.5 s (RFC 1122: 200 ms is a max); Linux 40 ms
    rto_initial: int = 1 * SECOND  # RFC 6298 (2.1)
    rto_min: int = 1 * SECOND  # RFC 6298 (2.4); Linux uses 200 ms
    rto_max: int = 120 * SECOND  # Linux TCP_RTO_MAX (RFC 6298 (2.5) allows a maximum >= 60 s)
    syn_retries: int = 6  # Linux tcp_syn_retries: 1+2+4+8+16+32+64 = 127 s
    data_retries: int = 15  # Linux tcp_retries2: about 15 minutes
    msl: int = 30 * SECOND  # TIME-WAIT lasts 2 MSL = 60 s, as Linux's TCP_TIMEWAIT_LEN
    keepalive: bool = False  # RFC 1122 §4.2.3.6: off by default
    keepalive_idle: int = 7200 * SECOND  # two hours (the course: 2 h)
    keepalive_interval: int = 75 * SECOND  # the course: every 75 s
    keepalive_probes: int = 9  # Linux 9; the course says 10
    persist_max: int = 60 * SECOND  # largest interval between zero-window probes
    challenge_acks_per_second: int = 10  # RFC 5961 §7: rate-limit challenge ACKs
    max_out_of_order: int = 0  # octets held out of order; 0: the receive buffer bounds it

    def with_changes(self, **changes: Any) -> TcpConfig:
        return replace(self, **changes)

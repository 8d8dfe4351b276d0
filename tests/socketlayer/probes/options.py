"""setsockopt / getsockopt: defaults, what a set reads back as (Linux doubles buffer sizes), bad values,
what an accepted socket inherits from its listener, and SO_ERROR / SO_TYPE."""

import socket

from probelib import check

TCP, UDP = socket.SOCK_STREAM, socket.SOCK_DGRAM
SOL, IPT = socket.SOL_SOCKET, socket.IPPROTO_TCP
OPTIONS = [
    ("SO_REUSEADDR", SOL, socket.SO_REUSEADDR),
    ("SO_KEEPALIVE", SOL, socket.SO_KEEPALIVE),
    ("SO_BROADCAST", SOL, socket.SO_BROADCAST),
    ("SO_ERROR", SOL, socket.SO_ERROR),
    ("SO_TYPE", SOL, socket.SO_TYPE),
    ("SO_ACCEPTCONN", SOL, socket.SO_ACCEPTCONN),
    ("SO_SNDBUF", SOL, socket.SO_SNDBUF),
    ("SO_RCVBUF", SOL, socket.SO_RCVBUF),
    ("TCP_NODELAY", IPT, socket.TCP_NODELAY),
    ("TCP_KEEPIDLE", IPT, socket.TCP_KEEPIDLE),
    ("TCP_KEEPINTVL", IPT, socket.TCP_KEEPINTVL),
    ("TCP_KEEPCNT", IPT, socket.TCP_KEEPCNT),
]

for kind in (TCP, UDP):
    with socket.socket(socket.AF_INET, kind) as s:
        for name, level, option in OPTIONS:
            check(f"{kind} default {name}", lambda s=s, level=level, option=option: s.getsockopt(level, option))

with socket.socket() as s:
    for name, level, option, value in [
        ("SO_REUSEADDR", SOL, socket.SO_REUSEADDR, 1),
        ("SO_REUSEADDR", SOL, socket.SO_REUSEADDR, 5),
        ("SO_KEEPALIVE", SOL, socket.SO_KEEPALIVE, 1),
        ("SO_BROADCAST", SOL, socket.SO_BROADCAST, 1),
        ("TCP_NODELAY", IPT, socket.TCP_NODELAY, 1),
        ("TCP_NODELAY", IPT, socket.TCP_NODELAY, 0),
        ("TCP_KEEPIDLE", IPT, socket.TCP_KEEPIDLE, 60),
        ("TCP_KEEPINTVL", IPT, socket.TCP_KEEPINTVL, 10),
        ("TCP_KEEPCNT", IPT, socket.TCP_KEEPCNT, 3),
        ("TCP_KEEPIDLE", IPT, socket.TCP_KEEPIDLE, 0),
        ("TCP_KEEPIDLE", IPT, socket.TCP_KEEPIDLE, 32767),
        ("TCP_KEEPIDLE", IPT, socket.TCP_KEEPIDLE, 32768),
        ("TCP_KEEPINTVL", IPT, socket.TCP_KEEPINTVL, 0),
        ("TCP_KEEPCNT", IPT, socket.TCP_KEEPCNT, 127),
        ("TCP_KEEPCNT", IPT, socket.TCP_KEEPCNT, 128),
        ("SO_SNDBUF", SOL, socket.SO_SNDBUF, 4096),
        ("SO_RCVBUF", SOL, socket.SO_RCVBUF, 4096),
        ("SO_SNDBUF", SOL, socket.SO_SNDBUF, 1),
        ("SO_RCVBUF", SOL, socket.SO_RCVBUF, 1),
        ("SO_SNDBUF", SOL, socket.SO_SNDBUF, 100_000),
        ("SO_RCVBUF", SOL, socket.SO_RCVBUF, 100_000),
        ("SO_TYPE", SOL, socket.SO_TYPE, 2),
        ("SO_ERROR", SOL, socket.SO_ERROR, 1),
    ]:
        check(f"set {name} {value}", lambda level=level, option=option, value=value: s.setsockopt(level, option, value))
        check(f"get {name}", lambda level=level, option=option: s.getsockopt(level, option))
    check("set from bytes", lambda: s.setsockopt(SOL, socket.SO_KEEPALIVE, (0).to_bytes(4, "little")))
    check("get SO_KEEPALIVE", lambda: s.getsockopt(SOL, socket.SO_KEEPALIVE))
    check("set from 2 bytes", lambda: s.setsockopt(SOL, socket.SO_KEEPALIVE, b"\x01\x00"))
    check("get with buflen 4", lambda: s.getsockopt(SOL, socket.SO_RCVBUF, 4))
    check("get SO_LINGER with buflen 8", lambda: s.getsockopt(SOL, socket.SO_LINGER, 8))
    check("unknown SOL_SOCKET option", lambda: s.getsockopt(SOL, 999))
    check("set unknown SOL_SOCKET option", lambda: s.setsockopt(SOL, 999, 1))
    check("unknown TCP option", lambda: s.getsockopt(IPT, 999))
    check("setsockopt with 2 arguments", lambda: s.setsockopt(SOL, socket.SO_KEEPALIVE))  # type: ignore[call-arg]
    check("setsockopt with None", lambda: s.setsockopt(SOL, socket.SO_KEEPALIVE, None))  # type: ignore[call-overload]
    check("setsockopt with a str", lambda: s.setsockopt(SOL, socket.SO_KEEPALIVE, "1"))  # type: ignore[call-overload]
    check("setsockopt with None and optlen", lambda: s.setsockopt(SOL, socket.SO_KEEPALIVE, None, 4))
    check("setsockopt with 4 arguments", lambda: s.setsockopt(SOL, socket.SO_KEEPALIVE, 1, 4))  # type: ignore[call-overload]

with socket.socket(socket.AF_INET, UDP) as s:
    check("udp set TCP_NODELAY", lambda: s.setsockopt(IPT, socket.TCP_NODELAY, 1))
    check("udp get TCP_NODELAY", lambda: s.getsockopt(IPT, socket.TCP_NODELAY))
    check("udp set SO_BROADCAST", lambda: s.setsockopt(SOL, socket.SO_BROADCAST, 1))
    check("udp get SO_BROADCAST", lambda: s.getsockopt(SOL, socket.SO_BROADCAST))
    check("udp set SO_KEEPALIVE", lambda: s.setsockopt(SOL, socket.SO_KEEPALIVE, 1))
    check("udp get SO_KEEPALIVE", lambda: s.getsockopt(SOL, socket.SO_KEEPALIVE))
    check("udp set SO_RCVBUF", lambda: s.setsockopt(SOL, socket.SO_RCVBUF, 10_000))
    check("udp get SO_RCVBUF", lambda: s.getsockopt(SOL, socket.SO_RCVBUF))

# -- what an accepted socket inherits ---------------------------------------------------------------
listener = socket.socket()
for level, option, value in [
    (SOL, socket.SO_REUSEADDR, 1),
    (SOL, socket.SO_KEEPALIVE, 1),
    (SOL, socket.SO_RCVBUF, 8192),
    (SOL, socket.SO_SNDBUF, 8192),
    (IPT, socket.TCP_NODELAY, 1),
    (IPT, socket.TCP_KEEPIDLE, 30),
    (IPT, socket.TCP_KEEPINTVL, 5),
    (IPT, socket.TCP_KEEPCNT, 4),
]:
    listener.setsockopt(level, option, value)
listener.bind(("127.0.0.1", 0))
listener.listen()
check("listener SO_ACCEPTCONN", lambda: listener.getsockopt(SOL, socket.SO_ACCEPTCONN))
client = socket.create_connection(listener.getsockname())
server, _ = listener.accept()
for name, level, option in OPTIONS:
    if name not in ("SO_SNDBUF", "SO_RCVBUF"):  # autotuned on a connection: Linux moves them
        check(f"accepted {name}", lambda level=level, option=option: server.getsockopt(level, option))
        check(f"connected {name}", lambda level=level, option=option: client.getsockopt(level, option))
client.close()
server.close()
listener.close()

# -- the IP level, and buffer minimums on UDP -----------------------------------------------------------
for kind in (TCP, UDP):
    with socket.socket(socket.AF_INET, kind) as s:
        check(f"{kind} IP_TTL", lambda s=s: s.getsockopt(socket.IPPROTO_IP, socket.IP_TTL))
        check(f"{kind} set IP_TTL 5", lambda s=s: s.setsockopt(socket.IPPROTO_IP, socket.IP_TTL, 5))
        check(f"{kind} IP_TTL", lambda s=s: s.getsockopt(socket.IPPROTO_IP, socket.IP_TTL))
        check(f"{kind} IP_TOS", lambda s=s: s.getsockopt(socket.IPPROTO_IP, socket.IP_TOS))
        check(f"{kind} set SO_RCVBUF 1", lambda s=s: s.setsockopt(SOL, socket.SO_RCVBUF, 1))
        check(f"{kind} SO_RCVBUF", lambda s=s: s.getsockopt(SOL, socket.SO_RCVBUF))
        check(f"{kind} set SO_SNDBUF 1", lambda s=s: s.setsockopt(SOL, socket.SO_SNDBUF, 1))
        check(f"{kind} SO_SNDBUF", lambda s=s: s.getsockopt(SOL, socket.SO_SNDBUF))
        check(f"{kind} set SO_RCVBUF -5", lambda s=s: s.setsockopt(SOL, socket.SO_RCVBUF, -5))
        # read as a u32: capped at rmem_max, doubled (this machine raised rmem_max above Linux's 212,992)
        check(
            f"{kind} SO_RCVBUF at least twice the default maximum",
            lambda s=s: s.getsockopt(SOL, socket.SO_RCVBUF) >= 425_984,
        )

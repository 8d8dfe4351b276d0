"""Timeouts and blocking modes: settimeout/gettimeout/setblocking/getblocking, TimeoutError and
BlockingIOError (EAGAIN, EINPROGRESS), the default timeout, and create_connection's timeout."""

import select
import socket

from probelib import check, say

listener = socket.create_server(("127.0.0.1", 0))
address = listener.getsockname()

with socket.socket() as s:
    check("settimeout 0.05", lambda: s.settimeout(0.05))
    say("gettimeout getblocking", (s.gettimeout(), s.getblocking()))
    check("settimeout -1", lambda: s.settimeout(-1))
    check("settimeout nan", lambda: s.settimeout(float("nan")))
    check("settimeout a string", lambda: s.settimeout("1"))  # type: ignore[arg-type]
    check("settimeout 2 (int)", lambda: s.settimeout(2))
    say("gettimeout", s.gettimeout())
    check("setblocking False", lambda: s.setblocking(False))
    say("gettimeout getblocking", (s.gettimeout(), s.getblocking()))
    check("setblocking True", lambda: s.setblocking(True))
    say("gettimeout getblocking", (s.gettimeout(), s.getblocking()))
    check("settimeout None", lambda: s.settimeout(None))
    say("gettimeout getblocking", (s.gettimeout(), s.getblocking()))
    check("settimeout 0", lambda: s.settimeout(0))
    say("gettimeout getblocking", (s.gettimeout(), s.getblocking()))

# -- timed out ------------------------------------------------------------------------------------
listener.settimeout(0.05)
check("accept timeout", listener.accept)
listener.settimeout(None)
client = socket.create_connection(address, timeout=0.05)
say("create_connection timeout", client.gettimeout())
server, _ = listener.accept()
check("recv timeout", lambda: client.recv(10))
check("recv_into timeout", lambda: client.recv_into(bytearray(4)))
try:
    client.recv(10)
except TimeoutError as error:
    say("TimeoutError is socket.timeout", error.__class__ is socket.timeout)
    say("TimeoutError args", (error.errno, error.args))
server.sendall(b"late")
check("recv after a timeout", lambda: client.recv(10))

# -- non-blocking ---------------------------------------------------------------------------------
client.setblocking(False)
check("recv non-blocking", lambda: client.recv(10))
check("recv MSG_DONTWAIT on a blocking socket", lambda: server.recv(10, socket.MSG_DONTWAIT))
listener.setblocking(False)
check("accept non-blocking", listener.accept)
listener.setblocking(True)
server.setblocking(False)
sent = 0
check("send non-blocking", lambda: server.send(b"x"))
while True:  # until the stream stalls: the peer reads nothing, its window and our buffer fill
    try:
        sent += server.send(b"x" * 65536)
    except BlockingIOError as error:
        full = (type(error).__name__, error.errno, error.strerror, sent > 0)
        if not select.select([], [server], [], 0.2)[1]:
            break
say("send non-blocking until full", full)
server.settimeout(0.05)
check("sendall timeout when full", lambda: server.sendall(b"y" * 65536))
check("send timeout when full", lambda: server.send(b"y" * 65536))
client.close()
server.close()

with socket.socket() as s:
    s.setblocking(False)
    check("connect non-blocking", lambda: s.connect(address))
    check("writable after connect", lambda: select.select([], [s], [], 5)[1] == [s])
    check("SO_ERROR", lambda: s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR))
    check("connect_ex once the handshake is done", lambda: s.connect_ex(address))
    check("connect_ex when connected", lambda: s.connect_ex(address))
    check("getpeername", lambda: s.getpeername() == address)
    listener.accept()[0].close()
with socket.socket() as s:
    s.setblocking(False)
    check("connect_ex non-blocking", lambda: s.connect_ex(address))
    select.select([], [s], [], 5)
    listener.accept()[0].close()
listener.close()
with socket.socket() as s:
    s.setblocking(False)
    check("connect non-blocking, nobody listens", lambda: s.connect(address))
    check("writable", lambda: select.select([], [s], [], 5)[1] == [s])
    check("SO_ERROR", lambda: s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR))
    check("SO_ERROR again", lambda: s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR))
    check("connect after SO_ERROR took the error", lambda: s.connect(address))
    check("connect again", lambda: s.connect(address))
with socket.socket() as s:
    s.setblocking(False)
    check("connect non-blocking, nobody listens", lambda: s.connect(address))
    select.select([], [s], [], 5)
    check("connect_ex without reading SO_ERROR", lambda: s.connect_ex(address))
    check("SO_ERROR after it", lambda: s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR))

# -- the default timeout ---------------------------------------------------------------------------
say("getdefaulttimeout", socket.getdefaulttimeout())
socket.setdefaulttimeout(1.5)
with socket.socket() as s:
    say("a new socket takes the default", (s.gettimeout(), s.getblocking()))
socket.setdefaulttimeout(0)
with socket.socket() as s:
    say("default 0", (s.gettimeout(), s.getblocking()))
check("setdefaulttimeout -1", lambda: socket.setdefaulttimeout(-1))
socket.setdefaulttimeout(None)
with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
    s.bind(("127.0.0.1", 0))
    s.settimeout(0.05)
    check("recvfrom timeout", lambda: s.recvfrom(10))
    s.setblocking(False)
    check("recvfrom non-blocking", lambda: s.recvfrom(10))
    check("recvfrom_into non-blocking", lambda: s.recvfrom_into(bytearray(4)))

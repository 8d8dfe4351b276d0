"""Keepalive on a connection whose peer vanished (its cable pulled): after TCP_KEEPIDLE seconds of
silence, TCP_KEEPCNT probes TCP_KEEPINTVL apart go unanswered, and the blocked recv fails ETIMEDOUT.

argv: the server's address, its port. The server accepts and then says nothing; the network (not this
probe) takes it away once the connection is up.
"""

import socket
import sys
import time

from probelib import check, say

s = socket.create_connection((sys.argv[1], int(sys.argv[2])))
s.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
s.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPIDLE, 1)
s.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPINTVL, 1)
s.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPCNT, 2)
started = time.monotonic()
check("recv while the peer is gone", lambda: s.recv(10))
say("gave up after about 3 s", 2.5 < time.monotonic() - started < 4.5)
check("recv again", lambda: s.recv(10))
check("send", lambda: s.send(b"x"))
check("SO_ERROR", lambda: s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR))
check("getpeername", s.getpeername)
s.close()

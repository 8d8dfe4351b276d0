"""A TCP connection over 127.0.0.1 within one process: accept, connect, data calls, readiness,
makefile, shutdown and what the peer then sees, close, and the resets (ECONNRESET, EPIPE)."""

import contextlib
import re
import select
import selectors
import socket
import struct

from probelib import HOST, check, poll_names, readable, say, wait_for

listener = socket.socket()
listener.bind(("127.0.0.1", 0))
check("listener readable before a connection", lambda: select.select([listener], [], [], 0)[0] == [listener])
listener.listen()
port = listener.getsockname()[1]
say("listener poll", poll_names(listener))
say("SO_ACCEPTCONN", listener.getsockopt(socket.SOL_SOCKET, socket.SO_ACCEPTCONN))


def pair() -> tuple[socket.socket, socket.socket]:
    client = socket.socket()
    client.connect(("127.0.0.1", port))
    readable(listener)
    server, _ = listener.accept()
    return client, server


client = socket.socket()
check("connect", lambda: client.connect(("127.0.0.1", port)))
check("listener readable with a pending accept", lambda: readable(listener))
say("listener poll with a pending accept", poll_names(listener))
server, address = listener.accept()
say("accept address", address)
say("accepted type timeout", (server.type, server.gettimeout(), server.fileno() > 2))
say("client names", (client.getsockname(), client.getpeername()))
say("server names", (server.getsockname(), server.getpeername()))
say("peer of one is the name of the other", client.getsockname() == server.getpeername())
for name, s in (("listener", listener), ("client", client), ("server", server)):
    say(f"repr {name}", re.sub(r"fd=\d+", "fd=FD", repr(s)))
check("connect again", lambda: client.connect(("127.0.0.1", port)))
check("connect_ex again", lambda: client.connect_ex(("127.0.0.1", port)))
check("listen on a connected socket", client.listen)
check("bind a connected socket", lambda: client.bind(("127.0.0.1", 0)))
check("accept on a connected socket", client.accept)
check("client writable after connect", lambda: select.select([], [client], [], 0)[1] == [client])
say("client poll when idle", poll_names(client))
say("server poll when idle", poll_names(server))

# -- data -----------------------------------------------------------------------------------------
check("send", lambda: client.send(b"hello"))
readable(server)
say("server poll with data", poll_names(server))
check("select readable on data", lambda: select.select([server], [], [], 0)[0] == [server])
check("recv peek", lambda: server.recv(100, socket.MSG_PEEK))
check("recv 2", lambda: server.recv(2))
check("recv the rest", lambda: server.recv(100))
check("sendall", lambda: client.sendall(b"0123456789"))
buffer = bytearray(4)
readable(server)
check("recv_into", lambda: (server.recv_into(buffer), bytes(buffer)))
check("recv_into nbytes", lambda: (server.recv_into(buffer, 2), bytes(buffer)))
check("recvfrom on tcp", lambda: server.recvfrom(2))
check("recvfrom_into on tcp", lambda: (server.recvfrom_into(buffer), bytes(buffer)))
check("sendto on a connected tcp socket", lambda: client.sendto(b"xy", ("127.0.0.1", 9)))
readable(server)
check("recv it", lambda: server.recv(10))
check("send empty", lambda: client.send(b""))
check("recv 0", lambda: server.recv(0))
check("recv negative", lambda: server.recv(-1))
check("send str", lambda: client.send("text"))  # type: ignore[arg-type]
check("send memoryview", lambda: client.send(memoryview(b"view")))
check("sendall bytearray", lambda: client.sendall(bytearray(b"array")))
readable(server)
check("recv MSG_WAITALL", lambda: server.recv(9, socket.MSG_WAITALL))
big = bytes(range(256)) * 4096  # 1 MiB: more than the buffers hold, sendall waits for room
selector = selectors.DefaultSelector()
selector.register(server, selectors.EVENT_READ)
received = bytearray()
sent = 0
client.setblocking(False)
while len(received) < len(big):
    if sent < len(big):
        with contextlib.suppress(BlockingIOError):  # the buffers are full: wait for the reader
            sent += client.send(big[sent : sent + 65536])
    for _key, _events in selector.select(5):
        received += server.recv(65536)
client.setblocking(True)
selector.unregister(server)
say("1 MiB through send/recv with a selector", bytes(received) == big)

# -- makefile -------------------------------------------------------------------------------------
writer = client.makefile("w", encoding="utf-8")
reader = server.makefile("r", encoding="utf-8")
writer.write("line one\nline two\n")
writer.flush()
say("makefile readline", reader.readline())
say("makefile readline", reader.readline())
binary_reader = client.makefile("rb")
server.sendall(b"a\nb\nc")
server.shutdown(socket.SHUT_WR)
say("makefile rb readlines after the peer's FIN", binary_reader.readlines())
writer.close()
reader.close()
binary_reader.close()
say("the socket outlives its files", client.fileno() > 2)

# -- shutdown: SHUT_WR (half-close) ---------------------------------------------------------------
check("recv after the peer's SHUT_WR", lambda: client.recv(10))
say("client poll after the peer's SHUT_WR", poll_names(client))
say("server poll after its SHUT_WR", poll_names(server))
check("getpeername after the peer's FIN", lambda: client.getpeername() == server.getsockname())
check("getpeername after its own FIN", lambda: server.getpeername() == client.getsockname())
check("send after SHUT_WR", lambda: server.send(b"x"))
check("the half-closed side still receives: client sends", lambda: client.sendall(b"still"))
readable(server)
check("server recv", lambda: server.recv(10))
check("shutdown SHUT_WR again", lambda: server.shutdown(socket.SHUT_WR))
client.close()
wait_for(server, select.POLLRDHUP)
check("recv after the peer closed", lambda: server.recv(10))
check("recv again", lambda: server.recv(10))
say("server poll when both sides closed", poll_names(server))
check("getpeername after both closed", server.getpeername)
check("shutdown after both closed", lambda: server.shutdown(socket.SHUT_RDWR))
server.close()

# -- shutdown: SHUT_RD ----------------------------------------------------------------------------
client, server = pair()
check("shutdown SHUT_RD", lambda: server.shutdown(socket.SHUT_RD))
say("poll after SHUT_RD", poll_names(server))
check("recv after SHUT_RD", lambda: server.recv(10))
check("the peer still sends", lambda: client.send(b"late"))
check("send after SHUT_RD", lambda: server.send(b"back"))
readable(client)
check("the peer receives", lambda: client.recv(10))  # (by now "late" has arrived too)
check("recv after SHUT_RD, data arrived", lambda: server.recv(10))
check("shutdown SHUT_RDWR", lambda: server.shutdown(socket.SHUT_RDWR))
wait_for(client, select.POLLRDHUP)
say("poll after SHUT_RDWR", poll_names(server))
say("the peer's poll", poll_names(client))
check("the peer's recv", lambda: client.recv(10))
check("send after SHUT_RDWR", lambda: server.send(b"x"))
check("recv after SHUT_RDWR", lambda: server.recv(10))
client.close()
server.close()

# -- resets ---------------------------------------------------------------------------------------
client, server = pair()
client.sendall(b"never read")
readable(server)
server.close()  # unread data: RST, not FIN (RFC 2525 §2.17)
wait_for(client, select.POLLERR | select.POLLHUP)
say("poll after a reset", poll_names(client))
check("SO_ERROR after a reset", lambda: client.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR))
say("poll after SO_ERROR", poll_names(client))
client.close()

client, server = pair()
client.sendall(b"never read")
readable(server)
server.close()
wait_for(client, select.POLLERR | select.POLLHUP)
check("recv after a reset", lambda: client.recv(10))
check("recv again", lambda: client.recv(10))
check("send after a reset", lambda: client.send(b"x"))
check("getpeername after a reset", client.getpeername)
check("getsockname after a reset", client.getsockname)
check("shutdown after a reset", lambda: client.shutdown(socket.SHUT_WR))
client.close()

client, server = pair()
client.sendall(b"never read")
readable(server)
server.close()
wait_for(client, select.POLLERR | select.POLLHUP)
check("send first after a reset", lambda: client.send(b"x"))
check("send again", lambda: client.send(b"x"))
check("recv", lambda: client.recv(10))
client.close()

client, server = pair()
server.close()  # FIN; the client's next data meets a closed socket: RST
wait_for(client, select.POLLRDHUP)
say("poll after the peer's FIN", poll_names(client))
check("send to a closed peer", lambda: client.send(b"first"))
wait_for(client, select.POLLERR | select.POLLHUP)
say("poll after its RST", poll_names(client))
check("send after its RST", lambda: client.send(b"second"))
check("recv after its RST", lambda: client.recv(10))
client.close()

client, server = pair()
server.close()
wait_for(client, select.POLLRDHUP)
client.send(b"first")
wait_for(client, select.POLLERR | select.POLLHUP)
check("recv first after its RST", lambda: client.recv(10))
check("sendall after its RST", lambda: client.sendall(b"second"))
client.close()

# -- 0.0.0.0 as a destination is this host ------------------------------------------------------------
client = socket.socket()
check("connect 0.0.0.0", lambda: client.connect(("0.0.0.0", port)))
check("its peer", client.getpeername)
listener.accept()[0].close()
client.close()

# -- the host's own address: the connection never leaves the host, both ends have that address ----------
wide = socket.socket()
wide.bind((HOST, 0))
wide.listen()
client = socket.create_connection((HOST, wide.getsockname()[1]))
server, peer = wide.accept()
say("to the host's own address: client", (client.getsockname()[0] == HOST, client.getpeername()[0] == HOST))
say("to the host's own address: server", (server.getsockname()[0] == HOST, peer[0] == HOST))
client.sendall(b"own")
check("data", lambda: (readable(server), server.recv(10)))
client.close()
server.close()
wide.close()

# -- refused ----------------------------------------------------------------------------------------
listener.close()
refused = socket.socket()
check("connect refused", lambda: refused.connect(("127.0.0.1", port)))
check("connect_ex refused", lambda: refused.connect_ex(("127.0.0.1", port)))
check("getsockname after refused", refused.getsockname)
check("create_connection refused", lambda: socket.create_connection(("127.0.0.1", port)))
refused.close()
with socket.socket() as s:
    check("connect port 0", lambda: s.connect(("127.0.0.1", 0)))

# -- MSG_WAITALL and an end of stream before it is satisfied ----------------------------------------
listener = socket.create_server(("127.0.0.1", 0))
client = socket.create_connection(listener.getsockname())
server, _ = listener.accept()
client.sendall(b"short")
client.close()
check("MSG_WAITALL cut short by FIN", lambda: server.recv(100, socket.MSG_WAITALL))
check("then", lambda: server.recv(100, socket.MSG_WAITALL))
server.close()
client = socket.create_connection(listener.getsockname())
server, _ = listener.accept()
client.setblocking(False)
check("connect_ex on a connected non-blocking socket", lambda: client.connect_ex(listener.getsockname()))
check("recv MSG_PEEK non-blocking, nothing there", lambda: client.recv(10, socket.MSG_PEEK))
server.sendall(b"peek")
readable(client)
check("recv MSG_PEEK|MSG_DONTWAIT", lambda: client.recv(10, socket.MSG_PEEK | socket.MSG_DONTWAIT))
check("recv", lambda: client.recv(10))
client.close()
server.close()
listener.close()

# -- a listener closed with connections nobody accepted: each is reset ---------------------------------
listener = socket.create_server(("127.0.0.1", 0))
waiting = [socket.create_connection(listener.getsockname()) for _ in range(2)]
waiting[1].sendall(b"hello?")
readable(listener)
listener.close()
for index, s in enumerate(waiting):
    wait_for(s, select.POLLERR | select.POLLHUP)
    check(f"pending connection {index} after the listener closed: poll", lambda s=s: poll_names(s))
    check(f"pending connection {index}: recv", lambda s=s: s.recv(10))
    check(f"pending connection {index}: send", lambda s=s: s.send(b"x"))
    s.close()

# -- SO_LINGER on with a zero timeout: close aborts (RST) ------------------------------------------------
listener = socket.create_server(("127.0.0.1", 0))
client = socket.create_connection(listener.getsockname())
server, _ = listener.accept()
check("SO_LINGER set", lambda: client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0)))
check("SO_LINGER get", lambda: struct.unpack("ii", client.getsockopt(socket.SOL_SOCKET, socket.SO_LINGER, 8)))
check("SO_LINGER short", lambda: client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01"))
client.close()
wait_for(server, select.POLLERR | select.POLLHUP)
check("the peer after an abortive close", lambda: server.recv(10))
server.close()
listener.close()

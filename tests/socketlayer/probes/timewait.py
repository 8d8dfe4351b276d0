"""Restarting a server right after it closed a connection: the connection is in TIME-WAIT (the side
that closes first keeps it for 2MSL), and Linux refuses the port without SO_REUSEADDR — and allows it
when both the old and the new socket set it."""

import select
import socket

from probelib import check, readable, say


def session(reuse: bool) -> int:
    """A server that accepts once, answers, closes first; its client then closes too."""
    listener = socket.socket()
    if reuse:
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    port = listener.getsockname()[1]
    client = socket.create_connection(("127.0.0.1", port))
    conn, _ = listener.accept()
    client.sendall(b"hi")
    readable(conn)
    conn.sendall(conn.recv(10).upper())
    conn.close()  # the server closes first: its side goes FIN-WAIT, then TIME-WAIT
    listener.close()
    say("client reads", (client.recv(10), client.recv(10)))
    client.close()
    select.select([], [], [], 0.05)  # the FIN and its ACK cross the loopback
    return port


def rebind(port: int, reuse: bool, label: str) -> None:
    again = socket.socket()
    if reuse:
        again.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if check(f"{label}: bind", lambda: again.bind(("127.0.0.1", port))) is None and again.getsockname()[1] == port:
        check(f"{label}: listen", again.listen)
    again.close()


port = session(reuse=False)
rebind(port, reuse=False, label="neither set SO_REUSEADDR")
rebind(port, reuse=True, label="only the new socket sets it")
with socket.socket() as other:
    check("bind 0.0.0.0 on that port", lambda: other.bind(("0.0.0.0", port)))
with socket.socket() as client:
    check("connect to the port in TIME-WAIT", lambda: client.connect(("127.0.0.1", port)))
port = session(reuse=True)
rebind(port, reuse=False, label="only the old socket set it")
rebind(port, reuse=True, label="both set it")

# the client closes first: the TIME-WAIT is the client's, and the server's port is free at once
listener = socket.socket()
listener.bind(("127.0.0.1", 0))
listener.listen()
port = listener.getsockname()[1]
client = socket.create_connection(("127.0.0.1", port))
conn, _ = listener.accept()
client.close()
readable(conn)
say("server reads the end", conn.recv(10))
conn.close()
listener.close()
select.select([], [], [], 0.05)
rebind(port, reuse=False, label="the client closed first")

# a listener that never had a connection leaves nothing behind
listener = socket.socket()
listener.bind(("127.0.0.1", 0))
listener.listen()
port = listener.getsockname()[1]
listener.close()
rebind(port, reuse=False, label="a listener closed without connections")

# the client's own port, in TIME-WAIT after it closed first
listener = socket.socket()
listener.bind(("127.0.0.1", 0))
listener.listen()
client = socket.create_connection(listener.getsockname())
client_port = client.getsockname()[1]
conn, _ = listener.accept()
client.close()
readable(conn)
conn.close()
select.select([], [], [], 0.05)
rebind(client_port, reuse=False, label="the client's port in TIME-WAIT")
rebind(client_port, reuse=True, label="the client's port in TIME-WAIT, SO_REUSEADDR on the new socket")
# two sockets on one port (both SO_REUSEADDR) cannot both connect to the same peer
first, second = socket.socket(), socket.socket()
for s in (first, second):
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
first.bind(("127.0.0.1", 0))
check("second binds the same port", lambda: second.bind(first.getsockname()))
check("first connects", lambda: first.connect(listener.getsockname()))
check("second connects to the same peer", lambda: second.connect(listener.getsockname()))
first.close()
second.close()
listener.close()

"""The server half of the two-host probe (peer_client.py is the other): one scripted connection after
another, each showing the client something a peer does — echo, half-close, reset, close.

argv: address to listen on (127.0.0.1 on the real machine), port.
"""

import select
import socket
import sys

from probelib import check, readable, say

listener = socket.socket()
listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
listener.bind((sys.argv[1], int(sys.argv[2])))
listener.listen()

# 1: echo, upper-case, lines through makefile, until the client's FIN
conn, peer = listener.accept()
say("1 accepted from", peer)
say("1 names agree", conn.getpeername() == peer and conn.getsockname()[1] == int(sys.argv[2]))
with conn, conn.makefile("rwb") as stream:
    for line in stream:
        stream.write(line.upper())
        stream.flush()
    say("1 end of stream", True)

# 2: the server says bye and half-closes; the client goes on sending
conn, _ = listener.accept()
conn.sendall(b"bye")
conn.shutdown(socket.SHUT_WR)
received = b""
while data := conn.recv(100):
    received += data
say("2 received after half-close", received)
conn.close()

# 3: data never read: close sends RST
conn, _ = listener.accept()
readable(conn)
conn.close()

# 4: closed at once: FIN; the client's data after it meets RST
conn, _ = listener.accept()
conn.close()

# 5: options across the wire
conn, _ = listener.accept()
check("5 TCP_NODELAY", lambda: conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1))
conn.sendall(b"x" * 100_000)
conn.shutdown(socket.SHUT_WR)
readable(conn, 30)
say("5 client closed", conn.recv(10))
conn.close()

# 6: UDP echo on the same port number
udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
udp.bind((sys.argv[1], int(sys.argv[2])))
say("6 udp bound", True)
conn, _ = listener.accept()
conn.sendall(b"go")  # the UDP socket is bound: the client may send
conn.close()
for _ in range(2):
    data, peer = udp.recvfrom(100)
    say("6 udp from", (data, peer))
    udp.sendto(data.upper(), peer)
udp.close()
listener.close()
select.select([], [], [], 0)
say("done", True)

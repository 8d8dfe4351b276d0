"""The client half of the two-host probe (see peer_server.py).

argv: the server's address, its port, a port nobody listens on, then (only on a simulated network)
addresses that cannot be reached, each printed as what connect says (with ``+timeout``: also what
connect and connect_ex say with a timeout of one second).
"""

import select
import socket
import sys

from probelib import check, poll_names, say, wait_for

server = (sys.argv[1], int(sys.argv[2]))
closed = (sys.argv[1], int(sys.argv[3]))

check("refused", lambda: socket.create_connection(closed))
with socket.socket() as s:
    check("connect_ex refused", lambda: s.connect_ex(closed))

# 1: echo through makefile
s = socket.create_connection(server)
say("1 peer is the server", s.getpeername() == server)
with s.makefile("rw", encoding="utf-8", newline="\n") as stream:
    for line in ("hello\n", "world 你好\n"):
        stream.write(line)
        stream.flush()
        say("1 echo", stream.readline())
s.shutdown(socket.SHUT_WR)
check("1 recv after the server closed", lambda: s.recv(10))
s.close()

# 2: the server half-closes; we still send
s = socket.create_connection(server)
received = b""
while data := s.recv(100):
    received += data
say("2 received", received)
say("2 poll after the server's FIN", poll_names(s))
check("2 send after the server's FIN", lambda: s.sendall(b"still here"))
s.close()

# 3: unread data: the server's close is a RST
s = socket.create_connection(server)
s.sendall(b"never read")
wait_for(s, select.POLLERR | select.POLLHUP, 30)
say("3 poll after RST", poll_names(s))
check("3 recv", lambda: s.recv(10))
check("3 recv again", lambda: s.recv(10))
check("3 send", lambda: s.send(b"x"))
s.close()

# 4: FIN, then our data meets a closed socket
s = socket.create_connection(server)
wait_for(s, select.POLLRDHUP, 30)
check("4 send after FIN", lambda: s.send(b"first"))
wait_for(s, select.POLLERR | select.POLLHUP, 30)
check("4 send after RST", lambda: s.send(b"second"))
check("4 recv", lambda: s.recv(10))
s.close()

# 5: 100 kB with timeouts set
s = socket.create_connection(server, timeout=30)
total = 0
while data := s.recv(65536):
    total += len(data)
say("5 received", total)
s.close()

# 6: UDP
s = socket.create_connection(server)
say("6 the server is ready for datagrams", s.recv(10))
s.close()
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
u.settimeout(30)
check("6 sendto", lambda: u.sendto(b"datagram", server))
check("6 recvfrom", lambda: u.recvfrom(100)[0])
u.connect(server)
check("6 send", lambda: u.send(b"connected"))
check("6 recv", lambda: u.recv(100))
u.close()

# unreachable addresses (a simulated network only: the real machine touches nothing but 127.0.0.1)
for argument in sys.argv[4:]:
    address, _, timed = argument.partition("+")
    if timed:  # also with a timeout shorter than the wait for the ICMP error
        with socket.socket() as s:
            s.settimeout(1)
            check(f"connect {address} timeout 1", lambda s=s, address=address: s.connect((address, 80)))
        with socket.socket() as s:
            s.settimeout(1)
            check(f"connect_ex {address} timeout 1", lambda s=s, address=address: s.connect_ex((address, 80)))
    with socket.socket() as s:
        s.settimeout(60)
        check(f"connect {address}", lambda s=s, address=address: s.connect((address, 80)))
    with socket.socket() as s:
        check(f"connect_ex {address}", lambda s=s, address=address: s.connect_ex((address, 80)))
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        check(f"udp connect {address}", lambda s=s, address=address: s.connect((address, 80)))

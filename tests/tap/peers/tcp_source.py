"""TCP client: connect, send COUNT pseudo-random octets (seeded), shut down its side, wait for the
server's FIN (a graceful close both ways), print what it sent and its SHA-256.

A plain Python socket program: it runs the same on Linux's stack and on wirelab's.
Usage: tcp_source.py HOST PORT COUNT SEED
"""

import hashlib
import random
import socket
import sys

host, port, count, seed = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
data = random.Random(seed).randbytes(count)
with socket.create_connection((host, port), timeout=30) as connection:
    connection.sendall(data)
    connection.shutdown(socket.SHUT_WR)
    left = connection.recv(1)
print(f"sent {count} sha256 {hashlib.sha256(data).hexdigest()} eof {left == b''}", flush=True)

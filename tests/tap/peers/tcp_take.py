"""TCP client: connect, read until EOF, close, print how much arrived and its SHA-256.

A plain Python socket program: it runs the same on Linux's stack and on wirelab's.
Usage: tcp_take.py HOST PORT
"""

import hashlib
import socket
import sys

host, port = sys.argv[1], int(sys.argv[2])
digest = hashlib.sha256()
count = 0
with socket.create_connection((host, port), timeout=30) as connection:
    while data := connection.recv(1 << 16):
        digest.update(data)
        count += len(data)
print(f"received {count} sha256 {digest.hexdigest()}", flush=True)

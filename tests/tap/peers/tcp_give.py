"""TCP server: accept one connection, send COUNT pseudo-random octets (seeded), close, print its SHA-256.

A plain Python socket program: it runs the same on Linux's stack and on wirelab's.
Usage: tcp_give.py PORT COUNT SEED
"""

import hashlib
import random
import socket
import sys

port, count, seed = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
data = random.Random(seed).randbytes(count)
with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as server:
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    server.bind(("", port))
    server.listen(1)
    print("listening", flush=True)
    connection, peer = server.accept()
    with connection:
        connection.sendall(data)
        connection.shutdown(socket.SHUT_WR)
        left = connection.recv(1)  # the client's FIN: it has everything
print(f"sent {count} sha256 {hashlib.sha256(data).hexdigest()} eof {left == b''}", flush=True)

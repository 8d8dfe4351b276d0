"""TCP server: accept one connection, read until EOF, print how much arrived and its SHA-256, close.

A plain Python socket program: it runs the same on Linux's stack and on wirelab's.
Usage: tcp_sink.py PORT
"""

import hashlib
import socket
import sys

port = int(sys.argv[1])
with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as server:
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    server.bind(("", port))
    server.listen(1)
    print("listening", flush=True)
    connection, peer = server.accept()
    digest = hashlib.sha256()
    count = 0
    with connection:
        while data := connection.recv(1 << 16):
            digest.update(data)
            count += len(data)
print(f"received {count} sha256 {digest.hexdigest()}", flush=True)

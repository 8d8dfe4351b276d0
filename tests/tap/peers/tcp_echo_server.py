"""TCP echo server: one connection, everything back, until the client closes.

Usage: tcp_echo_server.py PORT
"""

import socket
import sys

with socket.create_server(("", int(sys.argv[1]))) as server:
    print("listening", flush=True)
    connection, _ = server.accept()
    with connection:
        while data := connection.recv(65536):
            connection.sendall(data)

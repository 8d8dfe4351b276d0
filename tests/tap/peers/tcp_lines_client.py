"""TCP client: for each line typed (input() until EOF), send it and print what comes back.

Usage: tcp_lines_client.py HOST PORT
"""

import socket
import sys

with socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=10) as connection:
    while True:
        try:
            line = input("> ")
        except EOFError:
            break
        connection.sendall(line.encode() + b"\n")
        reply = b""
        while not reply.endswith(b"\n"):
            reply += connection.recv(4096)
        print(f"echo: {reply.decode().rstrip()}")
print("bye")

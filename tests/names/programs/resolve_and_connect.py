# Resolve a name, then talk to it: what a learner's client does with a host name instead of an address.
import socket
import sys

NAME = sys.argv[1] if len(sys.argv) > 1 else "server.lab"
PORT = int(sys.argv[2]) if len(sys.argv) > 2 else 80

print(socket.gethostbyname(NAME))
with socket.create_connection((NAME, PORT)) as conn:
    conn.sendall(b"hello")
    print(conn.recv(1024))

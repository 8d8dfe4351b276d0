# Read until EOF; print how many octets arrived.
import socket
import sys

host, port = sys.argv[1], int(sys.argv[2])
total = 0
with socket.create_server((host, port)) as server:
    conn, _ = server.accept()
    with conn:
        while data := conn.recv(65536):
            total += len(data)
print(total)

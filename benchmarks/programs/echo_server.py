# Echo every message back until the client closes (the course's communication loop, one client).
import socket
import sys

host, port = sys.argv[1], int(sys.argv[2])
with socket.create_server((host, port)) as server:
    conn, _ = server.accept()
    with conn:
        while data := conn.recv(65536):
            conn.sendall(data)

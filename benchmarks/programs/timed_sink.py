# Accept one connection, read until EOF; print the octets and the seconds from accept to EOF.
import socket
import sys
import time

host, port = sys.argv[1], int(sys.argv[2])
total = 0
with socket.create_server((host, port)) as server:
    print("listening", flush=True)
    conn, _ = server.accept()
    started = time.perf_counter()
    with conn:
        while data := conn.recv(1 << 18):
            total += len(data)
    seconds = time.perf_counter() - started
print(total, seconds, flush=True)

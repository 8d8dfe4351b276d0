# N round trips of a 64-byte message (TCP_NODELAY); print the median and the 99th percentile in µs.
import socket
import sys
import time

host, port, count = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
message = b"x" * 64
times = []
with socket.create_connection((host, port)) as conn:
    conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    for _ in range(count):
        started = time.perf_counter()
        conn.sendall(message)
        got = 0
        while got < len(message):
            got += len(conn.recv(len(message) - got))
        times.append(time.perf_counter() - started)
times.sort()
print(times[len(times) // 2] * 1e6, times[min(len(times) - 1, len(times) * 99 // 100)] * 1e6, flush=True)

# Send N mebibytes (sendall of 64 KiB blocks), shut down, wait for the peer's FIN; print the octets
# and the seconds from the connection's establishment to the FIN.
import socket
import sys
import time

host, port, mebibytes = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
block = bytes(range(256)) * 256  # 64 KiB
with socket.create_connection((host, port)) as conn:
    started = time.perf_counter()
    for _ in range(mebibytes * 16):
        conn.sendall(block)
    conn.shutdown(socket.SHUT_WR)
    conn.recv(1)
    seconds = time.perf_counter() - started
print(mebibytes * 1048576, seconds, flush=True)

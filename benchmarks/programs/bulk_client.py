# Send N mebibytes with sendall, then close.
import socket
import sys

host, port, mebibytes = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
block = bytes(range(256)) * 256  # 64 KiB
with socket.create_connection((host, port)) as conn:
    for _ in range(mebibytes * 16):
        conn.sendall(block)

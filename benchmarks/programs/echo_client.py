# N round trips of a 64-byte message; prints how many came back whole.
import socket
import sys

host, port, count = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
message = b"x" * 64
done = 0
with socket.create_connection((host, port)) as conn:
    conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    for _ in range(count):
        conn.sendall(message)
        got = b""
        while len(got) < len(message):
            got += conn.recv(len(message) - len(got))
        done += got == message
print(done)

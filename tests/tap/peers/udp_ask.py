"""UDP client: send a datagram to HOST PORT on a connected socket and print what comes back —
the echo, or the error an ICMP port unreachable produces (ConnectionRefusedError on Linux).

Usage: udp_ask.py HOST PORT TEXT
"""

import socket
import sys

host, port, text = sys.argv[1], int(sys.argv[2]), sys.argv[3]
with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
    sock.settimeout(5)
    sock.connect((host, port))
    sock.send(text.encode())
    try:
        reply = sock.recv(65536)
    except ConnectionRefusedError as error:
        print(f"refused errno {error.errno}", flush=True)
    else:
        print(f"reply {reply.decode()}", flush=True)

"""UDP echo server: send every datagram back to its sender (until killed).

Usage: udp_echo_server.py PORT
"""

import socket
import sys

with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
    sock.bind(("", int(sys.argv[1])))
    print("listening", flush=True)
    while True:
        data, peer = sock.recvfrom(65536)
        sock.sendto(data, peer)

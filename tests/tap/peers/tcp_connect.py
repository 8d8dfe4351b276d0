"""TCP client: try to connect to HOST PORT and say how it went (connected / refused / the error).

Usage: tcp_connect.py HOST PORT
"""

import socket
import sys

try:
    with socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=5):
        print("connected", flush=True)
except ConnectionRefusedError as error:
    print(f"refused errno {error.errno}", flush=True)
except OSError as error:
    print(f"error {error!r}", flush=True)

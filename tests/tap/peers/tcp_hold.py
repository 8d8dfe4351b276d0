"""TCP client: connect, print "connected", hold the connection SECONDS, close.

Usage: tcp_hold.py HOST PORT SECONDS
"""

import socket
import sys
import time

with socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=30):
    print("connected", flush=True)
    time.sleep(float(sys.argv[3]))
print("closed", flush=True)

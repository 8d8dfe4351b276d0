"""Accepts one connection and says nothing (the keepalive probe's peer). argv: address, port."""

import socket
import sys
import time

listener = socket.create_server((sys.argv[1], int(sys.argv[2])))
conn, _ = listener.accept()
time.sleep(30)

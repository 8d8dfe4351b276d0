# Bind a UDP port on every address and say so.
import socket
import sys

udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
udp.bind(("0.0.0.0", int(sys.argv[1])))
print("bound", udp.getsockname())
udp.close()

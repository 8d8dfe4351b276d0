# The course's first server: accept once, answer in upper case, close.
import socket
import sys

PORT = int(sys.argv[1]) if len(sys.argv) > 1 else 80

server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
server.bind(("0.0.0.0", PORT))
server.listen(5)
conn, client_addr = server.accept()
data = conn.recv(1024)
conn.send(data.upper())
conn.close()
server.close()

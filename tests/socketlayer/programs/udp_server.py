# The course's UDP server: no connection, recvfrom and sendto.
import socket
import sys

HOST = sys.argv[1] if len(sys.argv) > 1 else "127.0.0.1"
PORT = int(sys.argv[2]) if len(sys.argv) > 2 else 8081

server = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)  # 数据报协议-》UDP
server.bind((HOST, PORT))
while True:
    data, client_addr = server.recvfrom(1024)
    print(data, client_addr)
    server.sendto(data.upper(), client_addr)

# The course's first TCP client: connect, send one message, print the answer.
import socket
import sys

HOST = sys.argv[1] if len(sys.argv) > 1 else "127.0.0.1"
PORT = int(sys.argv[2]) if len(sys.argv) > 2 else 8080

phone = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
phone.connect((HOST, PORT))  # 拨号
phone.send(b"hello")
data = phone.recv(1024)
print(data)
phone.close()

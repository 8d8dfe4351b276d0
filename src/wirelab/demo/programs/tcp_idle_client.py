# A client that says hello and then sits idle for hours (its user walked away).
import socket
import sys
import time

HOST = sys.argv[1] if len(sys.argv) > 1 else "127.0.0.1"
PORT = int(sys.argv[2]) if len(sys.argv) > 2 else 9090

phone = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
phone.connect((HOST, PORT))
phone.send(b"hello")
print(phone.recv(1024))
time.sleep(3 * 60 * 60)
phone.close()

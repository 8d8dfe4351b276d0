# The course's interactive client: type a message, see it in upper case; q quits.
import socket
import sys

HOST = sys.argv[1] if len(sys.argv) > 1 else "127.0.0.1"
PORT = int(sys.argv[2]) if len(sys.argv) > 2 else 8080

phone = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
phone.connect((HOST, PORT))
while True:
    msg = input(">>: ").strip()
    if not msg:
        continue
    if msg == "q":
        break
    phone.send(msg.encode("utf-8"))
    data = phone.recv(1024)
    print(data.decode("utf-8"))
phone.close()

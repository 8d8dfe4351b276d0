# The course's UDP client: sendto the server, print what comes back; q quits.
import socket
import sys

HOST = sys.argv[1] if len(sys.argv) > 1 else "127.0.0.1"
PORT = int(sys.argv[2]) if len(sys.argv) > 2 else 8081

client = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
while True:
    msg = input(">>: ").strip()
    if msg == "q":
        break
    client.sendto(msg.encode("utf-8"), (HOST, PORT))
    data, server_addr = client.recvfrom(1024)
    print(data, server_addr)
client.close()

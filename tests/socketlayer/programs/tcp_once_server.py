# The course's first TCP server: accept once, answer in upper case, close.
import socket
import sys

HOST = sys.argv[1] if len(sys.argv) > 1 else "127.0.0.1"
PORT = int(sys.argv[2]) if len(sys.argv) > 2 else 8080

phone = socket.socket(socket.AF_INET, socket.SOCK_STREAM)  # 买手机
phone.bind((HOST, PORT))  # 绑定手机卡
phone.listen(5)  # 开机
conn, client_addr = phone.accept()  # 等电话
data = conn.recv(1024)  # 收消息
conn.send(data.upper())  # 发消息
data = conn.recv(1024)  # the client hung up: b""
conn.close()  # 挂电话
phone.close()  # 关机

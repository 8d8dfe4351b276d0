# The course's server with a connection loop and a communication loop.
import socket
import sys

HOST = sys.argv[1] if len(sys.argv) > 1 else "127.0.0.1"
PORT = int(sys.argv[2]) if len(sys.argv) > 2 else 8080

phone = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
phone.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
phone.bind((HOST, PORT))
phone.listen(5)
print("starting...")
while True:  # 链接循环
    conn, client_addr = phone.accept()
    print(client_addr)
    while True:  # 通信循环
        try:
            data = conn.recv(1024)
            if not data:  # 适用于linux操作系统
                break
            print("客户端的数据", data)
            conn.send(data.upper())
        except ConnectionResetError:  # 适用于windows操作系统
            break
    conn.close()
phone.close()

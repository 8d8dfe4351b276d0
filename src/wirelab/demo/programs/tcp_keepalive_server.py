# The course's server with the keepalive timer switched on (保活计时器): if a client vanishes, the
# server does not wait for ever. 2 hours idle, then a probe every 75 s; after 10 unanswered probes
# the connection is closed and recv raises TimeoutError (ETIMEDOUT).
import socket
import sys

HOST = sys.argv[1] if len(sys.argv) > 1 else "127.0.0.1"
PORT = int(sys.argv[2]) if len(sys.argv) > 2 else 9090

server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
server.bind((HOST, PORT))
server.listen(5)
conn, client_addr = server.accept()
conn.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPIDLE, 2 * 60 * 60)  # 两小时
conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPINTVL, 75)  # 每隔75秒
conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPCNT, 10)  # 10个探测报文
print(client_addr)
while True:
    try:
        data = conn.recv(1024)
    except OSError as error:
        print("the client is gone:", repr(error))
        break
    if not data:
        break
    conn.send(data.upper())
conn.close()
server.close()

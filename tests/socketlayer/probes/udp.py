"""UDP over 127.0.0.1 within one process: sendto/recvfrom/recvfrom_into, connected sockets, send/recv,
truncation, empty datagrams, ICMP port unreachable as ECONNREFUSED, SO_BROADCAST, readiness."""

import select
import socket

from probelib import HOST, check, poll_names, readable, say, wait_for

UDP = (socket.AF_INET, socket.SOCK_DGRAM)
receiver = socket.socket(*UDP)
receiver.bind(("127.0.0.1", 0))
address = receiver.getsockname()
sender = socket.socket(*UDP)
say("receiver poll when idle", poll_names(receiver))
say("sender names before its first datagram", sender.getsockname())
check("sendto", lambda: sender.sendto(b"hello", address))
say("sender bound by sendto", sender.getsockname())
readable(receiver)
say("receiver poll with a datagram", poll_names(receiver))
check("recvfrom", lambda: receiver.recvfrom(100))
check("sendto with flags", lambda: sender.sendto(b"flags", 0, address))
readable(receiver)
check("recvfrom peek", lambda: receiver.recvfrom(100, socket.MSG_PEEK))
buffer = bytearray(8)
check("recvfrom_into", lambda: (receiver.recvfrom_into(buffer), bytes(buffer)))
check("sendto a long datagram", lambda: sender.sendto(b"0123456789" * 3, address))
readable(receiver)
check("recv truncates and drops the rest", lambda: receiver.recv(4))
check("sendto an empty datagram", lambda: sender.sendto(b"", address))
readable(receiver)
check("recvfrom an empty datagram", lambda: receiver.recvfrom(100))
for n in range(3):
    sender.sendto(bytes([65 + n]) * (n + 1), address)
for _ in range(3):
    readable(receiver)
    check("datagrams keep their boundaries", lambda: receiver.recv(100))
check("recv_into", lambda: (sender.sendto(b"into", address), readable(receiver), receiver.recv_into(buffer, 3)))
check("send unconnected", lambda: sender.send(b"x"))
check("getpeername unconnected", sender.getpeername)
check("sendto without an address", lambda: sender.sendto(b"x"))  # type: ignore[call-overload]
check("sendto a bad port", lambda: sender.sendto(b"x", ("127.0.0.1", 70000)))
check("sendto port 0", lambda: sender.sendto(b"x", ("127.0.0.1", 0)))
check("sendto 65508 octets", lambda: sender.sendto(b"x" * 65508, address))
check("sendto 65507 octets", lambda: sender.sendto(b"x" * 65507, address))
readable(receiver)
check("recv it", lambda: len(receiver.recv(70000)))
with socket.socket(*UDP) as s:
    check("shutdown unconnected udp", lambda: s.shutdown(socket.SHUT_RDWR))
    say("poll after shutdown", poll_names(s))
    check("recvfrom after shutdown", lambda: s.recvfrom(10))
    check("sendto after shutdown", lambda: s.sendto(b"x", address))

# -- connected ------------------------------------------------------------------------------------
client = socket.socket(*UDP)
check("connect", lambda: client.connect(address))
say("connected names", (client.getsockname(), client.getpeername()))
check("send", lambda: client.send(b"connected"))
readable(receiver)
data, peer = receiver.recvfrom(100)
say("recvfrom from a connected socket", (data, peer == client.getsockname()))
check("answer", lambda: receiver.sendto(b"answer", peer))
readable(client)
check("recv", lambda: client.recv(100))
check("sendto on a connected socket, another address", lambda: client.sendto(b"x", sender.getsockname()))
readable(sender)
check("the other address got it", lambda: sender.recvfrom(100)[0])
check("a stranger's datagram", lambda: sender.sendto(b"stranger", client.getsockname()))
check("connected socket does not see it", lambda: select.select([client], [], [], 0.2)[0])
check("connect elsewhere", lambda: client.connect(("127.0.0.1", sender.getsockname()[1])))
say("new peer", client.getpeername()[1] == sender.getsockname()[1])
check("connect AF_UNSPEC disconnects", lambda: client.connect(("0.0.0.0", 0)))
check("getpeername", client.getpeername)
client.close()

# -- ICMP port unreachable --------------------------------------------------------------------------
gone = socket.socket(*UDP)
gone.bind(("127.0.0.1", 0))
gone_address = gone.getsockname()
gone.close()
connected = socket.socket(*UDP)
connected.connect(gone_address)
check("send to a closed port", lambda: connected.send(b"anyone?"))
wait_for(connected, select.POLLERR)
say("poll after port unreachable", poll_names(connected))
check("recv after port unreachable", lambda: connected.recv(10))
check("recv again", lambda: (connected.settimeout(0.05), connected.recv(10)))
connected.send(b"anyone?")
wait_for(connected, select.POLLERR)
check("SO_ERROR", lambda: connected.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR))
connected.send(b"anyone?")
wait_for(connected, select.POLLERR)
check("send after port unreachable", lambda: connected.send(b"x"))
connected.close()
unconnected = socket.socket(*UDP)
unconnected.settimeout(0.05)
check("sendto a closed port unconnected", lambda: unconnected.sendto(b"anyone?", gone_address))
check("unconnected sockets hear nothing of it", lambda: unconnected.recvfrom(10))
check("SO_ERROR", lambda: unconnected.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR))
unconnected.close()

# -- broadcast: refused without SO_BROADCAST (nothing leaves) ---------------------------------------
with socket.socket(*UDP) as s:
    check("sendto <broadcast> without SO_BROADCAST", lambda: s.sendto(b"x", ("<broadcast>", 9)))
    check("sendto 255.255.255.255 without SO_BROADCAST", lambda: s.sendto(b"x", ("255.255.255.255", 9)))
    check("connect 255.255.255.255 without SO_BROADCAST", lambda: s.connect(("255.255.255.255", 9)))
receiver.close()
sender.close()
check("recvfrom after close", lambda: receiver.recvfrom(10))

# -- binding: recv does not bind, sendto does (and then bind is too late) -----------------------------
with socket.socket(*UDP) as s:
    s.settimeout(0.05)
    check("recvfrom on a socket never bound", lambda: s.recvfrom(10))
    check("still unbound", s.getsockname)
    s.sendto(b"x", ("127.0.0.1", 9))
    check("bind after sendto bound it", lambda: s.bind(("127.0.0.1", 0)))
with socket.socket(*UDP) as s:
    s.bind(("127.0.0.1", 0))
    check("sendto from 127.0.0.1 to the host's address", lambda: s.sendto(b"x", (HOST, 9)))
    check("bind again", lambda: s.bind(("127.0.0.1", 0)))
with socket.socket(*UDP) as s:
    check("connect then bind", lambda: (s.connect(("127.0.0.1", 9)), s.bind(("127.0.0.1", 0))))

# -- recv(0) takes the datagram; MSG_PEEK leaves it ------------------------------------------------------
with socket.socket(*UDP) as s:
    s.bind(("127.0.0.1", 0))
    s.settimeout(0.05)
    s.sendto(b"first", s.getsockname())
    s.sendto(b"second", s.getsockname())
    readable(s)
    check("recv 0", lambda: s.recv(0))
    check("then", lambda: s.recv(100))
    check("recvfrom 0 with MSG_PEEK", lambda: s.recvfrom(0, socket.MSG_PEEK)[0])
    check("then", lambda: s.recv(100))
    s.sendto(b"third", s.getsockname())
    readable(s)
    check("recvfrom 0", lambda: s.recvfrom(0)[0])
    check("then nothing", lambda: s.recv(100))
check("recv 0 after close", lambda: s.recv(0))

# -- shutdown on a connected UDP socket ---------------------------------------------------------------
with socket.socket(*UDP) as s, socket.socket(*UDP) as peer:
    peer.bind(("127.0.0.1", 0))
    s.connect(peer.getsockname())
    check("shutdown SHUT_WR connected", lambda: s.shutdown(socket.SHUT_WR))
    check("send after it", lambda: s.send(b"x"))
    check("poll", lambda: poll_names(s))
    check("shutdown SHUT_RD connected", lambda: s.shutdown(socket.SHUT_RD))
    check("poll", lambda: poll_names(s))
    check("recv after it", lambda: s.recv(10))
    peer.sendto(b"late", s.getsockname())
    peer.sendto(b"mark", peer.getsockname())
    readable(peer)  # the mark came back: the datagram sent before it has arrived too
    check("a datagram after SHUT_RD", lambda: s.recv(10))

"""socket(), the context manager, bind, listen, names of sockets, and calls in the wrong state.

argv: [host address] — an address of this host besides 127.0.0.1 (on the real machine the probe is
given 127.0.0.1 again: network safety, no other address is touched there).
"""

import socket

from probelib import HOST, check, say

# -- socket() -------------------------------------------------------------------------------------
s = socket.socket()
say("default family type proto", (s.family, s.type, s.proto))
say("default timeout blocking", (s.gettimeout(), s.getblocking()))
say("fileno above the standard streams", s.fileno() > 2)
s.close()
s = socket.socket(family=socket.AF_INET, type=socket.SOCK_DGRAM, proto=0)
say("keyword DGRAM", (s.family, s.type, s.proto))
s.close()
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
say("explicit proto", s.proto)
s.close()
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM | socket.SOCK_NONBLOCK)
say("SOCK_NONBLOCK", (s.type, s.gettimeout(), s.getblocking()))
s.close()
check("bad proto", lambda: socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_UDP))
with socket.socket() as s:
    say("inside with", s.fileno() > 2)
say("after with", (s.fileno(), s._closed))
check("repr after close", lambda: "closed" in repr(s))


def a_host(name: str, address: str) -> bool:
    return name == "the host's address" and address == HOST


# -- bind -----------------------------------------------------------------------------------------
for name, address in (("''", ""), ("0.0.0.0", "0.0.0.0"), ("the host's address", HOST), ("127.0.0.1", "127.0.0.1")):
    for kind in (socket.SOCK_STREAM, socket.SOCK_DGRAM):
        with socket.socket(socket.AF_INET, kind) as s:
            say(f"getsockname before bind {kind}", s.getsockname())
            check(f"bind {name} port 0 {kind}", lambda s=s, a=address: s.bind((a, 0)))
            bound, port = s.getsockname()
            say(f"getsockname {name} {kind}", (name if a_host(name, bound) else bound, port))
with socket.socket() as first, socket.socket() as second:
    first.bind(("127.0.0.1", 0))
    port = first.getsockname()[1]
    check("bind twice", lambda: first.bind(("127.0.0.1", 0)))
    check("bind a bound port (not listening)", lambda: second.bind(("127.0.0.1", port)))
    first.listen()
    check("bind a listening port", lambda: second.bind(("127.0.0.1", port)))
    check("bind the listening port on 0.0.0.0", lambda: second.bind(("0.0.0.0", port)))
    second.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    first.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    check("bind a listening port, both SO_REUSEADDR", lambda: second.bind(("127.0.0.1", port)))
with socket.socket() as first, socket.socket() as second:
    first.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    second.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    first.bind(("127.0.0.1", 0))
    check("bind a bound port, both SO_REUSEADDR", lambda: second.bind(("127.0.0.1", first.getsockname()[1])))
UDP = (socket.AF_INET, socket.SOCK_DGRAM)
with socket.socket(*UDP) as first, socket.socket(*UDP) as second:
    first.bind(("127.0.0.1", 0))
    check("udp bind a bound port", lambda: second.bind(("127.0.0.1", first.getsockname()[1])))
    check("udp bind it on 0.0.0.0", lambda: second.bind(("0.0.0.0", first.getsockname()[1])))
with socket.socket() as s:
    check("bind port too large", lambda: s.bind(("127.0.0.1", 65536)))
    check("bind not a tuple", lambda: s.bind("127.0.0.1"))
    check("bind a name", lambda: s.bind(("localhost", 0)))
    say("bound by name", s.getsockname())

# -- listen ---------------------------------------------------------------------------------------
# (Not probed: listen on an unbound socket, which binds 0.0.0.0 and an ephemeral port — on the real
# machine that would listen on every address, and the probes use 127.0.0.1 only.)
with socket.socket() as s:
    s.bind(("127.0.0.1", 0))
    check("listen", s.listen)
    check("listen again", lambda: s.listen(5))
    check("getpeername on a listener", s.getpeername)
    check("connect a listener", lambda: s.connect(("127.0.0.1", 9)))
    check("send on a listener", lambda: s.send(b"x"))
    check("recv on a listener", lambda: s.recv(1))
    check("shutdown a listener SHUT_WR", lambda: s.shutdown(socket.SHUT_WR))
with socket.socket() as s:
    s.bind(("127.0.0.1", 0))
    s.listen()
    check("shutdown a listener SHUT_RD", lambda: s.shutdown(socket.SHUT_RD))
    check("accept after it", s.accept)
    check("SO_ACCEPTCONN after it", lambda: s.getsockopt(socket.SOL_SOCKET, socket.SO_ACCEPTCONN))
    check("connect to it", lambda: socket.create_connection(s.getsockname()))
    check("listen again", s.listen)
    check("SO_ACCEPTCONN again", lambda: s.getsockopt(socket.SOL_SOCKET, socket.SO_ACCEPTCONN))
    with socket.create_connection(s.getsockname()) as client:
        check("accept again", lambda: s.accept()[1] == client.getsockname())
with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
    check("udp listen", s.listen)
    check("udp accept", s.accept)

# -- wrong state ----------------------------------------------------------------------------------
with socket.socket() as s:
    check("getpeername unconnected", s.getpeername)
    check("send unconnected", lambda: s.send(b"x"))
    check("sendall unconnected", lambda: s.sendall(b"x"))
    check("sendto unconnected tcp", lambda: s.sendto(b"x", ("127.0.0.1", 9)))
    check("recv unconnected", lambda: s.recv(1))
    check("recv_into unconnected", lambda: s.recv_into(bytearray(1)))
    check("recvfrom unconnected", lambda: s.recvfrom(1))
    check("accept unconnected", s.accept)
    for how in (socket.SHUT_RD, socket.SHUT_WR, socket.SHUT_RDWR):
        check(f"shutdown unconnected {how}", lambda how=how: s.shutdown(how))
    check("shutdown bad how", lambda: s.shutdown(7))
s = socket.socket()
s.close()
check("fileno after close", s.fileno)
for name, call in [
    ("bind", lambda: s.bind(("", 0))),
    ("listen", s.listen),
    ("accept", s.accept),
    ("connect", lambda: s.connect(("127.0.0.1", 9))),
    ("connect_ex", lambda: s.connect_ex(("127.0.0.1", 9))),
    ("send", lambda: s.send(b"x")),
    ("sendall", lambda: s.sendall(b"x")),
    ("recv", lambda: s.recv(1)),
    ("getsockname", s.getsockname),
    ("getpeername", s.getpeername),
    ("setsockopt", lambda: s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)),
    ("getsockopt", lambda: s.getsockopt(socket.SOL_SOCKET, socket.SO_TYPE)),
    ("shutdown", lambda: s.shutdown(socket.SHUT_RDWR)),
    ("settimeout", lambda: s.settimeout(1)),
    ("close again", s.close),
]:
    check(f"{name} after close", call)
try:
    s.recv(1)
except OSError as error:
    say("the error's text", str(error))

# -- descriptors: fromfd, detach, socket(fileno=), dup ----------------------------------------------
original = socket.socket()
original.bind(("127.0.0.1", 0))
copy = socket.fromfd(original.fileno(), socket.AF_INET, socket.SOCK_STREAM)
say(
    "fromfd: another descriptor, the same socket",
    (copy.fileno() != original.fileno(), copy.getsockname() == original.getsockname()),
)
original.close()
check("the copy still works", lambda: copy.getsockname()[0])
fd = copy.detach()
say("detach", (copy.fileno(), fd > 2))
again = socket.socket(fileno=fd)
check("socket(fileno=)", lambda: (again.family, again.type, again.getsockname()[0]))
check("dup", lambda: again.dup().getsockname() == again.getsockname())
again.close()
check("socket(fileno=) of a closed descriptor", lambda: socket.socket(fileno=fd))

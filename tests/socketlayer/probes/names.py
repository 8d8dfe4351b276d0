"""Names and numbers: gethostname, gethostbyname, getaddrinfo's combinations and service names,
getservbyname, inet_aton/ntoa/pton/ntop, htons and friends; create_connection and create_server.
(No name here needs DNS, and nothing connects to ::1: on the real machine only 127.0.0.1 is used.)"""

import socket

from probelib import check, say

name = socket.gethostname()
say("gethostname is a str", isinstance(name, str) and bool(name))
check("gethostbyname localhost", lambda: socket.gethostbyname("localhost"))
check("gethostbyname 127.0.0.1", lambda: socket.gethostbyname("127.0.0.1"))
check("gethostbyname 127.1", lambda: socket.gethostbyname("127.1"))
check("gethostbyname ''", lambda: socket.gethostbyname(""))
check("gethostbyname 0", lambda: socket.gethostbyname("0"))
check("gethostbyname_ex 127.0.0.1 addresses", lambda: socket.gethostbyname_ex("127.0.0.1")[2])

F, T = socket.AF_INET, socket.SOCK_STREAM
for args in [
    ("127.0.0.1", 80),
    ("127.0.0.1", "80"),
    ("127.0.0.1", "http"),
    ("127.0.0.1", "domain"),
    ("127.0.0.1", None),
    ("127.0.0.1", 0),
    ("localhost", 8080, F),
    ("localhost", "http", F, T),
    ("127.0.0.1", "http", 0, socket.SOCK_DGRAM),
    ("127.0.0.1", "domain", 0, socket.SOCK_DGRAM),
    ("127.0.0.1", 53, 0, 0, socket.IPPROTO_UDP),
    ("127.0.0.1", 53, 0, socket.SOCK_STREAM, socket.IPPROTO_TCP),
    ("127.0.0.1", 53, 0, socket.SOCK_STREAM, socket.IPPROTO_UDP),
    (None, 80, F, T, 0, socket.AI_PASSIVE),
    (None, 80, F, T),
    ("", 80, F, T),
    (None, None),
    ("127.0.0.1", "no-such-service"),
    ("localhost", 80, F, T, 0, socket.AI_NUMERICHOST),
    ("127.0.0.1", "http", F, T, 0, socket.AI_NUMERICSERV),
    ("127.0.0.1", 80, F, T, 0, socket.AI_CANONNAME),
    ("127.0.0.1", 80, socket.AF_UNIX),
    ("127.0.0.1", 80, socket.AF_INET6),
    ("127.0.0.1", 80, F, 99),
    ("127.0.0.1", 80, 0, 0, 99),
    ("127.0.0.1", "http", 0, 0, socket.IPPROTO_TCP),
    ("localhost", 80, F, T, 0, socket.AI_CANONNAME),
    ("127.0.0.1", "https", F),
    ("127.0.0.1", "ssh", F, T, socket.IPPROTO_UDP),
    ("127.0.0.1", 70000, F, T),
    ("127.0.0.1", -1, F, T),
    ("127.0.0.1", b"80", F, T),
    (b"127.0.0.1", 80, F, T),
    ("127.0.0.1", 80.0, F, T),
]:
    check(f"getaddrinfo{args!r}", lambda args=args: socket.getaddrinfo(*args))
check("getaddrinfo keywords", lambda: socket.getaddrinfo("127.0.0.1", 80, family=F, type=T, proto=0, flags=0))
for service in ("http", "https", "ftp", "ssh", "domain", "ntp", "snmp", "echo", "bootps", "dns", "rdp", "HTTP"):
    for protocol in ("tcp", "udp"):
        check(f"getservbyname {service} {protocol}", lambda s=service, p=protocol: socket.getservbyname(s, p))
        kind = socket.SOCK_STREAM if protocol == "tcp" else socket.SOCK_DGRAM
        check(
            f"getaddrinfo's port {service} {protocol}",
            lambda s=service, k=kind: socket.getaddrinfo(None, s, F, k)[0][4],
        )
check("getservbyname http tcp", lambda: socket.getservbyname("http", "tcp"))
check("getservbyname domain udp", lambda: socket.getservbyname("domain", "udp"))
check("getservbyname ssh", lambda: socket.getservbyname("ssh"))
check("getservbyname nope", lambda: socket.getservbyname("no-such-service"))
check("getservbyport 80", lambda: socket.getservbyport(80))
check("getprotobyname tcp", lambda: socket.getprotobyname("tcp"))
NUMERIC = socket.NI_NUMERICHOST | socket.NI_NUMERICSERV
check("getnameinfo numeric", lambda: socket.getnameinfo(("127.0.0.1", 80), NUMERIC))
for flags in (0, socket.NI_DGRAM, socket.NI_NUMERICSERV, socket.NI_NUMERICHOST):
    for port in (53, 80, 40000):
        check(
            f"getnameinfo {port} {flags}", lambda port=port, flags=flags: socket.getnameinfo(("127.0.0.1", port), flags)
        )
check("gethostbyname_ex localhost", lambda: socket.gethostbyname_ex("localhost"))
check("gethostbyaddr 127.0.0.1", lambda: socket.gethostbyaddr("127.0.0.1"))
check("getfqdn localhost", lambda: socket.getfqdn("localhost"))

check("inet_aton", lambda: socket.inet_aton("10.20.30.40"))
check("inet_aton short form", lambda: socket.inet_aton("10.1"))
check("inet_aton bad", lambda: socket.inet_aton("300.1.1.1"))
check("inet_ntoa", lambda: socket.inet_ntoa(b"\x0a\x14\x1e\x28"))
check("inet_ntoa bad", lambda: socket.inet_ntoa(b"\x01"))
check("inet_pton", lambda: socket.inet_pton(socket.AF_INET, "10.0.0.1"))
check("inet_pton short form", lambda: socket.inet_pton(socket.AF_INET, "10.1"))
check("inet_ntop", lambda: socket.inet_ntop(socket.AF_INET, b"\x0a\x00\x00\x01"))
check("htons ntohs htonl ntohl", lambda: (socket.htons(1), socket.ntohs(256), socket.htonl(1), socket.ntohl(1 << 24)))
check("htons too big", lambda: socket.htons(70000))

# -- create_server / create_connection --------------------------------------------------------------
server = socket.create_server(("127.0.0.1", 0))
check("create_server SO_REUSEADDR", lambda: server.getsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR))
check("create_server listening", lambda: server.getsockopt(socket.SOL_SOCKET, socket.SO_ACCEPTCONN))
check("create_server names", server.getsockname)
address = server.getsockname()
client = socket.create_connection(address)
check("create_connection", lambda: (client.getpeername() == address, client.gettimeout(), client.type))
conn, peer = server.accept()
check("accepted from", lambda: peer == client.getsockname())
with socket.create_connection(("127.0.0.1", address[1]), timeout=2, source_address=("127.0.0.1", 0)) as other:
    check("create_connection with a timeout and a source", lambda: (other.getpeername() == address, other.gettimeout()))
    server.accept()[0].close()
check("create_server reuse_port", lambda: socket.create_server(("127.0.0.1", 0), reuse_port=True).close())
check("create_server on a port in use", lambda: socket.create_server(address))
check("create_server backlog", lambda: socket.create_server(("127.0.0.1", 0), backlog=3).getsockname()[0])
check("has_dualstack_ipv6 is a bool", lambda: isinstance(socket.has_dualstack_ipv6(), bool))
client.close()
conn.close()
server.close()

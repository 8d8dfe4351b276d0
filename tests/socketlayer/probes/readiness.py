"""select.select, select.poll and selectors.DefaultSelector over sockets: a pending accept, a
connect, data, EOF, a reset, a UDP datagram; timeouts; closed and bad descriptors."""

import select
import selectors
import socket

from probelib import check, poll_names, say, wait_for

listener = socket.create_server(("127.0.0.1", 0))
address = listener.getsockname()
selector = selectors.DefaultSelector()
say("selector is", type(selector).__name__)
selector.register(listener, selectors.EVENT_READ, "listener")


def ready(timeout: float = 5.0) -> list[tuple[str, int]]:
    return sorted((key.data, events) for key, events in selector.select(timeout))


check("nothing ready, timeout 0.05", lambda: ready(0.05))
check("select nothing ready", lambda: select.select([listener], [], [], 0.05))
client = socket.create_connection(address)
check("a pending accept", ready)
check("select a pending accept", lambda: select.select([listener], [listener], [listener], 5)[0] == [listener])
server, _ = listener.accept()
check("after accept", lambda: ready(0))
selector.register(client, selectors.EVENT_READ | selectors.EVENT_WRITE, "client")
selector.register(server, selectors.EVENT_READ, "server")
check("connected client writable", ready)
selector.modify(client, selectors.EVENT_READ, "client")
check("modify: nothing", lambda: ready(0.05))
client.sendall(b"data")
check("data", ready)
check("select data", lambda: select.select([server, client], [], [], 5)[0] == [server])
server.recv(100)
check("after reading", lambda: ready(0.05))
server.shutdown(socket.SHUT_WR)
check("EOF", ready)
check("unregister", lambda: selector.unregister(client).data)
check("unregister again", lambda: selector.unregister(client), error_class_only=True)
check("get_key of a socket not registered", lambda: selector.get_key(client), error_class_only=True)
check("register twice", lambda: selector.register(server, selectors.EVENT_READ), error_class_only=True)
check("register bad events", lambda: selector.register(client, 0))
spare = socket.socket()
spare_fd = spare.detach()
check("register a detached socket's fd", lambda: selector.register(spare_fd, selectors.EVENT_READ).events)
selector.unregister(spare_fd)
socket.close(spare_fd)

poller = select.poll()
poller.register(server, select.POLLIN | select.POLLOUT)
poller.register(client.fileno(), select.POLLIN)
check("poll", lambda: sorted((fd == server.fileno(), events) for fd, events in poller.poll(1000)))
check("poll modify unregistered", lambda: poller.modify(listener, select.POLLIN))
check("poll unregister unregistered", lambda: poller.unregister(listener), error_class_only=True)
client.close()
wait_for(server, select.POLLRDHUP)
check("poll after the peer closed", lambda: poller.poll(0) and sorted(e for _, e in poller.poll(0)))
closed_fd = server.fileno()
server.close()
check("poll a closed descriptor", lambda: [events for fd, events in poller.poll(0) if fd == closed_fd])
check("select a closed socket", lambda: select.select([server], [], [], 0))
check("select a negative fd", lambda: select.select([-1], [], [], 0))
check("select a closed descriptor's number", lambda: select.select([closed_fd], [], [], 0))
check("select a non-socket", lambda: select.select(["x"], [], [], 0))
check("select negative timeout", lambda: select.select([], [], [], -1))
check("select timeout only", lambda: select.select([], [], [], 0.01))
selector.unregister(server)
selector.close()

udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
udp.bind(("127.0.0.1", 0))
check("udp writable, not readable", lambda: select.select([udp], [udp], [], 0)[1:] == ([udp], []))
udp.sendto(b"x", udp.getsockname())
check("udp readable after a datagram", lambda: select.select([udp], [], [], 5)[0] == [udp])
udp.close()
listener.close()

# -- sockets that never connected -------------------------------------------------------------------
with socket.socket() as s:
    check("a new TCP socket", lambda: poll_names(s))
    s.bind(("127.0.0.1", 0))
    check("bound", lambda: poll_names(s))
    check("select on it", lambda: [len(ready) for ready in select.select([s], [s], [s], 0)])
with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
    check("a new UDP socket", lambda: poll_names(s))
with socket.socket() as s:
    s.setblocking(False)
    s.bind(("127.0.0.1", 0))
    with socket.socket() as listener_gone:
        listener_gone.bind(("127.0.0.1", 0))
        target = listener_gone.getsockname()
    check("connect to a closed port, non-blocking", lambda: s.connect_ex(target))
    wait_for(s, select.POLLERR | select.POLLHUP)
    check("after the refusal", lambda: poll_names(s))
    check("SO_ERROR", lambda: s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR))
    check("after SO_ERROR", lambda: poll_names(s))

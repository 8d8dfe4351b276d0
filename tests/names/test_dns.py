"""Names over the wire: unchanged scripts resolve ``server.lab`` by DNS across a router.

The lab: a client on 192.168.1.0/24, a server and a nameserver (``ns``) on 10.0.0.0/24, a router r1
between them. ``ns`` serves the zone ``lab.`` (every node's name) and every host uses it. The DNS
messages on the client's cable are parsed back with dnspython, the trace is read, and failures are
glibc's gaierror codes after glibc's waits.
"""

from __future__ import annotations

from ipaddress import IPv4Address
from pathlib import Path

import dns.flags
import dns.message
import dns.rcode
import dns.rdatatype
import pytest

from wirelab.process import scheduler_of, start
from wirelab.process.scheduler import Process
from wirelab.sim.capture import Capture
from wirelab.sim.network import Network
from wirelab.sim.node import SimNode
from wirelab.sockets.host import host_of
from wirelab.sockets.names import ResolvConf
from wirelab.stack.node import SendError
from wirelab.wire.ethernet import EthernetHeader, EtherType
from wirelab.wire.ipv4 import IpProtocol, Ipv4Header
from wirelab.wire.udp import UdpHeader

PROGRAMS = Path(__file__).resolve().parent / "programs"
SECOND = 1_000_000_000


def lab(seed: int = 1) -> Network:
    net = Network(seed=seed)
    sw1, sw2 = net.switch("sw1"), net.switch("sw2")
    r1 = net.router("r1")
    net.link(net.host("client", "192.168.1.10/24", gateway="192.168.1.1"), sw1, delay="100us")
    net.link(net.host("server", "10.0.0.20/24", gateway="10.0.0.1"), sw2, delay="100us")
    net.link(net.host("ns", "10.0.0.53/24", gateway="10.0.0.1"), sw2, delay="100us")
    net.link(r1, sw1, address="192.168.1.1/24")
    net.link(r1, sw2, address="10.0.0.1/24")
    net.dns_server("ns", "lab", records={"www": "10.0.0.20"})
    net.nameserver("ns")
    return net


def dns_messages(capture: Capture) -> list[tuple[str, int, str, int, dns.message.Message]]:
    """(source, source port, destination, destination port, message) of every UDP 53 datagram."""
    found = []
    for record in capture.records:
        ethernet, packet = EthernetHeader.parse(record.frame)
        if ethernet.ethertype != EtherType.IPV4:
            continue
        header, payload = Ipv4Header.parse(packet)
        if header.protocol != IpProtocol.UDP:
            continue
        udp, data = UdpHeader.parse(payload, header.src, header.dst)
        if 53 in (udp.src_port, udp.dst_port):
            found.append((str(header.src), udp.src_port, str(header.dst), udp.dst_port, dns.message.from_wire(data)))
    return found


def run(net: Network, *processes: tuple[str, str, list[str], str], until: str = "60s") -> list[Process]:
    started = [start(net, host, PROGRAMS / script, argv=argv, delay=delay) for host, script, argv, delay in processes]
    net.run(until=until)
    scheduler_of(net.sim).shutdown()
    return started


def kinds(net: Network, node: str) -> list[str]:
    return [event.kind for event in net.trace.select(node=node, protocol="dns")]


class TestOverTheWire:
    def test_a_script_resolves_the_name_by_dns_and_connects_to_it(self) -> None:
        net = lab()
        capture = net.capture("client:eth0")
        server, client = run(
            net,
            ("server", "upper_once_server.py", ["80"], "0s"),
            ("client", "resolve_and_connect.py", ["server.lab", "80"], "1ms"),
        )
        assert client.stdout == "10.0.0.20\nb'HELLO'\n", client.stderr
        assert server.exit_code == 0 and client.exit_code == 0
        # Two lookups (gethostbyname, then create_connection's getaddrinfo): no cache, as glibc.
        messages = dns_messages(capture)
        assert len(messages) == 4
        for (src, sport, dst, dport, query), (rsrc, rsport, rdst, rdport, answer) in zip(
            messages[::2], messages[1::2], strict=True
        ):
            assert (src, dst, dport) == ("192.168.1.10", "10.0.0.53", 53)
            assert 32768 <= sport <= 60999  # an ephemeral port
            assert (rsrc, rsport, rdst, rdport) == ("10.0.0.53", 53, "192.168.1.10", sport)
            assert not query.flags & dns.flags.QR and query.flags & dns.flags.RD
            assert str(query.question[0].name) == "server.lab." and query.question[0].rdtype == dns.rdatatype.A
            assert answer.id == query.id and answer.flags & dns.flags.QR and answer.flags & dns.flags.AA
            assert answer.rcode() == dns.rcode.NOERROR
            assert [str(rdata) for rdata in answer.answer[0]] == ["10.0.0.20"]
        assert messages[0][4].id != messages[2][4].id and messages[0][1] != messages[2][1]
        assert kinds(net, "client") == ["dns.query.sent", "dns.answer.received"] * 2
        assert kinds(net, "ns") == ["dns.server.answered"] * 2
        sent = net.trace.select(node="client", kind="dns.query.sent")[0]
        assert sent.render() == (
            f"DNS query (UDP from port {messages[0][1]} to 10.0.0.53 port 53, id {messages[0][4].id}): "
            "what is the A record of server.lab.? (try 1 of 2)"
        )
        assert "权威应答" in net.trace.select(node="ns", kind="dns.server.answered")[0].render("zh")
        # The connection is made to the address DNS gave, after the answer.
        answered = net.trace.select(node="client", kind="dns.answer.received")[-1].time
        connect = net.trace.select(node="client", kind="socket.connect.started")[0]
        assert connect.fields["peer"] == "10.0.0.20:80" and connect.time >= answered

    def test_gethostbyname_ex_and_reverse_lookup_by_ptr(self) -> None:
        net = lab()
        process = start(net, "client", PROGRAMS / "names_ex.py", argv=["r1.lab", "10.0.0.20", "10.0.0.99"], delay="1ms")
        host_of(net["client"]).names.pop("server")  # so that 10.0.0.20 is not in the hosts table
        net.run(until="60s")
        lines = process.stdout.splitlines()
        assert lines[0] == "('r1.lab', [], ['192.168.1.1', '10.0.0.1'])"  # a router: an address per LAN
        assert lines[1] == "('server.lab', [], ['10.0.0.20'])"
        assert "socket.herror: [Errno 1] Unknown host" in process.stderr


class TestFailures:
    def test_an_unknown_name_is_nxdomain_and_gaierror_minus_2_with_glibcs_words(self) -> None:
        net = lab()
        capture = net.capture("client:eth0")
        (client,) = run(net, ("client", "lookup.py", ["nosuch.lab", "www.lab"], "1ms"))
        assert client.stdout == "nosuch.lab gaierror -2 Name or service not known (0.0s)\nwww.lab 10.0.0.20 (0.0s)\n"
        answer = dns_messages(capture)[1][4]
        assert answer.rcode() == dns.rcode.NXDOMAIN and answer.flags & dns.flags.AA
        assert answer.authority[0].rdtype == dns.rdatatype.SOA  # for negative caching (RFC 2308)
        assert kinds(net, "client")[:3] == ["dns.query.sent", "dns.answer.nxdomain", "dns.failed"]
        assert net.trace.select(node="ns", kind="dns.server.nxdomain")[0].fields["name"] == "nosuch.lab."

    def test_a_name_outside_the_zone_is_refused_then_eai_again(self) -> None:
        net = lab()
        (client,) = run(net, ("client", "lookup.py", ["example.com"], "1ms"))
        assert client.stdout == "example.com gaierror -3 Temporary failure in name resolution (0.0s)\n"
        assert kinds(net, "client") == ["dns.query.sent", "dns.answer.error"] * 2 + ["dns.failed"]
        assert [event.fields["rcode"] for event in net.trace.select(node="ns", kind="dns.server.")] == [
            "REFUSED",
            "REFUSED",
        ]

    def test_a_name_without_an_address_is_gaierror_minus_5(self) -> None:
        net = lab()
        (client,) = run(net, ("client", "lookup.py", ["lab"], "1ms"))  # the zone's apex: SOA and NS, no A
        assert client.stdout == "lab gaierror -5 No address associated with hostname (0.0s)\n"

    def test_a_silent_server_costs_two_tries_of_five_seconds_then_eai_again(self) -> None:
        net = lab()
        (warm,) = run(net, ("client", "lookup.py", ["www.lab"], "0s"), until="1s")  # r1 learns ns's MAC
        assert warm.stdout.startswith("www.lab 10.0.0.20")
        ns_link = next(link for link in net.links if "ns:" in link.name)
        ns_link.set_up(False)  # the server is gone; nothing answers, not even ICMP
        capture = net.capture("client:eth0")
        (client,) = run(net, ("client", "lookup.py", ["server.lab"], "0s"))
        assert client.stdout == "server.lab gaierror -3 Temporary failure in name resolution (10.0s)\n"
        queries = dns_messages(capture)
        assert len(queries) == 2 and queries[0][4].to_wire() == queries[1][4].to_wire()  # one message, resent
        sent_at = [record.timestamp_ns for record in capture.records if record.frame[23] == IpProtocol.UDP]
        assert sent_at[1] - sent_at[0] == 5 * SECOND
        events = net.trace.select(node="client", kind="dns.timeout")
        assert [(event.fields["attempt"], event.fields["seconds"]) for event in events] == [(1, 5), (2, 5)]

    def test_nothing_on_port_53_is_port_unreachable_and_fails_at_once(self) -> None:
        net = lab()
        net.dns_services["ns"].stop()
        (client,) = run(net, ("client", "lookup.py", ["server.lab"], "0s"))
        assert client.stdout == "server.lab gaierror -3 Temporary failure in name resolution (0.0s)\n"
        unreachable = net.trace.select(node="client", kind="dns.unreachable")
        assert [event.fields["errno"] for event in unreachable] == ["ECONNREFUSED", "ECONNREFUSED"]

    def test_port_53_is_the_servers_and_a_script_cannot_take_it(self) -> None:
        net = lab()
        service = net.dns_services["ns"]
        (taken,) = run(net, ("ns", "udp_bind.py", ["53"], "0s"))
        assert "OSError: [Errno 98] Address already in use" in taken.stderr
        service.stop()
        (bound,) = run(net, ("ns", "udp_bind.py", ["53"], "0s"))
        assert bound.stdout == "bound ('0.0.0.0', 53)\n"
        socket = host_of(net["ns"]).udp.bind(IPv4Address("0.0.0.0"), 53)  # a socket holds it now
        with pytest.raises(SendError, match="Address already in use"):
            service.start()
        host_of(net["ns"]).udp.unbind(socket)
        service.start()
        assert service.running

    def test_when_the_first_nameserver_is_silent_the_second_answers_after_its_timeout(self) -> None:
        net = lab()
        ns2 = net.host("ns2", "10.0.0.54/24", gateway="10.0.0.1")
        net.link(ns2, "sw2", delay="100us")
        net.dns_server("ns2", "lab")
        client = net["client"]
        assert isinstance(client, SimNode)
        host_of(client).resolv_conf = ResolvConf((IPv4Address("10.0.0.53"), IPv4Address("10.0.0.54")))
        run(net, ("client", "lookup.py", ["www.lab"], "0s"), until="1s")  # r1 learns ns's MAC
        next(link for link in net.links if "ns:" in link.name).set_up(False)
        (lookup,) = run(net, ("client", "lookup.py", ["server.lab"], "0s"))
        assert lookup.stdout == "server.lab 10.0.0.20 (5.0s)\n"
        asked = [str(event.fields["server"]) for event in net.trace.select(node="client", kind="dns.query.sent")]
        assert asked[-2:] == ["10.0.0.53", "10.0.0.54"]

    def test_the_timeout_and_attempts_of_resolv_conf(self) -> None:
        net = lab()
        net.nameserver("10.0.0.99", hosts=["client"], timeout=1, attempts=3)  # nobody has that address
        assert host_of(net["client"]).resolv_conf.render() == (
            "nameserver 10.0.0.99\noptions timeout:1 attempts:3 ndots:1\n"
        )
        (client,) = run(net, ("client", "lookup.py", ["server.lab"], "0s"))
        # r1's ARP for 10.0.0.99 fails after 3 s: ICMP host unreachable ends the try in progress then.
        assert "gaierror -3" in client.stdout
        assert kinds(net, "client")[:2] == ["dns.query.sent", "dns.timeout"]

    def test_an_answer_that_does_not_match_the_query_is_ignored_and_the_wait_goes_on(self) -> None:
        net = lab()
        ns = net["ns"]
        assert isinstance(ns, SimNode)
        service = net.dns_services["ns"]
        service.stop()

        def forger(source: IPv4Address, port: int, _to: IPv4Address, _port: int, data: bytes, _now: int) -> None:
            answer = service.server.respond(data).response
            assert answer is not None
            forged = bytes([answer[0] ^ 0xFF]) + answer[1:]  # another ID: a blind spoofer's guess
            for payload in (forged, answer):
                ns.stack.send_udp(source, 53, port, payload)

        ns.stack.bind_udp(53, forger)
        (client,) = run(net, ("client", "lookup.py", ["server.lab"], "1ms"))
        assert client.stdout == "server.lab 10.0.0.20 (0.0s)\n"
        assert kinds(net, "client") == ["dns.query.sent", "dns.answer.ignored", "dns.answer.received"]
        assert net.counters["client"]["dns.answer.ignored"] == 1

    def test_every_decision_of_the_server_and_the_resolver_reads_in_both_languages(self) -> None:
        net = lab()
        _, raw = run(
            net,
            ("client", "lookup.py", ["server.lab", "nosuch.lab", "example.com", "lab"], "1ms"),
            ("client", "raw_query.py", ["10.0.0.53"], "2s"),
        )
        assert raw.stdout == "(b'\\x124\\x81\\x01\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00', ('10.0.0.53', 53))\n"
        served = {event.kind for event in net.trace.select(node="ns", protocol="dns")}
        assert served == {f"dns.server.{kind}" for kind in ("answered", "nxdomain", "refused", "no-data", "error")}
        events = net.trace.select(protocol="dns")
        assert {event.kind for event in events} >= {"dns.answer.no-data", "dns.answer.error", "dns.failed"}
        for event in events:
            for language in ("en", "zh"):
                text = event.render(language)
                assert "catalog error" not in text and not text.startswith(event.kind), text


class TestOrderAndDeterminism:
    def test_the_hosts_table_wins_over_dns(self) -> None:
        net = lab()
        capture = net.capture("client:eth0")
        host_of(net["client"]).names["server.lab"] = IPv4Address("10.0.0.77")  # an /etc/hosts line
        (client,) = run(net, ("client", "lookup.py", ["server.lab", "SERVER.LAB."], "1ms"))
        assert client.stdout == "server.lab 10.0.0.77 (0.0s)\nSERVER.LAB. 10.0.0.77 (0.0s)\n"
        assert dns_messages(capture) == []
        assert kinds(net, "client") == ["dns.hosts-file", "dns.hosts-file"]

    def test_a_search_domain_completes_a_short_name(self) -> None:
        net = lab()
        net.nameserver("ns", search=["lab"])
        (client,) = run(net, ("client", "lookup.py", ["www"], "1ms"))
        assert client.stdout == "www 10.0.0.20 (0.0s)\n"
        assert net.trace.select(node="client", kind="dns.query.sent")[0].fields["name"] == "www.lab."

    def test_a_host_without_a_nameserver_uses_its_table_only(self) -> None:
        net = lab()
        host_of(net["client"]).resolv_conf = ResolvConf()
        (client,) = run(net, ("client", "lookup.py", ["server.lab"], "1ms"))
        assert client.stdout == "server.lab gaierror -2 Name or service not known (0.0s)\n"
        assert kinds(net, "client") == ["dns.no-nameserver"]

    @staticmethod
    def _run(seed: int) -> tuple[list[bytes], list[str]]:
        net = lab(seed)
        capture = net.capture("client:eth0")
        run(
            net,
            ("server", "upper_once_server.py", ["80"], "0s"),
            ("client", "resolve_and_connect.py", ["server.lab", "80"], "1ms"),
        )
        return [record.frame for record in capture.records], [event.line() for event in net.trace]

    def test_same_seed_same_bytes_and_trace(self) -> None:
        first, second = self._run(5), self._run(5)
        assert first == second
        assert self._run(6)[0] != first[0]  # another seed: another query ID and port

    def test_the_answer_lists_a_routers_addresses_in_interface_order(self) -> None:
        net = lab()
        assert net.dns_services["ns"].zones[0].names()["r1.lab."] == ["192.168.1.1", "10.0.0.1"]


@pytest.mark.parametrize(
    ("server", "expected"),
    [("r1", "192.168.1.1"), ("ns", "10.0.0.53")],
)
def test_a_nodes_address_on_the_hosts_own_lan_is_its_nameserver(server: str, expected: str) -> None:
    net = lab()
    net.nameserver(server)
    assert host_of(net["client"]).resolv_conf.nameservers == (IPv4Address(expected),)

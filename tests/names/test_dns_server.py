"""The DNS server's core without any network: query bytes in, response bytes out (RFC 1034/1035, 2308)."""

from __future__ import annotations

import dns.flags
import dns.message
import dns.opcode
import dns.rcode
import dns.rdatatype
import pytest

from wirelab.apps.dns_server import DnsServer, Zone


@pytest.fixture
def server() -> DnsServer:
    zone = Zone("lab")
    zone.add("server", "10.0.0.20")
    zone.add("r1", "192.168.1.1")
    zone.add("r1.lab.", "10.0.0.1")
    zone.add("www.site", "10.0.0.20")
    return DnsServer([zone])


def ask(server: DnsServer, name: str, kind: str = "A", **options: object) -> tuple[str, dns.message.Message | None]:
    query = dns.message.make_query(name, kind, use_edns=False, id=4660, **options)  # type: ignore[arg-type]
    answer = server.respond(query.to_wire())
    return answer.rcode, dns.message.from_wire(answer.response) if answer.response is not None else None


def test_an_address_is_an_authoritative_answer_to_the_question_asked(server: DnsServer) -> None:
    rcode, response = ask(server, "SERVER.lab.")
    assert rcode == "NOERROR" and response is not None
    assert response.id == 4660 and response.flags & dns.flags.QR and response.flags & dns.flags.AA
    assert response.flags & dns.flags.RD and not response.flags & dns.flags.RA  # copied; no recursion offered
    assert str(response.question[0].name) == "SERVER.lab."  # the question as asked (RFC 1035 §4.1.2)
    assert [str(rdata) for rdata in response.answer[0]] == ["10.0.0.20"]
    assert response.answer[0].ttl == 300


def test_several_addresses_keep_their_order_on_the_wire(server: DnsServer) -> None:
    first = server.respond(dns.message.make_query("r1.lab.", "A", use_edns=False, id=1).to_wire()).response
    again = server.respond(dns.message.make_query("r1.lab.", "A", use_edns=False, id=1).to_wire()).response
    assert first == again  # dnspython's default shuffle is off: same query, same bytes
    assert first is not None
    assert [str(rdata) for rdata in dns.message.from_wire(first).answer[0]] == ["192.168.1.1", "10.0.0.1"]


def test_an_unknown_name_is_nxdomain_with_the_soa(server: DnsServer) -> None:
    rcode, response = ask(server, "nosuch.lab.")
    assert rcode == "NXDOMAIN" and response is not None
    assert response.rcode() == dns.rcode.NXDOMAIN and response.flags & dns.flags.AA and not response.answer
    [soa] = response.authority
    assert soa.rdtype == dns.rdatatype.SOA and str(soa.name) == "lab."
    assert soa[0].minimum == 60  # how long "no such name" may be remembered (RFC 2308 §4)


def test_a_name_with_no_record_of_the_type_is_nodata(server: DnsServer) -> None:
    assert ask(server, "server.lab.", "MX")[0] == "NOERROR"
    rcode, response = ask(server, "site.lab.")  # an empty non-terminal: www.site.lab. is below it
    assert rcode == "NOERROR" and response is not None and not response.answer and response.authority


def test_the_apex_has_its_soa_and_ns(server: DnsServer) -> None:
    _, soa = ask(server, "lab.", "SOA")
    _, ns = ask(server, "lab.", "NS")
    assert soa is not None and ns is not None
    assert soa.answer[0].rdtype == dns.rdatatype.SOA and str(ns.answer[0][0]) == "ns.lab."


def test_a_name_outside_the_zones_is_refused(server: DnsServer) -> None:
    rcode, response = ask(server, "example.com.")
    assert rcode == "REFUSED" and response is not None
    assert not response.flags & dns.flags.AA and not response.answer


def test_reverse_lookups_by_ptr(server: DnsServer) -> None:
    rcode, response = ask(server, "1.0.0.10.in-addr.arpa.", "PTR")
    assert rcode == "NOERROR" and response is not None and str(response.answer[0][0]) == "r1.lab."
    assert ask(server, "9.9.9.9.in-addr.arpa.", "PTR")[0] == "REFUSED"  # not in its zones
    assert ask(server, "x.0.10.in-addr.arpa.", "PTR")[0] == "REFUSED"  # not an address


def test_what_it_will_not_answer(server: DnsServer) -> None:
    query = dns.message.make_query("server.lab.", "A", use_edns=False, id=7)
    query.set_opcode(dns.opcode.STATUS)
    assert server.respond(query.to_wire()).rcode == "NOTIMP"
    response = dns.message.make_response(dns.message.make_query("server.lab.", "A", id=8))
    assert server.respond(response.to_wire()).response is None  # never answer an answer (no loops)
    assert server.respond(b"\x12").response is None  # not even a header
    garbage = server.respond(b"\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\xff")
    assert garbage.rcode == "FORMERR" and garbage.response is not None
    formerr = dns.message.from_wire(garbage.response)
    assert formerr.id == 0x1234 and formerr.rcode() == dns.rcode.FORMERR and formerr.flags & dns.flags.RD
    two = dns.message.make_query("server.lab.", "A", use_edns=False, id=9)
    two.question.append(two.question[0])
    assert server.respond(two.to_wire()).rcode == "FORMERR"


def test_a_name_outside_the_zone_cannot_be_added() -> None:
    with pytest.raises(ValueError, match=r"not in the zone lab\."):
        Zone("lab").add("www.example.com.", "10.0.0.1")

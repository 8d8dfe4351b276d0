"""UDP and TCP checked against scapy, an implementation nobody here wrote.

Both directions: packets built by wirelab are decoded by scapy and every field compared, and both
checksums (IPv4 header, TCP/UDP) compared with the ones scapy computes for the same packet once its
checksum fields are deleted; packets built by scapy are parsed by wirelab and every field compared.
Then golden packets of a real connection (Linux's option layouts), tested both ways.

Scapy's TCP header has a 3-bit ``reserved`` field and a 9-bit ``flags`` field whose top bit is "N"
(RFC 3540's NS, now AccECN's AE); wirelab keeps all 4 bits between the data offset and CWR as
``reserved``. So wirelab ``reserved`` = scapy ``reserved << 1 | flags >> 8``.
"""

from __future__ import annotations

from ipaddress import IPv4Address

import pytest
from hypothesis import given
from hypothesis import strategies as st
from scapy.layers.inet import IP, TCP, UDP
from scapy.packet import Packet, Raw
from scapy.utils import checksum as scapy_checksum
from strategies import (
    UNKNOWN_TCP_OPTION_KINDS,
    ipv4_addresses,
    ipv4_headers,
    ports,
    sequence_numbers,
    tcp_headers,
    tcp_option_length,
    tcp_options,
    udp_headers,
)

from wirelab.wire.ipv4 import IpProtocol, Ipv4Header
from wirelab.wire.tcp import (
    NOP,
    SACK_PERMITTED,
    EndOfOptions,
    MaxSegmentSize,
    Nop,
    Sack,
    SackPermitted,
    TcpFlags,
    TcpHeader,
    TcpOption,
    Timestamps,
    UnknownOption,
    WindowScale,
)
from wirelab.wire.udp import UdpHeader

ScapyOption = tuple[str | int, object]

# Kinds scapy decodes by name (MD5, UTO, TFO, ...) give a different *representation* there; for the
# field-by-field comparisons the unknown kinds are the ones scapy also leaves raw. The named ones are
# compared explicitly below.
_SCAPY_NAMED_KINDS = frozenset({14, 15, 19, 25, 28, 29, 34})
SCAPY_RAW_KINDS = st.sampled_from([kind for kind in UNKNOWN_TCP_OPTION_KINDS if kind not in _SCAPY_NAMED_KINDS])

# Options scapy re-encodes identically: EOL padding is zeros up to the next multiple of 4, as scapy writes.
scapy_tcp_options = tcp_options(unknown_kinds=SCAPY_RAW_KINDS, minimal_zero_padding=True)
payloads = st.binary(max_size=64)


def ip_headers(protocol: int) -> st.SearchStrategy[Ipv4Header]:
    """IPv4 headers without options (scapy takes a source route's last hop into the pseudo-header)."""
    return st.builds(
        lambda header, dont_fragment: header._replace(protocol=protocol, dont_fragment=dont_fragment),
        ipv4_headers(options=st.just(b""), fragments=False),
        st.booleans(),
    )


def scapy_option(option: TcpOption) -> ScapyOption:
    """How scapy (``TCPOptionsField.m2i``) represents a decoded option."""
    match option:
        case EndOfOptions():
            return ("EOL", None)  # scapy stops at EOL and does not keep what follows
        case Nop():
            return ("NOP", None)
        case MaxSegmentSize(mss=mss):
            return ("MSS", mss)
        case WindowScale(shift=shift):
            return ("WScale", shift)
        case SackPermitted():
            return ("SAckOK", b"")
        case Sack(blocks=blocks):
            return ("SAck", tuple(edge for block in blocks for edge in block))
        case Timestamps(tsval=tsval, tsecr=tsecr):
            return ("Timestamp", (tsval, tsecr))
        case UnknownOption(kind=kind, data=data):
            return (kind, data)
    raise TypeError(option)


def scapy_rebuilt(wire: bytes, layer: type[Packet]) -> bytes:
    """``wire`` decoded by scapy, both checksum fields deleted, and built again by scapy."""
    decoded = IP(wire)
    transport = decoded[layer]
    payload = bytes(transport.payload)
    transport.remove_payload()  # whatever scapy guessed from the port numbers, the data is just data
    if payload:
        transport.add_payload(Raw(payload))
    del decoded.chksum
    del transport.chksum
    return bytes(decoded)


def assert_ip_fields(decoded: Packet, header: Ipv4Header, total_length: int) -> None:
    assert decoded.version == 4
    assert decoded.ihl == 5
    assert decoded.tos == header.dscp << 2 | header.ecn
    assert decoded.len == total_length
    assert decoded.id == header.identification
    assert int(decoded.flags) == header.reserved_flag << 2 | header.dont_fragment << 1 | header.more_fragments
    assert decoded.frag == 0
    assert decoded.ttl == header.ttl
    assert decoded.proto == header.protocol
    assert decoded.src == str(header.src)
    assert decoded.dst == str(header.dst)


def assert_scapy_decodes_tcp(wire: bytes, ip: Ipv4Header, tcp: TcpHeader, payload: bytes) -> None:
    decoded = IP(wire)
    assert_ip_fields(decoded, ip, len(wire))
    segment = decoded[TCP]
    assert segment.sport == tcp.src_port
    assert segment.dport == tcp.dst_port
    assert segment.seq == tcp.seq
    assert segment.ack == tcp.ack
    assert segment.dataofs == (20 + sum(map(tcp_option_length, tcp.options))) // 4
    assert segment.reserved == tcp.reserved >> 1
    assert int(segment.flags) == (tcp.reserved & 1) << 8 | tcp.flags
    assert segment.window == tcp.window
    assert segment.urgptr == tcp.urgent
    assert segment.options == [scapy_option(option) for option in tcp.options]
    assert bytes(segment.payload) == payload
    # The checksums scapy computes for the same packet, and the rest of its encoding, are ours.
    rebuilt = scapy_rebuilt(wire, TCP)
    assert IP(rebuilt).chksum == decoded.chksum
    assert IP(rebuilt)[TCP].chksum == segment.chksum
    assert rebuilt == wire


def scapy_tcp(ip: Ipv4Header, tcp: TcpHeader, payload: bytes) -> bytes:
    """The same packet built by scapy from the fields (its checksums, its option encoder)."""
    packet = IP(
        src=str(ip.src),
        dst=str(ip.dst),
        ttl=ip.ttl,
        id=ip.identification,
        flags=ip.reserved_flag << 2 | ip.dont_fragment << 1,
        tos=ip.dscp << 2 | ip.ecn,
    ) / TCP(
        sport=tcp.src_port,
        dport=tcp.dst_port,
        seq=tcp.seq,
        ack=tcp.ack,
        reserved=tcp.reserved >> 1,
        flags=(tcp.reserved & 1) << 8 | tcp.flags,
        window=tcp.window,
        urgptr=tcp.urgent,
        options=[scapy_option(option) for option in tcp.options],
    )
    if payload:
        packet /= Raw(payload)
    return bytes(packet)


def wirelab_tcp(wire: bytes) -> tuple[Ipv4Header, TcpHeader, bytes]:
    ip, segment = Ipv4Header.parse(wire)
    tcp, payload = TcpHeader.parse(segment, ip.src, ip.dst)
    return ip, tcp, payload


# --- TCP: wirelab -> scapy --------------------------------------------------------------------------------


@given(ip_headers(IpProtocol.TCP), tcp_headers(options=scapy_tcp_options), payloads)
def test_tcp_built_by_wirelab_decodes_in_scapy(ip: Ipv4Header, tcp: TcpHeader, payload: bytes) -> None:
    wire = ip.emit(tcp.emit(payload, ip.src, ip.dst))
    assert_scapy_decodes_tcp(wire, ip, tcp, payload)


# --- TCP: scapy -> wirelab --------------------------------------------------------------------------------


@given(ip_headers(IpProtocol.TCP), tcp_headers(options=scapy_tcp_options), payloads)
def test_tcp_built_by_scapy_parses_in_wirelab(ip: Ipv4Header, tcp: TcpHeader, payload: bytes) -> None:
    wire = scapy_tcp(ip, tcp, payload)
    assert wirelab_tcp(wire) == (ip, tcp, payload)


@given(
    ipv4_addresses(),
    ipv4_addresses(),
    ports(),
    ports(),
    sequence_numbers(),
    sequence_numbers(),
    st.integers(0, 0x1FF),
    st.integers(0, 7),
    st.integers(0, 0xFFFF),
    st.integers(0, 0xFFFF),
    payloads,
)
def test_tcp_fields_from_scapy_field_by_field(
    src: IPv4Address,
    dst: IPv4Address,
    sport: int,
    dport: int,
    seq: int,
    ack: int,
    flags: int,
    reserved: int,
    window: int,
    urgent: int,
    payload: bytes,
) -> None:
    packet = IP(src=str(src), dst=str(dst)) / TCP(
        sport=sport, dport=dport, seq=seq, ack=ack, flags=flags, reserved=reserved, window=window, urgptr=urgent
    )
    if payload:
        packet /= Raw(payload)
    ip, tcp, data = wirelab_tcp(bytes(packet))
    assert (ip.src, ip.dst, ip.protocol) == (src, dst, IpProtocol.TCP)
    assert tcp.src_port == sport
    assert tcp.dst_port == dport
    assert tcp.seq == seq
    assert tcp.ack == ack
    assert tcp.flags == flags & 0xFF
    assert tcp.reserved == reserved << 1 | flags >> 8
    assert tcp.window == window
    assert tcp.urgent == urgent
    assert tcp.options == ()
    assert tcp.header_len == 20
    assert data == payload


# --- TCP: each option, each flag, explicitly -----------------------------------------------------------------

OPTION_CASES: list[tuple[str, tuple[TcpOption, ...], list[ScapyOption]]] = [
    ("MSS", (MaxSegmentSize(1460),), [("MSS", 1460)]),
    ("WScale", (NOP, WindowScale(14)), [("NOP", None), ("WScale", 14)]),
    ("SAckOK", (NOP, NOP, SACK_PERMITTED), [("NOP", None), ("NOP", None), ("SAckOK", b"")]),
    (
        "Timestamps",
        (NOP, NOP, Timestamps(0xDEADBEEF, 1)),
        [("NOP", None), ("NOP", None), ("Timestamp", (0xDEADBEEF, 1))],
    ),
    ("SACK-1", (NOP, NOP, Sack(((100, 200),))), [("NOP", None), ("NOP", None), ("SAck", (100, 200))]),
    (
        "SACK-2",
        (NOP, NOP, Sack(((1, 2), (0xFFFFFFF0, 0x10)))),
        [("NOP", None), ("NOP", None), ("SAck", (1, 2, 0xFFFFFFF0, 0x10))],
    ),
    (
        "SACK-3",
        (NOP, NOP, Sack(((1, 2), (3, 4), (5, 6)))),
        [("NOP", None), ("NOP", None), ("SAck", (1, 2, 3, 4, 5, 6))],
    ),
    (
        "SACK-4",
        (NOP, NOP, Sack(((1, 2), (3, 4), (5, 6), (7, 8)))),
        [("NOP", None), ("NOP", None), ("SAck", (1, 2, 3, 4, 5, 6, 7, 8))],
    ),
    (
        "linux-SYN",
        (MaxSegmentSize(1460), SACK_PERMITTED, Timestamps(12345, 0), NOP, WindowScale(7)),
        [("MSS", 1460), ("SAckOK", b""), ("Timestamp", (12345, 0)), ("NOP", None), ("WScale", 7)],
    ),
    ("EOL", (MaxSegmentSize(536), EndOfOptions(b"\x00\x00\x00")), [("MSS", 536), ("EOL", None)]),
    (
        "unknown-MPTCP",
        (UnknownOption(30, b"\x00\x81\x01\x02\x03\x04\x05\x06\x07\x08"),),
        [(30, b"\x00\x81" + bytes(range(1, 9)))],
    ),
    ("unknown-exp", (UnknownOption(254, b"\xf9\x89"),), [(254, b"\xf9\x89")]),
    ("unknown-empty", (UnknownOption(6, b""), NOP, NOP), [(6, b""), ("NOP", None), ("NOP", None)]),
    # Kinds scapy knows by name and wirelab keeps raw: same octets, different representations.
    ("UTO", (UnknownOption(28, b"\x80\x1e"),), [("UTO", 0x801E)]),
    ("MD5", (UnknownOption(19, bytes(range(16))), NOP, NOP), [("MD5", bytes(range(16))), ("NOP", None), ("NOP", None)]),
    (
        "TFO",
        (UnknownOption(34, bytes(range(8))), NOP, NOP),
        [("TFO", (0x00010203, 0x04050607)), ("NOP", None), ("NOP", None)],
    ),
]
OPTION_IDS = [case[0] for case in OPTION_CASES]
_SRC, _DST = IPv4Address("172.16.0.1"), IPv4Address("172.16.0.2")
_IP = Ipv4Header(_SRC, _DST, IpProtocol.TCP, identification=7)


@pytest.mark.parametrize(("options", "expected"), [case[1:] for case in OPTION_CASES], ids=OPTION_IDS)
def test_each_option_wirelab_to_scapy(options: tuple[TcpOption, ...], expected: list[ScapyOption]) -> None:
    tcp = TcpHeader(1024, 443, 1, 2, TcpFlags.ACK, 1000, options=options)
    wire = _IP.emit(tcp.emit(b"opt", _SRC, _DST))
    decoded = IP(wire)
    assert decoded[TCP].options == expected
    rebuilt = scapy_rebuilt(wire, TCP)
    assert IP(rebuilt)[TCP].chksum == decoded[TCP].chksum
    assert rebuilt == wire


@pytest.mark.parametrize(("options", "scapy_options"), [case[1:] for case in OPTION_CASES], ids=OPTION_IDS)
def test_each_option_scapy_to_wirelab(options: tuple[TcpOption, ...], scapy_options: list[ScapyOption]) -> None:
    wire = bytes(IP(src=str(_SRC), dst=str(_DST)) / TCP(flags="A", options=scapy_options) / Raw(b"opt"))
    _, tcp, payload = wirelab_tcp(wire)
    assert tcp.options == options
    assert payload == b"opt"


SCAPY_FLAG_LETTERS = [
    (TcpFlags.FIN, "F"),
    (TcpFlags.SYN, "S"),
    (TcpFlags.RST, "R"),
    (TcpFlags.PSH, "P"),
    (TcpFlags.ACK, "A"),
    (TcpFlags.URG, "U"),
    (TcpFlags.ECE, "E"),
    (TcpFlags.CWR, "C"),
]


@pytest.mark.parametrize(("flag", "letter"), SCAPY_FLAG_LETTERS, ids=[letter for _, letter in SCAPY_FLAG_LETTERS])
def test_each_flag_both_ways(flag: TcpFlags, letter: str) -> None:
    tcp = TcpHeader(1024, 443, 1, 2, flag, 1000)
    wire = _IP.emit(tcp.emit(b"", _SRC, _DST))
    assert str(IP(wire)[TCP].flags) == letter
    from_scapy = bytes(IP(src=str(_SRC), dst=str(_DST)) / TCP(flags=letter))
    assert wirelab_tcp(from_scapy)[1].flags == flag


def test_all_flags_and_the_ns_bit_both_ways() -> None:
    tcp = TcpHeader(1024, 443, 1, 2, TcpFlags(0xFF), 1000, reserved=1)
    wire = _IP.emit(tcp.emit(b"", _SRC, _DST))
    assert str(IP(wire)[TCP].flags) == "FSRPAUECN"
    from_scapy = bytes(IP(src=str(_SRC), dst=str(_DST)) / TCP(flags="FSRPAUECN"))
    assert wirelab_tcp(from_scapy)[1].flags == TcpFlags(0xFF)
    assert wirelab_tcp(from_scapy)[1].reserved == 1


@pytest.mark.parametrize("urgent", [0, 1, 0x1234, 0xFFFF])
def test_urgent_pointer_both_ways(urgent: int) -> None:
    tcp = TcpHeader(1024, 443, 1, 2, TcpFlags.URG | TcpFlags.ACK, 1000, urgent)
    wire = _IP.emit(tcp.emit(b"urgent!", _SRC, _DST))
    assert IP(wire)[TCP].urgptr == urgent
    from_scapy = bytes(IP(src=str(_SRC), dst=str(_DST)) / TCP(flags="UA", urgptr=urgent) / Raw(b"urgent!"))
    assert wirelab_tcp(from_scapy)[1].urgent == urgent


# --- UDP, both ways ----------------------------------------------------------------------------------------


@given(ip_headers(IpProtocol.UDP), udp_headers(), payloads)
def test_udp_built_by_wirelab_decodes_in_scapy(ip: Ipv4Header, udp: UdpHeader, payload: bytes) -> None:
    wire = ip.emit(udp.emit(payload, ip.src, ip.dst))
    decoded = IP(wire)
    assert_ip_fields(decoded, ip, len(wire))
    datagram = decoded[UDP]
    assert datagram.sport == udp.src_port
    assert datagram.dport == udp.dst_port
    assert datagram.len == 8 + len(payload)
    assert bytes(datagram.payload) == payload
    rebuilt = IP(scapy_rebuilt(wire, UDP))
    assert rebuilt.chksum == decoded.chksum
    if udp.no_checksum:
        assert datagram.chksum == 0
    else:
        assert datagram.chksum == rebuilt[UDP].chksum != 0
        assert bytes(rebuilt) == wire


@given(ip_headers(IpProtocol.UDP), udp_headers(), payloads)
def test_udp_built_by_scapy_parses_in_wirelab(ip: Ipv4Header, udp: UdpHeader, payload: bytes) -> None:
    packet = IP(
        src=str(ip.src),
        dst=str(ip.dst),
        ttl=ip.ttl,
        id=ip.identification,
        flags=ip.reserved_flag << 2 | ip.dont_fragment << 1,
        tos=ip.dscp << 2 | ip.ecn,
    ) / UDP(sport=udp.src_port, dport=udp.dst_port, chksum=0 if udp.no_checksum else None)
    if payload:
        packet /= Raw(payload)
    parsed_ip, datagram = Ipv4Header.parse(bytes(packet))
    assert parsed_ip == ip
    assert UdpHeader.parse(datagram, ip.src, ip.dst) == (udp, payload)


def test_udp_checksum_against_scapy_over_odd_and_even_lengths() -> None:
    for size in range(0, 40):
        payload = bytes(range(7, 7 + size))
        wire = _IP._replace(protocol=IpProtocol.UDP).emit(UdpHeader(5353, 5353).emit(payload, _SRC, _DST))
        expected = IP(bytes(IP(src=str(_SRC), dst=str(_DST), id=7) / UDP(sport=5353, dport=5353) / Raw(payload)))
        assert IP(wire)[UDP].chksum == expected[UDP].chksum
        assert IP(wire).chksum == expected.chksum


# --- golden packets of one connection, both ways ---------------------------------------------------------------
#
# Produced once with scapy 2.8.0, e.g. for the SYN:
#   IP(src="192.168.1.10", dst="192.168.1.11", id=0x1C46, flags="DF", ttl=64)
#   / TCP(sport=51234, dport=8080, seq=0x5F3A1D20, flags="S", window=64240,
#         options=[("MSS", 1460), ("SAckOK", b""), ("Timestamp", (2216541128, 0)), ("NOP", None), ("WScale", 7)])
# (the option layout Linux puts on a SYN and on its SYN-ACK; NOP NOP TS on every later segment),
# and pasted here as hex. The values they must parse to are written out by hand.

CLIENT = IPv4Address("192.168.1.10")
SERVER = IPv4Address("192.168.1.11")
REQUEST = b"GET / HTTP/1.1\r\nHost: 192.168.1.11:8080\r\n\r\n"

GOLDEN_SYN = bytes.fromhex(
    "4500003c1c46400040069b10c0a8010a"
    "c0a8010bc8221f905f3a1d2000000000"
    "a002faf025b60000020405b40402080a"
    "841dbbc80000000001030307"
)
GOLDEN_SYN_ACK = bytes.fromhex(
    "4500003c000040004006b756c0a8010b"
    "c0a8010a1f90c8229a0b4c115f3a1d21"
    "a012fe88645e0000020405b40402080a"
    "cff90798841dbbc801030307"
)
GOLDEN_DATA = bytes.fromhex(
    "4500005f1c47400040069aecc0a8010a"
    "c0a8010bc8221f905f3a1d219a0b4c12"
    "801801f6ea2d00000101080a841dbbd4"
    "cff90798474554202f20485454502f31"
    "2e310d0a486f73743a203139322e3136"
    "382e312e31313a383038300d0a0d0a"
)
GOLDEN_FIN_ACK = bytes.fromhex(
    "450000341c48400040069b16c0a8010ac0a8010bc8221f905f3a1d4c9a0b4c12801101f68f6e00000101080a841dbbe0cff907a3"
)

GOLDEN = [
    (
        "SYN",
        GOLDEN_SYN,
        Ipv4Header(CLIENT, SERVER, IpProtocol.TCP, ttl=64, identification=0x1C46, dont_fragment=True),
        TcpHeader(
            51234,
            8080,
            0x5F3A1D20,
            0,
            TcpFlags.SYN,
            64240,
            0,
            (MaxSegmentSize(1460), SACK_PERMITTED, Timestamps(2216541128, 0), NOP, WindowScale(7)),
        ),
        b"",
    ),
    (
        "SYN-ACK",
        GOLDEN_SYN_ACK,
        Ipv4Header(SERVER, CLIENT, IpProtocol.TCP, ttl=64, identification=0, dont_fragment=True),
        TcpHeader(
            8080,
            51234,
            0x9A0B4C11,
            0x5F3A1D21,
            TcpFlags.SYN | TcpFlags.ACK,
            65160,
            0,
            (MaxSegmentSize(1460), SACK_PERMITTED, Timestamps(3489204120, 2216541128), NOP, WindowScale(7)),
        ),
        b"",
    ),
    (
        "data",
        GOLDEN_DATA,
        Ipv4Header(CLIENT, SERVER, IpProtocol.TCP, ttl=64, identification=0x1C47, dont_fragment=True),
        TcpHeader(
            51234,
            8080,
            0x5F3A1D21,
            0x9A0B4C12,
            TcpFlags.PSH | TcpFlags.ACK,
            502,
            0,
            (NOP, NOP, Timestamps(2216541140, 3489204120)),
        ),
        REQUEST,
    ),
    (
        "FIN-ACK",
        GOLDEN_FIN_ACK,
        Ipv4Header(CLIENT, SERVER, IpProtocol.TCP, ttl=64, identification=0x1C48, dont_fragment=True),
        TcpHeader(
            51234,
            8080,
            0x5F3A1D21 + len(REQUEST),
            0x9A0B4C12,
            TcpFlags.FIN | TcpFlags.ACK,
            502,
            0,
            (NOP, NOP, Timestamps(2216541152, 3489204131)),
        ),
        b"",
    ),
]
GOLDEN_IDS = [case[0] for case in GOLDEN]


@pytest.mark.parametrize(("wire", "ip", "tcp", "payload"), [case[1:] for case in GOLDEN], ids=GOLDEN_IDS)
def test_golden_parses_to_the_value(wire: bytes, ip: Ipv4Header, tcp: TcpHeader, payload: bytes) -> None:
    assert wirelab_tcp(wire) == (ip, tcp, payload)


@pytest.mark.parametrize(("wire", "ip", "tcp", "payload"), [case[1:] for case in GOLDEN], ids=GOLDEN_IDS)
def test_value_emits_the_golden_bytes(wire: bytes, ip: Ipv4Header, tcp: TcpHeader, payload: bytes) -> None:
    assert ip.emit(tcp.emit(payload, ip.src, ip.dst)) == wire


@pytest.mark.parametrize(("wire", "ip", "tcp", "payload"), [case[1:] for case in GOLDEN], ids=GOLDEN_IDS)
def test_golden_is_what_scapy_decodes(wire: bytes, ip: Ipv4Header, tcp: TcpHeader, payload: bytes) -> None:
    assert_scapy_decodes_tcp(wire, ip, tcp, payload)


def test_golden_checksums_verify_in_scapy() -> None:
    # Independently of scapy's packet classes: the RFC 1071 sum over header, and over pseudo-header and
    # segment, with the checksum fields included, is all ones (the checksum of it is 0).
    for wire in (GOLDEN_SYN, GOLDEN_SYN_ACK, GOLDEN_DATA, GOLDEN_FIN_ACK):
        assert scapy_checksum(wire[:20]) == 0
        segment = wire[20:]
        pseudo = wire[12:20] + b"\x00\x06" + len(segment).to_bytes(2, "big")
        assert scapy_checksum(pseudo + segment) == 0


def test_golden_connection_sequence_space() -> None:
    # The handshake and the request line up: SYN and FIN take one number each, data its length.
    (_, syn, _), (_, syn_ack, _) = wirelab_tcp(GOLDEN_SYN), wirelab_tcp(GOLDEN_SYN_ACK)
    (_, data, request), (_, fin, _) = wirelab_tcp(GOLDEN_DATA), wirelab_tcp(GOLDEN_FIN_ACK)
    assert syn_ack.ack == syn.seq + syn.segment_length
    assert data.seq == syn.seq + syn.segment_length
    assert data.ack == syn_ack.seq + syn_ack.segment_length
    assert fin.seq == data.seq + len(request) + data.segment_length
    assert (syn.mss, syn.window_scale, syn.sack_permitted) == (1460, 7, True)
    assert data.timestamps == Timestamps(2216541140, 3489204120)

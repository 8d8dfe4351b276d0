"""IPv4 subnet arithmetic as the course teaches it: IP AND mask, "same LAN or not", borrowing host bits.

Every piece of address arithmetic is done by the stdlib's :mod:`ipaddress`; this module only asks it
questions and keeps the answers as frozen values (:class:`SameLanCheck`, :class:`SubnetPlan`,
:class:`Subnet`), so that the renderers, the tests and a learner's own script all read the same data.
Rendering is kept apart, in functions that return ``str`` and take the language to speak in; their
sentences live in one catalog keyed by message id (English and the course's Chinese terms).

A caller's mistake (``300.1.1.1``, ``/33``, more subnets than there are host bits…) raises
:class:`AddressingError`, a :class:`ValueError` whose message is one line, so the command line can
print it after ``wirelab: error:`` as it is.
"""

from __future__ import annotations

import enum
import unicodedata
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from ipaddress import AddressValueError, IPv4Address, IPv4Interface, IPv4Network, NetmaskValueError
from types import MappingProxyType
from typing import Final, Literal

Language = Literal["en", "zh"]
"""The languages the renderers speak: English, and Chinese in the course's own terms (GLOSSARY.md)."""

ADDRESS_BITS: Final = 32
LIMITED_BROADCAST: Final = IPv4Address("255.255.255.255")
POINT_TO_POINT_PREFIX: Final = 31  # RFC 3021: both addresses are hosts, there is no broadcast
HOST_ROUTE_PREFIX: Final = 32


class AddressingError(ValueError):
    """The caller gave an address, mask or request that cannot work; the message is one line."""


# --------------------------------------------------------------------------------------------------
# Reading addresses: ipaddress does the parsing, we only word its complaints for a learner.


_MASK_FORMS: Final = "a mask is a prefix length 0–32 (/24) or a dotted mask (/255.255.255.0)"


def _one_line(error: Exception) -> str:
    return " ".join(str(error).split())


def _refuse_ipv6(text: str, what: str) -> None:
    # ipaddress would say "Expected 4 octets in '::1'", which hides the real reason.
    if ":" in text:
        raise AddressingError(f"{text!r} looks like IPv6; {what} must be IPv4 (the course's addresses)")


def parse_address(text: str) -> IPv4Address:
    """An IPv4 address such as ``192.168.1.77``; :class:`AddressingError` for anything else."""
    text = text.strip()
    _refuse_ipv6(text, "an address")
    if "/" in text:
        raise AddressingError(f"{text!r}: give a plain address here, without a /prefix")
    try:
        return IPv4Address(text)
    except AddressValueError as error:
        raise AddressingError(f"{text!r} is not an IPv4 address: {_one_line(error)}") from None


def parse_interface(text: str) -> IPv4Interface:
    """A host's address with its mask: ``192.168.1.10/24`` or ``192.168.1.10/255.255.255.0``.

    The mask is required: without it there is no network address, and "same LAN or not" has no
    answer. The address must be a host's: a subnet's own network or broadcast address cannot be
    given to an interface (except in a /31 or /32, which have neither).
    """
    text = text.strip()
    _refuse_ipv6(text, "an interface address")
    if "/" not in text:
        raise AddressingError(f"{text!r} has no mask: write it as address/prefix, e.g. 192.168.1.10/24")
    try:
        interface = IPv4Interface(text)
    except NetmaskValueError as error:
        raise AddressingError(f"{text!r}: {_one_line(error)}; {_MASK_FORMS}") from None
    except AddressValueError as error:
        raise AddressingError(f"{text!r} is not an IPv4 address/mask: {_one_line(error)}") from None
    network = interface.network
    if network.prefixlen < POINT_TO_POINT_PREFIX:
        if interface.ip == network.network_address:
            raise AddressingError(
                f"{text} is the network address of {network}, not a host's; hosts are "
                f"{network.network_address + 1}–{network.broadcast_address - 1}"
            )
        if interface.ip == network.broadcast_address:
            raise AddressingError(
                f"{text} is the broadcast address of {network}, not a host's; hosts are "
                f"{network.network_address + 1}–{network.broadcast_address - 1}"
            )
    return interface


def parse_network(text: str) -> IPv4Network:
    """A network such as ``192.168.1.0/24``, given by its network address.

    An address with host bits set (``192.168.1.10/24``) is refused rather than silently rounded
    down: where a network is asked for, a host address is usually a slip, and quietly planning
    another block than the one typed would teach the wrong thing. The message names the network
    that was probably meant.
    """
    text = text.strip()
    _refuse_ipv6(text, "a network")
    if "/" not in text:
        raise AddressingError(f"{text!r} has no prefix: write the network as address/prefix, e.g. 192.168.1.0/24")
    try:
        return IPv4Network(text)
    except NetmaskValueError as error:
        raise AddressingError(f"{text!r}: {_one_line(error)}; {_MASK_FORMS}") from None
    except AddressValueError as error:
        raise AddressingError(f"{text!r} is not an IPv4 network: {_one_line(error)}") from None
    except ValueError:  # the only other complaint ipaddress has: host bits set
        meant = IPv4Network(text, strict=False)
        raise AddressingError(
            f"{text} has host bits set: a network address is needed here (did you mean {meant}?)"
        ) from None


# --------------------------------------------------------------------------------------------------
# Same LAN or not


class Delivery(enum.Enum):
    """What the sending host does with a packet for the target, after the AND."""

    DIRECT = "direct"  # same LAN: ARP for the target's MAC, the switch carries the frame
    VIA_GATEWAY = "via-gateway"  # another LAN: ARP for the gateway's MAC, the router forwards it
    BROADCAST = "broadcast"  # to FF-FF-FF-FF-FF-FF; there is no one MAC to ARP for
    MULTICAST = "multicast"  # the MAC is derived from the group address (RFC 1112 §6.4), no ARP
    LOCAL = "local"  # this host itself (its own address or loopback): never on the wire


@dataclass(frozen=True, slots=True)
class SameLanCheck:
    """The course's three ARP steps, as values: both ANDs and what they decide.

    ``target_network`` is the target's address ANDed with the *sender's* mask: the sender does not
    know the target's mask, and only needs to know whether the target falls inside its own network.
    """

    source: IPv4Address
    target: IPv4Address
    netmask: IPv4Address
    prefixlen: int
    source_network: IPv4Address  # source AND netmask
    target_network: IPv4Address  # target AND netmask
    delivery: Delivery
    arp_target: IPv4Address | None  # whose MAC ARP asks for; None when no ARP, or the gateway is unknown
    gateway: IPv4Address | None = None

    @property
    def same_lan(self) -> bool:
        """Whether both network addresses are equal: the target is on the sender's LAN."""
        return self.source_network == self.target_network


def same_lan(
    interface: str | IPv4Interface,
    target: str | IPv4Address,
    gateway: str | IPv4Address | None = None,
) -> SameLanCheck:
    """Decide, as the sending host does, whether ``target`` is on the LAN of ``interface``.

    ``gateway``, when given, must itself be on the LAN (a host can only reach its gateway directly),
    and is then the address ARP asks for when the target is elsewhere.
    """
    if isinstance(interface, str):
        interface = parse_interface(interface)
    if isinstance(target, str):
        target = parse_address(target)
    if isinstance(gateway, str):
        gateway = parse_address(gateway)
    network = interface.network
    if target.is_unspecified:
        raise AddressingError("0.0.0.0 means 'no address yet' and cannot be a destination")
    if gateway is not None and (gateway not in network or gateway == interface.ip):
        raise AddressingError(
            f"gateway {gateway} is not another host on {network}: a host reaches its gateway directly, "
            "so the gateway must be on its LAN"
        )
    # Step 1 and 2 of the course: each address AND the sender's mask.
    target_network = IPv4Interface((target, network.prefixlen)).network.network_address
    on_lan = target_network == network.network_address
    arp_target: IPv4Address | None = None
    if target == interface.ip or target.is_loopback:
        delivery = Delivery.LOCAL
    elif target == LIMITED_BROADCAST or (
        on_lan and network.prefixlen < POINT_TO_POINT_PREFIX and target == network.broadcast_address
    ):
        delivery = Delivery.BROADCAST
    elif target.is_multicast:
        delivery = Delivery.MULTICAST
    elif on_lan:  # step 3: the same network address
        delivery, arp_target = Delivery.DIRECT, target
    else:
        delivery, arp_target = Delivery.VIA_GATEWAY, gateway
    return SameLanCheck(
        source=interface.ip,
        target=target,
        netmask=interface.netmask,
        prefixlen=network.prefixlen,
        source_network=network.network_address,
        target_network=target_network,
        delivery=delivery,
        arp_target=arp_target,
        gateway=gateway,
    )


# --------------------------------------------------------------------------------------------------
# Subnetting: borrow host bits for the network part


def usable_hosts(prefixlen: int) -> int:
    """How many host addresses a network of this prefix length offers.

    All but the network and broadcast addresses; but a /31 has both its addresses usable and no
    broadcast (RFC 3021, point-to-point links), and a /32 is one address (a host route).
    """
    if not 0 <= prefixlen <= ADDRESS_BITS:
        raise AddressingError(f"/{prefixlen} is not an IPv4 prefix length (0–32)")
    size = IPv4Network((0, prefixlen)).num_addresses
    return size if prefixlen >= POINT_TO_POINT_PREFIX else size - 2


@dataclass(frozen=True, slots=True)
class Subnet:
    """One network of a plan, with the addresses a learner writes in the table."""

    network: IPv4Network
    first_host: IPv4Address
    last_host: IPv4Address
    broadcast: IPv4Address | None  # None for /31 (RFC 3021) and /32
    usable_hosts: int

    @classmethod
    def of(cls, network: IPv4Network) -> Subnet:
        """The host range and broadcast of ``network``, /31 and /32 included."""
        if network.prefixlen >= POINT_TO_POINT_PREFIX:
            first, last, broadcast = network.network_address, network.broadcast_address, None
        else:
            first, last = network.network_address + 1, network.broadcast_address - 1
            broadcast = network.broadcast_address
        return cls(network, first, last, broadcast, usable_hosts(network.prefixlen))


class Basis(enum.Enum):
    """What the learner asked for: a number of subnets, or a number of hosts in each."""

    SUBNETS = "subnets"
    HOSTS = "hosts"


@dataclass(frozen=True, slots=True)
class SubnetPlan:
    """A network cut into equal subnets by borrowing ``borrowed_bits`` host bits.

    The subnets themselves are produced on demand (:meth:`subnets`, :meth:`subnet`): a /8 cut into
    /30s has four million of them.
    """

    parent: IPv4Network
    basis: Basis
    wanted: int
    borrowed_bits: int
    prefixlen: int
    netmask: IPv4Address
    subnet_count: int
    addresses_per_subnet: int
    usable_hosts: int

    def subnets(self) -> Iterator[Subnet]:
        """Every subnet, in address order."""
        return (Subnet.of(network) for network in self.parent.subnets(new_prefix=self.prefixlen))

    def subnet(self, index: int) -> Subnet:
        """The subnet at ``index`` (0 is the first, "subnet zero"), without walking the ones before."""
        if not 0 <= index < self.subnet_count:
            raise IndexError(f"subnet {index} of {self.subnet_count}")
        start = self.parent.network_address + index * self.addresses_per_subnet
        return Subnet.of(IPv4Network((start, self.prefixlen)))


def _plan(parent: IPv4Network, basis: Basis, wanted: int, prefixlen: int) -> SubnetPlan:
    borrowed = prefixlen - parent.prefixlen
    return SubnetPlan(
        parent=parent,
        basis=basis,
        wanted=wanted,
        borrowed_bits=borrowed,
        prefixlen=prefixlen,
        netmask=IPv4Network((0, prefixlen)).netmask,
        subnet_count=2**borrowed,
        addresses_per_subnet=IPv4Network((0, prefixlen)).num_addresses,
        usable_hosts=usable_hosts(prefixlen),
    )


def plan_by_subnets(network: str | IPv4Network, subnets: int) -> SubnetPlan:
    """Borrow just enough host bits to make at least ``subnets`` subnets (n bits make 2**n)."""
    parent = parse_network(network) if isinstance(network, str) else network
    if subnets < 1:
        raise AddressingError(f"the number of subnets must be at least 1, not {subnets}")
    borrowed = (subnets - 1).bit_length()  # the smallest n with 2**n >= subnets
    host_bits = ADDRESS_BITS - parent.prefixlen
    if borrowed > host_bits:
        raise AddressingError(
            f"{parent} cannot be cut into {subnets} subnets: that needs {borrowed} borrowed bits, "
            f"and it has only {host_bits} host bits (at most {2**host_bits} subnets)"
        )
    return _plan(parent, Basis.SUBNETS, subnets, parent.prefixlen + borrowed)


def plan_by_hosts(network: str | IPv4Network, hosts: int) -> SubnetPlan:
    """Borrow as many host bits as still leave ``hosts`` usable addresses in every subnet.

    The smallest subnet that fits wins, so a /31 (RFC 3021) answers 2 hosts and a /32 answers 1.
    """
    parent = parse_network(network) if isinstance(network, str) else network
    if hosts < 1:
        raise AddressingError(f"the number of hosts per subnet must be at least 1, not {hosts}")
    for prefixlen in range(ADDRESS_BITS, parent.prefixlen - 1, -1):
        if usable_hosts(prefixlen) >= hosts:
            return _plan(parent, Basis.HOSTS, hosts, prefixlen)
    raise AddressingError(
        f"{hosts} hosts per subnet do not fit in {parent}: it has at most {usable_hosts(parent.prefixlen)} usable hosts"
    )


# --------------------------------------------------------------------------------------------------
# Rendering: plain text, from a catalog of sentences


_WORDS: Final[Mapping[Language, Mapping[str, str]]] = MappingProxyType(
    {
        "en": MappingProxyType(
            {
                "same_lan.title": "Same LAN or not? {source}/{prefixlen} sending to {target}",
                "same_lan.step.mine": "1. My network address = my IP AND my subnet mask",
                "same_lan.step.target": "2. The target's network address = the target's IP AND my subnet mask",
                "same_lan.step.same": "3. {mine} = {theirs}: on the same LAN",
                "same_lan.step.other": "3. {mine} ≠ {theirs}: not on the same LAN",
                "label.my_ip": "my IP",
                "label.target_ip": "target IP",
                "label.mask": "subnet mask",
                "label.network": "network address",
                "delivery.direct": (
                    "→ deliver directly, the switch carries it: "
                    "ARP broadcast for the target's MAC ({target}), then send the frame to that MAC"
                ),
                "delivery.via_gateway": (
                    "→ send to the gateway (the router): ARP broadcast for the gateway's MAC{gateway}, "
                    "then send the frame to that MAC; the IP packet stays addressed to {target}"
                ),
                "delivery.broadcast": "→ {target} is a broadcast address: send to MAC FF-FF-FF-FF-FF-FF, no ARP",
                "delivery.multicast": (
                    "→ {target} is a multicast group: its MAC is derived from it (01-00-5E-…, RFC 1112), no ARP"
                ),
                "delivery.local": "→ {target} is this host itself: it never reaches the wire, no ARP",
                "plan.title.subnets": (
                    "Subnetting {parent}, subnets wanted: {wanted}; borrow host bits for the network part"
                ),
                "plan.title.hosts": (
                    "Subnetting {parent}, hosts wanted per subnet: {wanted}; borrow host bits for the network part"
                ),
                "plan.prefix": "borrowed bits: {bits}, network part /{old} → /{new}",
                "plan.count": "subnets: {count} (2^{bits}), addresses in each: {size}, usable hosts in each: {usable}",
                "plan.spare": "spare subnets: {spare}",
                "plan.fit": "spare hosts in each: {spare}",
                "plan.old_mask": "old mask",
                "plan.new_mask": "new mask",
                "plan.bits": "bits",
                "plan.legend": "n network, b borrowed, h host",
                "plan.point_to_point": "/31: a point-to-point link, both addresses usable, no broadcast (RFC 3021)",
                "plan.host_route": "/32: one address (a host route), no broadcast",
                "plan.more": "… {hidden} more …",
                "column.number": "#",
                "column.network": "network",
                "column.first": "first host",
                "column.last": "last host",
                "column.broadcast": "broadcast",
                "column.hosts": "hosts",
                "none": "—",
            }
        ),
        "zh": MappingProxyType(
            {
                "same_lan.title": "在同一个局域网内吗? {source}/{prefixlen} 发给 {target}",
                "same_lan.step.mine": "1. 依据自己的ip地址与子网掩码计算出自己的网络地址 (按位与运算)",
                "same_lan.step.target": "2. 依据对方的ip地址与子网掩码计算出对方的网络地址 (按位与运算)",
                "same_lan.step.same": "3. {mine} = {theirs}: 在同一个局域网内",
                "same_lan.step.other": "3. {mine} ≠ {theirs}: 不在同一个局域网内",
                "label.my_ip": "自己的ip地址",
                "label.target_ip": "对方的ip地址",
                "label.mask": "子网掩码",
                "label.network": "网络地址",
                "delivery.direct": (
                    "→ 只需要走交换机: 发arp协议的广播包, 拿到目标主机的mac地址 ({target}), 再发送真实的数据包"
                ),
                "delivery.via_gateway": (
                    "→ 需要走交换机, 再发给路由器(网关): 发arp协议的广播包, 拿到网关的mac地址{gateway}, "
                    "再发送真实的数据包 (ip包的目标仍是 {target})"
                ),
                "delivery.broadcast": "→ {target} 是广播地址: 目标mac为FF-FF-FF-FF-FF-FF, 不需要arp",
                "delivery.multicast": "→ {target} 是组播地址: mac地址由它推出 (01-00-5E-…, RFC 1112), 不需要arp",
                "delivery.local": "→ {target} 就是本机: 不会发到网线上, 不需要arp",
                "plan.title.subnets": "子网划分 {parent}: 分成 {wanted} 个网段, 借 {bits} 个主机位给网络位用",
                "plan.title.hosts": "子网划分 {parent}: 每个网段 {wanted} 台主机, 借 {bits} 个主机位给网络位用",
                "plan.prefix": "借 {bits} 位, 网络位 /{old} → /{new}",
                "plan.count": "{count} 个网段 (2^{bits}), 每个 {size} 个ip地址, 可用主机 {usable} 台",
                "plan.spare": "多出 {spare} 个网段",
                "plan.fit": "每个网段多出 {spare} 台主机的地址",
                "plan.old_mask": "原子网掩码",
                "plan.new_mask": "新子网掩码",
                "plan.bits": "比特位",
                "plan.legend": "n 网络位, b 借来的主机位, h 主机位",
                "plan.point_to_point": "/31: 点对点链路, 两个地址都可用, 没有广播地址 (RFC 3021)",
                "plan.host_route": "/32: 只有一个地址 (主机路由), 没有广播地址",
                "plan.more": "… 还有 {hidden} 个 …",
                "column.number": "#",
                "column.network": "网络地址",
                "column.first": "第一台主机",
                "column.last": "最后一台主机",
                "column.broadcast": "广播地址",
                "column.hosts": "主机数",
                "none": "—",
            }
        ),
    }
)


def words(language: Language) -> Mapping[str, str]:
    """The catalog of this module's sentences in ``language`` (tests check every language has all)."""
    return _WORDS[language]


def display_width(text: str) -> int:
    """Columns ``text`` takes in a terminal: Chinese characters are two columns wide."""
    return sum(2 if unicodedata.east_asian_width(char) in "WF" else 1 for char in text)


def text_table(
    rows: Sequence[Sequence[str]],
    *,
    header: Sequence[str] | None = None,
    right: frozenset[int] = frozenset(),
    indent: str = "",
) -> str:
    """Rows as aligned plain-text columns, two spaces apart; columns in ``right`` align right.

    Shared by the addressing renderers; widths count terminal columns, so Chinese headings align.
    """
    table = [list(header), *map(list, rows)] if header is not None else [list(row) for row in rows]
    columns = max(len(row) for row in table)
    widths = [max(display_width(row[column]) for row in table if column < len(row)) for column in range(columns)]
    lines = []
    for row in table:
        cells = []
        for column, cell in enumerate(row):
            pad = " " * (widths[column] - display_width(cell))
            cells.append(pad + cell if column in right else cell + pad)
        lines.append((indent + "  ".join(cells)).rstrip())
    return "\n".join(lines)


def binary(address: IPv4Address) -> str:
    """The address as the course writes it out for the AND: four dotted groups of 8 bits."""
    return ".".join(f"{octet:08b}" for octet in address.packed)


def _and_rows(
    label: str, address: IPv4Address, netmask: IPv4Address, network: IPv4Address, say: Mapping[str, str]
) -> list[list[str]]:
    return [
        [label, "", binary(address), str(address)],
        [say["label.mask"], "AND", binary(netmask), str(netmask)],
        [say["label.network"], "=", binary(network), str(network)],
    ]


def render_same_lan(check: SameLanCheck, language: Language = "en") -> str:
    """The three steps with both ANDs in binary and decimal, then what the host does."""
    say = words(language)
    mine = _and_rows(say["label.my_ip"], check.source, check.netmask, check.source_network, say)
    theirs = _and_rows(say["label.target_ip"], check.target, check.netmask, check.target_network, say)
    # One table for both ANDs so their columns line up; split again around the step headings.
    lines = text_table([*mine, *theirs], indent="   ").split("\n")
    verdict = "same_lan.step.same" if check.same_lan else "same_lan.step.other"
    gateway = f" ({check.gateway})" if check.gateway is not None else ""
    delivery = say[f"delivery.{check.delivery.value.replace('-', '_')}"]
    return "\n".join(
        [
            say["same_lan.title"].format(source=check.source, prefixlen=check.prefixlen, target=check.target),
            say["same_lan.step.mine"],
            *lines[:3],
            say["same_lan.step.target"],
            *lines[3:],
            say[verdict].format(mine=check.source_network, theirs=check.target_network),
            "   " + delivery.format(target=check.target, gateway=gateway),
        ]
    )


def _bit_roles(plan: SubnetPlan) -> str:
    # n network, b borrowed, h host: which of the 32 bits plays which part after borrowing.
    roles = "n" * plan.parent.prefixlen + "b" * plan.borrowed_bits + "h" * (ADDRESS_BITS - plan.prefixlen)
    return ".".join(roles[start : start + 8] for start in range(0, ADDRESS_BITS, 8))


def _subnet_row(number: int, subnet: Subnet, say: Mapping[str, str]) -> list[str]:
    broadcast = str(subnet.broadcast) if subnet.broadcast is not None else say["none"]
    return [
        str(number),
        str(subnet.network),
        str(subnet.first_host),
        str(subnet.last_host),
        broadcast,
        str(subnet.usable_hosts),
    ]


def render_plan(plan: SubnetPlan, language: Language = "en", limit: int = 64) -> str:
    """The borrowing (prefix, masks, which bits) and a table of the subnets.

    With more than ``limit`` subnets (``limit`` > 0), the table shows the first ``limit - 1`` and
    the last, so a /8 cut into /30s stays readable.
    """
    say = words(language)
    title = "plan.title.subnets" if plan.basis is Basis.SUBNETS else "plan.title.hosts"
    count = say["plan.count"].format(
        count=plan.subnet_count, bits=plan.borrowed_bits, size=plan.addresses_per_subnet, usable=plan.usable_hosts
    )
    if plan.basis is Basis.SUBNETS:
        extra = say["plan.spare"].format(wanted=plan.wanted, spare=plan.subnet_count - plan.wanted)
    else:
        extra = say["plan.fit"].format(wanted=plan.wanted, spare=plan.usable_hosts - plan.wanted)
    masks = text_table(
        [
            [say["plan.old_mask"], str(plan.parent.netmask), binary(plan.parent.netmask)],
            [say["plan.new_mask"], str(plan.netmask), binary(plan.netmask)],
            [say["plan.bits"], "", _bit_roles(plan), say["plan.legend"]],
        ],
        indent="  ",
    )
    lines = [
        say[title].format(parent=plan.parent, wanted=plan.wanted, bits=plan.borrowed_bits),
        "  " + say["plan.prefix"].format(old=plan.parent.prefixlen, new=plan.prefixlen, bits=plan.borrowed_bits),
        masks,
        f"  {count} ({extra})",
    ]
    if plan.prefixlen == POINT_TO_POINT_PREFIX:
        lines.append("  " + say["plan.point_to_point"])
    elif plan.prefixlen == HOST_ROUTE_PREFIX:
        lines.append("  " + say["plan.host_route"])
    if 0 < limit < plan.subnet_count:
        shown = [(index, plan.subnet(index)) for index in range(limit - 1)]
        rows = [_subnet_row(index + 1, subnet, say) for index, subnet in shown]
        rows.append(["", say["plan.more"].format(hidden=plan.subnet_count - limit), "", "", "", ""])
        last = plan.subnet_count - 1
        rows.append(_subnet_row(last + 1, plan.subnet(last), say))
    else:
        rows = [_subnet_row(index + 1, subnet, say) for index, subnet in enumerate(plan.subnets())]
    header = [
        say["column.number"],
        say["column.network"],
        say["column.first"],
        say["column.last"],
        say["column.broadcast"],
        say["column.hosts"],
    ]
    lines.append("")
    lines.append(text_table(rows, header=header, right=frozenset({5}), indent="  "))
    return "\n".join(lines)

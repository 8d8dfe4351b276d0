"""A Linux TAP device: an Ethernet interface whose "wire" is a file descriptor.

The kernel sees a TAP as an ordinary Ethernet interface (``wl0``); every frame it sends out of that
interface can be read from the descriptor, and every frame written to the descriptor arrives at the
kernel as if it came in from the wire. wirelab's stack sits on that far end of the wire: it is the
other host on the segment, with its own MAC and IP address.

Opening follows ``/dev/net/tun``'s protocol (Documentation/networking/tuntap.rst): open the clone
device, then ``TUNSETIFF`` with a name and ``IFF_TAP | IFF_NO_PI`` (frames without the 4-octet
packet-information prefix). If no interface has that name, the kernel creates one, which lives as long
as the descriptor; if a persistent TAP of that name exists (``ip tuntap add dev wl0 mode tap``), it is
attached. The kernel's side (its MTU, up/down, its own address) is set with the classic ``SIOCSIF*``
ioctls on a datagram socket, as ``ifconfig`` does: no dependence on the ``ip`` command.

Errors are :class:`TapError` with the errno and one sentence that says what to do.
"""

from __future__ import annotations

import errno
import fcntl
import os
import socket
import struct
from dataclasses import dataclass
from ipaddress import IPv4Interface
from typing import Final

from wirelab.wire.checksum import fold, word_sum
from wirelab.wire.mac import MacAddress

CLONE_DEVICE: Final = "/dev/net/tun"
IFNAMSIZ: Final = 16

# <linux/if_tun.h>
TUNSETIFF: Final = 0x400454CA
TUNSETOFFLOAD: Final = 0x400454D0
IFF_TAP: Final = 0x0002
IFF_NO_PI: Final = 0x1000
IFF_VNET_HDR: Final = 0x4000
TUN_F_CSUM: Final = 0x01  # we take frames whose transport checksum the kernel left for us to finish
TUN_F_TSO4: Final = 0x02  # ... and TCP/IPv4 segments larger than the MTU (segmentation offload)

# <linux/sockios.h>, <net/if.h>
SIOCGIFFLAGS: Final = 0x8913
SIOCSIFFLAGS: Final = 0x8914
SIOCSIFADDR: Final = 0x8916
SIOCSIFNETMASK: Final = 0x891C
SIOCGIFMTU: Final = 0x8921
SIOCSIFMTU: Final = 0x8922
SIOCGIFHWADDR: Final = 0x8927
IFF_UP: Final = 0x1

# struct ifreq: the name, then a 24-octet union (flags: short; mtu: int; address: struct sockaddr).
_IFREQ: Final = struct.Struct(f"{IFNAMSIZ}s24s")
_IFREQ_SHORT: Final = struct.Struct(f"{IFNAMSIZ}sH22x")
_IFREQ_INT: Final = struct.Struct(f"{IFNAMSIZ}si20x")
_IFREQ_SOCKADDR_IN: Final = struct.Struct(f"{IFNAMSIZ}sH2s4s16x")  # family, port, address, padding

# struct virtio_net_hdr (<linux/virtio_net.h>), in front of every frame with IFF_VNET_HDR, host byte order:
#
#    0        1        2                 4                 6                 8                 10
#   +--------+--------+-----------------+-----------------+-----------------+-----------------+
#   | flags  |gso_type|     hdr_len     |    gso_size     |   csum_start    |   csum_offset   |
#   +--------+--------+-----------------+-----------------+-----------------+-----------------+
VNET_HEADER: Final = struct.Struct("=BBHHHH")
VNET_HEADER_LEN: Final = VNET_HEADER.size
VNET_NO_OFFLOAD: Final = bytes(VNET_HEADER_LEN)  # what we send: whole frames, checksums done
VIRTIO_NET_HDR_F_NEEDS_CSUM: Final = 1
_IP_PROTOCOL: Final = 14 + 9  # the IPv4 header's protocol field, behind an untagged Ethernet header
FRAME_BUFFER: Final = VNET_HEADER_LEN + 14 + 65536 + 64  # the largest frame (a 64 KB GSO one), with room


class TapError(OSError):
    """A TAP device that cannot be opened or configured; ``str()`` is one sentence for the user."""

    def __init__(self, error: int, message: str) -> None:
        super().__init__(error, message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class OffloadRefusedError(TapError):
    """The kernel would not set the TAP's offloads (TUNSETOFFLOAD)."""


def _name_field(name: str) -> bytes:
    encoded = name.encode()
    if not encoded or len(encoded) >= IFNAMSIZ or "/" in name or any(c.isspace() for c in name):
        raise TapError(errno.EINVAL, f"{name!r} is not a valid interface name (1 to {IFNAMSIZ - 1} characters)")
    return encoded


@dataclass(frozen=True, slots=True)
class KernelSide:
    """What the kernel's end of the TAP looks like (``ip link show``'s fields)."""

    mac: MacAddress
    mtu: int
    up: bool


class TapDevice:
    """One open TAP: a non-blocking descriptor of whole Ethernet frames, and its interface's name."""

    def __init__(self, name: str, fd: int, *, created: bool, offload: bool = False) -> None:
        self.name = name
        self.fd = fd
        self.created = created  # False: an existing (persistent) TAP was attached
        self.offload = offload
        self.checksums_completed = 0  # frames whose checksum the kernel left to us (offload)
        self.large_segments = 0  # frames the kernel did not segment (offload: GSO)

    @classmethod
    def open(cls, name: str, *, offload: bool | None = False) -> TapDevice:
        """Attach to the TAP ``name``, creating it if no interface has that name.

        With ``offload``, frames carry a virtio-net header (IFF_VNET_HDR, as QEMU's and virtio's) and the
        kernel may hand us TCP/IPv4 segments of up to 64 KB (TSO) and leave transport checksums to us
        (we finish them in :meth:`read`): one frame and one trip through the stack instead of forty-odd.
        We may write such segments too (:mod:`wirelab.tap.coalesce`). ``offload=None``: offloads if the
        kernel grants them, plain frames if it refuses (as QEMU does with ``vnet_hdr`` unset).
        """
        if offload is None:
            try:
                return cls.open(name, offload=True)
            except OffloadRefusedError:
                return cls.open(name, offload=False)
        flags = IFF_TAP | IFF_NO_PI | (IFF_VNET_HDR if offload else 0)
        request = _IFREQ_SHORT.pack(_name_field(name), flags)
        existed = _interface_exists(name)
        try:
            fd = os.open(CLONE_DEVICE, os.O_RDWR | os.O_NONBLOCK | os.O_CLOEXEC)
        except FileNotFoundError:
            raise TapError(
                errno.ENOENT, f"{CLONE_DEVICE} does not exist: load the tun module (modprobe tun)"
            ) from None
        except PermissionError as error:
            raise TapError(
                error.errno or errno.EACCES,
                f"no permission to open {CLONE_DEVICE}: run as root or with CAP_NET_ADMIN",
            ) from None
        try:
            fcntl.ioctl(fd, TUNSETIFF, request)
        except OSError as error:
            os.close(fd)
            raise _setiff_error(name, error, existed) from None
        if offload:
            try:
                fcntl.ioctl(fd, TUNSETOFFLOAD, TUN_F_CSUM | TUN_F_TSO4)
            except OSError as error:
                os.close(fd)
                code = error.errno or errno.EIO
                raise OffloadRefusedError(code, f"{name}: the kernel refused offloads: {os.strerror(code)}") from None
        return cls(name, fd, created=not existed, offload=offload)

    # -- frames -----------------------------------------------------------------------------------
    def read(self) -> bytes | None:
        """The next frame the kernel sent out of the interface, or None if there is none now."""
        try:
            data = os.read(self.fd, FRAME_BUFFER)
        except BlockingIOError:
            return None
        except OSError as error:  # EBADFD: the interface was deleted under us (ip link del)
            code = error.errno or errno.EIO
            raise TapError(code, f"{self.name} is gone or broken: {os.strerror(code)}") from None
        if not self.offload:
            return data
        flags, gso_type, _hdr_len, _gso_size, start, offset = VNET_HEADER.unpack_from(data)
        frame = data[VNET_HEADER_LEN:]
        if gso_type:
            self.large_segments += 1
        if flags & VIRTIO_NET_HDR_F_NEEDS_CSUM:
            self.checksums_completed += 1
            return complete_checksum(frame, start, offset)
        return frame

    def write(self, frame: bytes) -> bool:
        """Give the kernel a frame as if from the wire; False if it refused it (e.g. interface down)."""
        try:
            os.write(self.fd, VNET_NO_OFFLOAD + frame if self.offload else frame)
        except OSError:
            return False
        return True

    def write_with_header(self, data: bytes) -> bool:
        """Write a virtio-net header and its frame as they are (offload: see :mod:`wirelab.tap.coalesce`)."""
        try:
            os.write(self.fd, data)
        except OSError:
            return False
        return True

    def close(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1

    def __enter__(self) -> TapDevice:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    # -- the kernel's side of the interface -------------------------------------------------------
    def kernel_side(self) -> KernelSide:
        with _control_socket() as control:
            name = _name_field(self.name)
            flags = _IFREQ_SHORT.unpack(fcntl.ioctl(control, SIOCGIFFLAGS, _IFREQ.pack(name, b"")))[1]
            mtu = _IFREQ_INT.unpack(fcntl.ioctl(control, SIOCGIFMTU, _IFREQ.pack(name, b"")))[1]
            hardware = _IFREQ.unpack(fcntl.ioctl(control, SIOCGIFHWADDR, _IFREQ.pack(name, b"")))[1]
        return KernelSide(MacAddress(hardware[2:8]), mtu, bool(flags & IFF_UP))

    def set_mtu(self, mtu: int) -> None:
        """``ip link set wl0 mtu N``: the largest IP packet the kernel sends out of the interface."""
        with _control_socket() as control:
            try:
                fcntl.ioctl(control, SIOCSIFMTU, _IFREQ_INT.pack(_name_field(self.name), mtu))
            except OSError as error:
                if error.errno == errno.EINVAL:
                    raise TapError(errno.EINVAL, f"MTU {mtu} is out of range for {self.name} (68 to 65521)") from None
                raise _config_error(error, f"set {self.name}'s MTU", f"ip link set {self.name} mtu {mtu}") from None

    def set_up(self) -> None:
        """``ip link set wl0 up``."""
        with _control_socket() as control:
            name = _name_field(self.name)
            try:
                flags = _IFREQ_SHORT.unpack(fcntl.ioctl(control, SIOCGIFFLAGS, _IFREQ.pack(name, b"")))[1]
                fcntl.ioctl(control, SIOCSIFFLAGS, _IFREQ_SHORT.pack(name, flags | IFF_UP))
            except OSError as error:
                raise _config_error(error, f"bring {self.name} up", f"ip link set {self.name} up") from None

    def set_kernel_address(self, address: IPv4Interface) -> None:
        """``ip addr add 10.7.0.1/24 dev wl0``: the kernel's own address on the segment."""
        with _control_socket() as control:
            name = _name_field(self.name)
            try:
                fcntl.ioctl(
                    control, SIOCSIFADDR, _IFREQ_SOCKADDR_IN.pack(name, socket.AF_INET, b"", address.ip.packed)
                )
                fcntl.ioctl(
                    control,
                    SIOCSIFNETMASK,
                    _IFREQ_SOCKADDR_IN.pack(name, socket.AF_INET, b"", address.network.netmask.packed),
                )
            except OSError as error:
                raise _config_error(
                    error, f"give {self.name} the address {address}", f"ip addr add {address} dev {self.name}"
                ) from None

    def configure(self, mtu: int) -> None:
        """MTU ``mtu`` and up, changing only what differs: a TAP prepared beforehand (``ip tuntap add …
        user NAME``, ``ip link set … mtu … up``) can then be used without CAP_NET_ADMIN."""
        side = self.kernel_side()
        if side.mtu != mtu:
            self.set_mtu(mtu)
        if not side.up:
            self.set_up()


def complete_checksum(frame: bytes, start: int, offset: int) -> bytes:
    """Finish a transport checksum the kernel left partial (CHECKSUM_PARTIAL, virtio's NEEDS_CSUM).

    The field at ``start + offset`` already holds the folded pseudo-header sum, so the one's complement
    sum from ``start`` to the end, complemented, is the checksum (RFC 1071); UDP sends 0 as 0xFFFF
    (RFC 768: 0 means "no checksum").
    """
    checksum = 0xFFFF - fold(word_sum(memoryview(frame)[start:]))
    if checksum == 0 and frame[_IP_PROTOCOL] == 17:  # UDP's checksum of 0
        checksum = 0xFFFF
    field = start + offset
    return frame[:field] + checksum.to_bytes(2, "big") + frame[field + 2 :]


def _control_socket() -> socket.socket:
    return socket.socket(socket.AF_INET, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC)


def _interface_exists(name: str) -> bool:
    try:
        socket.if_nametoindex(name)
    except OSError:
        return False
    return True


def _setiff_error(name: str, error: OSError, existed: bool) -> TapError:
    code = error.errno or errno.EIO
    if code == errno.EBUSY:
        return TapError(code, f"device {name} is busy: another program has this TAP open")
    if code in (errno.EPERM, errno.EACCES):
        what = "attach to" if existed else "create"
        return TapError(
            code, f"no permission to {what} TAP {name}: run as root, with CAP_NET_ADMIN, or as the TAP's owner"
        )
    if code == errno.EINVAL and existed:
        return TapError(code, f"interface {name} exists and is not a TAP device: choose another name")
    return TapError(code, f"cannot open TAP {name}: {os.strerror(code)}")


def _config_error(error: OSError, what: str, beforehand: str) -> TapError:
    code = error.errno or errno.EIO
    if code in (errno.EPERM, errno.EACCES):
        return TapError(
            code, f"no permission to {what}: run as root or with CAP_NET_ADMIN (or do it beforehand: {beforehand})"
        )
    return TapError(code, f"cannot {what}: {os.strerror(code)}")

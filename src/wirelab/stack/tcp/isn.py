"""Initial sequence numbers (RFC 6528): ISN = M + F(localip, localport, remoteip, remoteport, secretkey).

M is a timer that ticks every 4 µs (RFC 9293 §3.4.1); F is a keyed hash — BLAKE2b keyed with the
node's secret — so that an off-path attacker cannot guess another connection's ISN, and so that a new
incarnation of the same 4-tuple starts above the old one's sequence space. Under the simulator the
secret comes from the seed: the same seed gives the same ISNs.
"""

from __future__ import annotations

import hashlib
from ipaddress import IPv4Address


class IsnGenerator:
    def __init__(self, secret: bytes) -> None:
        self._secret = secret[:64]

    def __call__(self, now: int, local: tuple[IPv4Address, int], remote: tuple[IPv4Address, int]) -> int:
        key = local[0].packed + local[1].to_bytes(2, "big") + remote[0].packed + remote[1].to_bytes(2, "big")
        digest = hashlib.blake2b(key, key=self._secret, digest_size=4).digest()
        return ((now // 4_000) + int.from_bytes(digest, "big")) & 0xFFFFFFFF

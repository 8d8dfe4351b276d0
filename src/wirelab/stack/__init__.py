"""The host and router network stack, sans-IO: frames and ``now`` in, frames and deadlines out.

    arp         the ARP cache (RFC 826, RFC 1122 §2.3.2): INCOMPLETE / REACHABLE / STALE / PERMANENT
    routing     the routing table: connected and static routes, longest-prefix match
    reassembly  IPv4 fragment reassembly, bounded, with its timeout
    icmp        ICMP error rules (RFC 1122 §3.2.2, RFC 1812 §4.3.2) and rate limiting
    node        IpNode: interfaces, ARP, IPv4 in and out, forwarding (routers), ICMP, UDP demux

Nothing here reads a clock or touches a socket: a runtime (the simulator, later a TAP device) calls
``receive(interface, frame, now)`` and ``poll(now)``, sends what appears in ``outbox``, and calls
``poll`` again at ``poll_at()``.
"""

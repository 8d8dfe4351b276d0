"""wirelab: a pure-Python TCP/IP stack and network lab.

Layers, as packages:
    wirelab.wire        byte-exact codecs (Ethernet, ARP, IPv4, ICMP, UDP, TCP, pcap); no state, no I/O
    wirelab.addressing  IPv4 subnet arithmetic as the course teaches it, and the well-known ports
    wirelab.cli         the ``wirelab`` command
"""

__version__ = "0.1.0"

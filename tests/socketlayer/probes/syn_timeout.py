"""A connect nobody answers (the SYNs are dropped): Linux sends the SYN again, tcp_syn_retries (6)
times, and gives up with ETIMEDOUT after the time six exponential backoffs take (1 + 2 + … + 64 s).

argv: an address whose host drops the SYNs, a port.
"""

import socket
import sys
import time

from probelib import check, say

target = (sys.argv[1], int(sys.argv[2]))
s = socket.socket()
started = time.monotonic()
check("connect", lambda: s.connect(target))
# wirelab: 127 s (1 + 2 + 4 ... + 64); Linux 6.18 with tcp_syn_linear_timeouts 4 (its first SYNs 1 s
# apart): about 134 s on this machine — the same two minutes and more, told as such
say("gave up after two minutes and more", 120 <= time.monotonic() - started <= 180)
check("SO_ERROR", lambda: s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR))
check("getsockname", s.getsockname)
s.settimeout(0.5)
check("connect again with a timeout", lambda: s.connect_ex(target))
s.close()

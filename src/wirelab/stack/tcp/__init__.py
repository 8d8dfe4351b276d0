"""TCP, sans-IO (RFC 9293 and friends).

state        TcpState: the eleven states, in the RFC's spelling
config       TcpConfig: buffers, options, timers, limits (Linux-like defaults)
isn          initial sequence numbers per RFC 6528
congestion   congestion control behind a small interface: NewReno (RFC 5681, RFC 6582)
connection   TcpConnection: one TCB and its state machine — segments and ``now`` in,
             segments, deadlines and application events out
endpoint     TcpEndpoint: a node's connections, listeners (SYN and accept queues) and ports
"""

"""The simulated network: a discrete-event engine on virtual time and the devices that live on it.

engine    Simulator: integer-nanosecond virtual clock, timers, seeded random streams
units     "10us", "1Gbit", "1500B": parsing with errors that name the field
trace     structured trace events, rendered from a catalog; counters
link      full-duplex links with bandwidth, delay, MTU, bounded queue, seeded impairments, taps
switch    the learning switch
"""

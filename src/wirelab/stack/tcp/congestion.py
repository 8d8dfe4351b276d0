"""Congestion control behind a small interface, so CUBIC can be added beside NewReno.

The connection owns loss *detection* and recovery (dupacks, SACK holes, partial ACKs: RFC 5681,
RFC 6582, RFC 6675); an algorithm owns only the window arithmetic.
"""

from __future__ import annotations

from typing import Protocol


class CongestionControl(Protocol):
    cwnd: int
    ssthresh: int

    def on_ack(self, acked: int, mss: int) -> None:
        """New data acknowledged outside loss recovery."""

    def on_enter_recovery(self, flight: int, mss: int) -> None:
        """Fast retransmit: a loss detected by duplicate ACKs or SACK."""

    def on_exit_recovery(self, flight: int, mss: int) -> None:
        """Every octet outstanding when recovery began has been acknowledged."""

    def on_timeout(self, flight: int, mss: int) -> None:
        """The retransmission timer expired."""


class NewReno:
    """RFC 5681 slow start and congestion avoidance, with RFC 6582's recovery exit."""

    name = "newreno"

    def __init__(self, initial_window: int, mss: int) -> None:
        self.cwnd = initial_window
        self.ssthresh = 1 << 30  # "arbitrarily high" (RFC 5681 §3.1)
        self._avoidance_credit = 0

    def on_ack(self, acked: int, mss: int) -> None:
        if self.cwnd < self.ssthresh:
            # Slow start: grow by at most one SMSS per ACK (RFC 5681 eq. 2; RFC 3465 with L=1).
            self.cwnd += min(acked, mss)
        else:
            # Congestion avoidance: about one SMSS per RTT (RFC 5681 eq. 3, counted in bytes).
            self._avoidance_credit += acked
            if self._avoidance_credit >= self.cwnd:
                self._avoidance_credit -= self.cwnd
                self.cwnd += mss

    def on_enter_recovery(self, flight: int, mss: int) -> None:
        self.ssthresh = max(flight // 2, 2 * mss)  # RFC 5681 eq. 4
        self.cwnd = self.ssthresh

    def on_exit_recovery(self, flight: int, mss: int) -> None:
        self.cwnd = min(self.ssthresh, max(flight, mss) + mss)  # RFC 6582 §3.2 step 3, option 1

    def on_timeout(self, flight: int, mss: int) -> None:
        self.ssthresh = max(flight // 2, 2 * mss)
        self.cwnd = mss  # the loss window (RFC 5681 §3.1)
        self._avoidance_credit = 0

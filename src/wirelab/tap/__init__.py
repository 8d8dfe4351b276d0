"""The wirelab stack on a real network: a Linux TAP device, driven on the wall clock.

:mod:`~wirelab.tap.device` opens and configures the TAP; :mod:`~wirelab.tap.runtime` is the real-time
engine (the simulator's, on the monotonic clock and ``epoll``) and the host whose wire is the TAP;
:mod:`~wirelab.tap.command` is ``wirelab tap``.
"""

"""Processes on simulated hosts: Python programs, unchanged, on virtual time.

``start(net, "b", "server.py")`` runs a script on host ``b`` whose ``socket``, ``select``,
``selectors``, ``time``, ``threading``, ``input`` and ``print`` belong to that host (see
:mod:`wirelab.process.scheduler` for how, and :mod:`wirelab.process.modules` for which modules).
"""

from wirelab.process.lab import start
from wirelab.process.scheduler import Process, ProcessImage, ProcessState, Scheduler, scheduler_of
from wirelab.process.stdio import OutputLine

__all__ = ["OutputLine", "Process", "ProcessImage", "ProcessState", "Scheduler", "scheduler_of", "start"]

"""``wirelab demo``: the network-programming course, end to end, on a simulated network, narrated.

:mod:`wirelab.demo.course` runs the story and tells it; :mod:`wirelab.demo.narration` holds its
sentences (``catalog/en.toml``, ``catalog/zh.toml``); ``programs/`` holds the course's socket
programs, which run unchanged on the simulated hosts (and on a real machine).
"""

from wirelab.demo.course import PROGRAMS, TOPICS, DemoRun, run_demo

__all__ = ["PROGRAMS", "TOPICS", "DemoRun", "run_demo"]

"""Applications that run on a node: ``ping`` and ``traceroute``, printing what Linux's would."""

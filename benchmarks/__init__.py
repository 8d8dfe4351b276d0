"""wirelab's benchmarks: each measures wirelab against the peers it names, in the same run."""

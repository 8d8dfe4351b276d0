"""Run benchmarks: ``./dev bench`` (all) or ``./dev bench codec|sim|tcp|sockets|tap [--quick]``."""

from __future__ import annotations

import argparse
import importlib
import platform
import sys

BENCHMARKS = {
    "codec": "benchmarks.codec",
    "sim": "benchmarks.sim",
    "tcp": "benchmarks.tcp",
    "sockets": "benchmarks.sockets",
    "tap": "benchmarks.tap",
}


def main() -> int:
    parser = argparse.ArgumentParser(prog="./dev bench", description=__doc__)
    parser.add_argument("names", nargs="*", choices=[*BENCHMARKS, []], help="which benchmarks (default: all)")
    parser.add_argument("--quick", action="store_true", help="fewer repetitions (noisier)")
    args = parser.parse_args()
    python = f"{platform.python_implementation()} {platform.python_version()} ({sys.executable})"
    print(f"# {python} on {platform.machine()}")
    for name in args.names or list(BENCHMARKS):
        module = importlib.import_module(BENCHMARKS[name])
        module.main(quick=args.quick)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

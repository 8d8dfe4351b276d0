# Look names up and print what the resolver said, error included, with the (virtual) time it took.
import socket
import sys
import time

for name in sys.argv[1:]:
    started = time.monotonic()
    try:
        answer = socket.gethostbyname(name)
    except socket.gaierror as error:
        answer = f"gaierror {error.errno} {error.strerror}"
    print(f"{name} {answer} ({time.monotonic() - started:.1f}s)")

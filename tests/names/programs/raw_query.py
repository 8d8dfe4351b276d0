# Send a DNS server bytes that are not a question it can read, and print what it answers.
import socket
import sys

with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
    udp.settimeout(2)
    udp.sendto(b"\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\xff", (sys.argv[1], 53))
    print(udp.recvfrom(512))

# The other name calls: gethostbyname_ex (every address) and gethostbyaddr (the name of an address).
import socket
import sys

print(socket.gethostbyname_ex(sys.argv[1]))
for address in sys.argv[2:]:
    print(socket.gethostbyaddr(address))

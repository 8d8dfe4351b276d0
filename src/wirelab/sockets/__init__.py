"""The socket layer: a simulated kernel's sockets, behind CPython's own ``socket`` module.

``tcp``/``udp`` are the kernel halves of sockets (Linux's rules on the stack's endpoints), ``api`` is the
``_socket``/``select`` system-call layer a simulated process imports, ``host`` the per-host state
(ports, names), ``files`` a process's descriptors, ``channel`` how a blocked call is woken.
"""

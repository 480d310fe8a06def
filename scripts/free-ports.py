#!/usr/bin/env python3
"""Prints the first of N consecutive free TCP ports on 127.0.0.1 (default 1), for the benchmark
scripts' servers that need a fixed port (Prometheus, a cluster's nodes and etcd).

The ports come from below the kernel's ephemeral range (ip_local_port_range), which the kernel
draws from for every outgoing connection and port-0 listener: a port found free there can be taken
before the server binds it, or while a killed node is down. Above 10000, clear of well-known
services. The tests pick the same way, and also reserve their ports: tests/support/free_ports.h."""
import random
import socket
import sys

count = int(sys.argv[1]) if len(sys.argv) > 1 else 1
with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
    ephemeral_low = int(f.read().split()[0])
highest_base = ephemeral_low - count
if highest_base < 10000:
    sys.exit(f"free-ports: no room below the ephemeral range (it starts at {ephemeral_low})")
for _ in range(500):
    base = random.randint(10000, highest_base)
    sockets = []
    try:
        for port in range(base, base + count):
            s = socket.socket()
            sockets.append(s)
            s.bind(("127.0.0.1", port))
        print(base)
        sys.exit(0)
    except OSError:
        pass
    finally:
        for s in sockets:
            s.close()
sys.exit(f"free-ports: no {count} consecutive free ports found in 10000-{ephemeral_low - 1}")

#!/usr/bin/env python3
"""The lab's delayed ICMP responder, run in a namespace whose kernel echo is off.

Answers ICMP (v4) and ICMPv6 echo requests from user space after a fixed delay, optionally
ignoring a fraction of them, so ping tests have a known RTT and loss. Node has no raw sockets
without a native addon; Python's socket module has them, and this is test infrastructure.

Usage: icmp-responder.py DELAY_MS DROP_RATE
"""
import heapq
import itertools
import json
import random
import select
import socket
import sys
import time

from icmp_checksum import checksum


def main() -> None:
    delay = float(sys.argv[1]) / 1000.0
    drop = float(sys.argv[2])
    v4 = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
    v6 = socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_ICMPV6)
    pending: list = []
    order = itertools.count()
    print(json.dumps({"ready": True, "service": "icmp-responder"}, separators=(",", ":")), flush=True)
    while True:
        timeout = max(0.0, pending[0][0] - time.monotonic()) if pending else None
        readable, _, _ = select.select([v4, v6], [], [], timeout)
        arrived = time.monotonic()
        for sock in readable:
            data, addr = sock.recvfrom(65535)
            if sock is v4:
                icmp = bytearray(data[(data[0] & 0x0F) * 4:])
                if len(icmp) < 8 or icmp[0] != 8:
                    continue
                icmp[0] = 0
                icmp[2:4] = b"\0\0"
                icmp[2:4] = checksum(bytes(icmp)).to_bytes(2, "big")
            else:
                icmp = bytearray(data)
                if len(icmp) < 8 or icmp[0] != 128:
                    continue
                icmp[0] = 129
                icmp[2:4] = b"\0\0"  # the kernel fills in ICMPv6 checksums
            if random.random() < drop:
                continue
            heapq.heappush(pending, (arrived + delay, next(order), sock, addr[0], bytes(icmp)))
        while pending and pending[0][0] <= time.monotonic():
            _, _, sock, dest, packet = heapq.heappop(pending)
            sock.sendto(packet, (dest, 0))


if __name__ == "__main__":
    main()

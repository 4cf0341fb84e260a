#!/usr/bin/env python3
"""A lab router whose Time Exceeded leaves late: the kernel's own is dropped (nft, unless marked)
and this sends it from user space DELAY_MS after the expiring packet arrived.

Linux has no per-router ICMP delay without netem (absent here) or a netfilter queue binding: a
packet socket on the router's upstream interface sees every arriving packet, including those the
kernel is about to drop for their TTL, and a raw socket whose packets carry MARK sends the error.
Echo requests only (ICMP and ICMPv6), as `traceroute -I` and Vantage send.

Usage: slow-time-exceeded.py DELAY_MS INTERFACE MARK
"""
import heapq
import itertools
import json
import select
import socket
import sys
import time

from icmp_checksum import checksum

ETH_P_ALL = 0x0003
PACKET_OUTGOING = 4
SO_MARK = 36


def time_exceeded(packet: bytes):
    """(family, source to answer, ICMP message) for an expiring echo request, else None."""
    version = packet[0] >> 4
    if version == 4 and len(packet) >= 28:
        ihl = (packet[0] & 0x0F) * 4
        if packet[8] != 1 or packet[9] != 1 or packet[ihl] != 8:
            return None
        message = bytearray(b"\x0b\x00\0\0\0\0\0\0" + packet[:ihl + 8])
        message[2:4] = checksum(bytes(message)).to_bytes(2, "big")
        return socket.AF_INET, socket.inet_ntop(socket.AF_INET, packet[12:16]), bytes(message)
    if version == 6 and len(packet) >= 48:
        if packet[7] != 1 or packet[6] != 58 or packet[40] != 128:
            return None
        # The kernel fills in ICMPv6 checksums.
        message = b"\x03\x00\0\0\0\0\0\0" + packet[:1232]
        return socket.AF_INET6, socket.inet_ntop(socket.AF_INET6, packet[8:24]), message
    return None


def main() -> None:
    delay = float(sys.argv[1]) / 1000.0
    sniffer = socket.socket(socket.AF_PACKET, socket.SOCK_DGRAM, socket.htons(ETH_P_ALL))
    sniffer.bind((sys.argv[2], 0))
    senders = {}
    for family, proto in ((socket.AF_INET, socket.IPPROTO_ICMP), (socket.AF_INET6, socket.IPPROTO_ICMPV6)):
        sender = socket.socket(family, socket.SOCK_RAW, proto)
        sender.setsockopt(socket.SOL_SOCKET, SO_MARK, int(sys.argv[3]))
        senders[family] = sender
    pending: list = []
    order = itertools.count()
    print(json.dumps({"ready": True, "service": "slow-time-exceeded"}, separators=(",", ":")), flush=True)
    while True:
        timeout = max(0.0, pending[0][0] - time.monotonic()) if pending else None
        readable, _, _ = select.select([sniffer], [], [], timeout)
        arrived = time.monotonic()
        if readable:
            packet, addr = sniffer.recvfrom(65535)
            answer = time_exceeded(packet) if addr[2] != PACKET_OUTGOING else None
            if answer:
                heapq.heappush(pending, (arrived + delay, next(order), *answer))
        while pending and pending[0][0] <= time.monotonic():
            _, _, family, dest, message = heapq.heappop(pending)
            senders[family].sendto(message, (dest, 0))


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Loopback DNS stub for the test rspamd: answers every query with NXDOMAIN at once.

Usage: nxdns.py PORT   (binds 127.0.0.1:PORT/udp and serves until killed)
"""
import socket
import sys

NXDOMAIN = 3


def answer(query):
    """Build an NXDOMAIN reply echoing the query's id and first question."""
    if len(query) < 12:
        return None
    end = 12                      # skip the QNAME labels of the first question
    while end < len(query) and query[end] != 0:
        end += query[end] + 1
    end += 5                      # the terminating 0 byte, QTYPE, QCLASS
    if end > len(query):
        return None
    qdcount = 1 if query[4:6] != b"\0\0" else 0
    flags = 0x8000 | (query[2] & 0x79) << 8 | 0x80 | NXDOMAIN  # QR, opcode+RD kept, RA
    return (query[:2] + flags.to_bytes(2, "big") + qdcount.to_bytes(2, "big")
            + b"\0\0" * 3 + (query[12:end] if qdcount else b""))


def main():
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", int(sys.argv[1])))
    while True:
        query, peer = sock.recvfrom(4096)
        reply = answer(query)
        if reply:
            sock.sendto(reply, peer)


if __name__ == "__main__":
    main()

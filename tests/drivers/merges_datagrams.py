#!/usr/bin/env python3
"""A broken driver (test fixture): on datagram sockets, recv and recvfrom return the
concatenation of every datagram already queued (after the first, it reads with MSG_DONTWAIT
until EAGAIN), as if datagrams had no boundaries.

Everything else is drivers/python/sockspec_driver.py unchanged.
"""

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "drivers", "python"))
import sockspec_driver  # noqa: E402

import socket  # noqa: E402


class MergesDatagrams(sockspec_driver.Driver):
    def rest(self, request):
        sock = self.sock(request)
        if sock.type != socket.SOCK_DGRAM:
            return b""
        rest = b""
        while True:
            try:
                more = sock.recv(request["bufsize"], socket.MSG_DONTWAIT)
            except BlockingIOError:
                return rest
            rest += more

    def op_recv(self, request):
        first = super().op_recv(request)
        data = sockspec_driver.base64.b64decode(first["data"]) + self.rest(request)
        return {"data": self.encode(data)}

    def op_recvfrom(self, request):
        first = super().op_recvfrom(request)
        data = sockspec_driver.base64.b64decode(first["data"]) + self.rest(request)
        return {"data": self.encode(data), "address": first["address"]}


if __name__ == "__main__":
    sockspec_driver.main(MergesDatagrams)

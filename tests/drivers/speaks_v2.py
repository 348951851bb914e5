#!/usr/bin/env python3
"""A protocol version 2 driver (test fixture): drivers/python/sockspec_driver.py with a hello
that uses what version 2 added — no `poll`, no Unix datagram sockets, SO_BROADCAST on datagram
sockets only, the `deferred_bind` shape — so that the runner must refuse, before they start,
the scenarios that need those. It also answers `sendmsg` with a `library` error of its own
(`ERR_TEST_OWN`), as a library with its own error names would, so that a failure shows the name.
With the argument `--v1`, it declares the same under protocol 1, which the runner must refuse.
"""

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "drivers", "python"))
import sockspec_driver  # noqa: E402


class SpeaksV2(sockspec_driver.Driver):
    def op_hello(self, request):
        hello = super().op_hello(request)
        hello["protocol"] = 1 if "--v1" in sys.argv else 2
        capabilities = hello["capabilities"]
        capabilities["operations"] = [
            "socket", "socketpair", "bind", "listen", "accept", "connect", "send", "sendall",
            "sendto", "sendmsg", "recv", "recvfrom", "shutdown", "close", "getsockname",
            "getpeername", "setsockopt", "getsockopt", "recvmsg", "recv_into", "recvfrom_into",
            "gettimeout", "getblocking", "fileno", "settimeout"]
        capabilities["sockets"] = [
            {"family": f, "type": t}
            for (f, t) in [("inet", "stream"), ("inet", "dgram"), ("inet6", "stream"),
                           ("inet6", "dgram"), ("unix", "stream"), ("unix", "seqpacket")]]
        capabilities["option_types"] = {"broadcast": ["dgram"]}
        capabilities["shapes"] = ["deferred_bind"]
        return hello

    def handle(self, request):
        if request.get("op") == "sendmsg":
            return {"seq": request["seq"], "error": {
                "errno": "library", "code": None, "name": "ERR_TEST_OWN",
                "message": "this test driver's own error"}}
        return super().handle(request)


if __name__ == "__main__":
    sockspec_driver.main(SpeaksV2)

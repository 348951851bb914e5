#!/usr/bin/env python3
"""A broken driver (test fixture): recv on a closed socket returns b'' instead of failing with
EBADF, as a stack that treats a closed socket like one at end of stream might (CPython does
exactly this for recv(0), which never reaches the kernel).

Everything else is drivers/python/sockspec_driver.py unchanged.
"""

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "drivers", "python"))
import sockspec_driver  # noqa: E402


class RecvAfterCloseReturnsNothing(sockspec_driver.Driver):
    def op_recv(self, request):
        sock = self.sock(request)
        if sock.fileno() == -1:
            return {"data": self.encode(b"")}
        return super().op_recv(request)


if __name__ == "__main__":
    sockspec_driver.main(RecvAfterCloseReturnsNothing)

#!/usr/bin/env python3
"""A broken driver (test fixture): recv returns up to bufsize + 1 bytes.

Everything else is drivers/python/sockspec_driver.py unchanged.
"""

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "drivers", "python"))
import sockspec_driver  # noqa: E402


class RecvMoreThanBufsize(sockspec_driver.Driver):
    def op_recv(self, request):
        data = self.sock(request).recv(request["bufsize"] + 1, self.recv_flags(request))
        return {"data": self.encode(data)}


if __name__ == "__main__":
    sockspec_driver.main(RecvMoreThanBufsize)

#!/usr/bin/env python3
"""A broken driver (test fixture): shutdown(SHUT_RD) shuts down both directions, the kind of
mix-up of the SHUT_* constants a hand-written binding can have. Sending after one's own SHUT_RD
then fails with EPIPE.

Everything else is drivers/python/sockspec_driver.py unchanged.
"""

import os
import socket
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "drivers", "python"))
import sockspec_driver  # noqa: E402


class ShutdownReadClosesBoth(sockspec_driver.Driver):
    def op_shutdown(self, request):
        how = socket.SHUT_RDWR if request["how"] in ("read", "both") else socket.SHUT_WR
        self.sock(request).shutdown(how)
        return None


if __name__ == "__main__":
    sockspec_driver.main(ShutdownReadClosesBoth)

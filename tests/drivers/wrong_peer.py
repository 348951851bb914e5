#!/usr/bin/env python3
"""A broken driver (test fixture): accept reports the peer's port one higher than it is, as a
stack that mixes up byte order or off-by-one in its connection table might.

Everything else is drivers/python/sockspec_driver.py unchanged.
"""

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "drivers", "python"))
import sockspec_driver  # noqa: E402


class WrongPeer(sockspec_driver.Driver):
    def op_accept(self, request):
        conn, address = self.sock(request).accept()
        if isinstance(address, tuple):
            address = (address[0], (address[1] + 1) % 65536) + tuple(address[2:])
        return {"handle": self.new_handle(conn), "address": sockspec_driver.address_to_text(address)}


if __name__ == "__main__":
    sockspec_driver.main(WrongPeer)

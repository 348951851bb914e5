#!/usr/bin/env python3
"""A modest driver (test fixture): it declares only IPv4 streams and datagrams, no options and no
features beyond unbound sockets, as a high-level library might. What it does declare works: it
is drivers/python/sockspec_driver.py unchanged, so driver-check must pass what it runs and skip
the rest, saying why.
"""

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "drivers", "python"))
import sockspec_driver  # noqa: E402


class DeclaresLittle(sockspec_driver.Driver):
    def op_hello(self, request):
        hello = super().op_hello(request)
        hello["capabilities"] = {"families": ["inet"], "types": ["stream", "dgram"],
                                 "options": [], "features": ["unbound_sockets"]}
        return hello


if __name__ == "__main__":
    sockspec_driver.main(DeclaresLittle)

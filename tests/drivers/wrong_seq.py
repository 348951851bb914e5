#!/usr/bin/env python3
"""A hostile driver (test fixture): answers `bind` with the wrong sequence number.

Everything else is drivers/python/sockspec_driver.py unchanged.
"""

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "drivers", "python"))
import sockspec_driver  # noqa: E402



class WrongSeq(sockspec_driver.Driver):
    def handle(self, request):
        reply = super().handle(request)
        if request.get("op") == "bind":
            reply["seq"] = reply["seq"] + 1
        return reply


if __name__ == "__main__":
    sockspec_driver.main(WrongSeq)

#!/usr/bin/env python3
"""A hostile driver (test fixture): never answers `bye` (the protocol says it MUST, and exit).

Everything else is drivers/python/sockspec_driver.py unchanged, so every step passes.
"""

import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "drivers", "python"))
import sockspec_driver  # noqa: E402


class NeverAnswersBye(sockspec_driver.Driver):
    # Without reset, each actor's process is sent bye when its scenario ends, which is what this
    # fixture is for (a warm process is sent bye only when the run ends).
    DECLARES_RESET = False

    def op_bye(self, request):
        sockspec_driver.log("bye: sleeping forever")
        while True:
            time.sleep(3600)


if __name__ == "__main__":
    sockspec_driver.main(NeverAnswersBye)

#!/usr/bin/env python3
"""A broken driver (test fixture): never answers accept (it sleeps forever; the runner must
kill it).

Everything else is drivers/python/sockspec_driver.py unchanged.
"""

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "drivers", "python"))
import sockspec_driver  # noqa: E402

import time  # noqa: E402


class Hangs(sockspec_driver.Driver):
    def op_accept(self, request):
        sockspec_driver.log("accept: sleeping forever")
        while True:
            time.sleep(3600)


if __name__ == "__main__":
    sockspec_driver.main(Hangs)

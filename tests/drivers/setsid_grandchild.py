#!/usr/bin/env python3
"""A hostile driver (test fixture): at `hello` it starts a grandchild that calls setsid()
(leaving the driver's process group) and sleeps forever holding the driver's pipes; the driver
itself exits with status 3 at the first `connect`.

Everything else is drivers/python/sockspec_driver.py unchanged.
"""

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "drivers", "python"))
import sockspec_driver  # noqa: E402

import time  # noqa: E402


class SetsidGrandchild(sockspec_driver.Driver):
    def op_hello(self, request):
        if os.fork() == 0:
            os.setsid()
            while True:
                time.sleep(3600)
        return super().op_hello(request)

    def op_connect(self, request):
        sockspec_driver.log("connect: exiting, the grandchild keeps the pipes")
        os._exit(3)


if __name__ == "__main__":
    sockspec_driver.main(SetsidGrandchild)

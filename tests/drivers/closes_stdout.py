#!/usr/bin/env python3
"""A hostile driver (test fixture): at `listen` it closes its standard output and keeps
running (sleeping forever, still reading nothing).

Everything else is drivers/python/sockspec_driver.py unchanged.
"""

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "drivers", "python"))
import sockspec_driver  # noqa: E402

import time  # noqa: E402


class ClosesStdout(sockspec_driver.Driver):
    def op_listen(self, request):
        sockspec_driver.log("listen: closing standard output, staying")
        os.close(1)
        while True:
            time.sleep(3600)


if __name__ == "__main__":
    sockspec_driver.main(ClosesStdout)

#!/usr/bin/env python3
"""A hostile driver (test fixture): ignores SIGTERM, SIGINT and SIGHUP, never answers `accept`,
and after answering `bye` does not exit.

Everything else is drivers/python/sockspec_driver.py unchanged.
"""

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "drivers", "python"))
import sockspec_driver  # noqa: E402

import signal  # noqa: E402
import time  # noqa: E402

for _signal in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
    signal.signal(_signal, signal.SIG_IGN)


class IgnoresSigterm(sockspec_driver.Driver):
    def op_accept(self, request):
        sockspec_driver.log("accept: sleeping forever")
        while True:
            time.sleep(3600)

    def run(self, lines):
        super().run(lines)
        sockspec_driver.log("bye answered (or input ended): staying")
        while True:
            time.sleep(3600)


if __name__ == "__main__":
    sockspec_driver.main(IgnoresSigterm)

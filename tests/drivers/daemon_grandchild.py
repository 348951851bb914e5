#!/usr/bin/env python3
"""A hostile driver (test fixture): at `hello` it starts a daemon (fork, setsid, fork again, the
middle process exits, the daemon closes its standard descriptors) that sleeps forever; the
driver itself never answers `accept`.

Everything else is drivers/python/sockspec_driver.py unchanged.
"""

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "drivers", "python"))
import sockspec_driver  # noqa: E402

import time  # noqa: E402


class DaemonGrandchild(sockspec_driver.Driver):
    def op_hello(self, request):
        middle = os.fork()
        if middle == 0:
            os.setsid()
            if os.fork() == 0:
                null = os.open(os.devnull, os.O_RDWR)
                for fd in (0, 1, 2):
                    os.dup2(null, fd)
                while True:
                    time.sleep(3600)
            os._exit(0)
        os.waitpid(middle, 0)
        return super().op_hello(request)

    def op_accept(self, request):
        sockspec_driver.log("accept: sleeping forever")
        while True:
            time.sleep(3600)


if __name__ == "__main__":
    sockspec_driver.main(DaemonGrandchild)

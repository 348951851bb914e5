#!/usr/bin/env python3
"""A hostile driver (test fixture): at `hello` it starts a daemon that no token names (it
replaces itself with `sleep` under an empty environment, after fork, setsid and fork again), so
only sockspec's being a child subreaper can find it; every step then works as CPython's.

Everything else is drivers/python/sockspec_driver.py unchanged.
"""

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "drivers", "python"))
import sockspec_driver  # noqa: E402

# A duration no other process uses, so that the test can find the daemon by its command line.
SLEEP = "987654"


class AnonymousDaemon(sockspec_driver.Driver):
    def op_hello(self, request):
        middle = os.fork()
        if middle == 0:
            os.setsid()
            if os.fork() == 0:
                null = os.open(os.devnull, os.O_RDWR)
                for fd in (0, 1, 2):
                    os.dup2(null, fd)
                os.execve("/bin/sleep", ["sleep", SLEEP], {})
            os._exit(0)
        os.waitpid(middle, 0)
        return super().op_hello(request)


if __name__ == "__main__":
    sockspec_driver.main(AnonymousDaemon)

#!/usr/bin/env python3
"""A hostile driver (test fixture): the first process answers `hello`; every later one
stalls in it. The first one is the process that creates the marker file named by its argument
(O_EXCL makes this race-free): run it as `python3 stalls_second_hello.py /fresh/dir/marker`.

Everything else is drivers/python/sockspec_driver.py unchanged.
"""

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "drivers", "python"))
import sockspec_driver  # noqa: E402

import time  # noqa: E402


class StallsSecondHello(sockspec_driver.Driver):
    # Without reset, every actor of every scenario needs a process of its own, so every scenario
    # meets a stalling one (a warm first process would serve some actors itself).
    DECLARES_RESET = False

    def op_hello(self, request):
        try:
            os.close(os.open(sys.argv[1], os.O_CREAT | os.O_EXCL | os.O_WRONLY))
        except FileExistsError:
            sockspec_driver.log("hello: not the first process, sleeping forever")
            while True:
                time.sleep(3600)
        return super().op_hello(request)


if __name__ == "__main__":
    sockspec_driver.main(StallsSecondHello)

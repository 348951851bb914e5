#!/usr/bin/env python3
"""A hostile driver (test fixture): never answers `hello` (it sleeps forever).

Everything else is drivers/python/sockspec_driver.py unchanged.
"""

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "drivers", "python"))
import sockspec_driver  # noqa: E402

import time  # noqa: E402


class NeverAnswersHello(sockspec_driver.Driver):
    def op_hello(self, request):
        sockspec_driver.log("hello: sleeping forever")
        while True:
            time.sleep(3600)


if __name__ == "__main__":
    sockspec_driver.main(NeverAnswersHello)

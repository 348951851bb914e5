#!/usr/bin/env python3
"""A broken driver (test fixture): exits with status 3 on the first connect, after writing a
line to standard error.

Everything else is drivers/python/sockspec_driver.py unchanged.
"""

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "drivers", "python"))
import sockspec_driver  # noqa: E402


class Crashes(sockspec_driver.Driver):
    def op_connect(self, request):
        sys.stderr.write("crashes.py: crashing on purpose at connect (seq %s)\n" % request.get("seq"))
        sys.stderr.flush()
        os._exit(3)


if __name__ == "__main__":
    sockspec_driver.main(Crashes)

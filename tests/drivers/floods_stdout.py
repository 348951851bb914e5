#!/usr/bin/env python3
"""A hostile driver (test fixture): answers `listen` with an endless line (no newline, ever).

Everything else is drivers/python/sockspec_driver.py unchanged.
"""

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "drivers", "python"))
import sockspec_driver  # noqa: E402



class FloodsStdout(sockspec_driver.Driver):
    def op_listen(self, request):
        sockspec_driver.log("listen: flooding standard output")
        chunk = b"x" * (1 << 20)
        while True:
            self.output.write(chunk)
            self.output.flush()


if __name__ == "__main__":
    sockspec_driver.main(FloodsStdout)

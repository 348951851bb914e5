#!/usr/bin/env python3
"""A hostile driver (test fixture): at `connect`, writes 50 MB to standard error without a
newline, then one last line, and exits with status 4.

Everything else is drivers/python/sockspec_driver.py unchanged.
"""

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "drivers", "python"))
import sockspec_driver  # noqa: E402



class FloodsStderr(sockspec_driver.Driver):
    def op_connect(self, request):
        chunk = b"x" * (1 << 20)
        for _ in range(50):
            sys.stderr.buffer.write(chunk)
        sys.stderr.buffer.write(b"\nfloods_stderr.py: exiting on purpose after the flood\n")
        sys.stderr.flush()
        os._exit(4)


if __name__ == "__main__":
    sockspec_driver.main(FloodsStderr)

#!/usr/bin/env python3
"""A broken driver (test fixture): sendall of 32 KiB or more silently drops the last byte
(and still reports success), the kind of off-by-one a user-space stack's segmentation can have.

Everything else is drivers/python/sockspec_driver.py unchanged.
"""

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "drivers", "python"))
import sockspec_driver  # noqa: E402


class DropsLastByte(sockspec_driver.Driver):
    def op_sendall(self, request):
        data = self.data(request)
        if len(data) >= 32768:
            data = data[:-1]
        self.sock(request).sendall(data)
        return None


if __name__ == "__main__":
    sockspec_driver.main(DropsLastByte)

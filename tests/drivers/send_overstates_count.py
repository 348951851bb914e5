#!/usr/bin/env python3
"""A broken driver (test fixture): a `send` that takes only part of its data reports one byte
more than it took (still less than it was given), so its caller loses that byte without knowing.

Everything else is drivers/python/sockspec_driver.py unchanged.
"""

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "drivers", "python"))
import sockspec_driver  # noqa: E402


class SendOverstatesCount(sockspec_driver.Driver):
    def op_send(self, request):
        data = self.data(request)
        taken = self.sock(request).send(data)
        return taken + 1 if taken < len(data) - 1 else taken


if __name__ == "__main__":
    sockspec_driver.main(SendOverstatesCount)

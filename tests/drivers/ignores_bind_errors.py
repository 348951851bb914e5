#!/usr/bin/env python3
"""A broken driver (test fixture): bind always replies ok, swallowing the OSError.

Everything else is drivers/python/sockspec_driver.py unchanged.
"""

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "drivers", "python"))
import sockspec_driver  # noqa: E402


class IgnoresBindErrors(sockspec_driver.Driver):
    def op_bind(self, request):
        try:
            return super().op_bind(request)
        except OSError:
            return None


if __name__ == "__main__":
    sockspec_driver.main(IgnoresBindErrors)

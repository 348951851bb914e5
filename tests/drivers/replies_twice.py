#!/usr/bin/env python3
"""A hostile driver (test fixture): writes its reply to `listen` twice.

Everything else is drivers/python/sockspec_driver.py unchanged.
"""

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "drivers", "python"))
import sockspec_driver  # noqa: E402



class RepliesTwice(sockspec_driver.Driver):
    def op_listen(self, request):
        result = super().op_listen(request)
        self.twice = True
        return result

    def send_reply(self, reply):
        super().send_reply(reply)
        if getattr(self, "twice", False):
            self.twice = False
            super().send_reply(reply)


if __name__ == "__main__":
    sockspec_driver.main(RepliesTwice)

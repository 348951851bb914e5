#!/usr/bin/env python3
"""A broken driver (test fixture): answers listen with a line that is not JSON (the listen
itself is performed).

Everything else is drivers/python/sockspec_driver.py unchanged.
"""

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "drivers", "python"))
import sockspec_driver  # noqa: E402


class Garbage(sockspec_driver.Driver):
    garble_next_reply = False

    def op_listen(self, request):
        result = super().op_listen(request)
        self.garble_next_reply = True
        return result

    def send_reply(self, reply):
        if self.garble_next_reply:
            self.garble_next_reply = False
            self.write_line("listening! (this line is not JSON) %r" % (reply,))
        else:
            super().send_reply(reply)


if __name__ == "__main__":
    sockspec_driver.main(Garbage)

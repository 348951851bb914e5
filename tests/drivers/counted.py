#!/usr/bin/env python3
"""A driver that counts its processes (test fixture): each process appends its pid to the file
named by its first argument, so a test can tell how many processes a run started. Its second
argument says how it treats ``reset``:

- ``reset``: as drivers/python/sockspec_driver.py does (declared, and done right);
- ``no-reset``: not declared, so the runner starts one process per actor;
- ``reset-hangs``: declared, but ``reset`` never answers (the runner must kill the process);
- ``reset-fails``: declared, but ``reset`` is answered with an error;
- ``reset-leaks``: declared, answered null, but nothing is closed or forgotten (driver-check must
  say so).

Everything else is the CPython driver unchanged.
"""

import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "drivers", "python"))
import sockspec_driver  # noqa: E402

LOG, MODE = sys.argv[1], sys.argv[2]
MODES = ("reset", "no-reset", "reset-hangs", "reset-fails", "reset-leaks")


class Counted(sockspec_driver.Driver):
    DECLARES_RESET = MODE != "no-reset"

    def op_reset(self, request):
        if MODE == "reset-hangs":
            sockspec_driver.log("reset: sleeping forever")
            while True:
                time.sleep(3600)
        if MODE == "reset-fails":
            raise OSError(5, "reset: cannot reset (test fixture)")
        if MODE == "reset-leaks":
            return None
        return super().op_reset(request)


if __name__ == "__main__":
    if MODE not in MODES:
        sys.exit("counted.py: the mode must be one of %s, not %r" % (", ".join(MODES), MODE))
    with open(LOG, "a") as log:
        log.write("%d\n" % os.getpid())
    sockspec_driver.main(Counted)

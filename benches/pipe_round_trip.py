"""The floor under a step through a driver: two Python processes exchanging one short line over
pipes, as the runner and a driver do, with no JSON or socket call. Prints the round trip's mean.
Run from anywhere: `python3 benches/pipe_round_trip.py`."""

import subprocess
import sys
import time

ECHO = "import sys\nw = sys.stdout.buffer\nfor line in iter(sys.stdin.buffer.readline, b''):\n    w.write(line)\n    w.flush()\n"
ROUND_TRIPS = 20000

child = subprocess.Popen([sys.executable, "-I", "-S", "-c", ECHO],
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE)
started = time.perf_counter()
for _ in range(ROUND_TRIPS):
    child.stdin.write(b'{"seq": 1, "op": "send"}\n')
    child.stdin.flush()
    child.stdout.readline()
elapsed = time.perf_counter() - started
child.stdin.close()
child.wait()
print("one line there and back over pipes, Python to Python: %.1f us (%d round trips)"
      % (elapsed / ROUND_TRIPS * 1e6, ROUND_TRIPS))

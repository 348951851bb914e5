#!/usr/bin/env python3
"""Self-test of drivers/python/sockspec_driver.py over the driver protocol.

Starts the real driver as subprocesses (one per actor, as the runner does), runs a short script
of requests on loopback and in a temporary directory, and prints one line per check. Then checks
that each deliberately broken driver in this directory misbehaves the way it is meant to.
Exits 1 if any check fails. Standard library only.

    python3 tests/drivers/selftest.py [--transcript FILE] [--no-fixtures]

--transcript FILE writes every exchange with the real driver as a JSON line
{"request": ..., "reply": ...} (to validate them against spec/driver-protocol.schema.json).
"""

import argparse
import base64
import errno
import json
import os
import select
import socket
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
DRIVER = os.path.join(ROOT, "drivers", "python", "sockspec_driver.py")
REPLY_LIMIT = 5.0  # seconds a reply may take before the check fails

failures = []
print_lock = threading.Lock()
transcript = None


def b64(data):
    return base64.b64encode(data).decode("ascii")


def unb64(text):
    return base64.b64decode(text)


def check(name, condition, detail=""):
    with print_lock:
        if condition:
            print("ok    %s" % name)
        else:
            print("FAIL  %s%s" % (name, ": " + detail if detail else ""))
            failures.append(name)
    sys.stdout.flush()
    return condition


class NoReply(Exception):
    pass


class Driver:
    """One driver process, spoken to over its standard input and output."""

    def __init__(self, script=DRIVER, record=True):
        self.stderr = tempfile.TemporaryFile()
        self.proc = subprocess.Popen([sys.executable, script], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=self.stderr)
        self.seq = 0
        self.buffer = b""
        self.record = record

    def send_line(self, line):
        self.proc.stdin.write(line + b"\n")
        self.proc.stdin.flush()

    def read_line(self, limit=REPLY_LIMIT):
        """One line from the driver's output; NoReply if none within `limit` seconds or at EOF."""
        deadline = time.monotonic() + limit
        fd = self.proc.stdout.fileno()
        while b"\n" not in self.buffer:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([fd], [], [], left)[0]:
                raise NoReply("no reply within %.1fs" % limit)
            chunk = os.read(fd, 1 << 20)
            if not chunk:
                raise NoReply("the driver closed its output (exit status %s)" % self.proc.wait())
            self.buffer += chunk
        line, _, self.buffer = self.buffer.partition(b"\n")
        return line

    def call(self, op, limit=REPLY_LIMIT, **fields):
        """Send one request; return its reply (a dict) after checking seq and its shape."""
        request = dict(seq=self.seq, op=op, **fields)
        self.seq += 1
        self.send_line(json.dumps(request).encode())
        reply = json.loads(self.read_line(limit))
        if reply.get("seq") != request["seq"] or (("ok" in reply) == ("error" in reply)):
            raise AssertionError("bad reply to %s: %r" % (op, reply))
        if self.record and transcript is not None:
            with print_lock:
                transcript.write(json.dumps({"request": request, "reply": reply}) + "\n")
        return reply

    def ok(self, op, **fields):
        """A call that must succeed; returns its ok value."""
        reply = self.call(op, **fields)
        if "error" in reply:
            raise AssertionError("%s %r failed: %r" % (op, fields, reply["error"]))
        return reply["ok"]

    def error(self, op, **fields):
        """A call that must fail; returns its error object."""
        reply = self.call(op, **fields)
        if "ok" in reply:
            raise AssertionError("%s %r succeeded (%r) but should have failed" % (op, fields, reply["ok"]))
        return reply["error"]

    def socket(self, family="inet", type="stream"):
        return self.ok("socket", family=family, type=type)["handle"]

    def bound(self, family="inet", type="stream", address="127.0.0.1:0"):
        handle = self.socket(family, type)
        self.ok("bind", handle=handle, address=address)
        return handle, self.ok("getsockname", handle=handle)["address"]

    def stderr_text(self):
        self.stderr.seek(0)
        return self.stderr.read().decode("utf-8", "replace")

    def finish(self):
        """bye, and the driver must exit 0; returns (reply, exit status)."""
        reply = self.call("bye")
        try:
            status = self.proc.wait(timeout=2)
        except subprocess.TimeoutExpired:
            self.kill()
            status = None
        return reply, status

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


def expect_error(name, err, errno_name, code):
    return check(name, err["errno"] == errno_name and err["code"] == code
                 and isinstance(err.get("message"), str), "got %r" % (err,))


# --------------------------------------------------------------------------------------------
# Checks of the real driver


def test_hello():
    d = Driver()
    try:
        hello = d.ok("hello", protocol=1)
        caps = hello["capabilities"]
        check("hello: protocol 1, name cpython",
              hello["protocol"] == 1 and hello["name"] == "cpython" and hello["version"],
              repr(hello))
        check("hello: capabilities", set(caps["families"]) >= {"inet", "unix"}
              and set(caps["types"]) >= {"stream", "dgram"}
              and {"socketpair", "timeout_mode", "shutdown"} <= set(caps["features"]), repr(caps))
        other = d.ok("hello", protocol=2)
        check("hello: another protocol version gets protocol 1", other["protocol"] == 1, repr(other))
        err = d.error("frobnicate", handle=1)
        expect_error("unknown op -> unsupported", err, "unsupported", None)
        reply, status = d.finish()
        check("bye: replies ok null and exits 0",
              reply.get("ok", "missing") is None and status == 0, "%r, status %r" % (reply, status))
    finally:
        d.kill()
    d = Driver()
    d.proc.stdin.close()
    try:
        status = d.proc.wait(timeout=2)
    except subprocess.TimeoutExpired:
        status = None
    d.kill()
    check("end of input: exits 0", status == 0, "status %r" % status)


BIG = bytes(range(256)) * (4 * 4096)  # 4 MiB


def test_tcp_echo():
    server, client = Driver(), Driver()
    handoff = {}
    ready = threading.Event()
    outcome = {}

    def serve():
        try:
            srv, address = server.bound()
            server.ok("listen", handle=srv, backlog=1)
            handoff["address"] = address
            ready.set()
            accepted = server.ok("accept", handle=srv)
            conn = accepted["handle"]
            outcome["peer"] = accepted["address"]
            outcome["got"] = unb64(server.ok("recv", handle=conn, bufsize=1024,
                                             flags={"peek": False, "waitall": False, "dontwait": False})["data"])
            server.ok("sendall", handle=conn, data=b64(outcome["got"]))
            big = b""
            while len(big) < len(BIG):
                chunk = unb64(server.ok("recv", handle=conn, bufsize=1 << 20,
                                        flags={"peek": False, "waitall": False, "dontwait": False})["data"])
                if not chunk:
                    break
                big += chunk
            outcome["big"] = big
            server.ok("close", handle=conn)
            server.ok("close", handle=srv)
        except Exception as exc:  # reported by the main thread
            outcome["server_error"] = exc
            ready.set()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        ready.wait(REPLY_LIMIT)
        cli = client.socket()
        client.ok("connect", handle=cli, address=handoff["address"])
        sent = client.ok("send", handle=cli, data=b64(b"hello"))
        echoed = unb64(client.ok("recv", handle=cli, bufsize=1024,
                                 flags={"peek": False, "waitall": False, "dontwait": False})["data"])
        me = client.ok("getsockname", handle=cli)["address"]
        peer = client.ok("getpeername", handle=cli)["address"]
        client.ok("sendall", handle=cli, data=b64(BIG))
        client.ok("close", handle=cli)
        thread.join(REPLY_LIMIT)
        check("tcp echo: server thread finished", not thread.is_alive()
              and "server_error" not in outcome, repr(outcome.get("server_error")))
        check("tcp echo: send returns 5", sent == 5, repr(sent))
        check("tcp echo: server receives hello, client gets it back",
              outcome.get("got") == b"hello" and echoed == b"hello", "%r %r" % (outcome.get("got"), echoed))
        check("tcp echo: accept's address is the client's getsockname",
              outcome.get("peer") == me and me.startswith("127.0.0.1:"), "%r vs %r" % (outcome.get("peer"), me))
        check("tcp echo: getpeername is the server's address", peer == handoff["address"], peer)
        check("tcp echo: sendall of 4 MiB arrives intact", outcome.get("big") == BIG,
              "%d bytes" % len(outcome.get("big") or b""))
    finally:
        server.kill()
        client.kill()


def test_udp():
    d = Driver()
    try:
        a, a_addr = d.bound(type="dgram")
        b, b_addr = d.bound(type="dgram")
        n = d.ok("sendto", handle=b, data=b64(b"hello world"), address=a_addr)
        check("udp: sendto returns 11", n == 11, repr(n))
        got = d.ok("recvfrom", handle=a, bufsize=5)
        check("udp: recvfrom(5) returns the first 5 bytes and the sender",
              unb64(got["data"]) == b"hello" and got["address"] == b_addr, repr(got))
        d.ok("sendto", handle=b, data=b64(b"x"), address=a_addr)
        got = d.ok("recvfrom", handle=a, bufsize=1024)
        check("udp: the rest of the truncated datagram is gone", unb64(got["data"]) == b"x", repr(got))
        n = d.ok("sendmsg", handle=b, data=b64(b"by sendmsg"), address=a_addr)
        check("udp: sendmsg to an address returns 10", n == 10, repr(n))
        got = d.ok("recvfrom", handle=a, bufsize=1024)
        check("udp: sendmsg sent one datagram from b",
              unb64(got["data"]) == b"by sendmsg" and got["address"] == b_addr, repr(got))
        v6, v6_addr = d.bound(family="inet6", type="dgram", address="[::1]:0")
        check("udp: IPv6 address text is [::1]:port", v6_addr.startswith("[::1]:"), v6_addr)
        d.ok("settimeout", handle=a, timeout=0)
        err = d.error("recv", handle=a, bufsize=10, flags={"peek": False, "waitall": False, "dontwait": False})
        expect_error("udp: non-blocking recv with nothing queued -> EAGAIN", err, "EAGAIN", errno.EAGAIN)
    finally:
        d.kill()


def test_new_operations():
    """recvmsg (with ancbufsize), recv_into, recvfrom_into, gettimeout, getblocking, fileno, poll,
    MSG_TRUNC, setsockopt_bytes, getsockopt_bytes, exit_context."""
    d = Driver()
    flags = {"peek": False, "waitall": False, "dontwait": False, "trunc": False}
    trunc = dict(flags, trunc=True)
    try:
        a, a_addr = d.bound(type="dgram")
        b, b_addr = d.bound(type="dgram")
        got = d.ok("poll", handle=a, events=["in", "out"], timeout_ms=0)
        check("poll: an idle UDP socket is writable only", got == {"events": ["out"]}, repr(got))
        for _ in range(4):
            d.ok("sendto", handle=b, data=b64(b"0123456789"), address=a_addr)
        got = d.ok("poll", handle=a, events=["in"], timeout_ms=None)
        check("poll: a queued datagram is in", got == {"events": ["in"]}, repr(got))
        got = d.ok("recvmsg", handle=a, bufsize=4, ancbufsize=0, flags=flags)
        check("recvmsg(4) of 10 bytes: b'0123', [trunc], the sender",
              got == {"data": b64(b"0123"), "flags": ["trunc"], "address": b_addr}, repr(got))
        got = d.ok("recv_into", handle=a, buffer=b64(b"ZZZZZZ"), nbytes=4, flags=trunc)
        check("recv_into(buf, 4, MSG_TRUNC) counts 10 and writes 4",
              got == {"count": 10, "buffer": b64(b"0123ZZ")}, repr(got))
        got = d.ok("recvfrom_into", handle=a, buffer=b64(b"ZZZZZZ"), nbytes=0, flags=flags)
        check("recvfrom_into(buf) of 10 bytes into 6: 6, the sender",
              got == {"count": 6, "buffer": b64(b"012345"), "address": b_addr}, repr(got))
        got = d.ok("recv", handle=a, bufsize=4, flags=trunc)
        check("recv(4, MSG_TRUNC) returns the real length, 10 bytes (the first 4 defined)",
              len(unb64(got["data"])) == 10 and unb64(got["data"])[:4] == b"0123", repr(got))
        err = d.error("recv_into", handle=a, buffer=b64(b"ZZZZ"), nbytes=5, flags=flags)
        check("recv_into with nbytes beyond the buffer is rejected",
              err["errno"] == "rejected" and err["code"] is None, repr(err))
        check("gettimeout of a new socket is null", d.ok("gettimeout", handle=a) is None)
        check("getblocking of a new socket is true", d.ok("getblocking", handle=a) is True)
        d.ok("settimeout", handle=a, timeout=2)
        check("gettimeout after settimeout(2) is 2.0", d.ok("gettimeout", handle=a) == 2.0)
        d.ok("settimeout", handle=a, timeout=0)
        check("getblocking after settimeout(0) is false", d.ok("getblocking", handle=a) is False)
        d.ok("setsockopt", handle=a, option="ip_recvtos", value=1)
        d.ok("settimeout", handle=a, timeout=None)
        for _ in range(2):
            d.ok("sendto", handle=b, data=b64(b"tos"), address=a_addr)
        got = d.ok("recvmsg", handle=a, bufsize=10, ancbufsize=0, flags=flags)
        check("recvmsg without room for the IP_TOS item sets ctrunc",
              got == {"data": b64(b"tos"), "flags": ["ctrunc"], "address": b_addr}, repr(got))
        got = d.ok("recvmsg", handle=a, bufsize=10, ancbufsize=64, flags=flags)
        check("recvmsg with room for the IP_TOS item sets no flag",
              got == {"data": b64(b"tos"), "flags": [], "address": b_addr}, repr(got))
        err = d.error("setsockopt_bytes", handle=a, option="reuse_addr", value=b64(b"\x01"))
        expect_error("setsockopt_bytes of one byte for SO_REUSEADDR -> EINVAL", err,
                     "EINVAL", errno.EINVAL)
        d.ok("setsockopt_bytes", handle=a, option="reuse_addr", value=b64(b"\x00\x00\x00\x00"))
        got = d.ok("getsockopt_bytes", handle=a, option="reuse_addr", buflen=8)
        check("getsockopt_bytes(buflen 8) of an int option returns its 4 bytes",
              got == {"data": b64(b"\x00\x00\x00\x00")}, repr(got))
        d.ok("settimeout", handle=a, timeout=0)
        fd = d.ok("fileno", handle=a)
        check("fileno of an open socket is >= 0", isinstance(fd, int) and fd >= 0, repr(fd))
        d.ok("close", handle=a)
        check("fileno after close is -1", d.ok("fileno", handle=a) == -1)
        check("gettimeout after close still answers", d.ok("gettimeout", handle=a) == 0)
        err = d.error("poll", handle=a, events=["in"], timeout_ms=0)
        check("poll on a closed socket is rejected", err["errno"] == "rejected", repr(err))
        d.ok("exit_context", handle=b)
        check("fileno after leaving a with block is -1", d.ok("fileno", handle=b) == -1)
        d.ok("exit_context", handle=b)
    finally:
        d.kill()


def test_errors():
    d = Driver()
    try:
        l1, address = d.bound()
        d.ok("listen", handle=l1, backlog=None)
        l2 = d.socket()
        expect_error("bind in use -> EADDRINUSE", d.error("bind", handle=l2, address=address),
                     "EADDRINUSE", errno.EADDRINUSE)

        _, not_listening = d.bound()
        c = d.socket()
        expect_error("connect to a bound, not listening port -> ECONNREFUSED",
                     d.error("connect", handle=c, address=not_listening), "ECONNREFUSED", errno.ECONNREFUSED)

        r = d.socket()
        expect_error("connect to a name that does not resolve -> EAI_NONAME",
                     d.error("connect", handle=r, address="sockspec-selftest.invalid:80"),
                     "EAI_NONAME", socket.EAI_NONAME)

        u = d.socket()
        d.ok("close", handle=u)
        expect_error("use after close: getsockname -> EBADF", d.error("getsockname", handle=u),
                     "EBADF", errno.EBADF)
        expect_error("use after close: send -> EBADF", d.error("send", handle=u, data=b64(b"x")),
                     "EBADF", errno.EBADF)
        check("use after close: close again succeeds", d.ok("close", handle=u) is None)
        expect_error("unknown handle -> EBADF", d.error("listen", handle=9999, backlog=1),
                     "EBADF", errno.EBADF)

        t, _ = d.bound()
        d.ok("listen", handle=t, backlog=1)
        d.ok("settimeout", handle=t, timeout=0.2)
        start = time.monotonic()
        err = d.error("accept", handle=t)
        waited = time.monotonic() - start
        expect_error("settimeout(0.2) + accept with nobody -> timeout", err, "timeout", None)
        check("timeout: accept waited about 0.2s", 0.15 <= waited < 2, "%.3fs" % waited)

        expect_error("settimeout(-1) -> rejected",
                     d.error("settimeout", handle=t, timeout=-1), "rejected", None)
        expect_error("unknown option -> unsupported",
                     d.error("setsockopt", handle=t, option="no_such_option", value=1), "unsupported", None)
    finally:
        d.kill()


def schema_options():
    """Every option name the protocol's schema (generated from src/vocab/options.rs) lists."""
    schema = json.load(open(os.path.join(ROOT, "spec", "driver-protocol.schema.json")))
    return [entry["const"] for entry in schema["$defs"]["SocketOption"]["oneOf"]]


def test_every_option():
    """The driver knows every option of the protocol: each reads back an integer on a socket of
    the right kind, and each settable one takes a value and reads back what Linux gives."""
    d = Driver()
    try:
        options = schema_options()
        check("options: the schema lists options", len(options) >= 20, repr(options))
        hello = d.ok("hello", protocol=1)
        declared = set(hello.get("capabilities", {}).get("options", []))
        missing = [o for o in options if o not in declared]
        check("options: the driver declares every option of the schema", not missing, repr(missing))
        tcp4, tcp6 = d.socket("inet", "stream"), d.socket("inet6", "stream")
        for option in options:
            handle = tcp6 if option.startswith("ipv6_") else tcp4
            value = d.ok("getsockopt", handle=handle, option=option)
            check("options: getsockopt %s gives an integer" % option,
                  isinstance(value, int) and not isinstance(value, bool), repr(value))
        for option, value, back in [("linger", 0, 0), ("linger", 5, 5), ("linger", -1, -1),
                                    ("keepalive", 7, 1), ("tcp_nodelay", 1, 1),
                                    ("tcp_keepcnt", 3, 3), ("ip_ttl", 9, 9)]:
            d.ok("setsockopt", handle=tcp4, option=option, value=value)
            got = d.ok("getsockopt", handle=tcp4, option=option)
            check("options: %s set to %d reads back %d" % (option, value, back), got == back, repr(got))
        expect_error("options: set type (read-only) -> ENOPROTOOPT",
                     d.error("setsockopt", handle=tcp4, option="type", value=1),
                     "ENOPROTOOPT", errno.ENOPROTOOPT)
        expect_error("options: ip_ttl 0 -> EINVAL",
                     d.error("setsockopt", handle=tcp4, option="ip_ttl", value=0), "EINVAL", errno.EINVAL)
    finally:
        d.kill()


def test_unix_and_options():
    d = Driver()
    tmp = tempfile.mkdtemp(prefix="sockspec-selftest-")
    try:
        a, b = d.ok("socketpair", family="unix", type="stream")["handles"]
        d.ok("sendall", handle=a, data=b64(b"abcdef"))
        peek = d.ok("recv", handle=b, bufsize=3, flags={"peek": True, "waitall": False, "dontwait": False})
        got = d.ok("recv", handle=b, bufsize=10, flags={"peek": False, "waitall": False, "dontwait": False})
        check("socketpair: peek then recv", unb64(peek["data"]) == b"abc" and unb64(got["data"]) == b"abcdef",
              "%r %r" % (peek, got))
        check("socketpair: ends are unnamed",
              d.ok("getsockname", handle=a)["address"] == "unnamed"
              and d.ok("getpeername", handle=a)["address"] == "unnamed")

        path = os.path.join(tmp, "s")
        _, named = d.bound("unix", "dgram", "unix:" + path)
        check("unix: getsockname is unix:PATH", named == "unix:" + path, named)
        name = "sockspec-selftest-%d" % os.getpid()
        _, abstract = d.bound("unix", "stream", "abstract:" + name)
        check("unix: getsockname is abstract:NAME", abstract == "abstract:" + name, abstract)
        _, auto = d.bound("unix", "dgram", "unnamed")
        check("unix: bind(unnamed) autobinds into the abstract namespace",
              auto.startswith("abstract:") and len(auto) == len("abstract:") + 5, auto)
        long = d.socket("unix", "stream")
        expect_error("unix: a 108-byte path -> rejected",
                     d.error("bind", handle=long, address="unix:/" + "x" * 107), "rejected", None)

        s = d.socket()
        d.ok("setsockopt", handle=s, option="reuse_addr", value=1)
        check("options: reuse_addr reads back 1", d.ok("getsockopt", handle=s, option="reuse_addr") == 1)
        d.ok("setsockopt", handle=s, option="recv_timeout_ms", value=1500)
        check("options: recv_timeout_ms reads back 1500",
              d.ok("getsockopt", handle=s, option="recv_timeout_ms") == 1500)
        d.ok("setsockopt", handle=s, option="send_buffer", value=65536)
        value = d.ok("getsockopt", handle=s, option="send_buffer")
        check("options: send_buffer reads back an integer", isinstance(value, int) and value > 0, repr(value))
        d.ok("shutdown", handle=a, how="write")
        eof = d.ok("recv", handle=b, bufsize=10, flags={"peek": False, "waitall": False, "dontwait": False})
        check("shutdown(write): the peer reads end of file", eof["data"] == "", repr(eof))
    finally:
        d.kill()
        for entry in os.listdir(tmp):
            os.unlink(os.path.join(tmp, entry))
        os.rmdir(tmp)


# --------------------------------------------------------------------------------------------
# Checks that each broken driver is broken (and only there)


def fixture(name):
    return Driver(os.path.join(HERE, name), record=False)


NO_FLAGS = {"peek": False, "waitall": False, "dontwait": False}


def test_fixtures():
    d = fixture("ignores_bind_errors.py")
    try:
        l1, address = d.bound()
        d.ok("listen", handle=l1, backlog=1)
        reply = d.call("bind", handle=d.socket(), address=address)
        check("fixture ignores_bind_errors: bind in use replies ok", reply.get("ok", "missing") is None, repr(reply))
    finally:
        d.kill()

    d = fixture("recv_more_than_bufsize.py")
    try:
        a, b = d.ok("socketpair", family="unix", type="stream")["handles"]
        d.ok("sendall", handle=a, data=b64(b"abcdef"))
        got = unb64(d.ok("recv", handle=b, bufsize=3, flags=NO_FLAGS)["data"])
        check("fixture recv_more_than_bufsize: recv(3) returns 4 bytes", got == b"abcd", repr(got))
    finally:
        d.kill()

    d = fixture("merges_datagrams.py")
    try:
        a, b = d.ok("socketpair", family="unix", type="dgram")["handles"]
        for part in (b"ab", b"cd", b"ef"):
            d.ok("send", handle=a, data=b64(part))
        got = unb64(d.ok("recv", handle=b, bufsize=10, flags=NO_FLAGS)["data"])
        check("fixture merges_datagrams: recv returns every queued datagram", got == b"abcdef", repr(got))
        # Unix datagrams are queued before send returns, so both are there for recvfrom.
        name = "sockspec-selftest-merge-%d" % os.getpid()
        x, x_addr = d.bound("unix", "dgram", "abstract:%s-x" % name)
        y, y_addr = d.bound("unix", "dgram", "abstract:%s-y" % name)
        for part in (b"12", b"34"):
            d.ok("sendto", handle=y, data=b64(part), address=x_addr)
        got = d.ok("recvfrom", handle=x, bufsize=10)
        check("fixture merges_datagrams: recvfrom too", unb64(got["data"]) == b"1234"
              and got["address"] == y_addr, repr(got))
    finally:
        d.kill()

    d = fixture("hangs.py")
    try:
        srv, _ = d.bound()
        d.ok("listen", handle=srv, backlog=1)
        d.send_line(json.dumps({"seq": d.seq, "op": "accept", "handle": srv}).encode())
        try:
            line = d.read_line(limit=0.5)
        except NoReply:
            line = None
        check("fixture hangs: accept gets no reply", line is None, repr(line))
    finally:
        d.kill()

    d = fixture("crashes.py")
    try:
        _, target = d.bound()
        s = d.socket()
        d.send_line(json.dumps({"seq": d.seq, "op": "connect", "handle": s,
                                "address": target}).encode())
        try:
            line = d.read_line()
        except NoReply:
            line = None
        status = d.proc.wait(timeout=2)
        check("fixture crashes: connect exits with status 3 and a line on stderr",
              line is None and status == 3 and d.stderr_text().strip() != "",
              "line %r, status %r, stderr %r" % (line, status, d.stderr_text()))
    finally:
        d.kill()

    d = fixture("garbage.py")
    try:
        srv, _ = d.bound()
        d.send_line(json.dumps({"seq": d.seq, "op": "listen", "handle": srv, "backlog": 1}).encode())
        line = d.read_line()
        try:
            json.loads(line)
            parsed = True
        except ValueError:
            parsed = False
        check("fixture garbage: listen is answered with a line that is not JSON", not parsed, repr(line))
    finally:
        d.kill()


def main():
    global transcript
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--transcript", help="write every exchange with the real driver here")
    parser.add_argument("--no-fixtures", action="store_true", help="skip the broken drivers")
    args = parser.parse_args()
    if args.transcript:
        transcript = open(args.transcript, "w")
    start = time.monotonic()
    tests = [test_hello, test_tcp_echo, test_udp, test_new_operations, test_errors,
             test_unix_and_options, test_every_option]
    if not args.no_fixtures:
        tests.append(test_fixtures)
    for test in tests:
        try:
            test()
        except Exception as exc:
            check(test.__name__, False, "%s: %s" % (type(exc).__name__, exc))
    if transcript:
        transcript.close()
    elapsed = time.monotonic() - start
    if failures:
        print("%d check(s) failed in %.2fs" % (len(failures), elapsed))
        sys.exit(1)
    print("all checks passed in %.2fs" % elapsed)


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""A sockspec driver for CPython's ``socket`` module (driver protocol version 1, with ``reset``).

Reads one JSON request per line on standard input and writes one JSON reply per line on standard
output, as ``spec/driver-protocol.md`` says. Each operation is the plain Python call a programmer
would write (``s.bind(addr)``, ``s.recv(bufsize, flags)``...): no retries, no mode changes, nothing
added on top, because the point is to observe what CPython's ``socket`` module does.

Standard library only; Python 3.8 or later. Run it as ``python3 sockspec_driver.py``.

The ``Driver`` class has one method per operation (``op_bind``...), so a test can subclass it and
break exactly one of them; ``main(driver_class)`` runs any such class.
"""

import base64
import errno
import json
import os
import select
import socket
import struct
import sys

PROTOCOL = 1

FAMILIES = {"inet": "AF_INET", "inet6": "AF_INET6", "unix": "AF_UNIX"}
TYPES = {"stream": "SOCK_STREAM", "dgram": "SOCK_DGRAM", "seqpacket": "SOCK_SEQPACKET"}
# Option name -> (level constant, option constant), as spec/scenario-format.md section 5.6 lists
# them; the self-test checks that this covers every option in the protocol's schema.
OPTIONS = {
    "reuse_addr": ("SOL_SOCKET", "SO_REUSEADDR"),
    "reuse_port": ("SOL_SOCKET", "SO_REUSEPORT"),
    "recv_timeout_ms": ("SOL_SOCKET", "SO_RCVTIMEO"),
    "send_timeout_ms": ("SOL_SOCKET", "SO_SNDTIMEO"),
    "recv_buffer": ("SOL_SOCKET", "SO_RCVBUF"),
    "send_buffer": ("SOL_SOCKET", "SO_SNDBUF"),
    "linger": ("SOL_SOCKET", "SO_LINGER"),
    "error": ("SOL_SOCKET", "SO_ERROR"),
    "type": ("SOL_SOCKET", "SO_TYPE"),
    "accept_conn": ("SOL_SOCKET", "SO_ACCEPTCONN"),
    "keepalive": ("SOL_SOCKET", "SO_KEEPALIVE"),
    "recv_low_water": ("SOL_SOCKET", "SO_RCVLOWAT"),
    "broadcast": ("SOL_SOCKET", "SO_BROADCAST"),
    "tcp_nodelay": ("IPPROTO_TCP", "TCP_NODELAY"),
    "tcp_keepidle": ("IPPROTO_TCP", "TCP_KEEPIDLE"),
    "tcp_keepintvl": ("IPPROTO_TCP", "TCP_KEEPINTVL"),
    "tcp_keepcnt": ("IPPROTO_TCP", "TCP_KEEPCNT"),
    "tcp_user_timeout": ("IPPROTO_TCP", "TCP_USER_TIMEOUT"),
    "ip_ttl": ("IPPROTO_IP", "IP_TTL"),
    "ip_recverr": ("IPPROTO_IP", "IP_RECVERR"),
    "ip_freebind": ("IPPROTO_IP", "IP_FREEBIND"),
    "ip_recvtos": ("IPPROTO_IP", "IP_RECVTOS"),
    "ip_mtu_discover": ("IPPROTO_IP", "IP_MTU_DISCOVER"),
    "ipv6_v6only": ("IPPROTO_IPV6", "IPV6_V6ONLY"),
}
# Linux constants that older Pythons do not export (3.11 lacks IP_RECVERR and IP_FREEBIND); the
# values are <linux/in.h>'s. (3.11 lacks IP_MTU_DISCOVER too.)
LINUX_CONSTANTS = {"IP_RECVERR": 11, "IP_FREEBIND": 15, "IP_MTU_DISCOVER": 10}
# Options whose value is a struct timeval; the protocol carries milliseconds.
TIMEVAL_OPTIONS = ("recv_timeout_ms", "send_timeout_ms")
TIMEVAL = "ll"  # struct timeval { time_t tv_sec; suseconds_t tv_usec; } on Linux and the BSDs
# SO_LINGER's struct linger { int l_onoff; int l_linger; }: the protocol carries the seconds,
# or -1 for off.
LINGER = "ii"
SHUTDOWN = {"read": "SHUT_RD", "write": "SHUT_WR", "both": "SHUT_RDWR"}
RECV_FLAGS = {"peek": "MSG_PEEK", "waitall": "MSG_WAITALL", "dontwait": "MSG_DONTWAIT",
              "trunc": "MSG_TRUNC"}
# recvmsg's msg_flags, reported by name.
MSG_FLAGS = {"trunc": "MSG_TRUNC", "ctrunc": "MSG_CTRUNC", "eor": "MSG_EOR", "oob": "MSG_OOB",
             "errqueue": "MSG_ERRQUEUE"}
# poll(2) events, from the select module.
POLL_EVENTS = {"in": "POLLIN", "pri": "POLLPRI", "out": "POLLOUT", "err": "POLLERR",
               "hup": "POLLHUP", "nval": "POLLNVAL", "rdhup": "POLLRDHUP", "rdnorm": "POLLRDNORM",
               "rdband": "POLLRDBAND", "wrnorm": "POLLWRNORM", "wrband": "POLLWRBAND"}

# getaddrinfo error numbers -> names, from the socket module's own EAI_* constants.
EAI_NAMES = {}
for _name in sorted(dir(socket)):
    if _name.startswith("EAI_") and isinstance(getattr(socket, _name), int):
        EAI_NAMES.setdefault(getattr(socket, _name), _name)


# The plain JSON decoder, without json.loads's checks of its arguments on every request.
_decode = json.JSONDecoder().decode


class ProtocolError(Exception):
    """The request itself is malformed (a runner bug, not a socket error)."""


class Unsupported(Exception):
    """The request names something this driver cannot express."""


def log(message):
    sys.stderr.write("sockspec_driver: %s\n" % message)
    sys.stderr.flush()


def _constant(table, key, what):
    return _constant_of(socket, table, key, what)


def _constant_of(module, table, key, what):
    name = table.get(key)
    if name is None or not hasattr(module, name):
        raise Unsupported("%s %r is not supported by this driver" % (what, key))
    return getattr(module, name)


def _option(key):
    """The (level, option) numbers of a protocol option name, or Unsupported."""
    names = OPTIONS.get(key)
    if names is None:
        raise Unsupported("option %r is not supported by this driver" % (key,))
    numbers = []
    for name in names:
        number = getattr(socket, name, None)
        if number is None and sys.platform.startswith("linux"):
            number = LINUX_CONSTANTS.get(name)
        if number is None:
            raise Unsupported("option %r: this Python has no socket.%s" % (key, name))
        numbers.append(number)
    return tuple(numbers)


def _has_option(key):
    try:
        _option(key)
        return True
    except Unsupported:
        return False


def _text(raw):
    """Bytes of a name (a path or an abstract name) as text for a reply."""
    return raw.decode("utf-8", "backslashreplace")


# ---------------------------------------------------------------------------------------------
# Addresses (scenario-format.md section 9)


def address_from_text(text):
    """The protocol's text form -> what Python's socket methods take."""
    if not isinstance(text, str):
        raise ProtocolError("an address must be a string, not %r" % (text,))
    if text == "unnamed":
        return ""
    if text.startswith("unix:"):
        return text[len("unix:"):]
    if text.startswith("abstract:"):
        return b"\0" + text[len("abstract:"):].encode("utf-8")
    if text.startswith("["):
        host, sep, port = text[1:].partition("]:")
        if not sep:
            raise ProtocolError("malformed IPv6 address %r" % text)
    else:
        host, sep, port = text.rpartition(":")
        if not sep:
            raise ProtocolError("malformed address %r" % text)
    try:
        return (host, int(port))
    except ValueError:
        raise ProtocolError("malformed port in address %r" % text)


def address_to_text(address):
    """What Python's socket methods return -> the protocol's text form."""
    if address is None or address == "" or address == b"":
        return "unnamed"
    if isinstance(address, tuple):
        if len(address) == 2:
            return "%s:%d" % address
        if len(address) == 4:
            return "[%s]:%d" % address[:2]
        raise RuntimeError("unexpected address %r" % (address,))
    if isinstance(address, bytes):
        if address.startswith(b"\0"):
            return "abstract:" + _text(address[1:])
        return "unix:" + _text(address)
    if isinstance(address, str):
        # Python decodes paths with the filesystem encoding (surrogateescape for stray bytes).
        return "unix:" + _text(os.fsencode(address))
    raise RuntimeError("unexpected address %r" % (address,))


# ---------------------------------------------------------------------------------------------
# Errors


def error_from_exception(exc):
    """A Python exception raised by a socket call -> the protocol's error object, or None when the
    exception is not one a socket call reports (a bug in the driver, re-raised by the caller)."""
    if isinstance(exc, socket.gaierror):
        code = exc.errno
        name = EAI_NAMES.get(code, "EAI %s" % code)
        return {"errno": name, "code": code, "message": exc.strerror or str(exc)}
    if isinstance(exc, OSError):
        if exc.errno is None:
            if isinstance(exc, socket.timeout):
                return {"errno": "timeout", "code": None, "message": str(exc)}
            # Raised by CPython itself before any system call (e.g. "AF_UNIX path too long").
            return {"errno": "rejected", "code": None, "message": str(exc)}
        name = errno.errorcode.get(exc.errno, "errno %d" % exc.errno)
        return {"errno": name, "code": exc.errno, "message": exc.strerror or str(exc)}
    if isinstance(exc, (ValueError, OverflowError, TypeError)):
        return {"errno": "rejected", "code": None,
                "message": "%s: %s" % (type(exc).__name__, exc)}
    return None


# ---------------------------------------------------------------------------------------------
# The driver


class Driver:
    """One method per operation: ``op_NAME(request)`` returns the ``ok`` value or raises."""

    # hello declares reset (one process serves many sessions); a test subclass may say False to
    # be run as a driver without it, one process per actor.
    DECLARES_RESET = True

    def __init__(self, output):
        self.output = output  # a binary stream: standard output
        self.sockets = {}  # handle -> socket object (closed ones stay, so calls on them fail EBADF)
        self.next_handle = 1
        # What reset puts back: process-wide state a session could change (this driver changes
        # none of it today, but a subclass or a future operation might).
        self.initial_cwd = os.getcwd()
        self.initial_umask = os.umask(0)
        os.umask(self.initial_umask)
        self.initial_timeout = socket.getdefaulttimeout()

    # --- plumbing -----------------------------------------------------------------------------

    def run(self, lines):
        """Serve requests until ``bye`` or the end of input."""
        for line in lines:
            if not line.strip():
                continue
            try:
                # Decoded here: json.loads would first guess the encoding of bytes, every line.
                request = _decode(line.decode("utf-8"))
            except ValueError as exc:
                raise ProtocolError("a request that is not JSON (%s): %.200r" % (exc, line))
            if not isinstance(request, dict) or not isinstance(request.get("seq"), int):
                raise ProtocolError("a request without an integer seq: %.200r" % (line,))
            self.send_reply(self.handle(request))
            if request.get("op") == "bye":
                return

    def handle(self, request):
        """One request -> its reply."""
        seq = request["seq"]
        op = request.get("op")
        method = getattr(self, "op_%s" % op, None) if isinstance(op, str) else None
        if method is None:
            return {"seq": seq, "error": {"errno": "unsupported", "code": None,
                                          "message": "unknown op %r" % (op,)}}
        try:
            return {"seq": seq, "ok": method(request)}
        except Unsupported as exc:
            return {"seq": seq, "error": {"errno": "unsupported", "code": None,
                                          "message": str(exc)}}
        except KeyError as exc:
            raise ProtocolError("request %d (%s) lacks the field %s" % (seq, op, exc))
        except Exception as exc:  # what the socket call raised
            error = error_from_exception(exc)
            if error is None:
                raise
            return {"seq": seq, "error": error}

    def send_reply(self, reply):
        self.write_line(json.dumps(reply))

    def write_line(self, text):
        # One write and one flush per reply: the runner waits for it, so nothing may stay
        # buffered, and nothing else is written.
        self.output.write(text.encode("utf-8") + b"\n")
        self.output.flush()

    def new_handle(self, sock):
        handle = self.next_handle
        self.next_handle += 1
        self.sockets[handle] = sock
        return handle

    def sock(self, request):
        handle = request["handle"]
        try:
            return self.sockets[handle]
        except (KeyError, TypeError):
            raise OSError(errno.EBADF, "%s (unknown handle %r)"
                          % (os.strerror(errno.EBADF), handle))

    @staticmethod
    def data(request, field="data"):
        try:
            return base64.b64decode(request[field], validate=True)
        except (ValueError, TypeError) as exc:
            raise ProtocolError("field %s is not base64: %s" % (field, exc))

    @staticmethod
    def encode(data):
        return base64.b64encode(data).decode("ascii")

    @staticmethod
    def recv_flags(request):
        flags = 0
        for key, value in (request.get("flags") or {}).items():
            if value:
                flags |= _constant(RECV_FLAGS, key, "recv flag")
        return flags

    # --- operations ---------------------------------------------------------------------------

    def op_hello(self, request):
        if request.get("protocol") != PROTOCOL:
            log("the runner asked for protocol %r; this driver speaks %d"
                % (request.get("protocol"), PROTOCOL))
        return {"protocol": PROTOCOL, "name": "cpython", "version": sys.version.split()[0],
                "capabilities": capabilities(), "reset": self.DECLARES_RESET}

    def op_socket(self, request):
        family = _constant(FAMILIES, request["family"], "family")
        kind = _constant(TYPES, request["type"], "type")
        return {"handle": self.new_handle(socket.socket(family, kind))}

    def op_socketpair(self, request):
        family = _constant(FAMILIES, request["family"], "family")
        kind = _constant(TYPES, request["type"], "type")
        a, b = socket.socketpair(family, kind)
        return {"handles": [self.new_handle(a), self.new_handle(b)]}

    def op_bind(self, request):
        self.sock(request).bind(address_from_text(request["address"]))
        return None

    def op_listen(self, request):
        sock = self.sock(request)
        backlog = request.get("backlog")
        if backlog is None:
            sock.listen()
        else:
            sock.listen(backlog)
        return None

    def op_accept(self, request):
        conn, address = self.sock(request).accept()
        return {"handle": self.new_handle(conn), "address": address_to_text(address)}

    def op_connect(self, request):
        self.sock(request).connect(address_from_text(request["address"]))
        return None

    def op_send(self, request):
        return self.sock(request).send(self.data(request))

    def op_sendall(self, request):
        self.sock(request).sendall(self.data(request))
        return None

    def op_sendto(self, request):
        return self.sock(request).sendto(self.data(request),
                                         address_from_text(request["address"]))

    def op_sendmsg(self, request):
        address = request.get("address")
        if address is None:
            return self.sock(request).sendmsg([self.data(request)])
        return self.sock(request).sendmsg([self.data(request)], [], 0,
                                          address_from_text(address))

    def op_recv(self, request):
        data = self.sock(request).recv(request["bufsize"], self.recv_flags(request))
        return {"data": self.encode(data)}

    def op_recvfrom(self, request):
        data, address = self.sock(request).recvfrom(request["bufsize"])
        return {"data": self.encode(data), "address": address_to_text(address)}

    def op_recvmsg(self, request):
        # The ancillary items are not reported (the protocol has no form for them); msg_flags
        # says whether they fitted.
        data, _ancdata, msg_flags, address = self.sock(request).recvmsg(
            request["bufsize"], request["ancbufsize"], self.recv_flags(request))
        names = [k for k, v in MSG_FLAGS.items()
                 if hasattr(socket, v) and msg_flags & getattr(socket, v)]
        known = 0
        for v in MSG_FLAGS.values():
            known |= getattr(socket, v, 0)
        if msg_flags & ~known:
            log("recvmsg: msg_flags %#x has bits this driver cannot name" % (msg_flags & ~known))
        return {"data": self.encode(data), "flags": names, "address": address_to_text(address)}

    def op_recv_into(self, request):
        buffer = bytearray(self.data(request, "buffer"))
        count = self.sock(request).recv_into(buffer, request["nbytes"], self.recv_flags(request))
        return {"count": count, "buffer": self.encode(bytes(buffer))}

    def op_recvfrom_into(self, request):
        buffer = bytearray(self.data(request, "buffer"))
        count, address = self.sock(request).recvfrom_into(buffer, request["nbytes"],
                                                          self.recv_flags(request))
        return {"count": count, "buffer": self.encode(bytes(buffer)),
                "address": address_to_text(address)}

    def op_gettimeout(self, request):
        return self.sock(request).gettimeout()

    def op_getblocking(self, request):
        return self.sock(request).getblocking()

    def op_fileno(self, request):
        return self.sock(request).fileno()

    def op_poll(self, request):
        mask = 0
        for name in request["events"]:
            mask |= _constant_of(select, POLL_EVENTS, name, "poll event")
        poller = select.poll()
        poller.register(self.sock(request), mask)
        reported = 0
        for _fd, revents in poller.poll(request["timeout_ms"]):
            reported |= revents
        return {"events": [k for k, v in POLL_EVENTS.items()
                           if hasattr(select, v) and reported & getattr(select, v)]}

    def op_shutdown(self, request):
        how = _constant(SHUTDOWN, request["how"], "shutdown direction")
        self.sock(request).shutdown(how)
        return None

    def op_close(self, request):
        self.sock(request).close()
        return None

    def op_getsockname(self, request):
        return {"address": address_to_text(self.sock(request).getsockname())}

    def op_getpeername(self, request):
        return {"address": address_to_text(self.sock(request).getpeername())}

    def op_setsockopt(self, request):
        option = request["option"]
        level, name = _option(option)
        value = request["value"]
        if option in TIMEVAL_OPTIONS and isinstance(value, int) and not isinstance(value, bool):
            seconds, millis = divmod(value, 1000)
            value = struct.pack(TIMEVAL, seconds, millis * 1000)
        elif option == "linger":
            if value < -1:
                raise ValueError("no struct linger for %d" % value)
            value = struct.pack(LINGER, 0, 0) if value == -1 else struct.pack(LINGER, 1, value)
        self.sock(request).setsockopt(level, name, value)
        return None

    def op_getsockopt(self, request):
        option = request["option"]
        level, name = _option(option)
        sock = self.sock(request)
        if option in TIMEVAL_OPTIONS:
            raw = sock.getsockopt(level, name, struct.calcsize(TIMEVAL))
            seconds, micros = struct.unpack(TIMEVAL, raw)
            return seconds * 1000 + micros // 1000
        if option == "linger":
            onoff, seconds = struct.unpack(LINGER, sock.getsockopt(level, name, struct.calcsize(LINGER)))
            return seconds if onoff else -1
        return sock.getsockopt(level, name)

    def op_setsockopt_bytes(self, request):
        level, name = _option(request["option"])
        self.sock(request).setsockopt(level, name, self.data(request, "value"))
        return None

    def op_getsockopt_bytes(self, request):
        level, name = _option(request["option"])
        return {"data": self.encode(self.sock(request).getsockopt(level, name, request["buflen"]))}

    def op_exit_context(self, request):
        self.sock(request).__exit__(None, None, None)
        return None

    def op_settimeout(self, request):
        self.sock(request).settimeout(request["timeout"])
        return None

    def op_reset(self, request):
        """Back to the state just after hello: every socket closed, every handle forgotten."""
        sockets, self.sockets, self.next_handle = self.sockets, {}, 1
        for sock in sockets.values():
            sock.close()
        socket.setdefaulttimeout(self.initial_timeout)
        os.chdir(self.initial_cwd)
        os.umask(self.initial_umask)
        return None

    def op_bye(self, request):
        return None


def capabilities():
    """Everything this Python's socket module supports (scenario-format.md section 8)."""
    return {
        "families": [k for k, v in FAMILIES.items() if hasattr(socket, v)
                     and (k != "inet6" or socket.has_ipv6)],
        "types": [k for k, v in TYPES.items() if hasattr(socket, v)],
        "options": [k for k in OPTIONS if _has_option(k)],
        "features": (
            (["socketpair"] if hasattr(socket, "socketpair") else [])
            + (["abstract_namespace"] if sys.platform.startswith("linux") else [])
            + ["name_resolution", "timeout_mode", "non_blocking_mode", "backlog",
               "unbound_sockets", "shutdown", "recv_flags"]
        ),
    }


def main(driver_class=Driver):
    """Run ``driver_class`` on standard input and output; exits 0 on ``bye`` or end of input."""
    output = sys.stdout.buffer
    sys.stdout = sys.stderr  # nothing but replies may reach standard output
    driver = driver_class(output)
    try:
        driver.run(iter(sys.stdin.buffer.readline, b""))
    except ProtocolError as exc:
        log("protocol error: %s" % exc)
        sys.exit(2)
    except BrokenPipeError:
        log("standard output closed")
        sys.exit(1)
    sys.exit(0)


if __name__ == "__main__":
    main()

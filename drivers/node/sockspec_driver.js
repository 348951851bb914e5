#!/usr/bin/env node
// A sockspec driver for Node.js's built-in `net` and `dgram` modules (driver protocol version 2).
//
// Reads one JSON request per line on standard input and writes one JSON reply per line on
// standard output, as spec/driver-protocol.md says. Built-in modules only; Node 18 or later.
// Run it as `node drivers/node/sockspec_driver.js`; drivers/drivers.yaml runs it with
// `env -u NODE_EXTRA_CA_CERTS` in front, because Node parses that bundle of TLS certificates at
// every start, and this driver makes no TLS connection.
//
// Node's socket API is not the BSD one, and this driver does not pretend it is. Each request is
// the Node call (or the sequence of Node calls) a Node programmer would write for it, and the
// reply is what Node returned, called back or emitted; what Node cannot express is answered
// `unsupported`, saying why, call by call (spec/driver-protocol.md §8). In particular:
//
// - There is no socket object before bind or connect. `socket` remembers the family and type;
//   the real object is made by `bind` or `connect`.
// - There is no standalone bind for a stream socket: `bind` on a stream socket is
//   `net.createServer().listen({host, port} | {path})` — bind(2) and listen(2) in one, the only
//   way Node binds a stream socket (as std's TcpListener::bind). The socket therefore listens
//   from `bind` on, with Node's backlog (511); `listen` without a backlog then has nothing left
//   to do, and `listen` with one is unsupported (the feature `backlog` is not declared). A
//   socket `bind` made a server cannot `connect` (Node binds a client with
//   `net.connect({localAddress, localPort})`, which this driver cannot know it should use).
//   `listen` on an IP stream socket never bound is `server.listen({port: 0})`, listening
//   without an address as a Node program does (Node then chooses the address); on a Unix one
//   it is unsupported (Node listens on a path only).
// - libuv accepts connections as soon as they arrive; `accept` takes the next connection the
//   server emitted ('connection'), waiting for one if there is none.
// - `recv` on a stream first lets Node read what the kernel holds, up to bufsize
//   (`socket.read(bufsize)` raises the high-water mark and restarts reading), then waits until
//   the stream is readable and calls `socket.read(n)` with n = min(bufsize, what is buffered):
//   at most bufsize bytes, at least one, or '' once 'end' came. Receive flags, `recv(0)`,
//   `recvmsg`, `recv_into` and `recvfrom_into` are unsupported.
// - `send` and `sendall` are `socket.write(data, callback)`, answered when the callback comes:
//   Node takes the whole buffer, so `send` answers its length.
// - Stream sockets are made with `allowHalfOpen: true`: without it Node ends the writing side by
//   itself when the peer's FIN arrives, which no BSD call does. `shutdown` `write` is
//   `socket.end()`; `read` and `both` are unsupported (Node has no call for them).
// - `sendmsg` (one buffer, no ancillary data) is the call `send` makes, or `sendto`'s with an
//   address: Node has no sendmsg of its own.
// - A datagram socket (`dgram.createSocket`) delivers whole datagrams ('message'); `recv`,
//   `recvfrom` answer the next one, and one larger than bufsize is unsupported (Node has no
//   receive size, so it cannot truncate).
// - No timeout mode, non-blocking mode, `fileno`, `poll`, `socketpair`, Unix datagram or
//   seqpacket sockets. Options: only those Node has a setter or getter for.
// - Node's own errors that are not errnos (ERR_STREAM_DESTROYED, ERR_SOCKET_DGRAM_NOT_RUNNING,
//   ...) are reported `library`, with Node's code as their `name`; an error that carries an
//   errno (err.errno, a negative libuv number) is reported by that errno's name. Argument
//   errors Node raises before any system call (a TypeError or RangeError without an errno) are
//   `rejected`.
// - hello declares, with protocol version 2's finer capabilities, exactly what of the above Node
//   has: the operations it performs, the socket kinds it creates (no Unix datagram), the socket
//   type each option works on, and the API shapes `auto_accept` and `idle_timeout`; so the
//   runner reports what Node cannot express before the scenario starts, with the reason.
'use strict';

const net = require('net');
const dgram = require('dgram');
const util = require('util');
const readline = require('readline');

const PROTOCOL = 2;

class Unsupported extends Error {}
class ProtocolError extends Error {}

function log(message) {
  process.stderr.write(`sockspec_driver.js: ${message}\n`);
}

// ------------------------------------------------------------------------------------------
// Addresses (scenario-format.md section 9)

function parseAddress(text) {
  if (typeof text !== 'string') throw new ProtocolError(`an address must be a string: ${text}`);
  if (text === 'unnamed') return { kind: 'unnamed' };
  if (text.startsWith('unix:')) return { kind: 'unix', path: text.slice(5) };
  if (text.startsWith('abstract:')) return { kind: 'unix', path: '\0' + text.slice(9) };
  let host;
  let port;
  if (text.startsWith('[')) {
    const end = text.indexOf(']:');
    if (end < 0) throw new ProtocolError(`malformed IPv6 address ${text}`);
    host = text.slice(1, end);
    port = text.slice(end + 2);
  } else {
    const colon = text.lastIndexOf(':');
    if (colon < 0) throw new ProtocolError(`malformed address ${text}`);
    host = text.slice(0, colon);
    port = text.slice(colon + 1);
  }
  if (!/^[0-9]+$/.test(port)) throw new ProtocolError(`malformed port in address ${text}`);
  return { kind: 'ip', host, port: Number(port) };
}

function ipText(address, family, port) {
  const v6 = family === 'IPv6' || family === 6;
  return v6 ? `[${address}]:${port}` : `${address}:${port}`;
}

function unixText(path) {
  if (path === undefined || path === null || path === '') return 'unnamed';
  if (path.startsWith('\0')) return 'abstract:' + path.slice(1);
  return 'unix:' + path;
}

// ------------------------------------------------------------------------------------------
// Errors

function errorReply(err) {
  if (err instanceof Unsupported) return { errno: 'unsupported', code: null, message: err.message };
  if (typeof err.errno === 'number' && err.errno < 0) {
    let name;
    try {
      name = util.getSystemErrorName(err.errno);
    } catch (_) {
      name = undefined;
    }
    if (name && name.startsWith('EAI_')) {
      // libuv's UV_EAI_* numbers are its own, not getaddrinfo's: no local number to give.
      return { errno: name, code: null, message: `${err.code}: ${err.message}` };
    }
    if (name && /^E[A-Z0-9]+$/.test(name)) {
      return { errno: name, code: -err.errno, message: `${err.code}: ${err.message}` };
    }
  }
  if (typeof err.code === 'string' && err.code.startsWith('ERR_')) {
    // Node's own state and argument errors: no errno behind them, and none they map to.
    return { errno: 'library', code: null, name: err.code, message: err.message };
  }
  return null;
}

function ebadf(handle) {
  const err = new Error(`bad file descriptor (unknown handle ${handle})`);
  err.errno = -9;
  err.code = 'EBADF';
  return err;
}

// ------------------------------------------------------------------------------------------
// Waiting for events

// Resolves in the check phase of the event loop: after the poll phase that is under way (or the
// next one), so I/O the kernel already reported has been handled.
function nextTurn() {
  return new Promise((resolve) => setImmediate(resolve));
}

// Resolves with [event, args] for the first of `events` that `emitter` emits.
function once(emitter, events) {
  return new Promise((resolve) => {
    const listeners = {};
    for (const event of events) {
      listeners[event] = (...args) => {
        for (const e of events) emitter.removeListener(e, listeners[e]);
        resolve([event, args]);
      };
      emitter.on(event, listeners[event]);
    }
  });
}

// ------------------------------------------------------------------------------------------
// Sockets: one entry per handle.
//
// kind: 'fresh' (no Node object yet: family and type only), 'server' (net.Server), 'stream'
// (net.Socket), 'udp' (dgram.Socket).

class Entry {
  constructor(family, type) {
    this.family = family;
    this.type = type;
    this.kind = 'fresh';
    this.obj = null;
    this.closed = false;
    this.error = null; // an 'error' event nothing has reported yet
    this.ended = false; // 'end' came (streams)
    this.queue = []; // accepted connections (servers) or datagrams (udp) not yet taken
    this.changed = null; // resolves when queue, error or ended changes
  }

  notify() {
    if (this.changed) {
      const resolve = this.changed;
      this.changed = null;
      resolve();
    }
  }

  waitChange() {
    return new Promise((resolve) => {
      const previous = this.changed;
      this.changed = () => {
        if (previous) previous();
        resolve();
      };
    });
  }

  takeError() {
    const err = this.error;
    this.error = null;
    return err;
  }
}

function streamOptions() {
  return { allowHalfOpen: true };
}

class Driver {
  constructor() {
    this.entries = new Map();
    this.nextHandle = 1;
  }

  add(entry) {
    const handle = this.nextHandle++;
    this.entries.set(handle, entry);
    return handle;
  }

  entry(request) {
    const handle = request.handle;
    const entry = this.entries.get(handle);
    if (entry === undefined) throw ebadf(handle);
    // spec/driver-protocol.md §4: after `close`, calls on the handle fail EBADF and `close`
    // again succeeds. Node has no object left to call (a destroyed net.Socket, a closed
    // net.Server or dgram.Socket); what Node itself would say is in the message.
    if (entry.closed && request.op !== 'close') {
      const err = new Error(`bad file descriptor (handle ${handle} was closed; Node's object is ${describeClosed(entry)})`);
      err.errno = -9;
      err.code = 'EBADF';
      throw err;
    }
    return entry;
  }

  watchStream(entry, socket) {
    entry.kind = 'stream';
    entry.obj = socket;
    socket.on('error', (err) => {
      entry.error = err;
      entry.notify();
    });
    socket.on('end', () => {
      entry.ended = true;
      entry.notify();
    });
    socket.on('close', () => entry.notify());
  }

  watchServer(entry, server) {
    entry.kind = 'server';
    entry.obj = server;
    server.on('connection', (socket) => {
      const accepted = new Entry(entry.family, 'stream');
      this.watchStream(accepted, socket);
      entry.queue.push(accepted);
      entry.notify();
    });
    server.on('error', (err) => {
      entry.error = err;
      entry.notify();
    });
    server.on('close', () => entry.notify());
  }

  watchUdp(entry, socket) {
    entry.kind = 'udp';
    entry.obj = socket;
    socket.on('message', (data, rinfo) => {
      entry.queue.push({ data, rinfo });
      entry.notify();
    });
    socket.on('error', (err) => {
      entry.error = err;
      entry.notify();
    });
    socket.on('close', () => entry.notify());
  }

  // --- operations ---------------------------------------------------------------------------

  op_hello(request) {
    if (request.protocol !== PROTOCOL) {
      log(`the runner asked for protocol ${request.protocol}; this driver speaks ${PROTOCOL}`);
    }
    return {
      protocol: PROTOCOL,
      name: 'node',
      version: process.versions.node,
      capabilities: {
        families: ['inet', 'inet6', 'unix'],
        types: ['stream', 'dgram'],
        options: ['tcp_nodelay', 'keepalive', 'broadcast', 'ip_ttl', 'recv_buffer', 'send_buffer'],
        features: ['abstract_namespace', 'name_resolution', 'unbound_sockets', 'shutdown'],
        // Version 2: the operations above that Node has a call for (the others always answer
        // `unsupported`), ...
        operations: [
          'socket', 'bind', 'listen', 'accept', 'connect', 'send', 'sendall', 'sendto', 'sendmsg',
          'recv', 'recvfrom', 'shutdown', 'close', 'getsockname', 'getpeername', 'setsockopt',
          'getsockopt',
        ],
        // ... no Unix datagram sockets (dgram is UDP only) ...
        sockets: [
          { family: 'inet', type: 'stream' }, { family: 'inet', type: 'dgram' },
          { family: 'inet6', type: 'stream' }, { family: 'inet6', type: 'dgram' },
          { family: 'unix', type: 'stream' },
        ],
        // ... the setters are net.Socket's or dgram.Socket's, not both ...
        option_types: {
          tcp_nodelay: ['stream'], keepalive: ['stream'], broadcast: ['dgram'], ip_ttl: ['dgram'],
          recv_buffer: ['dgram'], send_buffer: ['dgram'],
        },
        // ... and libuv accepts every connection as it arrives; socket.setTimeout is an idle timer.
        shapes: ['auto_accept', 'idle_timeout'],
      },
      reset: true,
    };
  }

  op_socket(request) {
    const { family, type } = request;
    if (!['inet', 'inet6', 'unix'].includes(family)) throw new Unsupported(`family ${family}`);
    if (type === 'seqpacket') throw new Unsupported('Node has no SOCK_SEQPACKET sockets');
    if (family === 'unix' && type === 'dgram') {
      throw new Unsupported('Node has no Unix datagram sockets (dgram is UDP only)');
    }
    if (type !== 'stream' && type !== 'dgram') throw new Unsupported(`type ${type}`);
    const entry = new Entry(family, type);
    if (type === 'dgram') {
      // dgram.createSocket makes the object at once; libuv makes the descriptor at bind (or at
      // the first send or connect, which bind implicitly).
      this.watchUdp(entry, dgram.createSocket(family === 'inet6' ? 'udp6' : 'udp4'));
    }
    return { handle: this.add(entry) };
  }

  op_socketpair() {
    throw new Unsupported('Node has no socketpair');
  }

  async op_bind(request) {
    const entry = this.entry(request);
    const address = parseAddress(request.address);
    if (entry.kind === 'udp') {
      if (address.kind !== 'ip') throw new Unsupported('a UDP socket binds to an IP address only');
      const socket = entry.obj;
      // bind() reports failure with an 'error' event, success with 'listening'; it throws
      // ERR_SOCKET_ALREADY_BOUND itself.
      const waiting = once(socket, ['listening', 'error', 'close']);
      socket.bind({ port: address.port, address: address.host });
      const [event, args] = await waiting;
      if (event === 'error') {
        if (entry.error === args[0]) entry.error = null;
        throw args[0];
      }
      return null;
    }
    if (entry.kind === 'server') {
      throw new Unsupported(
        'this stream socket is a net.Server already (bind is server.listen); Node cannot bind it again'
      );
    }
    if (entry.kind !== 'fresh') {
      throw new Unsupported('Node cannot bind a stream socket that is connected or accepted');
    }
    if (entry.closed) {
      throw new Unsupported('a socket closed before bind or connect has no Node object to call');
    }
    let options;
    if (entry.family === 'unix') {
      if (address.kind === 'unnamed') {
        throw new Unsupported('Node cannot autobind a Unix socket (listen needs a path)');
      }
      if (address.kind !== 'unix') throw new Unsupported('a Unix socket binds to a path only');
      options = { path: address.path };
    } else {
      if (address.kind !== 'ip') throw new Unsupported(`an IP socket cannot bind ${request.address}`);
      options = { host: address.host, port: address.port };
    }
    // Node's only way to bind a stream socket: bind(2) and listen(2) in one.
    await this.startServer(entry, options);
    return null;
  }

  // server.listen(options) for a stream socket with no Node object yet; on failure the socket is
  // what it was before (a later bind, listen or connect makes a new object).
  async startServer(entry, options) {
    const server = net.createServer(streamOptions());
    this.watchServer(entry, server);
    const waiting = once(server, ['listening', 'error']);
    server.listen(options);
    const [event, args] = await waiting;
    if (event === 'error') {
      // listen() failed and the server closed its handle: nothing is bound, and the socket is
      // what it was before (a later bind or connect makes a new object).
      server.removeAllListeners();
      server.on('error', () => {});
      entry.kind = 'fresh';
      entry.obj = null;
      entry.error = null;
      entry.queue = [];
      throw args[0];
    }
  }

  async op_listen(request) {
    const entry = this.entry(request);
    if (request.backlog !== null && request.backlog !== undefined) {
      throw new Unsupported(
        "Node takes the backlog in server.listen(), which this driver had to call at bind (Node's only way to bind a stream socket)"
      );
    }
    if (entry.kind === 'server') {
      if (!entry.obj.listening) {
        throw new Unsupported('this net.Server is not listening (its bind failed or it was closed)');
      }
      // bind already listened (server.listen); a second listen(2) would change nothing here.
      return null;
    }
    if (entry.kind === 'fresh' && entry.family === 'unix') {
      throw new Unsupported('Node cannot listen on a Unix stream socket without its path (no bind came first)');
    }
    if (entry.kind === 'fresh' && entry.closed) {
      throw new Unsupported('a socket closed before bind or connect has no Node object to call');
    }
    if (entry.kind === 'fresh') {
      // listen(2) without bind: server.listen() without an address, as a Node program writes
      // it. Node then picks the address itself (the unspecified IPv6 address where IPv6 is
      // available, whatever family the scenario's socket had) and an ephemeral port.
      await this.startServer(entry, { port: 0 });
      return null;
    }
    throw new Unsupported(`Node cannot listen on a ${entry.kind === 'udp' ? 'UDP' : 'connected'} socket`);
  }

  async op_accept(request) {
    const entry = this.entry(request);
    if (entry.kind !== 'server') {
      throw new Unsupported(`Node cannot accept on a socket that is not a net.Server (${entry.kind})`);
    }
    for (;;) {
      if (entry.queue.length > 0) {
        const accepted = entry.queue.shift();
        const socket = accepted.obj;
        const address =
          socket.remoteAddress === undefined
            ? 'unnamed'
            : ipText(socket.remoteAddress, socket.remoteFamily, socket.remotePort);
        return { handle: this.add(accepted), address };
      }
      if (entry.error) throw entry.takeError();
      if (!entry.obj.listening) {
        throw new Unsupported(
          'this net.Server is not listening (closed or never bound): Node has no accept to call, and no connection will come'
        );
      }
      await entry.waitChange();
    }
  }

  async op_connect(request) {
    const entry = this.entry(request);
    const address = parseAddress(request.address);
    if (entry.kind === 'udp') {
      if (address.kind !== 'ip') throw new Unsupported('a UDP socket connects to an IP address only');
      await new Promise((resolve, reject) => {
        entry.obj.connect(address.port, address.host, (err) => (err ? reject(err) : resolve()));
      });
      return null;
    }
    if (entry.kind === 'server') {
      throw new Unsupported(
        'bind made this stream socket a net.Server (server.listen); Node cannot connect a server'
      );
    }
    let socket;
    if (entry.kind === 'stream') {
      // net.Socket.connect on a socket that already has a connection: Node's own behaviour.
      socket = entry.obj;
    } else {
      if (entry.closed) {
        throw new Unsupported('a socket closed before bind or connect has no Node object to call');
      }
      socket = new net.Socket(streamOptions());
      this.watchStream(entry, socket);
    }
    let options;
    if (entry.family === 'unix') {
      if (address.kind !== 'unix') throw new Unsupported(`a Unix socket cannot connect to ${request.address}`);
      options = { path: address.path };
    } else {
      if (address.kind !== 'ip') throw new Unsupported(`an IP socket cannot connect to ${request.address}`);
      // `family` is the socket's own: it chooses what a host name resolves to, as getaddrinfo
      // with the socket's family does in C; an IP literal ignores it.
      options = { host: address.host, port: address.port, family: entry.family === 'inet6' ? 6 : 4 };
    }
    const waiting = once(socket, ['connect', 'error', 'close']);
    socket.connect(options);
    const [event, args] = await waiting;
    if (event === 'error') {
      if (entry.error === args[0]) entry.error = null;
      throw args[0];
    }
    if (event === 'close') {
      const err = entry.takeError();
      if (err) throw err;
      throw new Unsupported("net.Socket emitted 'close' without 'connect' or 'error'");
    }
    return null;
  }

  streamOf(entry, what) {
    if (entry.kind === 'stream') return entry.obj;
    if (entry.kind === 'fresh') {
      throw new Unsupported(`Node has no object to ${what} on: the stream socket was neither bound nor connected`);
    }
    if (entry.kind === 'udp') throw new Unsupported(`Node's dgram.Socket has no ${what}`);
    throw new Unsupported(`Node cannot ${what} on a net.Server (a listening socket)`);
  }

  async write(entry, data) {
    const socket = this.streamOf(entry, 'send');
    // An 'error' Node emitted since the last call (a reset it read, say) is this socket's
    // pending error: Node destroyed the socket with it, so it is what the next call reports.
    if (entry.error) throw entry.takeError();
    await new Promise((resolve, reject) => {
      socket.write(data, (err) => {
        if (err) {
          if (entry.error === err) entry.error = null;
          reject(err);
        } else {
          resolve();
        }
      });
    });
  }

  async op_send(request) {
    const entry = this.entry(request);
    const data = decode(request.data);
    if (entry.kind === 'udp') return this.udpSend(entry, data, null);
    await this.write(entry, data);
    return data.length;
  }

  async op_sendall(request) {
    const entry = this.entry(request);
    const data = decode(request.data);
    if (entry.kind === 'udp') {
      await this.udpSend(entry, data, null);
      return null;
    }
    await this.write(entry, data);
    return null;
  }

  async op_sendto(request) {
    const entry = this.entry(request);
    const data = decode(request.data);
    if (entry.kind !== 'udp') {
      throw new Unsupported('Node has no sendto on a stream socket');
    }
    const address = parseAddress(request.address);
    if (address.kind !== 'ip') throw new Unsupported('a UDP socket sends to an IP address only');
    return this.udpSend(entry, data, address);
  }

  // sendmsg with one buffer and no ancillary data: Node's write() on a stream, send() on a
  // dgram.Socket (to the address when one is given) — the calls send and sendto make, since Node
  // has no separate sendmsg to call.
  async op_sendmsg(request) {
    const entry = this.entry(request);
    const data = decode(request.data);
    if (request.address === null || request.address === undefined) {
      if (entry.kind === 'udp') return this.udpSend(entry, data, null);
      await this.write(entry, data);
      return data.length;
    }
    if (entry.kind !== 'udp') {
      throw new Unsupported('Node has no sendmsg with an address on a stream socket');
    }
    const address = parseAddress(request.address);
    if (address.kind !== 'ip') throw new Unsupported('a UDP socket sends to an IP address only');
    return this.udpSend(entry, data, address);
  }

  udpSend(entry, data, address) {
    return new Promise((resolve, reject) => {
      const callback = (err, bytes) => {
        if (err) {
          if (entry.error === err) entry.error = null;
          reject(err);
        } else {
          resolve(bytes);
        }
      };
      if (address === null) entry.obj.send(data, callback);
      else entry.obj.send(data, address.port, address.host, callback);
    });
  }

  static checkFlags(request) {
    const flags = request.flags || {};
    const set = Object.keys(flags).filter((k) => flags[k]);
    if (set.length > 0) {
      throw new Unsupported(`Node has no receive flags (${set.join(', ')})`);
    }
  }

  async streamRecv(entry, bufsize) {
    const socket = this.streamOf(entry, 'recv');
    if (bufsize === 0) {
      throw new Unsupported("Node has no recv(0): socket.read(0) reads nothing and returns null");
    }
    if (socket.readableLength < bufsize && !entry.ended && !entry.error && !socket.destroyed) {
      // What Node has buffered is not what the kernel holds: Node stops reading once its buffer
      // passes the high-water mark (16 KiB), so bytes a kernel recv would return can still sit in
      // the kernel. read(bufsize) raises the mark to cover bufsize and restarts reading (it
      // returns null, consuming nothing, unless the stream ended); libuv reads in the next poll
      // phase, which has run by the second check phase from here.
      // The mark is put back afterwards, so that Node does not go on draining the kernel
      // further than the program asked (back-pressure scenarios depend on it); Node has no
      // public setter for it.
      const state = socket._readableState;
      const mark = state.highWaterMark;
      const whole = socket.read(bufsize);
      if (whole === null) {
        await nextTurn();
        await nextTurn();
      }
      state.highWaterMark = mark;
      if (whole !== null) return whole;
    }
    for (;;) {
      if (socket.readableLength > 0) {
        return socket.read(Math.min(bufsize, socket.readableLength));
      }
      if (entry.error) throw entry.takeError();
      if (entry.ended) return Buffer.alloc(0);
      if (socket.destroyed) {
        // Node raises nothing here: read() returns null and the stream stays silent for ever.
        // Rather than wait out the step, say so (not an error code of Node's own).
        const err = new Error(
          "net.Socket is destroyed (Node destroyed it after its 'error' event): read() returns null, and neither data nor 'end' will ever come"
        );
        err.code = 'ERR_SOCKSPEC_DRIVER_DESTROYED_STREAM';
        throw err;
      }
      const waiting = entry.waitChange();
      const readable = once(socket, ['readable']);
      // read() with nothing buffered starts the handle reading, and at the end of the stream
      // makes the stream emit 'end'.
      socket.read();
      await Promise.race([waiting, readable]);
    }
  }

  async udpRecv(entry, bufsize) {
    for (;;) {
      if (entry.queue.length > 0) {
        const message = entry.queue.shift();
        if (message.data.length > bufsize) {
          throw new Unsupported(
            `Node delivered a whole datagram of ${message.data.length} bytes; it has no receive size, so it cannot truncate it to ${bufsize}`
          );
        }
        return message;
      }
      if (entry.error) throw entry.takeError();
      if (entry.closed) {
        const err = new Error('the dgram socket is closed: no message will come');
        err.code = 'ERR_SOCKET_DGRAM_NOT_RUNNING';
        throw err;
      }
      await entry.waitChange();
    }
  }

  async op_recv(request) {
    const entry = this.entry(request);
    Driver.checkFlags(request);
    if (entry.kind === 'udp') {
      const message = await this.udpRecv(entry, request.bufsize);
      return { data: message.data.toString('base64') };
    }
    const data = await this.streamRecv(entry, request.bufsize);
    return { data: data.toString('base64') };
  }

  async op_recvfrom(request) {
    const entry = this.entry(request);
    if (entry.kind !== 'udp') {
      throw new Unsupported('Node has no recvfrom on a stream socket');
    }
    const message = await this.udpRecv(entry, request.bufsize);
    const { rinfo } = message;
    return {
      data: message.data.toString('base64'),
      address: ipText(rinfo.address, rinfo.family, rinfo.port),
    };
  }

  op_recvmsg() {
    throw new Unsupported('Node has no recvmsg (no msg_flags)');
  }

  op_recv_into() {
    throw new Unsupported('Node has no recv_into');
  }

  op_recvfrom_into() {
    throw new Unsupported('Node has no recvfrom_into');
  }

  async op_shutdown(request) {
    const entry = this.entry(request);
    if (request.how !== 'write') {
      throw new Unsupported(`Node has no shutdown(${request.how}): socket.end() shuts down writing only`);
    }
    const socket = this.streamOf(entry, 'shutdown');
    if (entry.error) throw entry.takeError();
    await new Promise((resolve, reject) => {
      socket.end((err) => {
        if (err) {
          if (entry.error === err) entry.error = null;
          reject(err);
        } else {
          resolve();
        }
      });
    });
    return null;
  }

  async op_close(request) {
    const entry = this.entry(request);
    if (entry.closed) return null; // spec/driver-protocol.md §4: close again succeeds
    entry.closed = true;
    if (entry.kind === 'fresh') return null;
    if (entry.kind === 'stream') {
      entry.obj.destroy();
      return null;
    }
    if (entry.kind === 'server') {
      // server.close() closes the listening descriptor at once; its callback waits for every
      // connection to end, so only an error it reports by the next turn of the loop is awaited.
      const server = entry.obj;
      let failure = null;
      server.close((err) => {
        if (err) failure = err;
      });
      await nextTurn();
      if (failure) throw failure;
      return null;
    }
    // dgram: close() throws ERR_SOCKET_DGRAM_NOT_RUNNING on a closed socket.
    await new Promise((resolve) => {
      entry.obj.close(resolve);
    });
    return null;
  }

  op_getsockname(request) {
    const entry = this.entry(request);
    if (entry.kind === 'fresh') {
      throw new Unsupported('Node has no object for a socket that is neither bound nor connected');
    }
    if (entry.kind === 'server') {
      const address = entry.obj.address();
      if (address === null || typeof address === 'string') return { address: unixText(address) };
      return { address: ipText(address.address, address.family, address.port) };
    }
    if (entry.kind === 'udp') {
      const address = entry.obj.address(); // throws ERR_SOCKET_DGRAM_NOT_RUNNING when unbound
      return { address: ipText(address.address, address.family, address.port) };
    }
    if (entry.family === 'unix') {
      throw new Unsupported("Node's net.Socket.address() has no Unix form (it returns {})");
    }
    const address = entry.obj.address();
    if (address.address === undefined) return { address: 'unnamed' };
    return { address: ipText(address.address, address.family, address.port) };
  }

  op_getpeername(request) {
    const entry = this.entry(request);
    if (entry.kind === 'fresh') {
      throw new Unsupported('Node has no object for a socket that is neither bound nor connected');
    }
    if (entry.kind === 'server') {
      throw new Unsupported('Node has no peer address for a net.Server');
    }
    if (entry.kind === 'udp') {
      const address = entry.obj.remoteAddress(); // throws ERR_SOCKET_DGRAM_NOT_CONNECTED
      return { address: ipText(address.address, address.family, address.port) };
    }
    if (entry.family === 'unix') {
      throw new Unsupported("Node's net.Socket has no peer address for a Unix socket (remoteAddress is undefined)");
    }
    const socket = entry.obj;
    if (socket.remoteAddress === undefined) return { address: 'unnamed' };
    return { address: ipText(socket.remoteAddress, socket.remoteFamily, socket.remotePort) };
  }

  op_setsockopt(request) {
    const entry = this.entry(request);
    const { option, value } = request;
    if (entry.kind === 'fresh') {
      throw new Unsupported(`Node has no object to set ${option} on before bind or connect`);
    }
    if (entry.kind === 'stream') {
      if (option === 'tcp_nodelay' && entry.family !== 'unix') {
        entry.obj.setNoDelay(value !== 0);
        return null;
      }
      if (option === 'keepalive' && entry.family !== 'unix') {
        entry.obj.setKeepAlive(value !== 0);
        return null;
      }
    }
    if (entry.kind === 'udp') {
      const socket = entry.obj;
      switch (option) {
        case 'broadcast':
          socket.setBroadcast(value !== 0);
          return null;
        case 'ip_ttl':
          socket.setTTL(value);
          return null;
        case 'recv_buffer':
          socket.setRecvBufferSize(value);
          return null;
        case 'send_buffer':
          socket.setSendBufferSize(value);
          return null;
        default:
      }
    }
    throw new Unsupported(`Node has no way to set ${option} on a ${describe(entry)}`);
  }

  op_getsockopt(request) {
    const entry = this.entry(request);
    const { option } = request;
    if (entry.kind === 'udp') {
      if (option === 'recv_buffer') return entry.obj.getRecvBufferSize();
      if (option === 'send_buffer') return entry.obj.getSendBufferSize();
    }
    throw new Unsupported(`Node has no way to read ${option} on a ${describe(entry)}`);
  }

  op_settimeout() {
    throw new Unsupported(
      "Node has no per-socket timeout or blocking mode (socket.setTimeout is an idle timer)"
    );
  }

  op_gettimeout() {
    throw new Unsupported('Node has no per-socket timeout or blocking mode');
  }

  op_getblocking() {
    throw new Unsupported('Node has no per-socket timeout or blocking mode');
  }

  op_fileno() {
    throw new Unsupported('Node exposes no file descriptor of a socket');
  }

  op_poll() {
    throw new Unsupported('Node has no poll');
  }

  op_bye() {
    return null;
  }

  // spec/driver-protocol.md §1: back to the state just after hello. Every Node object is closed
  // (connections a server accepted and nobody took included) and its 'close' awaited, so that
  // no descriptor outlives the reply; handles start again from 1. The driver changes no
  // process-wide setting, so there is nothing else to restore.
  async op_reset() {
    const closing = [];
    for (const entry of this.entries.values()) {
      if (entry.kind === 'server') {
        for (const queued of entry.queue) closing.push(closeEntryObject(queued));
      }
      closing.push(closeEntryObject(entry));
    }
    await Promise.all(closing);
    this.entries.clear();
    this.nextHandle = 1;
    return null;
  }
}

// Closes an entry's Node object if it is still open, resolving once Node says it is closed.
function closeEntryObject(entry) {
  const obj = entry.obj;
  switch (entry.kind) {
    case 'stream':
      if (obj.closed) return Promise.resolve();
      return new Promise((resolve) => {
        obj.once('close', resolve);
        obj.destroy();
      });
    case 'server':
      if (!obj.listening) return Promise.resolve();
      return new Promise((resolve) => obj.close(() => resolve()));
    case 'udp':
      return new Promise((resolve) => {
        try {
          obj.close(resolve);
        } catch (err) {
          resolve(); // ERR_SOCKET_DGRAM_NOT_RUNNING: closed already
        }
      });
    default:
      return Promise.resolve();
  }
}

function describeClosed(entry) {
  switch (entry.kind) {
    case 'server':
      return 'a closed net.Server (Node answers ERR_SERVER_NOT_RUNNING to close)';
    case 'stream':
      return 'a destroyed net.Socket (Node answers ERR_STREAM_DESTROYED to write)';
    case 'udp':
      return 'a closed dgram.Socket (Node answers ERR_SOCKET_DGRAM_NOT_RUNNING)';
    default:
      return 'none: it was never bound or connected';
  }
}

function describe(entry) {
  switch (entry.kind) {
    case 'server':
      return 'net.Server';
    case 'stream':
      return `net.Socket (${entry.family})`;
    case 'udp':
      return 'dgram.Socket';
    default:
      return 'socket';
  }
}

function decode(text) {
  if (typeof text !== 'string' || !/^[A-Za-z0-9+/]*={0,2}$/.test(text) || text.length % 4 !== 0) {
    throw new ProtocolError(`data is not base64: ${String(text).slice(0, 80)}`);
  }
  return Buffer.from(text, 'base64');
}

// ------------------------------------------------------------------------------------------
// The request loop

function writeLine(reply) {
  // Standard output to a pipe is synchronous on Linux: the line is written when this returns.
  process.stdout.write(JSON.stringify(reply) + '\n');
}

async function serve(driver, request) {
  const { seq, op } = request;
  const method = typeof op === 'string' ? driver[`op_${op}`] : undefined;
  if (typeof method !== 'function') {
    return { seq, error: { errno: 'unsupported', code: null, message: `unknown op ${JSON.stringify(op)}` } };
  }
  try {
    const ok = await method.call(driver, request);
    return { seq, ok: ok === undefined ? null : ok };
  } catch (err) {
    if (err instanceof ProtocolError) throw err;
    const error = errorReply(err);
    if (error === null) {
      // Neither an errno nor Node's own error code: a bug in this driver, or an error Node
      // throws without a code (a TypeError of its argument checks).
      if (err instanceof TypeError || err instanceof RangeError) {
        return { seq, error: { errno: 'rejected', code: null, message: `${err.name}: ${err.message}` } };
      }
      throw err;
    }
    return { seq, error };
  }
}

function main() {
  const driver = new Driver();
  const lines = [];
  let waiting = null;
  let inputEnded = false;
  const input = readline.createInterface({ input: process.stdin, crlfDelay: Infinity });
  input.on('line', (line) => {
    lines.push(line);
    if (waiting) waiting();
  });
  input.on('close', () => {
    inputEnded = true;
    // The protocol: exit when standard input ends, even in the middle of a call.
    process.exit(0);
  });
  process.stdout.on('error', (err) => {
    log(`standard output: ${err.message}`);
    process.exit(1);
  });

  (async () => {
    for (;;) {
      while (lines.length === 0) {
        if (inputEnded) process.exit(0);
        await new Promise((resolve) => {
          waiting = resolve;
        });
        waiting = null;
      }
      const line = lines.shift();
      if (!line.trim()) continue;
      let request;
      try {
        request = JSON.parse(line);
      } catch (err) {
        throw new ProtocolError(`a request that is not JSON (${err.message}): ${line.slice(0, 200)}`);
      }
      if (request === null || typeof request !== 'object' || !Number.isInteger(request.seq)) {
        throw new ProtocolError(`a request without an integer seq: ${line.slice(0, 200)}`);
      }
      writeLine(await serve(driver, request));
      if (request.op === 'bye') process.exit(0);
    }
  })().catch((err) => {
    log(err instanceof ProtocolError ? `protocol error: ${err.message}` : `driver bug: ${err.stack}`);
    process.exit(2);
  });
}

// Nothing but replies may reach standard output.
console.log = (...args) => log(args.join(' '));

main();

//! `closed:IP`: a port on loopback that nothing listens on or receives at, held by the runner
//! for the whole scenario so that no other socket (of this run or of another process) can take it
//! meanwhile.
//!
//! "Closed" is held differently per protocol, each checked by experiment on Linux (see
//! `spec/scenario-format.md` §9.1):
//! - TCP: a socket bound to the port that never listens. A SYN finds no listener and is answered
//!   with a reset, so `connect` fails with `ECONNREFUSED`, as for a port with no socket at all.
//! - UDP: a socket bound to the port *and connected to its own address*. A bound socket that is
//!   not connected would receive (queue) every datagram sent there and no ICMP would be sent;
//!   a connected one matches only datagrams from its peer — itself, which sends nothing — so
//!   everyone else's datagrams find no socket and the kernel answers ICMP port unreachable
//!   (`ECONNREFUSED` on a connected sender), exactly as for a port with no socket.
//!
//! Both sockets are bound without `SO_REUSEADDR` or `SO_REUSEPORT`, so a scenario's `bind` to
//! the port fails with `EADDRINUSE`.

use socket2::{Domain, Protocol, SockAddr, Socket, Type};
use std::io;
use std::net::{IpAddr, SocketAddr};

/// How many ports to try before giving up: the TCP port the system picks may be taken for UDP.
const ATTEMPTS: usize = 64;

/// A port held closed for TCP and UDP on one loopback address.
pub(crate) struct ClosedPort {
    /// The address: the loopback IP and the held port.
    pub address: SocketAddr,
    // Held only to keep the port; closed when the scenario ends.
    _tcp: Socket,
    _udp: Socket,
}

impl ClosedPort {
    /// Holds a port on `ip` closed for both TCP and UDP.
    pub fn hold(ip: IpAddr) -> io::Result<ClosedPort> {
        let domain = Domain::for_address(SocketAddr::new(ip, 0));
        let mut last = None;
        for _ in 0..ATTEMPTS {
            let tcp = Socket::new(domain, Type::STREAM, Some(Protocol::TCP))?;
            tcp.bind(&SockAddr::from(SocketAddr::new(ip, 0)))?;
            let address = tcp
                .local_addr()?
                .as_socket()
                .ok_or_else(|| io::Error::other("a TCP socket's address is not an IP address"))?;
            let udp = Socket::new(domain, Type::DGRAM, Some(Protocol::UDP))?;
            match udp.bind(&SockAddr::from(address)) {
                Ok(()) => {}
                // Another socket has this port for UDP: try another port.
                Err(e) if e.kind() == io::ErrorKind::AddrInUse => {
                    last = Some(e);
                    continue;
                }
                Err(e) => return Err(e),
            }
            udp.connect(&SockAddr::from(address))?;
            return Ok(ClosedPort {
                address,
                _tcp: tcp,
                _udp: udp,
            });
        }
        Err(last.unwrap_or_else(|| io::Error::other("no port could be held")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::{Ipv4Addr, Ipv6Addr, TcpListener, TcpStream, UdpSocket};
    use std::time::Duration;

    fn held(ip: IpAddr) -> ClosedPort {
        ClosedPort::hold(ip).expect("a port can be held on loopback")
    }

    #[test]
    fn tcp_connect_to_a_held_closed_port_is_refused() {
        for ip in [
            IpAddr::V4(Ipv4Addr::LOCALHOST),
            IpAddr::V6(Ipv6Addr::LOCALHOST),
        ] {
            let port = held(ip);
            let err = TcpStream::connect(port.address).expect_err("nothing listens there");
            assert_eq!(err.kind(), io::ErrorKind::ConnectionRefused, "{ip}");
        }
    }

    #[test]
    fn udp_to_a_held_closed_port_gets_port_unreachable() {
        for ip in [
            IpAddr::V4(Ipv4Addr::LOCALHOST),
            IpAddr::V6(Ipv6Addr::LOCALHOST),
        ] {
            let port = held(ip);
            let sender = UdpSocket::bind(SocketAddr::new(ip, 0)).unwrap();
            sender.connect(port.address).unwrap();
            sender.send(b"x").unwrap();
            // The ICMP error arrives with the next call; the timeout only bounds a failure.
            sender
                .set_read_timeout(Some(Duration::from_secs(5)))
                .unwrap();
            let err = sender
                .recv(&mut [0; 8])
                .expect_err("no socket receives there");
            assert_eq!(err.kind(), io::ErrorKind::ConnectionRefused, "{ip}");
        }
    }

    #[test]
    fn a_held_closed_port_cannot_be_bound_by_anyone_else() {
        let port = held(IpAddr::V4(Ipv4Addr::LOCALHOST));
        let tcp = TcpListener::bind(port.address).expect_err("the TCP port is held");
        assert_eq!(tcp.kind(), io::ErrorKind::AddrInUse);
        let udp = UdpSocket::bind(port.address).expect_err("the UDP port is held");
        assert_eq!(udp.kind(), io::ErrorKind::AddrInUse);
    }

    #[test]
    fn a_closed_port_is_free_again_once_released() {
        let port = held(IpAddr::V4(Ipv4Addr::LOCALHOST));
        let address = port.address;
        drop(port);
        TcpListener::bind(address).expect("released with the scenario");
    }
}

//! Conversions between [`Address`] and the kernel's `sockaddr`, and name resolution.

use crate::vocab::{Address, ErrorCode, Family, SockError, SocketType};
use socket2::SockAddr;
use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

/// The `sockaddr` for `address` on a socket of this family and type, resolving host names with
/// getaddrinfo(3) as Python does (first result of the socket's family).
pub(crate) fn to_sockaddr(
    address: &Address,
    family: Family,
    kind: SocketType,
) -> Result<SockAddr, SockError> {
    match address {
        Address::Ip(ip) => Ok(SockAddr::from(*ip)),
        Address::Host { host, port } => resolve(host, *port, family, kind).map(SockAddr::from),
        Address::UnixPath(path) => unix_sockaddr(path.as_os_str()),
        Address::UnixAbstract(name) => {
            let mut bytes = vec![0u8];
            bytes.extend_from_slice(name);
            unix_sockaddr(OsStr::from_bytes(&bytes))
        }
        // An empty sun_path: on Linux, bind() then autobinds to an abstract name.
        Address::UnixUnnamed => unix_sockaddr(OsStr::new("")),
    }
}

fn unix_sockaddr(path: &OsStr) -> Result<SockAddr, SockError> {
    // socket2 refuses paths that do not fit sun_path, before any system call, as Python does.
    SockAddr::unix(Path::new(path)).map_err(|_| SockError {
        code: ErrorCode::Rejected,
        message: "AF_UNIX path too long".to_string(),
    })
}

/// getaddrinfo(3) for `host`, restricted to the socket's family and type.
fn resolve(
    host: &str,
    port: u16,
    family: Family,
    kind: SocketType,
) -> Result<std::net::SocketAddr, SockError> {
    let hints = dns_lookup::AddrInfoHints {
        flags: 0,
        address: match family {
            Family::Inet => libc::AF_INET,
            Family::Inet6 => libc::AF_INET6,
            Family::Unix => libc::AF_UNSPEC,
        },
        socktype: match kind {
            SocketType::Stream => libc::SOCK_STREAM,
            SocketType::Dgram => libc::SOCK_DGRAM,
            SocketType::Seqpacket => libc::SOCK_SEQPACKET,
        },
        protocol: 0,
    };
    let gai_error = |e: dns_lookup::LookupError| SockError::new(ErrorCode::AddrInfo(e.error_num()));
    let mut results = dns_lookup::getaddrinfo(Some(host), Some(&port.to_string()), Some(hints))
        .map_err(gai_error)?;
    match results.next() {
        Some(Ok(info)) => Ok(info.sockaddr),
        Some(Err(e)) => Err(e.into()),
        None => Err(SockError::new(ErrorCode::AddrInfo(libc::EAI_NONAME))),
    }
}

/// The [`Address`] the kernel reported. An empty address (length 0, as `recvfrom` reports for an
/// unbound Unix sender) is `unnamed`, like an unbound Unix socket's own name.
pub(crate) fn from_sockaddr(address: &SockAddr) -> Address {
    if let Some(ip) = address.as_socket() {
        return Address::Ip(ip);
    }
    if let Some(name) = address.as_abstract_namespace() {
        return Address::UnixAbstract(name.to_vec());
    }
    if let Some(path) = address.as_pathname() {
        return Address::UnixPath(path.to_path_buf());
    }
    Address::UnixUnnamed
}

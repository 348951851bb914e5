//! The tutorial's TCP client, step by step, with sockspec's reference implementation.
//!
//! ```text
//! cargo run --example echo_client -- 127.0.0.1:PORT "hello, server"
//! ```

use sockspec::reference::Socket;
use sockspec::vocab::{Address, Family, RecvFlags, Shutdown, SocketType};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let address: Address = args
        .next()
        .ok_or("usage: echo_client HOST:PORT [MESSAGE]")?
        .parse()?;
    let message = args.next().unwrap_or_else(|| "hello".to_string());

    // 1. socket(family, type): SOCK_STREAM. (The tutorial's client uses SOCK_DGRAM, which
    //    cannot talk to a TCP server: see fixtures/tutorial/.)
    let client = Socket::new(Family::Inet, SocketType::Stream)?;
    // 2. connect((host, port)): ECONNREFUSED if nobody listens there.
    client.connect(address)?;
    // 3. send/recv: send may take fewer bytes than given; sendall sends them all.
    client.sendall(message.as_bytes())?;
    // Tell the server we are done sending, so its recv returns end of stream.
    client.shutdown(Shutdown::Write)?;
    let mut reply = Vec::new();
    loop {
        let data = client.recv(1024, RecvFlags::default())?;
        if data.is_empty() {
            break;
        }
        reply.extend_from_slice(&data);
    }
    println!("{}", String::from_utf8_lossy(&reply));
    // 4. close().
    client.close()?;
    Ok(())
}

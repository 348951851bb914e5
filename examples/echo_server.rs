//! The tutorial's TCP server, step by step, with sockspec's reference implementation.
//!
//! ```text
//! cargo run --example echo_server               # serves clients one after another, forever
//! cargo run --example echo_server -- 127.0.0.1:5000 2   # that address; stop after 2 clients
//! ```
//! Then, in another terminal: `cargo run --example echo_client -- 127.0.0.1:PORT hello`.

use sockspec::reference::Socket;
use sockspec::vocab::{Address, Family, RecvFlags, SocketType};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let address: Address = args
        .next()
        .unwrap_or_else(|| "127.0.0.1:0".to_string())
        .parse()?;
    let clients: Option<usize> = args.next().map(|n| n.parse()).transpose()?;

    // 1. socket(family, type): the tutorial writes SOCK_STRAM; the constant is SOCK_STREAM.
    let server = Socket::new(Family::Inet, SocketType::Stream)?;
    // 2. bind((host, port)): fails with EADDRINUSE if the port is taken.
    server.bind(address)?;
    // 3. listen(backlog): backlog bounds the queue of connections not yet accepted,
    //    not the number of clients.
    server.listen(5)?;
    println!("listening on {}", server.getsockname()?);

    let mut served = 0;
    while clients.is_none_or(|n| served < n) {
        // 4. accept(): waits for a client; returns a new socket and the client's address.
        let (connection, peer) = server.accept()?;
        println!("connection from {peer}");
        // 5. recv/send until the client closes (recv returns no bytes at end of stream).
        loop {
            let data = connection.recv(1024, RecvFlags::default())?;
            if data.is_empty() {
                break;
            }
            connection.sendall(&data)?;
        }
        // 6. close() the client's socket.
        connection.close()?;
        served += 1;
    }
    // Finally close the server's socket.
    server.close()?;
    Ok(())
}

//! A TCP proxy on 127.0.0.1 that can record, slow down and cut a connection:
//! the faults a real server will not produce on demand.

#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

#[derive(Clone, Default)]
pub struct Faults {
    /// Close both directions after this many server-to-client bytes (per connection).
    pub cut_after: Option<u64>,
    /// Sleep this long after each forwarded server chunk.
    pub delay_per_chunk: Option<Duration>,
    /// Forward server bytes in chunks of at most this size (default 16 KiB).
    pub chunk: Option<usize>,
    /// Close both directions right after forwarding the server chunk that contains
    /// this (e.g. b"354 " to cut an SMTP connection mid-DATA).
    pub cut_after_server_says: Option<Vec<u8>>,
}

pub struct Proxy {
    pub port: u16,
    /// Everything clients sent, for checking that no secret crossed in clear.
    pub client_bytes: Arc<Mutex<Vec<u8>>>,
    pub server_bytes: Arc<AtomicU64>,
    stop: Arc<AtomicBool>,
}

impl Proxy {
    pub fn start(target_port: u16, faults: Faults) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        listener.set_nonblocking(true).unwrap();
        let client_bytes = Arc::new(Mutex::new(Vec::new()));
        let server_bytes = Arc::new(AtomicU64::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let (cb, sb, st) = (client_bytes.clone(), server_bytes.clone(), stop.clone());
        std::thread::spawn(move || {
            while !st.load(Ordering::Relaxed) {
                match listener.accept() {
                    Ok((client, _)) => {
                        client.set_nonblocking(false).unwrap();
                        let Ok(server) = TcpStream::connect(("127.0.0.1", target_port)) else {
                            continue;
                        };
                        spawn_pair(client, server, faults.clone(), cb.clone(), sb.clone());
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(10)),
                }
            }
        });
        Proxy { port, client_bytes, server_bytes, stop }
    }

    pub fn client_sent(&self) -> Vec<u8> {
        self.client_bytes.lock().unwrap().clone()
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

fn spawn_pair(client: TcpStream, server: TcpStream, f: Faults, cb: Arc<Mutex<Vec<u8>>>, sb: Arc<AtomicU64>) {
    let (mut c_read, mut s_write) = (client.try_clone().unwrap(), server.try_clone().unwrap());
    std::thread::spawn(move || {
        let mut buf = [0u8; 16384];
        loop {
            match c_read.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    cb.lock().unwrap().extend_from_slice(&buf[..n]);
                    if s_write.write_all(&buf[..n]).is_err() {
                        break;
                    }
                }
            }
        }
        let _ = s_write.shutdown(Shutdown::Write);
    });
    let (mut s_read, mut c_write) = (server, client);
    std::thread::spawn(move || {
        let chunk = f.chunk.unwrap_or(16384);
        let mut buf = vec![0u8; chunk];
        let mut sent = 0u64;
        loop {
            match s_read.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    let mut n = n as u64;
                    if let Some(cut) = f.cut_after
                        && sent + n >= cut
                    {
                        n = cut - sent;
                        let _ = c_write.write_all(&buf[..n as usize]);
                        sb.fetch_add(n, Ordering::Relaxed);
                        let _ = c_write.shutdown(Shutdown::Both);
                        let _ = s_read.shutdown(Shutdown::Both);
                        return;
                    }
                    if let Some(p) = &f.cut_after_server_says
                        && buf[..n as usize].windows(p.len()).any(|w| w == p.as_slice())
                    {
                        let _ = c_write.write_all(&buf[..n as usize]);
                        sb.fetch_add(n, Ordering::Relaxed);
                        let _ = c_write.shutdown(Shutdown::Both);
                        let _ = s_read.shutdown(Shutdown::Both);
                        return;
                    }
                    if c_write.write_all(&buf[..n as usize]).is_err() {
                        break;
                    }
                    sent += n;
                    sb.fetch_add(n, Ordering::Relaxed);
                    if let Some(d) = f.delay_per_chunk {
                        std::thread::sleep(d);
                    }
                }
            }
        }
        let _ = c_write.shutdown(Shutdown::Both);
    });
}

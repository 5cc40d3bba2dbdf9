//! A minimal HTTPS GET, for looking up reporters' keys (WKD, a keyserver).
//!
//! Only what a key lookup needs: one request, `Connection: close`, a size cap, a
//! timeout, certificates verified (system roots plus an optional CA file), no
//! redirects followed, nothing but `https://`.

use std::io::{Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::path::Path;
use std::time::Duration;

use rustls::{ClientConnection, StreamOwned};
use rustls_pki_types::ServerName;

#[derive(Debug, thiserror::Error)]
pub enum HttpsError {
    #[error("{0} is not an https:// URL")]
    NotHttps(String),
    #[error("{url}: {reason}")]
    Failed { url: String, reason: String },
    #[error("{url}: HTTP {status}")]
    Status { url: String, status: u16 },
    #[error("{url}: the answer is larger than {max} bytes")]
    TooLarge { url: String, max: usize },
}

/// GET `url`; the body on 200, `Ok(None)` on 404.
pub fn get(url: &str, ca_file: Option<&Path>, timeout: Duration, max: usize) -> Result<Option<Vec<u8>>, HttpsError> {
    let rest = url.strip_prefix("https://").ok_or_else(|| HttpsError::NotHttps(url.to_string()))?;
    let (authority, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "/"),
    };
    let (host, port) = match authority.rsplit_once(':') {
        Some((h, p)) if p.chars().all(|c| c.is_ascii_digit()) && !p.is_empty() => (h, p.parse::<u16>().unwrap_or(443)),
        _ => (authority, 443),
    };
    let fail = |reason: String| HttpsError::Failed { url: url.to_string(), reason };
    let addr = (host, port)
        .to_socket_addrs()
        .map_err(|e| fail(format!("cannot resolve {host}: {e}")))?
        .next()
        .ok_or_else(|| fail(format!("cannot resolve {host}")))?;
    let tcp = TcpStream::connect_timeout(&addr, timeout).map_err(|e| fail(e.to_string()))?;
    tcp.set_read_timeout(Some(timeout)).ok();
    tcp.set_write_timeout(Some(timeout)).ok();
    let config = super::tls::client_config(ca_file).map_err(|e| fail(e.to_string()))?;
    let name = ServerName::try_from(host.to_string()).map_err(|_| fail(format!("{host:?} is not a server name")))?;
    let conn = ClientConnection::new(config, name).map_err(|e| fail(e.to_string()))?;
    let mut tls = StreamOwned::new(conn, tcp);
    let request = format!(
        "GET {path} HTTP/1.1\r\nHost: {authority}\r\nUser-Agent: vulnmail/{}\r\nAccept: */*\r\nConnection: close\r\n\r\n",
        env!("CARGO_PKG_VERSION")
    );
    tls.write_all(request.as_bytes()).map_err(|e| fail(super::tls::explain(&e)))?;
    let mut response = Vec::new();
    let mut buf = [0u8; 16 * 1024];
    loop {
        match tls.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => {
                response.extend_from_slice(&buf[..n]);
                if response.len() > max + 64 * 1024 {
                    return Err(HttpsError::TooLarge { url: url.to_string(), max });
                }
            }
            // Servers that close without close_notify: what arrived is complete
            // when the framing says so (checked below).
            Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => break,
            Err(e) => return Err(fail(super::tls::explain(&e))),
        }
    }
    let head_end = response.windows(4).position(|w| w == b"\r\n\r\n").ok_or_else(|| fail("no HTTP header".into()))?;
    let head = String::from_utf8_lossy(&response[..head_end]).into_owned();
    let body = &response[head_end + 4..];
    let status: u16 = head
        .lines()
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| fail("no HTTP status".into()))?;
    if status == 404 {
        return Ok(None);
    }
    if status != 200 {
        return Err(HttpsError::Status { url: url.to_string(), status });
    }
    let header = |name: &str| {
        head.lines().skip(1).find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.trim().eq_ignore_ascii_case(name).then(|| v.trim().to_ascii_lowercase())
        })
    };
    let body = if header("transfer-encoding").is_some_and(|v| v.contains("chunked")) {
        dechunk(body).ok_or_else(|| fail("malformed chunked body".into()))?
    } else if let Some(len) = header("content-length").and_then(|v| v.parse::<usize>().ok()) {
        if body.len() < len {
            return Err(fail("the answer was cut short".into()));
        }
        body[..len].to_vec()
    } else {
        body.to_vec()
    };
    if body.len() > max {
        return Err(HttpsError::TooLarge { url: url.to_string(), max });
    }
    Ok(Some(body))
}

fn dechunk(mut b: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    loop {
        let line_end = b.windows(2).position(|w| w == b"\r\n")?;
        let size_text = String::from_utf8_lossy(&b[..line_end]);
        let size = usize::from_str_radix(size_text.split(';').next()?.trim(), 16).ok()?;
        b = &b[line_end + 2..];
        if size == 0 {
            return Some(out);
        }
        if b.len() < size + 2 {
            return None;
        }
        out.extend_from_slice(&b[..size]);
        b = &b[size + 2..];
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunked_bodies() {
        assert_eq!(dechunk(b"3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n").unwrap(), b"abcde");
        assert!(dechunk(b"5\r\nab").is_none());
    }

    #[test]
    fn only_https() {
        assert!(matches!(get("http://example.org/", None, Duration::from_secs(1), 10), Err(HttpsError::NotHttps(_))));
    }
}

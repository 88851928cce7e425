//! A minimal HTTP/1.1 keep-alive client for the measured loops: one TCP connection per
//! simulated client, requests written from prebuilt bytes, responses read into one reused
//! buffer. It costs far less CPU per request than a general client, which matters when the
//! load generator shares the machine with the server.

use std::io;
use std::net::SocketAddr;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Most header lines read from a response.
const MAX_HEADERS: usize = 48;
/// Largest response accepted (headers and body).
const MAX_RESPONSE: usize = 16 << 20;

/// The address of a base URL like `http://127.0.0.1:8080`, and its `Host` header value.
pub async fn resolve(base: &str) -> anyhow::Result<(SocketAddr, String)> {
    let u = reqwest::Url::parse(base)?;
    let host = u
        .host_str()
        .ok_or_else(|| anyhow::anyhow!("no host in {base}"))?;
    let port = u.port_or_known_default().unwrap_or(80);
    let host = host.trim_start_matches('[').trim_end_matches(']');
    let addr = tokio::net::lookup_host((host, port))
        .await?
        .next()
        .ok_or_else(|| anyhow::anyhow!("{host} does not resolve"))?;
    let header = match u.port() {
        Some(p) => format!("{}:{p}", u.host_str().unwrap_or(host)),
        None => u.host_str().unwrap_or(host).to_string(),
    };
    Ok((addr, header))
}

/// Appends a complete request to `out`.
pub fn build(
    out: &mut Vec<u8>,
    method: &str,
    path: &str,
    host: &str,
    auth: Option<&[u8]>,
    body: Option<&[u8]>,
) {
    out.extend_from_slice(method.as_bytes());
    out.push(b' ');
    out.extend_from_slice(path.as_bytes());
    out.extend_from_slice(b" HTTP/1.1\r\nHost: ");
    out.extend_from_slice(host.as_bytes());
    out.extend_from_slice(b"\r\nAccept: application/json\r\n");
    if let Some(a) = auth {
        out.extend_from_slice(b"Authorization: ");
        out.extend_from_slice(a);
        out.extend_from_slice(b"\r\n");
    }
    match body {
        Some(b) => {
            out.extend_from_slice(b"Content-Type: application/json\r\nContent-Length: ");
            out.extend_from_slice(b.len().to_string().as_bytes());
            out.extend_from_slice(b"\r\n\r\n");
            out.extend_from_slice(b);
        }
        None => out.extend_from_slice(b"\r\n"),
    }
}

/// One keep-alive connection, reopened after an error or a `Connection: close`.
pub struct Conn {
    addr: SocketAddr,
    stream: Option<TcpStream>,
    buf: Vec<u8>,
    decoded: Vec<u8>,
}

/// Where the body of the last response is.
enum BodyAt {
    Buf(usize, usize),
    Decoded,
}

impl Conn {
    /// A connection to `addr`, opened on first use.
    pub fn new(addr: SocketAddr) -> Conn {
        Conn {
            addr,
            stream: None,
            buf: Vec::with_capacity(16 << 10),
            decoded: Vec::new(),
        }
    }

    /// Sends a complete request and returns the status and the body. A request on a reused
    /// connection that the server had closed before answering is sent again once on a new one.
    pub async fn send(&mut self, req: &[u8]) -> io::Result<(u16, &[u8])> {
        let reused = self.stream.is_some();
        let r = match self.round_trip(req).await {
            Err(e) if reused && e.kind() == io::ErrorKind::ConnectionAborted => {
                self.stream = None;
                self.round_trip(req).await
            }
            r => r,
        };
        match r {
            Ok((status, at)) => Ok((
                status,
                match at {
                    BodyAt::Buf(a, b) => &self.buf[a..b],
                    BodyAt::Decoded => &self.decoded,
                },
            )),
            Err(e) => {
                self.stream = None;
                Err(e)
            }
        }
    }

    async fn round_trip(&mut self, req: &[u8]) -> io::Result<(u16, BodyAt)> {
        if self.stream.is_none() {
            let s = TcpStream::connect(self.addr).await?;
            s.set_nodelay(true)?;
            self.stream = Some(s);
        }
        let s = self.stream.as_mut().expect("connected");
        if let Err(e) = s.write_all(req).await {
            return Err(stale(e));
        }
        self.buf.clear();
        // Headers.
        let (status, head_len, length, chunked, close) = loop {
            if read_more(s, &mut self.buf).await? == 0 {
                return Err(if self.buf.is_empty() {
                    io::Error::new(
                        io::ErrorKind::ConnectionAborted,
                        "connection closed before the response",
                    )
                } else {
                    io::Error::new(
                        io::ErrorKind::UnexpectedEof,
                        "connection closed in the response headers",
                    )
                });
            }
            let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
            let mut resp = httparse::Response::new(&mut headers);
            match resp.parse(&self.buf) {
                Ok(httparse::Status::Complete(n)) => {
                    let mut length = None;
                    let (mut chunked, mut close) = (false, false);
                    for h in resp.headers.iter() {
                        if h.name.eq_ignore_ascii_case("content-length") {
                            length = std::str::from_utf8(h.value)
                                .ok()
                                .and_then(|v| v.trim().parse::<usize>().ok());
                        } else if h.name.eq_ignore_ascii_case("transfer-encoding") {
                            chunked = h
                                .value
                                .windows(7)
                                .any(|w| w.eq_ignore_ascii_case(b"chunked"));
                        } else if h.name.eq_ignore_ascii_case("connection") {
                            close = h.value.windows(5).any(|w| w.eq_ignore_ascii_case(b"close"));
                        }
                    }
                    break (resp.code.unwrap_or(0), n, length, chunked, close);
                }
                Ok(httparse::Status::Partial) => continue,
                Err(e) => return Err(io::Error::new(io::ErrorKind::InvalidData, e.to_string())),
            }
        };
        // Body.
        let at = if chunked {
            self.read_chunked(head_len).await?
        } else if let Some(len) = length {
            let end = head_len + len;
            if end > MAX_RESPONSE {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    "response too large",
                ));
            }
            let s = self.stream.as_mut().expect("connected");
            while self.buf.len() < end {
                if read_more(s, &mut self.buf).await? == 0 {
                    return Err(io::Error::new(
                        io::ErrorKind::UnexpectedEof,
                        "connection closed in the body",
                    ));
                }
            }
            if self.buf.len() > end {
                // Bytes past the response: the stream is out of step; start afresh next time.
                self.stream = None;
            }
            BodyAt::Buf(head_len, end)
        } else if status == 204 || status == 304 || (100..200).contains(&status) {
            BodyAt::Buf(head_len, head_len)
        } else {
            // No length: the body runs to the end of the connection.
            let s = self.stream.as_mut().expect("connected");
            while read_more(s, &mut self.buf).await? > 0 {}
            self.stream = None;
            BodyAt::Buf(head_len, self.buf.len())
        };
        if close {
            self.stream = None;
        }
        Ok((status, at))
    }

    async fn read_chunked(&mut self, mut pos: usize) -> io::Result<BodyAt> {
        self.decoded.clear();
        let s = self.stream.as_mut().expect("connected");
        loop {
            // Chunk size line.
            let line_end = loop {
                if let Some(i) = find_crlf(&self.buf[pos..]) {
                    break pos + i;
                }
                if read_more(s, &mut self.buf).await? == 0 {
                    return Err(io::Error::new(
                        io::ErrorKind::UnexpectedEof,
                        "closed in a chunk",
                    ));
                }
            };
            let line = std::str::from_utf8(&self.buf[pos..line_end]).unwrap_or("");
            let size_hex = line.split(';').next().unwrap_or("").trim();
            let size = usize::from_str_radix(size_hex, 16)
                .map_err(|_| io::Error::new(io::ErrorKind::InvalidData, "bad chunk size"))?;
            pos = line_end + 2;
            if size == 0 {
                // Trailers end with an empty line.
                loop {
                    if let Some(i) = find_crlf(&self.buf[pos..]) {
                        pos += i + 2;
                        if i == 0 {
                            break;
                        }
                        continue;
                    }
                    if read_more(s, &mut self.buf).await? == 0 {
                        return Err(io::Error::new(
                            io::ErrorKind::UnexpectedEof,
                            "closed in trailers",
                        ));
                    }
                }
                if self.buf.len() > pos {
                    self.stream = None;
                }
                return Ok(BodyAt::Decoded);
            }
            if self.decoded.len() + size > MAX_RESPONSE {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    "response too large",
                ));
            }
            while self.buf.len() < pos + size + 2 {
                if read_more(s, &mut self.buf).await? == 0 {
                    return Err(io::Error::new(
                        io::ErrorKind::UnexpectedEof,
                        "closed in a chunk",
                    ));
                }
            }
            self.decoded.extend_from_slice(&self.buf[pos..pos + size]);
            pos += size + 2;
        }
    }
}

fn find_crlf(b: &[u8]) -> Option<usize> {
    b.windows(2).position(|w| w == b"\r\n")
}

/// A write failure on a reused connection means the server had closed it.
fn stale(e: io::Error) -> io::Error {
    match e.kind() {
        io::ErrorKind::BrokenPipe | io::ErrorKind::ConnectionReset => {
            io::Error::new(io::ErrorKind::ConnectionAborted, e.to_string())
        }
        _ => e,
    }
}

async fn read_more(s: &mut TcpStream, buf: &mut Vec<u8>) -> io::Result<usize> {
    if buf.len() >= MAX_RESPONSE {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            "response too large",
        ));
    }
    buf.reserve(16 << 10);
    match s.read_buf(buf).await {
        Err(e) if e.kind() == io::ErrorKind::ConnectionReset && buf.is_empty() => Err(
            io::Error::new(io::ErrorKind::ConnectionAborted, e.to_string()),
        ),
        r => r,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::net::TcpListener;

    /// A server that answers each request with the next canned reply.
    async fn canned(replies: Vec<&'static [u8]>) -> SocketAddr {
        let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = l.local_addr().unwrap();
        tokio::spawn(async move {
            let (mut s, _) = l.accept().await.unwrap();
            let mut buf = vec![0u8; 4096];
            for r in replies {
                let mut got = Vec::new();
                while !got.windows(4).any(|w| w == b"\r\n\r\n") {
                    let n = s.read(&mut buf).await.unwrap();
                    got.extend_from_slice(&buf[..n]);
                }
                s.write_all(r).await.unwrap();
            }
        });
        addr
    }

    #[tokio::test]
    async fn reads_lengths_and_chunks_on_one_connection() {
        let addr = canned(vec![
            b"HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\nhello",
            b"HTTP/1.1 404 Not Found\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2;x=y\r\nde\r\n0\r\n\r\n",
            b"HTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n",
        ])
        .await;
        let mut c = Conn::new(addr);
        let mut req = Vec::new();
        build(&mut req, "GET", "/x", "127.0.0.1", None, None);
        assert_eq!(c.send(&req).await.unwrap(), (200, &b"hello"[..]));
        assert_eq!(c.send(&req).await.unwrap(), (404, &b"abcde"[..]));
        let mut post = Vec::new();
        build(
            &mut post,
            "POST",
            "/y",
            "127.0.0.1",
            Some(b"Bearer t"),
            Some(b"{}"),
        );
        assert!(post.ends_with(b"Content-Length: 2\r\n\r\n{}"));
        assert_eq!(c.send(&post).await.unwrap(), (201, &b""[..]));
    }
}

//! Just enough HTTP/1.1 to read one response off a kept-alive connection: the head, then a
//! body framed by `Content-Length`, by chunks, or by the end of the connection.

use std::io;

use tokio::io::{AsyncRead, AsyncReadExt};

/// Responses longer than this are not what the benchmarks ask for.
const MAX_RESPONSE: usize = 64 * 1024 * 1024;

/// Reads one response; returns its status. Bytes read past it stay in `buf` (none, in
/// practice: a client waits for each response before asking again).
pub async fn read_response<S: AsyncRead + Unpin>(
    stream: &mut S,
    buf: &mut Vec<u8>,
) -> io::Result<u16> {
    let (status, end) = read_whole(stream, buf).await?;
    buf.drain(..end);
    Ok(status)
}

/// Reads one response; returns its status and its body (as sent: a chunked body keeps its
/// framing).
pub async fn read_response_body<S: AsyncRead + Unpin>(
    stream: &mut S,
    buf: &mut Vec<u8>,
) -> io::Result<(u16, Vec<u8>)> {
    let (status, end) = read_whole(stream, buf).await?;
    let head = find(buf, b"\r\n\r\n").map_or(end, |i| i + 4);
    let body = buf[head..end].to_vec();
    buf.drain(..end);
    Ok((status, body))
}

/// Reads one response; returns its status, its body, and whether the server closes the
/// connection after it (`Connection: close`, or HTTP/1.0 without `keep-alive`).
pub async fn read_response_closing<S: AsyncRead + Unpin>(
    stream: &mut S,
    buf: &mut Vec<u8>,
) -> io::Result<(u16, Vec<u8>, bool)> {
    let (status, end) = read_whole(stream, buf).await?;
    let head_len = find(buf, b"\r\n\r\n").map_or(end, |i| i + 4);
    let head = String::from_utf8_lossy(&buf[..head_len]).to_ascii_lowercase();
    let keep_alive = head.contains("\r\nconnection: keep-alive");
    let close =
        head.contains("\r\nconnection: close") || (head.starts_with("http/1.0") && !keep_alive);
    let body = buf[head_len..end].to_vec();
    buf.drain(..end);
    Ok((status, body, close))
}

/// Reads until `buf` holds a whole response; returns its status and length.
async fn read_whole<S: AsyncRead + Unpin>(
    stream: &mut S,
    buf: &mut Vec<u8>,
) -> io::Result<(u16, usize)> {
    loop {
        if let Some(done) = complete(buf, false)? {
            return Ok(done);
        }
        if buf.len() > MAX_RESPONSE {
            return Err(io::Error::other("response too long"));
        }
        let eof = match stream.read_buf(buf).await {
            Ok(0) => true,
            Ok(_) => false,
            // A server that closes without close_notify after a close-delimited body.
            Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => true,
            Err(e) => return Err(e),
        };
        if eof {
            return match complete(buf, true)? {
                Some(done) => Ok(done),
                None if buf.is_empty() => Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "connection closed before a response",
                )),
                None => Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "connection closed within a response",
                )),
            };
        }
    }
}

/// `Some((status, length))` once `buf` holds a whole response.
fn complete(buf: &[u8], eof: bool) -> io::Result<Option<(u16, usize)>> {
    let Some(head_len) = find(buf, b"\r\n\r\n").map(|i| i + 4) else {
        return Ok(None);
    };
    let head = std::str::from_utf8(&buf[..head_len]).map_err(|_| bad("head not UTF-8"))?;
    let mut lines = head.split("\r\n");
    let status_line = lines.next().unwrap_or_default();
    let status: u16 = status_line
        .strip_prefix("HTTP/1.1 ")
        .or_else(|| status_line.strip_prefix("HTTP/1.0 "))
        .and_then(|s| s.get(..3))
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| bad(&format!("status line {status_line:?}")))?;
    let mut length = None;
    let mut chunked = false;
    for line in lines {
        let Some((name, value)) = line.split_once(':') else {
            continue;
        };
        let value = value.trim();
        if name.eq_ignore_ascii_case("content-length") {
            length = Some(value.parse::<usize>().map_err(|_| bad("Content-Length"))?);
        } else if name.eq_ignore_ascii_case("transfer-encoding") {
            chunked = value.eq_ignore_ascii_case("chunked");
        }
    }
    let body = &buf[head_len..];
    if chunked {
        return Ok(chunks_end(body)?.map(|n| (status, head_len + n)));
    }
    match length {
        Some(n) => Ok((body.len() >= n).then_some((status, head_len + n))),
        None if status == 204 || status == 304 => Ok(Some((status, head_len))),
        None => Ok(eof.then_some((status, buf.len()))),
    }
}

/// Length of a chunked body (without trailers) once it is whole.
fn chunks_end(body: &[u8]) -> io::Result<Option<usize>> {
    let mut at = 0;
    loop {
        let Some(line_end) = find(&body[at..], b"\r\n") else {
            return Ok(None);
        };
        let line = std::str::from_utf8(&body[at..at + line_end]).map_err(|_| bad("chunk size"))?;
        let size_hex = line.split(';').next().unwrap_or_default().trim();
        let size = usize::from_str_radix(size_hex, 16).map_err(|_| bad("chunk size"))?;
        at += line_end + 2;
        if size == 0 {
            // The last chunk, then the trailer section ends with an empty line.
            return Ok(find(&body[at..], b"\r\n").map(|i| at + i + 2));
        }
        if body.len() < at + size + 2 {
            return Ok(None);
        }
        at += size + 2;
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

fn bad(what: &str) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidData,
        format!("bad HTTP response: {what}"),
    )
}

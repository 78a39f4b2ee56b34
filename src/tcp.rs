//! A TCP check's probe (`kind = "tcp"`), with the runtime's `connect()`
//! (Cloudflare's TCP sockets API, workers-rs [`Socket`]): connect (with TLS
//! when asked), write `send`, read until the reply shows
//! whether it starts with `expect_reply`, then close. The core judges what
//! came back ([`Outcome::Replied`], [`Outcome::TlsFailed`]).
//!
//! Every step waits at most until the probe's timeout, and the socket is
//! closed whatever happened: a peer that accepts and never speaks, or drips
//! its banner, costs one timeout and no more. The reply is read into at most
//! `expect_reply`'s length (512 bytes at most), so a peer that floods costs
//! nothing either. A TCP probe holds one of the round's `max_in_flight`
//! slots like an HTTP probe, so it counts toward the platform's 6
//! connections waiting at once and the subrequest budget the same way.

use std::future::poll_fn;
use std::pin::Pin;

use edgecheck_core::classify::Outcome;
use edgecheck_core::config::TcpCheck;
use edgecheck_core::detail::ProbeDetail;
use futures::FutureExt;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use worker::{SecureTransport, Socket};

use crate::runtime::{self, now_ms};

/// Closes `socket` without waiting for the runtime to confirm it: the
/// first poll of workers-rs' `close` calls the socket's `close()`, which
/// closes both streams at once (a promise cannot be cancelled, so dropping
/// the rest of the future leaves the close under way). The probe's latency
/// and the round's slot then never wait on a close.
fn close(socket: &mut Socket) {
    let _ = socket.close().now_or_never();
}

/// Probes `check` within `timeout_ms`: the outcome and what was seen (the
/// error, the reply's first bytes), for the admin token's full view.
pub async fn connect_within(check: &TcpCheck, timeout_ms: u64) -> (Outcome, ProbeDetail) {
    let end = now_ms().saturating_add(timeout_ms);
    // With `tls`, TLS from the first byte (`secureTransport: "on"`): a
    // connection upgraded later (`starttls`) hands over plaintext that
    // arrived before the upgrade as if it were the TLS reply (seen end to end
    // against a peer that sends an SSH banner at once).
    let transport = if check.tls { SecureTransport::On } else { SecureTransport::Off };
    let mut socket = match Socket::builder().secure_transport(transport).connect(check.host.clone(), check.port) {
        Ok(socket) => socket,
        Err(e) => return (Outcome::ConnectError, ProbeDetail::new(Some(&e.to_string()), Vec::new(), None)),
    };
    let mut reply = Vec::new();
    let (outcome, error) = exchange(&mut socket, check, end, &mut reply).await;
    close(&mut socket);
    let body = (!reply.is_empty()).then_some(reply.as_slice());
    (outcome, ProbeDetail::new(error.as_deref(), Vec::new(), body))
}

/// The probe's steps, each within what is left before `end` (ms since the
/// Unix epoch), on `stream`, which the caller closes afterwards; `reply`
/// gets what the peer sent.
async fn exchange(stream: &mut Socket, check: &TcpCheck, end: u64, reply: &mut Vec<u8>) -> (Outcome, Option<String>) {
    let left = || end.saturating_sub(now_ms());
    let timeout = |what: &str| (Outcome::Timeout { status: None }, Some(format!("no {what} within its timeout")));
    match runtime::within(left(), stream.opened()).await {
        None => return timeout("connection"),
        // With TLS, the runtime says the same of a refusal and of a failed
        // handshake: a plain connection to the same place tells them apart.
        Some(Err(e)) if check.tls => {
            let plain = Socket::builder().connect(check.host.clone(), check.port);
            let Ok(mut plain) = plain else { return (Outcome::ConnectError, Some(e.to_string())) };
            let opens = runtime::within(left(), plain.opened()).await;
            close(&mut plain);
            return match opens {
                Some(Ok(_)) => {
                    (Outcome::TlsFailed, Some(format!("{e} (a plain connection opens: the TLS handshake failed)")))
                }
                None => timeout("connection"),
                Some(Err(_)) => (Outcome::ConnectError, Some(e.to_string())),
            };
        }
        Some(Err(e)) => return (Outcome::ConnectError, Some(e.to_string())),
        Some(Ok(_)) => {}
    }
    // Until the first byte of the reply arrives, a failure of a TLS
    // connection, or its end, is its handshake's: the runtime finishes the
    // handshake with the first exchange, which is why a TLS check needs an
    // `expect_reply`.
    let failed = |e: String| if check.tls { (Outcome::TlsFailed, Some(e)) } else { (Outcome::ConnectError, Some(e)) };
    if let Some(send) = &check.send {
        match runtime::within(left(), write_all(stream, send.as_bytes())).await {
            None => return timeout("room to send"),
            Some(Err(e)) => return failed(e.to_string()),
            Some(Ok(())) => {}
        }
    }
    let Some(expected) = check.expect_reply.as_deref().map(str::as_bytes) else {
        return (Outcome::Replied { reply: Vec::new(), closed: false }, None);
    };
    // Reads until the reply is as long as `expected`, differs from it, or ends.
    let mut buf = [0u8; 512];
    while reply.len() < expected.len() && expected.starts_with(reply) {
        let room = expected.len() - reply.len();
        let take = room.min(buf.len());
        let read = runtime::within(left(), read_some(stream, &mut buf[..take])).await;
        match read {
            None => return timeout("reply starting with the expected bytes"),
            Some(Err(e)) if reply.is_empty() => return failed(e.to_string()),
            Some(Err(e)) => return (Outcome::Replied { reply: reply.clone(), closed: true }, Some(e.to_string())),
            Some(Ok(0)) if reply.is_empty() && check.tls => {
                return failed("the connection ended before the handshake gave a byte".to_string());
            }
            Some(Ok(0)) => {
                let closed = Some("the peer closed the connection".to_string());
                return (Outcome::Replied { reply: reply.clone(), closed: true }, closed);
            }
            Some(Ok(n)) => reply.extend_from_slice(&buf[..n]),
        }
    }
    (Outcome::Replied { reply: reply.clone(), closed: false }, None)
}

/// Writes all of `bytes`, then flushes.
async fn write_all(socket: &mut Socket, mut bytes: &[u8]) -> std::io::Result<()> {
    while !bytes.is_empty() {
        let n = poll_fn(|cx| Pin::new(&mut *socket).poll_write(cx, bytes)).await?;
        if n == 0 {
            return Err(std::io::Error::new(std::io::ErrorKind::WriteZero, "the connection took no bytes"));
        }
        bytes = &bytes[n..];
    }
    poll_fn(|cx| Pin::new(&mut *socket).poll_flush(cx)).await
}

/// Reads what has arrived into `buf`: how many bytes, 0 at the end of the stream.
async fn read_some(socket: &mut Socket, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut read = ReadBuf::new(buf);
    poll_fn(|cx| Pin::new(&mut *socket).poll_read(cx, &mut read)).await?;
    Ok(read.filled().len())
}

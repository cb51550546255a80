//! An `AsyncRead` that fails once a deadline passes, so that a body which
//! stalls (or trickles) cannot keep a parser, and so the invocation, running
//! past the time Lambda gives it.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, ReadBuf};
use tokio::time::{Instant, Sleep};

/// The error a read returns after the deadline; found again with [`is_deadline`].
#[derive(Debug, thiserror::Error)]
#[error("the invocation's deadline is near; reading stopped")]
pub struct DeadlineReached;

/// Whether an I/O error is [`DeadlineReached`].
pub fn is_deadline(e: &io::Error) -> bool {
    e.get_ref()
        .is_some_and(|inner| inner.downcast_ref::<DeadlineReached>().is_some())
}

pub struct DeadlineReader<R> {
    inner: R,
    sleep: Pin<Box<Sleep>>,
}

impl<R> DeadlineReader<R> {
    pub fn new(inner: R, deadline: Instant) -> Self {
        DeadlineReader {
            inner,
            sleep: Box::pin(tokio::time::sleep_until(deadline)),
        }
    }
}

impl<R: AsyncRead + Unpin> AsyncRead for DeadlineReader<R> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        if self.sleep.as_mut().poll(cx).is_ready() {
            return Poll::Ready(Err(io::Error::new(
                io::ErrorKind::TimedOut,
                DeadlineReached,
            )));
        }
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;
    use tokio::io::AsyncReadExt;

    #[tokio::test]
    async fn a_stalled_body_fails_at_the_deadline() {
        // The writer half is kept open and never written: the read would wait forever.
        let (_writer, reader) = tokio::io::duplex(64);
        let mut r = DeadlineReader::new(reader, Instant::now() + Duration::from_millis(50));
        let mut buf = [0u8; 8];
        let err = r.read(&mut buf).await.unwrap_err();
        assert!(is_deadline(&err));
    }

    #[tokio::test]
    async fn reads_before_the_deadline_pass_through() {
        let mut r = DeadlineReader::new(&b"hello"[..], Instant::now() + Duration::from_secs(60));
        let mut s = String::new();
        r.read_to_string(&mut s).await.unwrap();
        assert_eq!(s, "hello");
    }
}

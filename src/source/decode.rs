//! The synchronous decoding chain of one object body: a byte limit on what is
//! read, decompression chosen by magic bytes (not by suffix), and a byte limit
//! on what decompression produces (the decompression-bomb guard).
//!
//! Runs on a blocking thread; memory is bounded by the buffers here, never by
//! the object's size. It does not detect log formats.

use std::io::{self, BufRead, BufReader, Read};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use flate2::bufread::MultiGzDecoder;

/// Size of the read buffers; also how much of the start of the content is
/// available for format sniffing.
pub const BUF_BYTES: usize = 256 * 1024;

const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];
const ZSTD_MAGIC: [u8; 4] = [0x28, 0xb5, 0x2f, 0xfd];
/// "BZh" and a block size digit.
const BZIP2_MAGIC_LEN: usize = 4;
const HEAD_BYTES: usize = 4;

/// Compression of a body, decided from its first bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compression {
    None,
    Gzip,
    Zstd,
    Bzip2,
}

impl Compression {
    pub fn sniff(prefix: &[u8]) -> Compression {
        if prefix.starts_with(&GZIP_MAGIC) {
            Compression::Gzip
        } else if prefix.starts_with(&ZSTD_MAGIC) {
            Compression::Zstd
        } else if prefix.len() >= BZIP2_MAGIC_LEN
            && prefix.starts_with(b"BZh")
            && (b'1'..=b'9').contains(&prefix[3])
        {
            Compression::Bzip2
        } else {
            Compression::None
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Compression::None => "none",
            Compression::Gzip => "gzip",
            Compression::Zstd => "zstd",
            Compression::Bzip2 => "bzip2",
        }
    }
}

/// A limit was exceeded. Carried inside an `io::Error` so that it survives
/// the reader chain, and found again with [`limit_error`].
#[derive(Debug, thiserror::Error)]
#[error("{what} exceeds the limit of {limit} ({variable})")]
pub struct LimitExceeded {
    pub what: &'static str,
    pub limit: u64,
    pub variable: &'static str,
}

/// The `LimitExceeded` inside an I/O error, if that is what it is.
pub fn limit_error(e: &io::Error) -> Option<&LimitExceeded> {
    e.get_ref()
        .and_then(|inner| inner.downcast_ref::<LimitExceeded>())
}

/// Counts the bytes read through it and fails once more than `limit` pass.
pub struct Limited<R> {
    inner: R,
    count: Arc<AtomicU64>,
    seen: u64,
    limit: u64,
    what: &'static str,
    variable: &'static str,
}

impl<R> Limited<R> {
    pub fn new(
        inner: R,
        limit: u64,
        count: Arc<AtomicU64>,
        what: &'static str,
        variable: &'static str,
    ) -> Self {
        Limited {
            inner,
            count,
            seen: 0,
            limit,
            what,
            variable,
        }
    }
}

impl<R: Read> Read for Limited<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.seen += n as u64;
        self.count.fetch_add(n as u64, Ordering::Relaxed);
        if self.seen > self.limit {
            return Err(io::Error::other(LimitExceeded {
                what: self.what,
                limit: self.limit,
                variable: self.variable,
            }));
        }
        Ok(n)
    }
}

/// Byte counters of one object, readable after (or during) decoding.
#[derive(Debug, Default, Clone)]
pub struct Counters {
    /// Bytes read from the store (compressed).
    pub raw: Arc<AtomicU64>,
    /// Bytes after decompression.
    pub decoded: Arc<AtomicU64>,
}

/// Builds the chain: raw body -> limit -> decompress -> limit -> buffer.
pub fn open<R: Read + Send + 'static>(
    body: R,
    max_object_bytes: u64,
    max_decompressed_bytes: u64,
    counters: &Counters,
) -> io::Result<(Compression, Box<dyn BufRead + Send>)> {
    let raw = Limited::new(
        body,
        max_object_bytes,
        counters.raw.clone(),
        "object size",
        "MAX_OBJECT_BYTES",
    );
    let mut raw = Upstream(raw);
    let head = read_head(&mut raw, HEAD_BYTES).map_err(untag)?;
    let compression = Compression::sniff(&head);
    let raw = BufReader::with_capacity(BUF_BYTES, io::Cursor::new(head).chain(raw));
    let decoded: Box<dyn Read + Send> = match compression {
        Compression::Gzip => Box::new(Decoder(MultiGzDecoder::new(raw))),
        // Reads every frame of a multi-frame stream.
        Compression::Zstd => Box::new(Decoder(zstd::stream::read::Decoder::with_buffer(raw)?)),
        Compression::Bzip2 => Box::new(Decoder(bzip2::bufread::MultiBzDecoder::new(raw))),
        Compression::None => Box::new(Decoder(raw)),
    };
    let limited = Limited::new(
        decoded,
        max_decompressed_bytes,
        counters.decoded.clone(),
        "decompressed size",
        "MAX_DECOMPRESSED_BYTES",
    );
    Ok((
        compression,
        Box::new(BufReader::with_capacity(BUF_BYTES, limited)),
    ))
}

/// Marks errors of the raw body (network, limits) so that they can be told
/// apart from the decompressor's own errors (corrupt data).
struct Upstream<R>(R);

#[derive(Debug, thiserror::Error)]
#[error("{0}")]
struct UpstreamError(io::Error);

impl<R: Read> Read for Upstream<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.0
            .read(buf)
            .map_err(|e| io::Error::new(e.kind(), UpstreamError(e)))
    }
}

/// The raw body's own error back, if `e` is one.
fn untag(e: io::Error) -> io::Error {
    if e.get_ref().is_some_and(|i| i.is::<UpstreamError>()) {
        let kind = e.kind();
        match e.into_inner().map(|i| i.downcast::<UpstreamError>()) {
            Some(Ok(up)) => return up.0,
            _ => return io::Error::new(kind, "read error"),
        }
    }
    e
}

/// A decompressor whose own errors are corrupt data (`InvalidData`, or
/// `UnexpectedEof` for a stream that ends early), while the raw body's errors
/// pass through unchanged.
struct Decoder<D>(D);

impl<D: Read> Read for Decoder<D> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.0.read(buf).map_err(|e| {
            if e.get_ref().is_some_and(|i| i.is::<UpstreamError>()) {
                untag(e)
            } else if matches!(
                e.kind(),
                io::ErrorKind::UnexpectedEof | io::ErrorKind::InvalidData
            ) {
                e
            } else {
                io::Error::new(io::ErrorKind::InvalidData, e.to_string())
            }
        })
    }
}

/// Reads the first `want` bytes (fewer if the input is shorter), however
/// the underlying reader splits them.
fn read_head<R: Read>(r: &mut R, want: usize) -> io::Result<Vec<u8>> {
    let mut head = vec![0u8; want];
    let mut got = 0;
    while got < want {
        match r.read(&mut head[got..]) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    head.truncate(got);
    Ok(head)
}

#[cfg(test)]
mod tests {
    use super::*;
    use flate2::write::GzEncoder;
    use std::io::Write;

    fn gz(data: &[u8]) -> Vec<u8> {
        let mut e = GzEncoder::new(Vec::new(), flate2::Compression::default());
        e.write_all(data).unwrap();
        e.finish().unwrap()
    }

    fn read_all(body: Vec<u8>, max_raw: u64, max_dec: u64) -> io::Result<(Compression, String)> {
        let counters = Counters::default();
        let (c, mut r) = open(io::Cursor::new(body), max_raw, max_dec, &counters)?;
        let mut s = String::new();
        r.read_to_string(&mut s)?;
        Ok((c, s))
    }

    #[test]
    fn plain_text_passes_through() {
        let (c, s) = read_all(b"hello\nworld\n".to_vec(), 100, 100).unwrap();
        assert_eq!(c, Compression::None);
        assert_eq!(s, "hello\nworld\n");
    }

    #[test]
    fn gzip_is_detected_by_magic_bytes() {
        let (c, s) = read_all(gz(b"a\nb\n"), 1000, 1000).unwrap();
        assert_eq!(c, Compression::Gzip);
        assert_eq!(s, "a\nb\n");
    }

    #[test]
    fn zstd_and_bzip2_are_detected_by_magic_bytes_with_several_frames() {
        let mut z = zstd::stream::encode_all(&b"z1\n"[..], 3).unwrap();
        z.extend(zstd::stream::encode_all(&b"z2\n"[..], 3).unwrap());
        let (c, s) = read_all(z, 1000, 1000).unwrap();
        assert_eq!((c, s.as_str()), (Compression::Zstd, "z1\nz2\n"));

        let bz = |data: &[u8]| {
            let mut e = bzip2::write::BzEncoder::new(Vec::new(), bzip2::Compression::default());
            e.write_all(data).unwrap();
            e.finish().unwrap()
        };
        let mut b = bz(b"b1\n");
        b.extend(bz(b"b2\n"));
        let (c, s) = read_all(b, 1000, 1000).unwrap();
        assert_eq!((c, s.as_str()), (Compression::Bzip2, "b1\nb2\n"));
    }

    #[test]
    fn corrupt_zstd_is_invalid_data_but_body_errors_pass_through() {
        let mut z = zstd::stream::encode_all(&vec![b'x'; 100_000][..], 3).unwrap();
        let mid = z.len() / 2;
        z[mid] ^= 0xff;
        z[mid + 1] ^= 0xff;
        // zstd may or may not detect this without a checksum; with one it must.
        let mut enc = zstd::stream::write::Encoder::new(Vec::new(), 3).unwrap();
        enc.include_checksum(true).unwrap();
        enc.write_all(&vec![b'y'; 100_000]).unwrap();
        let mut z = enc.finish().unwrap();
        let n = z.len();
        z[n - 1] ^= 0xff;
        let err = read_all(z, u64::MAX, u64::MAX).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidData, "{err}");

        // A limit hit while reading the raw body keeps its identity.
        let body = gz(&vec![b'a'; 100_000]);
        let err = read_all(body, 100, u64::MAX).unwrap_err();
        assert_eq!(limit_error(&err).unwrap().variable, "MAX_OBJECT_BYTES");
    }

    #[test]
    fn text_that_starts_like_a_magic_is_plain() {
        let (c, s) = read_all(b"BZh is not bzip2\n".to_vec(), 100, 100).unwrap();
        assert_eq!((c, s.as_str()), (Compression::None, "BZh is not bzip2\n"));
    }

    #[test]
    fn multi_member_gzip_is_read_to_the_end() {
        let mut body = gz(b"first\n");
        body.extend(gz(b"second\n"));
        let (_, s) = read_all(body, 1000, 1000).unwrap();
        assert_eq!(s, "first\nsecond\n");
    }

    #[test]
    fn decompression_bomb_stops_at_the_limit() {
        let body = gz(&vec![b'a'; 1_000_000]);
        let err = read_all(body, 1_000_000, 10_000).unwrap_err();
        let limit = limit_error(&err).expect("a limit error");
        assert_eq!(limit.variable, "MAX_DECOMPRESSED_BYTES");
    }

    #[test]
    fn object_size_limit_applies_to_raw_bytes() {
        let err = read_all(vec![b'x'; 5000], 1000, u64::MAX).unwrap_err();
        assert_eq!(limit_error(&err).unwrap().variable, "MAX_OBJECT_BYTES");
    }

    #[test]
    fn empty_and_one_byte_bodies_are_plain() {
        assert_eq!(read_all(vec![], 10, 10).unwrap().1, "");
        assert_eq!(read_all(vec![0x1f], 10, 10).unwrap().1, "\u{1f}");
    }

    #[test]
    fn truncated_gzip_is_an_error_not_a_panic() {
        let body = gz(b"some text that is long enough to be cut\n");
        let cut = body[..body.len() / 2].to_vec();
        assert!(read_all(cut, 1000, 1000).is_err());
    }
}

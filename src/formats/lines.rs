//! A line reader with a length limit: never holds more than `max` bytes of a
//! line (plus its terminator), strips `\n` and `\r\n` and a UTF-8 byte order
//! mark before the first line, tracks line numbers and byte offsets.
//!
//! It hands out bytes, not text: what to do with invalid UTF-8 is the
//! format's choice (see `framing::utf8_or_lossy`). A line over the limit is an
//! error for the whole object ([`FormatError::LineTooLong`]), since the
//! stream cannot be re-synchronized without reading it anyway.

use std::io::BufRead;

use super::FormatError;

pub struct Lines<'r> {
    reader: &'r mut dyn BufRead,
    buf: Vec<u8>,
    max: usize,
    /// 1-based number of the line last returned.
    pub line_no: u64,
    /// Byte offset where the next line starts.
    next_offset: u64,
}

/// One line, without its terminator.
pub struct Line<'b> {
    pub number: u64,
    pub offset: u64,
    pub bytes: &'b [u8],
}

impl<'r> Lines<'r> {
    pub fn new(reader: &'r mut dyn BufRead, max: usize) -> Self {
        Lines {
            reader,
            buf: Vec::with_capacity(4096),
            max,
            line_no: 0,
            next_offset: 0,
        }
    }

    /// The next line, or `None` at the end of the stream.
    pub fn next_line(&mut self) -> Result<Option<Line<'_>>, FormatError> {
        self.buf.clear();
        let mut ended = false;
        let mut terminated = false;
        loop {
            let available = match self.reader.fill_buf() {
                Ok(b) => b,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(FormatError::Io(e)),
            };
            if available.is_empty() {
                ended = true;
                break;
            }
            let (take, found) = match memchr::memchr(b'\n', available) {
                Some(i) => (i + 1, true),
                None => (available.len(), false),
            };
            // Room for the limit, "\r\n" and a byte order mark.
            if self.buf.len() + take > self.max + 5 {
                return Err(FormatError::LineTooLong {
                    line: self.line_no + 1,
                    limit: self.max,
                });
            }
            self.buf.extend_from_slice(&available[..take]);
            self.reader.consume(take);
            if found {
                terminated = true;
                break;
            }
        }
        if ended && self.buf.is_empty() {
            return Ok(None);
        }
        let offset = self.next_offset;
        self.next_offset += self.buf.len() as u64;
        self.line_no += 1;
        let mut start = 0;
        if offset == 0 && self.buf.starts_with(b"\xEF\xBB\xBF") {
            start = 3;
        }
        let mut end = self.buf.len();
        if terminated {
            end -= 1;
            if end > start && self.buf[end - 1] == b'\r' {
                end -= 1;
            }
        }
        if end - start > self.max {
            return Err(FormatError::LineTooLong {
                line: self.line_no,
                limit: self.max,
            });
        }
        Ok(Some(Line {
            number: self.line_no,
            offset,
            bytes: &self.buf[start..end],
        }))
    }
}

/// Whether a line holds nothing but whitespace.
pub fn is_blank(bytes: &[u8]) -> bool {
    bytes.iter().all(|b| b.is_ascii_whitespace())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::BufReader;

    fn all(input: &[u8], max: usize) -> Result<Vec<(u64, u64, Vec<u8>)>, FormatError> {
        let mut r = BufReader::with_capacity(3, input);
        let mut lines = Lines::new(&mut r, max);
        let mut out = Vec::new();
        while let Some(l) = lines.next_line()? {
            out.push((l.number, l.offset, l.bytes.to_vec()));
        }
        Ok(out)
    }

    #[test]
    fn splits_lf_and_crlf_and_keeps_offsets() {
        let got = all(b"ab\r\ncd\n\nlast", 100).unwrap();
        assert_eq!(
            got,
            vec![
                (1, 0, b"ab".to_vec()),
                (2, 4, b"cd".to_vec()),
                (3, 7, b"".to_vec()),
                (4, 8, b"last".to_vec()),
            ]
        );
    }

    #[test]
    fn a_byte_order_mark_is_dropped_from_the_first_line_only() {
        let got = all(b"\xEF\xBB\xBFab\n\xEF\xBB\xBFcd", 5).unwrap();
        assert_eq!(
            got,
            vec![(1, 0, b"ab".to_vec()), (2, 6, b"\xEF\xBB\xBFcd".to_vec())]
        );
    }

    #[test]
    fn nul_bytes_and_invalid_utf8_are_passed_through_as_bytes() {
        let got = all(b"a\x00b\n\xff\xfe\r\n", 10).unwrap();
        assert_eq!(got[0].2, b"a\x00b");
        assert_eq!(got[1].2, b"\xff\xfe");
    }

    #[test]
    fn a_lone_cr_is_kept_and_a_final_line_needs_no_newline() {
        let got = all(b"a\rb\nlast\r", 10).unwrap();
        assert_eq!(got[0].2, b"a\rb");
        assert_eq!(got[1].2, b"last\r", "only \\r\\n ends a line");
    }

    #[test]
    fn a_long_line_is_refused_without_being_read_whole() {
        // An endless line: the reader must give up after about `max` bytes.
        struct Endless(u64);
        impl std::io::Read for Endless {
            fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
                buf.fill(b'x');
                self.0 += buf.len() as u64;
                Ok(buf.len())
            }
        }
        let mut src = Endless(0);
        {
            let mut r = BufReader::with_capacity(1024, &mut src);
            let mut lines = Lines::new(&mut r, 10_000);
            assert!(matches!(
                lines.next_line(),
                Err(FormatError::LineTooLong {
                    line: 1,
                    limit: 10_000
                })
            ));
        }
        assert!(src.0 <= 12 * 1024, "read {} bytes", src.0);
    }

    #[test]
    fn empty_input_has_no_lines() {
        assert!(all(b"", 10).unwrap().is_empty());
    }

    #[test]
    fn line_at_the_limit_passes_and_over_fails_with_its_number() {
        assert_eq!(all(b"12345\n", 5).unwrap().len(), 1);
        assert_eq!(all(b"12345\r\n", 5).unwrap().len(), 1);
        match all(b"ok\n123456\n", 5) {
            Err(FormatError::LineTooLong { line, limit }) => assert_eq!((line, limit), (2, 5)),
            other => panic!("{:?}", other.map(|v| v.len())),
        }
        assert!(matches!(
            all(b"123456", 5),
            Err(FormatError::LineTooLong { line: 1, .. })
        ));
    }
}

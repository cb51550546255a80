//! A line reader with a length limit: never holds more than `max` bytes of a
//! line, strips `\n` and `\r\n`, tracks line numbers and byte offsets.

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
            if self.buf.len() + take > self.max + 2 {
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
        let mut end = self.buf.len();
        if terminated {
            end -= 1;
            if end > 0 && self.buf[end - 1] == b'\r' {
                end -= 1;
            }
        }
        if end > self.max {
            return Err(FormatError::LineTooLong {
                line: self.line_no,
                limit: self.max,
            });
        }
        Ok(Some(Line {
            number: self.line_no,
            offset,
            bytes: &self.buf[..end],
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

//! The one loop every line format runs (framing apart from format, as
//! Vector's codecs and Elastic's forwarder do it): lines from [`Lines`]
//! (CRLF, the byte order mark, the line length limit, `log.offset`), blank
//! lines skipped and counted, invalid UTF-8 replaced and reported on the
//! event, header and comment lines handed to the format's state, and a line
//! the format refuses turned into an error event with the line kept, so
//! that the rest of the object goes on.
//!
//! It does not know any format: a [`LineFormat`] maps one line, and keeps
//! whatever it learns from headers (column lists) in itself. Formats that
//! are JSON documents rather than lines (CloudTrail, Config, CloudWatch
//! Logs, GuardDuty's document form) read their own way.

use std::borrow::Cow;
use std::io::BufRead;

use super::lines::{is_blank, Lines};
use super::{send, Emit, FormatError, Limits, ParseStats};
use crate::record::ParsedEvent;

/// What one line format does with a line.
pub trait LineFormat {
    /// `event.dataset` of its events, error events included.
    const DATASET: &'static str;
    /// What a line of the format is, for refusals: `line N: not WHAT: why`.
    const WHAT: &'static str;
    /// Whether surrounding whitespace is not part of the event (JSON).
    const TRIM: bool = false;

    /// Takes a header or comment line into the format's state; `true` if
    /// the line was one (it is skipped, not an event).
    fn header(&mut self, _line: &str) -> bool {
        false
    }

    /// Maps one non-blank line into `ev`. `Ok(None)`: mapped. `Ok(Some(note))`:
    /// mapped, with a problem to report on the event (`line N: note`).
    /// `Err(why)`: not a line of the format; the event keeps only the line.
    fn map<'a>(
        &'a mut self,
        line: &'a str,
        ev: &mut ParsedEvent<'a>,
    ) -> Result<Option<String>, String>;
}

/// Runs `format` over every line of `reader`. For JSON formats (`TRIM`), a
/// line that is `{` alone (pretty-printed JSON) is joined with the lines
/// that follow until the object is complete (or the line length limit is
/// reached): one event, numbered by its first line. A one-line object cut
/// short stays one error event.
fn run_lines<F: LineFormat>(
    format: &mut F,
    reader: &mut dyn BufRead,
    limits: &Limits,
    emit: &mut Emit<'_>,
) -> Result<ParseStats, FormatError> {
    let mut stats = ParseStats::default();
    let mut lines = Lines::new(reader, limits.max_line_bytes);
    let mut pending = String::new();
    let mut pending_at: Option<(u64, u64)> = None;
    while let Some(line) = lines.next_line()? {
        if is_blank(line.bytes) {
            stats.skipped += 1;
            continue;
        }
        let (text, utf8_error) = utf8_or_lossy(line.bytes, line.number);
        let text: &str = if F::TRIM { text.trim() } else { &text };
        if F::TRIM && pending_at.is_none() && matches!(text, "[" | "]" | "]," | "[]") {
            // The brackets of a pretty-printed JSON array of records: the
            // records inside are events, the brackets are not.
            stats.skipped += 1;
            continue;
        }
        if F::TRIM {
            if let Some((number, offset)) = pending_at {
                pending.push('\n');
                pending.push_str(text);
                if unfinished_object(&pending) && pending.len() <= limits.max_line_bytes {
                    continue;
                }
                pending_at = None;
                one(
                    format,
                    array_member(&pending),
                    utf8_error,
                    number,
                    offset,
                    &mut stats,
                    emit,
                )?;
                continue;
            }
            if text == "{" {
                pending.clear();
                pending.push_str(text);
                pending_at = Some((line.number, line.offset));
                continue;
            }
        }
        let text = if F::TRIM { array_member(text) } else { text };
        one(
            format,
            text,
            utf8_error,
            line.number,
            line.offset,
            &mut stats,
            emit,
        )?;
    }
    if let Some((number, offset)) = pending_at {
        one(format, &pending, None, number, offset, &mut stats, emit)?;
    }
    Ok(stats)
}

/// A record of a JSON array without the comma that separates it from the
/// next one (`{...},`).
fn array_member(text: &str) -> &str {
    match text.strip_suffix(',') {
        Some(t) if t.ends_with('}') => t,
        _ => text,
    }
}

/// Whether `text` is the start of a JSON value that ends too soon.
fn unfinished_object(text: &str) -> bool {
    matches!(
        serde_json::from_str::<serde::de::IgnoredAny>(text),
        Err(e) if e.is_eof()
    )
}

/// One non-blank line (or joined JSON object): a header, or an event.
fn one<F: LineFormat>(
    format: &mut F,
    text: &str,
    utf8_error: Option<Cow<'static, str>>,
    number: u64,
    offset: u64,
    stats: &mut ParseStats,
    emit: &mut Emit<'_>,
) -> Result<(), FormatError> {
    if format.header(text) {
        stats.skipped += 1;
        return Ok(());
    }
    let mut ev = ParsedEvent::new(F::DATASET, text);
    ev.offset = Some(offset);
    match format.map(text, &mut ev) {
        Ok(None) => ev.error = utf8_error,
        Ok(Some(note)) => {
            ev.error = Some(Cow::Owned(format!("line {number}: {note}")));
        }
        Err(why) => {
            ev.fields.clear();
            ev.timestamp = None;
            ev.error = Some(Cow::Owned(format!("line {number}: not {}: {why}", F::WHAT)));
        }
    }
    send(emit, stats, ev)
}

/// The line as text; invalid UTF-8 is replaced (U+FFFD) and reported.
pub fn utf8_or_lossy(bytes: &[u8], line: u64) -> (Cow<'_, str>, Option<Cow<'static, str>>) {
    match std::str::from_utf8(bytes) {
        Ok(s) => (Cow::Borrowed(s), None),
        Err(_) => (
            String::from_utf8_lossy(bytes),
            Some(Cow::Owned(format!(
                "line {line} is not valid UTF-8; invalid bytes replaced by U+FFFD"
            ))),
        ),
    }
}

/// Parses a stream as the line format `F` from its initial state: the
/// parser of a stateful line format's row in the format table.
pub fn parse_lines<F: LineFormat + Default>(
    reader: &mut dyn BufRead,
    limits: &Limits,
    emit: &mut Emit<'_>,
) -> Result<ParseStats, FormatError> {
    run_lines(&mut F::default(), reader, limits, emit)
}

/// A line format that keeps nothing from line to line but a scratch
/// buffer (JSON built for a field, JSON arrays): most formats.
pub trait LineRecord {
    /// `event.dataset` of its events, error events included.
    const DATASET: &'static str;
    /// What a line of the format is, for refusals: `line N: not WHAT: why`.
    const WHAT: &'static str;
    /// Each line is one JSON object: surrounding whitespace is not part of
    /// the event, and a line that does not start with `{` is refused.
    const JSON_OBJECT: bool = false;
    /// Room for fields built while mapping, which the event borrows.
    type Scratch: Scratch;

    /// Maps one line (`scratch` cleared); `Err(why)` refuses it.
    fn map<'a>(
        line: &'a str,
        scratch: &'a mut Self::Scratch,
        ev: &mut ParsedEvent<'a>,
    ) -> Result<(), String>;
}

/// A buffer reused from line to line.
pub trait Scratch: Default {
    fn clear(&mut self);
}

impl Scratch for () {
    fn clear(&mut self) {}
}

impl Scratch for Vec<u8> {
    fn clear(&mut self) {
        Vec::clear(self)
    }
}

/// The line format of a [`LineRecord`].
pub struct Records<R: LineRecord> {
    scratch: R::Scratch,
}

impl<R: LineRecord> Default for Records<R> {
    fn default() -> Self {
        Records {
            scratch: R::Scratch::default(),
        }
    }
}

impl<R: LineRecord> LineFormat for Records<R> {
    const DATASET: &'static str = R::DATASET;
    const WHAT: &'static str = R::WHAT;
    const TRIM: bool = R::JSON_OBJECT;

    fn map<'a>(
        &'a mut self,
        line: &'a str,
        ev: &mut ParsedEvent<'a>,
    ) -> Result<Option<String>, String> {
        if R::JSON_OBJECT && !line.starts_with('{') {
            return Err("the line is not a JSON object".into());
        }
        self.scratch.clear();
        R::map(line, &mut self.scratch, ev).map(|()| None)
    }
}

/// The parser of a [`LineRecord`] format's row in the format table.
pub fn parse_records<R: LineRecord>(
    reader: &mut dyn BufRead,
    limits: &Limits,
    emit: &mut Emit<'_>,
) -> Result<ParseStats, FormatError> {
    parse_lines::<Records<R>>(reader, limits, emit)
}

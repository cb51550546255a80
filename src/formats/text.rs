//! Plain text: one event per non-empty line, `message` = the line.
//! A line that is not valid UTF-8 is kept (lossily decoded) with an error.

use std::borrow::Cow;
use std::io::BufRead;

use super::lines::{is_blank, Lines};
use super::{send, Emit, FormatError, Limits, ParseStats};
use crate::record::ParsedEvent;

pub const DATASET: &str = "text";

pub fn parse(
    reader: &mut dyn BufRead,
    limits: &Limits,
    emit: &mut Emit<'_>,
) -> Result<ParseStats, FormatError> {
    let mut stats = ParseStats::default();
    let mut lines = Lines::new(reader, limits.max_line_bytes);
    while let Some(line) = lines.next_line()? {
        if is_blank(line.bytes) {
            stats.skipped += 1;
            continue;
        }
        let (text, error) = utf8_or_lossy(line.bytes, line.number);
        let mut ev = ParsedEvent::new(DATASET, &text);
        ev.offset = Some(line.offset);
        ev.error = error;
        ev.fields.str("message", &*text);
        send(emit, &mut stats, ev)?;
    }
    Ok(stats)
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

#[cfg(test)]
mod tests {
    use crate::formats::testing::run;
    use crate::formats::Format;

    #[test]
    fn one_event_per_non_empty_line() {
        let (evs, stats) = run(Format::Text, b"first\n\n   \nsecond\r\nthird", 100).unwrap();
        let msgs: Vec<_> = evs
            .iter()
            .map(|e| e.field("message").unwrap().to_string())
            .collect();
        assert_eq!(msgs, ["first", "second", "third"]);
        assert_eq!(stats.skipped, 2);
        assert_eq!(evs[1].offset, Some(11));
        assert!(evs
            .iter()
            .all(|e| e.dataset == "text" && e.timestamp.is_none()));
    }

    #[test]
    fn invalid_utf8_and_nul_bytes_are_kept_with_an_error() {
        let (evs, stats) = run(Format::Text, b"ok\nbad \xff\xfe here\nnul\x00byte\n", 100).unwrap();
        assert_eq!(evs.len(), 3);
        assert_eq!(stats.errors, 1);
        assert!(evs[1].error.as_deref().unwrap().contains("line 2"));
        assert!(evs[1].original.contains('\u{FFFD}'));
        assert_eq!(evs[2].original, "nul\u{0}byte");
        assert!(evs[2].error.is_none());
    }
}

//! Plain text: one event per non-empty line, `message` = the line.
//! A line that is not valid UTF-8 is kept (lossily decoded) with an error.

use super::framing::LineRecord;
use crate::record::ParsedEvent;

pub const DATASET: &str = "text";

/// The field paths its events can have, besides the record writer's own
/// (see `FormatDef::fields`).
pub const FIELDS: &[&str] = &[
    "message",
];

/// Text lines: the line is the message.
pub struct TextLine;

impl LineRecord for TextLine {
    const DATASET: &'static str = DATASET;
    const WHAT: &'static str = "a text line";
    type Scratch = ();

    fn map<'a>(line: &'a str, _: &'a mut (), ev: &mut ParsedEvent<'a>) -> Result<(), String> {
        ev.fields.str("message", line);
        Ok(())
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

//! Small serde helpers for the hand-written map visitors of the JSON
//! formats: a string that borrows from the input when it can, and the list
//! of members no mapping names, kept as raw JSON under their own names (see
//! [`crate::record::FieldValue::Members`]).
//!
//! It does not map anything: the format modules decide what each member
//! becomes.

use std::borrow::Cow;
use std::fmt;

use serde::de::{self, Deserialize, Deserializer, Visitor};
use serde_json::value::RawValue;

/// A JSON string, borrowed from the input unless it has escapes (serde's
/// `Cow<str>` always allocates outside derived structs).
pub struct Text<'a>(pub Cow<'a, str>);

impl<'de> Deserialize<'de> for Text<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Text<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Text<'de>, E> {
                Ok(Text(Cow::Borrowed(v)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Text<'de>, E> {
                Ok(Text(Cow::Owned(v.to_owned())))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Text<'de>, E> {
                Ok(Text(Cow::Owned(v)))
            }
        }
        d.deserialize_str(V)
    }
}

/// Members of a source object that no mapping names, in source order.
pub type Unmapped<'a> = Vec<(Cow<'a, str>, &'a RawValue)>;

/// Keeps an unmapped member unless it is `null` (absent). A name that
/// equals one of the paths' leaves the format writes itself beside it
/// (`taken`) gets a trailing `_`, so that no key repeats in the record.
pub fn keep<'a>(
    unmapped: &mut Unmapped<'a>,
    name: Cow<'a, str>,
    value: &'a RawValue,
    taken: &[&str],
) {
    if value.get() == "null" {
        return;
    }
    let name = if taken.contains(&&*name) {
        Cow::Owned(format!("{name}_"))
    } else {
        name
    };
    unmapped.push((name, value));
}

/// Sets `slot` from the next value; a key seen twice is an error (as with
/// serde's derive), so that no value is silently dropped.
pub fn once<'de, T, A>(slot: &mut Option<T>, key: &str, map: &mut A) -> Result<(), A::Error>
where
    T: Deserialize<'de>,
    A: de::MapAccess<'de>,
{
    if slot.is_some() {
        return Err(de::Error::custom(format_args!("duplicate field `{key}`")));
    }
    *slot = map.next_value::<Option<T>>()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_borrows_unless_escaped() {
        let t: Text<'_> = serde_json::from_str(r#""plain""#).unwrap();
        assert!(matches!(t.0, Cow::Borrowed("plain")));
        let t: Text<'_> = serde_json::from_str(r#""a\"b""#).unwrap();
        assert_eq!(t.0, "a\"b");
        assert!(serde_json::from_str::<Text<'_>>("1").is_err());
    }

    #[test]
    fn kept_members_skip_null_and_never_take_a_written_name() {
        let one: &RawValue = serde_json::from_str("1").unwrap();
        let null: &RawValue = serde_json::from_str("null").unwrap();
        let mut u = Unmapped::new();
        keep(&mut u, "newField".into(), one, &["event_type"]);
        keep(&mut u, "gone".into(), null, &[]);
        keep(&mut u, "event_type".into(), one, &["event_type"]);
        let names: Vec<&str> = u.iter().map(|(n, _)| &**n).collect();
        assert_eq!(names, ["newField", "event_type_"]);
    }
}

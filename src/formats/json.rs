//! Small serde helpers for the JSON formats: a string that borrows from the
//! input when it can ([`Text`], and [`OptText`] for a member that may be
//! absent, read with [`present`]), numbers written as numbers or strings
//! ([`Num`]), raw members worth keeping ([`raw_nonempty`]), fields built as
//! JSON in a scratch buffer ([`json_str`], [`push_json`]), the list of
//! members no mapping names, kept as raw
//! JSON under their own names (see [`crate::record::FieldValue::Members`]),
//! a reader that gives a derived struct its members and keeps the others
//! in one pass ([`from_str_keeping`]), and an object's members in order
//! for nested objects read member by member ([`Object`]).
//!
//! It does not map anything: the format modules decide what each member
//! becomes.

use std::borrow::Cow;
use std::fmt;

use serde::de::{
    self, Deserialize, DeserializeSeed, Deserializer, IntoDeserializer, MapAccess, Visitor,
};
use serde_json::value::RawValue;

use crate::record::{FieldValue, Fields};

/// A JSON string, borrowed from the input unless it has escapes (serde's
/// `Cow<str>` always allocates outside derived structs). A number or a
/// bool is taken as its text: AWS writes some fields either way.
#[derive(Debug, Clone)]
pub struct Text<'a>(pub Cow<'a, str>);

/// A member that may be absent: the optional string of every JSON format.
pub type OptText<'a> = Option<Text<'a>>;

/// The text of a member, `None` when it is absent, empty or `-` (the
/// logs' "no value").
pub fn present(v: OptText<'_>) -> Option<Cow<'_, str>> {
    v.map(|s| s.0).filter(|s| !s.is_empty() && s != "-")
}

/// [`present`] of a member that stays where it is (free when borrowed).
pub fn present_ref<'a>(v: &OptText<'a>) -> Option<Cow<'a, str>> {
    present(v.clone())
}

impl<'de: 'a, 'a> Deserialize<'de> for Text<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Text<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
                Ok(Text(Cow::Borrowed(v)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(Text(Cow::Owned(v.to_owned())))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
                Ok(Text(Cow::Owned(v)))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
                Ok(Text(Cow::Owned(v.to_string())))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
                Ok(Text(Cow::Owned(v.to_string())))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
                Ok(Text(Cow::Owned(v.to_string())))
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<Self::Value, E> {
                Ok(Text(Cow::Borrowed(if v { "true" } else { "false" })))
            }
        }
        d.deserialize_any(V)
    }
}

/// Members of a source object that no mapping names, in source order.
pub type Unmapped<'a> = Vec<(Cow<'a, str>, &'a RawValue)>;

/// Keeps an unmapped member unless it is `null` (absent) or repeats an
/// earlier member exactly (name and value: nothing to keep). A name that
/// equals one of the paths' leaves the format writes itself beside it
/// (`taken`), or an earlier member's with another value, gets trailing
/// `_`s, so that no key repeats in the record.
pub fn keep<'a>(
    unmapped: &mut Unmapped<'a>,
    name: Cow<'a, str>,
    value: &'a RawValue,
    taken: &[&str],
) {
    if value.get() == "null" {
        return;
    }
    if unmapped
        .iter()
        .any(|(n, v)| *n == name && v.get() == value.get())
    {
        return;
    }
    let mut name = name;
    while taken.contains(&&*name) || unmapped.iter().any(|(n, _)| *n == name) {
        name = Cow::Owned(format!("{name}_"));
    }
    unmapped.push((name, value));
}

/// Reads `text` as the derived struct `T` in one pass, and keeps the
/// members `T` does not name (top level only) as [`keep`] does, `taken`
/// being the leaves the format writes beside them. Nested objects are read
/// by `T` as it says; read those that may hold more with [`Object`].
pub fn from_str_keeping<'a, T: Deserialize<'a>>(
    text: &'a str,
    taken: &[&str],
) -> Result<(T, Unmapped<'a>), serde_json::Error> {
    let mut unmapped = Unmapped::new();
    let mut de = serde_json::Deserializer::from_str(text);
    let value = T::deserialize(Keeping {
        inner: &mut de,
        unmapped: &mut unmapped,
        taken,
    })?;
    de.end()?;
    Ok((value, unmapped))
}

/// A deserializer that hands a struct visitor only the members the
/// struct names (the `fields` serde's derive passes) and keeps the rest.
struct Keeping<'u, 'a, D> {
    inner: D,
    unmapped: &'u mut Unmapped<'a>,
    taken: &'u [&'u str],
}

impl<'u, 'de, D: Deserializer<'de>> Deserializer<'de> for Keeping<'u, 'de, D> {
    type Error = D::Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, D::Error> {
        self.inner.deserialize_any(visitor)
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, D::Error> {
        self.inner.deserialize_map(KeepingVisitor {
            visitor,
            fields,
            unmapped: self.unmapped,
            taken: self.taken,
        })
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        bytes byte_buf option unit unit_struct newtype_struct seq tuple
        tuple_struct map enum identifier ignored_any
    }
}

struct KeepingVisitor<'u, 'a, V> {
    visitor: V,
    fields: &'static [&'static str],
    unmapped: &'u mut Unmapped<'a>,
    taken: &'u [&'u str],
}

impl<'u, 'a, V: Visitor<'a>> Visitor<'a> for KeepingVisitor<'u, 'a, V> {
    type Value = V::Value;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        self.visitor.expecting(f)
    }
    fn visit_map<A: MapAccess<'a>>(self, map: A) -> Result<V::Value, A::Error> {
        self.visitor.visit_map(KeepingMap {
            map,
            fields: self.fields,
            unmapped: self.unmapped,
            taken: self.taken,
        })
    }
}

struct KeepingMap<'u, 'a, A> {
    map: A,
    fields: &'static [&'static str],
    unmapped: &'u mut Unmapped<'a>,
    taken: &'u [&'u str],
}

impl<'u, 'a, A: MapAccess<'a>> MapAccess<'a> for KeepingMap<'u, 'a, A> {
    type Error = A::Error;

    fn next_key_seed<K: DeserializeSeed<'a>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, A::Error> {
        while let Some(Text(key)) = self.map.next_key::<Text<'a>>()? {
            if self.fields.contains(&&*key) {
                let key: de::value::CowStrDeserializer<'a, A::Error> = key.into_deserializer();
                return seed.deserialize(key).map(Some);
            }
            let value: &'a RawValue = self.map.next_value()?;
            keep(self.unmapped, key, value, self.taken);
        }
        Ok(None)
    }

    fn next_value_seed<S: DeserializeSeed<'a>>(&mut self, seed: S) -> Result<S::Value, A::Error> {
        self.map.next_value_seed(seed)
    }
}

/// A nested object's members in source order, read member by member:
/// [`Object::take`] the ones a mapping names, keep the [`Object::rest`].
/// A member repeated with the same value counts once (Network Firewall
/// repeats some); repeated with another value, the first is taken and the
/// others are kept under the names [`keep`] gives them.
#[derive(Default)]
pub struct Object<'a> {
    members: Vec<(Cow<'a, str>, &'a RawValue)>,
}

impl<'a> Object<'a> {
    /// The members of `raw`; not an object: none, and `raw` is kept whole
    /// by the caller.
    pub fn of(raw: &'a RawValue) -> Option<Object<'a>> {
        let pairs: Vec<(Text<'a>, &'a RawValue)> =
            serde_json::from_str::<Pairs<'a>>(raw.get()).ok()?.0;
        let mut members = Vec::with_capacity(pairs.len());
        for (Text(name), value) in pairs {
            keep(&mut members, name, value, &[]);
        }
        Some(Object { members })
    }

    /// Removes the member `name` and reads it as `T`; absent, `null` or
    /// not a `T`: `None`, and a member that is not a `T` stays kept.
    pub fn take<T: Deserialize<'a>>(&mut self, name: &str) -> Option<T> {
        let i = self.members.iter().position(|(n, _)| n == name)?;
        let value = serde_json::from_str::<T>(self.members[i].1.get()).ok()?;
        self.members.remove(i);
        Some(value)
    }

    /// The members not taken, for [`crate::record::Fields::members`].
    pub fn rest(self) -> Unmapped<'a> {
        self.members
    }
}

struct Pairs<'a>(Vec<(Text<'a>, &'a RawValue)>);

impl<'de> Deserialize<'de> for Pairs<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Pairs<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Pairs<'de>, A::Error> {
                let mut out = Vec::new();
                while let Some(entry) = map.next_entry::<Text<'de>, &'de RawValue>()? {
                    out.push(entry);
                }
                Ok(Pairs(out))
            }
        }
        d.deserialize_map(V)
    }
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

/// A JSON number, or a string holding one (AWS logs use both).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Num {
    U(u64),
    I(i64),
    F(f64),
}

impl Num {
    pub fn as_f64(&self) -> Option<f64> {
        Some(match *self {
            Num::U(n) => n as f64,
            Num::I(n) => n as f64,
            Num::F(n) => n,
        })
    }
    pub fn as_i64(&self) -> Option<i64> {
        match *self {
            Num::U(n) => i64::try_from(n).ok(),
            Num::I(n) => Some(n),
            Num::F(n) if n.is_finite() && n.fract() == 0.0 && n.abs() < 9.0e15 => Some(n as i64),
            Num::F(_) => None,
        }
    }
    pub fn as_u64(&self) -> Option<u64> {
        match *self {
            Num::U(n) => Some(n),
            other => other.as_i64().and_then(|n| u64::try_from(n).ok()),
        }
    }
    fn parse(s: &str) -> Option<Num> {
        let s = s.trim();
        if let Ok(n) = s.parse::<u64>() {
            return Some(Num::U(n));
        }
        if let Ok(n) = s.parse::<i64>() {
            return Some(Num::I(n));
        }
        s.parse::<f64>().ok().filter(|f| f.is_finite()).map(Num::F)
    }
}

impl<'de> Deserialize<'de> for Num {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Num;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a number")
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Num, E> {
                Ok(Num::U(v))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Num, E> {
                Ok(Num::I(v))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Num, E> {
                Ok(Num::F(v))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Num, E> {
                Num::parse(v).ok_or_else(|| E::custom(format!("{v:?} is not a number")))
            }
        }
        d.deserialize_any(V)
    }
}

/// Adds a number with its own type (u64, i64 or f64).
pub fn opt_num(f: &mut Fields<'_>, path: &'static str, n: Option<Num>) {
    match n {
        Some(Num::U(n)) => f.u64(path, n),
        Some(Num::I(n)) => f.i64(path, n),
        Some(Num::F(n)) if n.is_finite() => f.f64(path, n),
        _ => {}
    }
}

/// Raw JSON unless it is null or an empty object/array (nothing to keep).
pub fn raw_nonempty(r: Option<&RawValue>) -> Option<&RawValue> {
    r.filter(|r| {
        let t = r.get().trim();
        !matches!(t, "null" | "[]" | "{}" | "\"\"" | "\"-\"")
            && !(t.len() > 1
                && (t.starts_with('[') || t.starts_with('{'))
                && t[1..t.len() - 1].trim().is_empty())
    })
}

/// Lowercases, borrowing when it already is lowercase.
pub fn lowercase(s: Cow<'_, str>) -> Cow<'_, str> {
    if s.bytes().any(|b| b.is_ascii_uppercase()) {
        Cow::Owned(s.to_ascii_lowercase())
    } else {
        s
    }
}

/// Writes `s` as a JSON string.
pub fn json_str(out: &mut Vec<u8>, s: &str) {
    // Writing into a Vec cannot fail.
    let _ = serde_json::to_writer(&mut *out, s);
}

/// Pushes text built in `scratch` (always valid JSON) as a JSON field.
pub fn push_json<'a>(f: &mut Fields<'a>, path: &'static str, scratch: &'a [u8]) {
    if let Ok(s) = std::str::from_utf8(scratch) {
        f.push(path, FieldValue::Json(s));
    }
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
        // AWS writes some fields as a number or a string: both are text.
        assert_eq!(serde_json::from_str::<Text<'_>>("1").unwrap().0, "1");
        assert_eq!(serde_json::from_str::<Text<'_>>("true").unwrap().0, "true");
        assert!(serde_json::from_str::<Text<'_>>("[1]").is_err());
        assert!(serde_json::from_str::<Text<'_>>("{}").is_err());
    }

    #[test]
    fn kept_members_skip_null_and_never_take_a_written_name() {
        let one: &RawValue = serde_json::from_str("1").unwrap();
        let null: &RawValue = serde_json::from_str("null").unwrap();
        let mut u = Unmapped::new();
        keep(&mut u, "newField".into(), one, &["event_type"]);
        keep(&mut u, "gone".into(), null, &[]);
        keep(&mut u, "event_type".into(), one, &["event_type"]);
        keep(&mut u, "newField".into(), one, &[]);
        let two: &RawValue = serde_json::from_str("2").unwrap();
        keep(&mut u, "newField".into(), two, &[]);
        let names: Vec<&str> = u.iter().map(|(n, _)| &**n).collect();
        assert_eq!(names, ["newField", "event_type_", "newField_"]);
    }

    #[derive(serde::Deserialize)]
    struct Known<'a> {
        #[serde(borrow)]
        name: Option<Cow<'a, str>>,
        #[serde(default)]
        port: Option<u16>,
    }

    #[test]
    fn a_derived_struct_gets_its_members_and_the_others_are_kept() {
        let text = r#"{"name":"a","extra":{"x":[1]},"port":80,"port_":1,"n":null}"#;
        let (k, rest) = from_str_keeping::<Known<'_>>(text, &["port"]).unwrap();
        assert_eq!((k.name.as_deref(), k.port), (Some("a"), Some(80)));
        let rest: Vec<(&str, &str)> = rest.iter().map(|(n, v)| (&**n, v.get())).collect();
        assert_eq!(rest, [("extra", r#"{"x":[1]}"#), ("port_", "1")]);
        assert!(from_str_keeping::<Known<'_>>(r#"{"port":"x"}"#, &[]).is_err());
        assert!(from_str_keeping::<Known<'_>>(r#"{"name":"a"} x"#, &[]).is_err());
        assert!(from_str_keeping::<Known<'_>>(r#"{"name":"a","name":"b"}"#, &[]).is_err());
    }

    #[test]
    fn an_object_gives_its_members_once_and_keeps_the_rest() {
        let raw: &RawValue =
            serde_json::from_str(r#"{"s":"a","s":"a","t":"b","t":"c","n":1}"#).unwrap();
        let mut o = Object::of(raw).unwrap();
        assert_eq!(o.take::<u8>("n"), Some(1));
        assert_eq!(o.take::<u8>("s"), None);
        assert_eq!(o.take::<Text<'_>>("t").map(|t| t.0), Some("b".into()));
        let rest = o.rest();
        let rest: Vec<(&str, &str)> = rest.iter().map(|(n, v)| (&**n, v.get())).collect();
        assert_eq!(rest, [("s", r#""a""#), ("t_", r#""c""#)]);
        let not: &RawValue = serde_json::from_str("[1]").unwrap();
        assert!(Object::of(not).is_none());
    }
}

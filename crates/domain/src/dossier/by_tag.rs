//! Reading an [`EventBody`] by its tag first.
//!
//! An event body is written internally tagged (`{"type": "received", "code": ..., ...}`), the
//! tag first. serde's derived reader of an internally tagged enum cannot know where the tag is,
//! so it first copies the whole map into a buffer of its own and only then reads the variant
//! from that copy: a second pass and an allocation per field, 23 % of a counter rebuild's
//! samples. Here the first key is looked at: when it is `"type"` (as everything we write has
//! it), the rest of the map goes straight to the variant's fields, read once; otherwise the map
//! is gathered (into JSON values) and read the same way, so any key order is still accepted.
//!
//! The variants' field readers are the ones serde derives for `ByTag`, the same variants
//! declared a second time by [`event_body!`] as an externally tagged "remote" of `EventBody`:
//! the two declarations cannot drift apart, being one token list.

use super::{ByTag, EventBody};
use serde::de::value::{MapDeserializer, StrDeserializer};
use serde::de::{
    self, DeserializeSeed, Deserializer, EnumAccess, MapAccess, VariantAccess, Visitor,
};
use std::borrow::Cow;
use std::fmt;

/// Declares `EventBody` (written internally tagged by `"type"`) and `ByTag`, the same variants
/// as serde's remote definition of it, externally tagged, whose derived reader reads one
/// variant's fields from a map once the tag is known.
macro_rules! event_body {
    ($(#[$attr:meta])* pub enum EventBody { $($variants:tt)* }) => {
        $(#[$attr])*
        #[derive(Clone, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
        #[serde(tag = "type", rename_all = "snake_case")]
        pub enum EventBody { $($variants)* }

        /// `EventBody`'s variants read once their tag is known (see `by_tag`).
        #[allow(clippy::large_enum_variant, dead_code)]
        #[derive(Deserialize, utoipa::ToSchema)]
        #[serde(remote = "EventBody", rename_all = "snake_case")]
        enum ByTag { $($variants)* }
    };
}
pub(super) use event_body;

impl<'de> de::Deserialize<'de> for EventBody {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_map(TagFirst)
    }
}

/// Reads the map of an event body, its tag first if it comes first.
struct TagFirst;

impl<'de> Visitor<'de> for TagFirst {
    type Value = EventBody;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an event body: a map with its \"type\"")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<EventBody, A::Error> {
        let Some(first) = map.next_key::<Text<'de>>()? else {
            return Err(de::Error::missing_field("type"));
        };
        if first.0 == "type" {
            let tag: Text<'de> = map.next_value()?;
            return ByTag::deserialize(Variant {
                tag: tag.0,
                rest: map,
            });
        }
        // The tag comes later (JSON not written by us): gather the map, then read it the same way.
        let mut fields = serde_json::Map::new();
        fields.insert(first.0.into_owned(), map.next_value()?);
        while let Some((k, v)) = map.next_entry::<String, serde_json::Value>()? {
            fields.insert(k, v);
        }
        let tag = match fields.remove("type") {
            Some(serde_json::Value::String(tag)) => tag,
            Some(other) => {
                return Err(de::Error::invalid_type(unexpected(&other), &"a string"));
            }
            None => return Err(de::Error::missing_field("type")),
        };
        let rest = MapDeserializer::<_, serde_json::Error>::new(fields.into_iter());
        ByTag::deserialize(Variant {
            tag: Cow::Owned(tag),
            rest,
        })
        .map_err(de::Error::custom)
    }
}

/// What a JSON value is, for an error message.
fn unexpected(v: &serde_json::Value) -> de::Unexpected<'_> {
    match v {
        serde_json::Value::Null => de::Unexpected::Unit,
        serde_json::Value::Bool(b) => de::Unexpected::Bool(*b),
        serde_json::Value::Number(_) => de::Unexpected::Other("a number"),
        serde_json::Value::String(s) => de::Unexpected::Str(s),
        serde_json::Value::Array(_) => de::Unexpected::Seq,
        serde_json::Value::Object(_) => de::Unexpected::Map,
    }
}

/// A string read without a copy when the input lends it.
struct Text<'de>(Cow<'de, str>);

impl<'de> de::Deserialize<'de> for Text<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Text<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E: de::Error>(self, s: &'de str) -> Result<Text<'de>, E> {
                Ok(Text(Cow::Borrowed(s)))
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<Text<'de>, E> {
                Ok(Text(Cow::Owned(s.to_owned())))
            }
            fn visit_string<E: de::Error>(self, s: String) -> Result<Text<'de>, E> {
                Ok(Text(Cow::Owned(s)))
            }
        }
        d.deserialize_str(V)
    }
}

/// One variant as an externally tagged enum's reader asks for it: its tag, then its fields from
/// `rest`, the map after the tag.
struct Variant<'de, M> {
    tag: Cow<'de, str>,
    rest: M,
}

impl<'de, M: MapAccess<'de>> Deserializer<'de> for Variant<'de, M> {
    type Error = M::Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, M::Error> {
        visitor.visit_enum(self)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, M::Error> {
        visitor.visit_enum(self)
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
        option unit unit_struct newtype_struct seq tuple tuple_struct map struct identifier
        ignored_any
    }
}

impl<'de, M: MapAccess<'de>> EnumAccess<'de> for Variant<'de, M> {
    type Error = M::Error;
    type Variant = Fields<M>;

    fn variant_seed<S: DeserializeSeed<'de>>(
        self,
        seed: S,
    ) -> Result<(S::Value, Fields<M>), M::Error> {
        let v = seed.deserialize(StrDeserializer::<M::Error>::new(&self.tag))?;
        Ok((v, Fields(self.rest)))
    }
}

/// The fields of a variant whose tag has been read.
struct Fields<M>(M);

impl<'de, M: MapAccess<'de>> VariantAccess<'de> for Fields<M> {
    type Error = M::Error;

    fn unit_variant(self) -> Result<(), M::Error> {
        Err(de::Error::invalid_type(
            de::Unexpected::Map,
            &"a unit variant",
        ))
    }

    fn newtype_variant_seed<T: DeserializeSeed<'de>>(self, _: T) -> Result<T::Value, M::Error> {
        Err(de::Error::invalid_type(
            de::Unexpected::Map,
            &"a newtype variant",
        ))
    }

    fn tuple_variant<V: Visitor<'de>>(self, _: usize, _: V) -> Result<V::Value, M::Error> {
        Err(de::Error::invalid_type(
            de::Unexpected::Map,
            &"a tuple variant",
        ))
    }

    fn struct_variant<V: Visitor<'de>>(
        self,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, M::Error> {
        visitor.visit_map(self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::super::{Event, EventBody};
    use serde_json::{Value, json};

    /// An event body's JSON with its tag last.
    fn tag_last(body: &EventBody) -> String {
        let Value::Object(m) = serde_json::to_value(body).unwrap() else {
            panic!("a body is a map")
        };
        let (tag, fields): (Vec<_>, Vec<_>) = m.iter().partition(|(k, _)| *k == "type");
        let inner: Vec<String> = fields
            .into_iter()
            .chain(tag)
            .map(|(k, v)| format!("{}:{}", Value::String(k.clone()), v))
            .collect();
        format!("{{{}}}", inner.join(","))
    }

    fn bodies() -> Vec<EventBody> {
        let at = chrono::DateTime::parse_from_rfc3339("2026-03-02T01:30:00Z")
            .unwrap()
            .to_utc();
        vec![
            EventBody::Refused {
                reasons: vec!["Thiếu \"tờ khai\"".into(), "b".into()],
            },
            EventBody::Supplemented {
                documents: vec![],
                paused_minutes: 90,
                due_at: Some(at),
                original_due_at: None,
                step_due_at: Some(at),
            },
            EventBody::ApologyIssued {
                reason: "Quá tải".into(),
                previous_due_at: at,
                new_due_at: at,
            },
            EventBody::Rated {
                score: 5,
                comment: None,
            },
            EventBody::FeePaid {
                reference: "R1".into(),
                amount_vnd: 50_000,
                method: crate::payment::PaymentMethod::Online,
                transaction_id: Some("T9".into()),
                receipt: None,
                receipt_no: None,
            },
        ]
    }

    #[test]
    fn a_body_reads_back_whatever_the_order_of_its_keys() {
        for b in bodies() {
            let written = serde_json::to_string(&b).unwrap();
            assert!(written.starts_with("{\"type\":"), "{written}");
            assert_eq!(serde_json::from_str::<EventBody>(&written).unwrap(), b);
            let late_tag = tag_last(&b);
            assert!(!late_tag.starts_with("{\"type\":"), "{late_tag}");
            assert_eq!(serde_json::from_str::<EventBody>(&late_tag).unwrap(), b);
            // From an already parsed value, and from bytes (no borrowed strings there when
            // escaped).
            let v = serde_json::to_value(&b).unwrap();
            assert_eq!(serde_json::from_value::<EventBody>(v).unwrap(), b);
            assert_eq!(
                serde_json::from_slice::<EventBody>(written.as_bytes()).unwrap(),
                b
            );
        }
    }

    #[test]
    fn an_escaped_tag_and_unknown_fields_are_read_as_the_derived_reader_did() {
        let b: EventBody =
            serde_json::from_str(r#"{"type":"re\u0066used","extra":1,"reasons":["x"]}"#).unwrap();
        assert_eq!(
            b,
            EventBody::Refused {
                reasons: vec!["x".into()]
            }
        );
    }

    #[test]
    fn a_body_without_a_good_tag_or_fields_is_refused_with_a_reason() {
        let err = |j: Value| {
            serde_json::from_value::<EventBody>(j)
                .unwrap_err()
                .to_string()
        };
        let err_str = |j: &str| {
            serde_json::from_str::<EventBody>(j)
                .unwrap_err()
                .to_string()
        };
        assert!(err(json!({})).contains("type"));
        assert!(err(json!({"reasons": ["x"]})).contains("type"));
        assert!(err(json!({"reasons": ["x"], "type": 3})).contains("string"));
        assert!(err_str(r#"{"type":3,"reasons":["x"]}"#).contains("string"));
        assert!(err_str(r#"{"type":"nonsense"}"#).contains("nonsense"));
        assert!(err_str(r#"{"reasons":[],"type":"nonsense"}"#).contains("nonsense"));
        assert!(err_str(r#"{"type":"refused"}"#).contains("reasons"));
        assert!(err_str(r#"{"type":"refused","reasons":"x"}"#).contains("sequence"));
        assert!(err_str(r#"["refused"]"#).contains("map"));
        assert!(err_str(r#"{"type":"refused","reasons":[],"reasons":[]}"#).contains("duplicate"));
    }

    #[test]
    fn an_event_with_its_body_reads_back() {
        let e: Event = serde_json::from_value(json!({
            "at": "2026-03-02T01:30:00Z",
            "actor": {"user_id": "00000000-0000-0000-0000-000000000001", "name": "A", "role": "desk_officer", "agency": null},
            "agency": "H40.1",
            "body": {"reasons": ["x"], "type": "refused"}
        }))
        .unwrap();
        let back: Event = serde_json::from_str(&serde_json::to_string(&e).unwrap()).unwrap();
        assert_eq!(back, e);
        assert!(matches!(e.body, EventBody::Refused { .. }));
    }
}

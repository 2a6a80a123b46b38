//! serde helpers for schedulers' JSON: scalars that arrive as strings in one
//! version and numbers in the next, and objects whose key order matters.

use std::fmt;
use std::marker::PhantomData;

use serde::de::{Deserialize, Deserializer, MapAccess, Visitor};

/// A JSON scalar read as text: `"3"`, `3`, `3.5`, `true` (null is `None` in an `Option`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct Flex(pub String);

impl<'de> Deserialize<'de> for Flex {
    fn deserialize<D: Deserializer<'de>>(de: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Flex;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string, number or boolean")
            }
            fn visit_str<E>(self, v: &str) -> Result<Flex, E> {
                Ok(Flex(v.to_owned()))
            }
            fn visit_string<E>(self, v: String) -> Result<Flex, E> {
                Ok(Flex(v))
            }
            fn visit_i64<E>(self, v: i64) -> Result<Flex, E> {
                Ok(Flex(v.to_string()))
            }
            fn visit_u64<E>(self, v: u64) -> Result<Flex, E> {
                Ok(Flex(v.to_string()))
            }
            fn visit_f64<E>(self, v: f64) -> Result<Flex, E> {
                Ok(Flex(v.to_string()))
            }
            fn visit_bool<E>(self, v: bool) -> Result<Flex, E> {
                Ok(Flex(if v { "True" } else { "False" }.to_owned()))
            }
        }
        de.deserialize_any(V)
    }
}

impl Flex {
    pub fn as_str(&self) -> &str {
        self.0.trim()
    }
}

/// A JSON object as (key, value) pairs in document order.
#[derive(Debug)]
pub(crate) struct InOrder<T>(pub Vec<(String, T)>);

impl<T> Default for InOrder<T> {
    fn default() -> Self {
        InOrder(Vec::new())
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for InOrder<T> {
    fn deserialize<D: Deserializer<'de>>(de: D) -> Result<Self, D::Error> {
        struct V<T>(PhantomData<T>);
        impl<'de, T: Deserialize<'de>> Visitor<'de> for V<T> {
            type Value = InOrder<T>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<InOrder<T>, A::Error> {
                let mut out = Vec::with_capacity(map.size_hint().unwrap_or(0));
                while let Some(pair) = map.next_entry::<String, T>()? {
                    out.push(pair);
                }
                Ok(InOrder(out))
            }
        }
        de.deserialize_map(V(PhantomData))
    }
}

//! String rules shared by the fields of both endpoints. Lengths count Unicode scalar values.

use serde_json::Value;

/// U+0000–U+001F and U+007F.
pub fn is_control(c: char) -> bool {
    c <= '\u{1f}' || c == '\u{7f}'
}

/// Characters that change how the text around them is displayed without being seen:
/// bidirectional embeddings, overrides and isolates (U+202A–U+202E, U+2066–U+2069, the
/// "Trojan Source" characters) and the invisible zero-width space, word joiner and BOM
/// (U+200B, U+2060, U+FEFF). Names refuse them, so a name always looks like what it is.
/// ZWJ and ZWNJ (U+200C, U+200D) and the LRM/RLM marks stay allowed: scripts and emoji need them.
pub fn is_invisible_format(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{200B}' | '\u{2060}' | '\u{FEFF}')
}

/// A display name: a string, trimmed, without control characters or invisible formatting
/// characters, `min..=max` characters long.
pub fn parse_name(s: &str, min: usize, max: usize) -> Result<String, String> {
    let trimmed = s.trim();
    if trimmed.chars().any(is_control) {
        return Err("must not contain control characters".into());
    }
    if trimmed.chars().any(is_invisible_format) {
        return Err("must not contain invisible or bidirectional formatting characters".into());
    }
    let n = trimmed.chars().count();
    if n < min || n > max {
        return Err(format!("must be between {min} and {max} characters"));
    }
    Ok(trimmed.to_owned())
}

/// [`parse_name`] for a JSON value, which must be a string (`null` included in "not a string").
pub fn name_from_json(v: &Value, min: usize, max: usize) -> Result<String, String> {
    match v {
        Value::String(s) => parse_name(s, min, max),
        _ => Err("must be a string".into()),
    }
}

/// An integer from JSON: only JSON integers count (`20.0`, `2e1` and `"20"` do not).
pub fn integer_from_json(v: &Value, min: i64, max: i64) -> Result<i64, String> {
    let msg = || format!("must be an integer between {min} and {max}");
    match v {
        Value::Number(n) => match n.as_i64() {
            Some(i) if (min..=max).contains(&i) => Ok(i),
            _ => Err(msg()),
        },
        _ => Err(msg()),
    }
}

/// What every validated text newtype offers besides its constructor: read access as a `str`
/// (`Deref`, `AsRef`, `Display`, `Serialize`) and comparison with plain strings
/// (`pool.name == "Gold leads"`). Nothing builds one but its checking constructor.
macro_rules! text_newtype_impls {
    ($($t:ty),*) => {$(
        impl std::fmt::Display for $t {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl serde::Serialize for $t {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl std::ops::Deref for $t {
            type Target = str;

            fn deref(&self) -> &str {
                self.as_str()
            }
        }

        impl AsRef<str> for $t {
            fn as_ref(&self) -> &str {
                self.as_str()
            }
        }

        impl PartialEq<str> for $t {
            fn eq(&self, other: &str) -> bool {
                self.as_str() == other
            }
        }

        impl PartialEq<&str> for $t {
            fn eq(&self, other: &&str) -> bool {
                self.as_str() == *other
            }
        }

        impl PartialEq<String> for $t {
            fn eq(&self, other: &String) -> bool {
                self.as_str() == other
            }
        }
    )*};
}
pub(crate) use text_newtype_impls;

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn names_are_trimmed_then_counted_in_scalar_values() {
        assert_eq!(parse_name("  abc  ", 3, 5).unwrap(), "abc");
        assert_eq!(parse_name("ééé", 3, 3).unwrap(), "ééé");
        assert_eq!(parse_name("🦀🦀🦀", 3, 3).unwrap(), "🦀🦀🦀");
        assert!(parse_name(" ab ", 3, 5).is_err());
        assert!(parse_name("abcdef", 3, 5).is_err());
    }

    #[test]
    fn control_characters_are_refused_but_inner_spaces_kept() {
        assert_eq!(parse_name("a b c", 3, 9).unwrap(), "a b c");
        for bad in ["ab\u{0}c", "ab\nc", "ab\u{7f}c", "a\tbc", "ab\u{1f}c"] {
            assert_eq!(
                parse_name(bad, 1, 9).unwrap_err(),
                "must not contain control characters",
                "{bad:?}"
            );
        }
    }

    #[test]
    fn bidi_overrides_and_zero_width_spaces_are_refused_but_joiners_kept() {
        for bad in [
            "abc\u{202E}def",
            "a\u{2066}bc",
            "ab\u{200B}c",
            "\u{FEFF}abc",
            "a\u{2060}bc",
        ] {
            assert_eq!(
                parse_name(bad, 1, 20).unwrap_err(),
                "must not contain invisible or bidirectional formatting characters",
                "{bad:?}"
            );
        }
        for ok in ["👨\u{200D}👩\u{200D}👧", "می\u{200C}خواهم", "abc\u{200F}"] {
            assert!(parse_name(ok, 1, 20).is_ok(), "{ok:?}");
        }
    }

    #[test]
    fn only_json_integers_are_integers() {
        assert_eq!(integer_from_json(&json!(20), 1, 100), Ok(20));
        for bad in [
            json!(20.0),
            json!(2e1),
            json!("20"),
            json!(null),
            json!(true),
        ] {
            assert!(integer_from_json(&bad, 1, 100).is_err(), "{bad}");
        }
        let huge: Value = serde_json::from_str("18446744073709551616").unwrap();
        assert!(integer_from_json(&huge, 0, i64::MAX).is_err());
    }
}

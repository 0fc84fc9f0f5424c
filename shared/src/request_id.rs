//! Request ids: a fresh ULID per request, sent as `X-Request-Id` and repeated in error bodies.

use std::fmt;

/// A request id (ULID: 26 characters of Crockford base32).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RequestId(ulid::Ulid);

impl RequestId {
    pub fn new() -> Self {
        Self(ulid::Ulid::new())
    }

    /// The id's text, written into `buf` (no allocation).
    pub fn encode<'b>(&self, buf: &'b mut [u8; ulid::ULID_LEN]) -> &'b str {
        self.0.array_to_str(buf)
    }
}

impl Default for RequestId {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Display for RequestId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_ids_are_26_crockford_characters_and_unique() {
        let a = RequestId::new().to_string();
        let b = RequestId::new().to_string();
        assert_eq!(a.len(), 26);
        assert!(a
            .chars()
            .all(|c| "0123456789ABCDEFGHJKMNPQRSTVWXYZ".contains(c)));
        assert_ne!(a, b);
        let id = RequestId::new();
        assert_eq!(id.encode(&mut [0; 26]), id.to_string());
    }
}

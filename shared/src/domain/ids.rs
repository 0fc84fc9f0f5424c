//! Resource ids in paths.

use uuid::Uuid;

/// A path id is a UUID in its hyphenated 36-character form (any case); anything else names no
/// resource, so the caller gets 404 without a store call.
pub fn parse_path_uuid(s: &str) -> Option<Uuid> {
    if s.len() != 36 {
        return None;
    }
    Uuid::try_parse(s).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_hyphenated_uuids_are_ids() {
        let u = "3c90c3cc-0d44-4b50-8888-8dd25736052a";
        assert_eq!(parse_path_uuid(u).unwrap().to_string(), u);
        assert!(parse_path_uuid(&u.to_uppercase()).is_some());
        for bad in [
            "",
            "abc",
            "3c90c3cc0d444b5088888dd25736052a",
            "{3c90c3cc-0d44-4b50-8888-8dd25736052a}",
            "urn:uuid:3c90c3cc-0d44-4b50-8888-8dd25736052a",
            "3c90c3cc-0d44-4b50-8888-8dd25736052g",
            "../../etc/passwd",
        ] {
            assert!(parse_path_uuid(bad).is_none(), "{bad}");
        }
    }
}

//! Resource ids: one newtype per kind of id, so an organization id cannot be passed where a
//! pool id is expected (`get_contact_pool(org, id)` with the two swapped does not compile).

use std::fmt;

use serde::Serialize;
use uuid::Uuid;

macro_rules! uuid_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
        #[serde(transparent)]
        pub struct $name(Uuid);

        impl $name {
            pub const fn from_uuid(id: Uuid) -> Self {
                Self(id)
            }

            /// A fresh random (v4) id.
            pub fn new_v4() -> Self {
                Self(Uuid::new_v4())
            }

            /// Any of the forms [`Uuid::parse_str`] accepts (stored items, CLI arguments).
            pub fn parse(s: &str) -> Option<Self> {
                Uuid::parse_str(s).ok().map(Self)
            }

            pub const fn as_uuid(self) -> Uuid {
                self.0
            }
        }

        impl From<Uuid> for $name {
            fn from(id: Uuid) -> Self {
                Self(id)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Display::fmt(&self.0, f)
            }
        }

        impl std::str::FromStr for $name {
            type Err = uuid::Error;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Uuid::parse_str(s).map(Self)
            }
        }
    };
}

uuid_id!(
    /// An organization: every key belongs to one, and a key acts only inside it.
    OrgId
);
uuid_id!(
    /// A pool, contact or guardrail.
    PoolId
);
uuid_id!(
    /// A guardrail pool's brand (immutable).
    BrandId
);

impl PoolId {
    /// A path id is a UUID in its hyphenated 36-character form (any case); anything else names
    /// no resource, so the caller gets 404 without a store call.
    pub fn from_path(s: &str) -> Option<Self> {
        if s.len() != 36 {
            return None;
        }
        Uuid::try_parse(s).ok().map(Self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_hyphenated_uuids_are_ids() {
        let u = "3c90c3cc-0d44-4b50-8888-8dd25736052a";
        assert_eq!(PoolId::from_path(u).unwrap().to_string(), u);
        assert!(PoolId::from_path(&u.to_uppercase()).is_some());
        for bad in [
            "",
            "abc",
            "3c90c3cc0d444b5088888dd25736052a",
            "{3c90c3cc-0d44-4b50-8888-8dd25736052a}",
            "urn:uuid:3c90c3cc-0d44-4b50-8888-8dd25736052a",
            "3c90c3cc-0d44-4b50-8888-8dd25736052g",
            "../../etc/passwd",
        ] {
            assert!(PoolId::from_path(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn ids_print_and_serialize_as_their_uuid() {
        let u = Uuid::parse_str("3c90c3cc-0d44-4b50-8888-8dd25736052a").unwrap();
        let org = OrgId::from_uuid(u);
        assert_eq!(org.to_string(), u.to_string());
        assert_eq!(
            serde_json::to_string(&BrandId::from(u)).unwrap(),
            format!("\"{u}\"")
        );
        assert_eq!(
            "3c90c3cc-0d44-4b50-8888-8dd25736052a"
                .parse::<OrgId>()
                .unwrap(),
            org
        );
        assert_eq!(OrgId::parse("nope"), None);
    }
}

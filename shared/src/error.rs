//! One error type for every way a request can fail. It has no status of its own: each dialect
//! (see [`crate::envelope`]) owns its table of status, code and message, and the two differ
//! (dialect A answers some field errors 400, dialect M 422). Internal causes are logged, never sent.

use crate::domain::validation::FieldErrors;

pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// The path is not this function's route.
    #[error("no such route")]
    RouteNotFound,
    #[error("method not allowed")]
    MethodNotAllowed { allow: &'static str },
    #[error("no credentials")]
    MissingCredentials,
    #[error("invalid credentials")]
    InvalidCredentials,
    #[error("missing scope")]
    MissingScope,
    /// The resource does not exist, or belongs to another organization (the caller cannot tell).
    #[error("not found")]
    NotFound,
    #[error("request body too large")]
    PayloadTooLarge,
    #[error("unsupported media type")]
    UnsupportedMediaType,
    /// Empty body, invalid JSON, not an object, duplicate keys.
    #[error("malformed body: {0}")]
    MalformedBody(MalformedBody),
    /// Field-level problems: unsupported or immutable fields, and invalid values.
    #[error("invalid fields")]
    Fields(FieldErrors),
    /// The `Idempotency-Key` header is malformed or repeated (API.md §5).
    #[error("invalid Idempotency-Key header")]
    InvalidIdempotencyKey,
    /// The `Idempotency-Key` was used before with another request (another fingerprint).
    #[error("Idempotency-Key reused with a different request")]
    IdempotencyKeyReused,
    #[error("slug already in use")]
    SlugTaken,
    #[error("modified concurrently")]
    Conflict,
    #[error("precondition failed")]
    PreconditionFailed,
    #[error("store unavailable")]
    Unavailable(#[source] BoxError),
    #[error("internal error")]
    Internal(#[source] BoxError),
}

/// What was wrong with a body that is not a JSON object we can read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MalformedBody {
    Empty,
    NotUtf8,
    Syntax,
    NotAnObject,
    DuplicateKey,
}

impl MalformedBody {
    pub fn describe(self) -> &'static str {
        match self {
            Self::Empty => "request body is required",
            Self::NotUtf8 => "request body is not valid UTF-8",
            Self::Syntax => "request body is not valid JSON",
            Self::NotAnObject => "request body must be a JSON object",
            Self::DuplicateKey => "request body has a duplicate key",
        }
    }
}

impl std::fmt::Display for MalformedBody {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.describe())
    }
}

impl ApiError {
    pub fn internal(e: impl Into<BoxError>) -> Self {
        Self::Internal(e.into())
    }
}

/// Writes an error and its chain of causes on one line, for logs.
pub fn error_chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut s = e.to_string();
    let mut cur = e.source();
    while let Some(c) = cur {
        s.push_str(": ");
        s.push_str(&c.to_string());
        cur = c.source();
    }
    s
}

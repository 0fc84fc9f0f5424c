//! Field errors, collected rather than returned at the first.

/// Why a field was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldErrorKind {
    /// A field outside the endpoint's table.
    Unsupported,
    /// A field that exists on the resource but may never change.
    Immutable,
    /// A supported field with a bad value or type.
    Invalid,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    pub field: String,
    pub message: String,
    pub kind: FieldErrorKind,
}

/// Every field error of one body, in report order: the endpoint's table order first, then
/// unsupported fields in the order they came.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FieldErrors(Vec<FieldError>);

impl FieldErrors {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn push(&mut self, field: &str, kind: FieldErrorKind, message: impl Into<String>) {
        self.0.push(FieldError {
            field: field.to_owned(),
            message: message.into(),
            kind,
        });
    }

    pub fn invalid(&mut self, field: &str, message: impl Into<String>) {
        self.push(field, FieldErrorKind::Invalid, message);
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn iter(&self) -> impl Iterator<Item = &FieldError> {
        self.0.iter()
    }

    pub fn first(&self) -> Option<&FieldError> {
        self.0.first()
    }

    /// Keeps the result if there were no errors.
    pub fn into_result<T>(self, value: T) -> Result<T, FieldErrors> {
        if self.0.is_empty() {
            Ok(value)
        } else {
            Err(self)
        }
    }
}

/// Takes a supported field's value out of a body, keeping the table order for errors.
pub fn take<'a>(
    body: &'a [(String, serde_json::Value)],
    field: &str,
) -> Option<&'a serde_json::Value> {
    body.iter().find(|(k, _)| k == field).map(|(_, v)| v)
}

//! Error classification: SDK errors to [`StoreError`], a failed owner condition to 404 / 412,
//! and a cancelled transaction's reasons to the named actions they belong to.

use std::fmt::Debug;

use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::types::{AttributeValue, CancellationReason};

use super::expr::WRITE_TOKEN_BUCKETS;
use super::items::{get_s, Item};
use crate::domain::ids::OrgId;
use crate::store::{Precondition, StoreError};

/// A single write's result, with a failed condition answered by `on_failed`.
pub(super) fn unless_condition_failed<T, E, R>(
    result: Result<T, SdkError<E, R>>,
    on_failed: StoreError,
) -> Result<(), StoreError>
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    R: Debug + Send + Sync + 'static,
{
    match result {
        Ok(_) => Ok(()),
        Err(e) if e.code() == Some("ConditionalCheckFailedException") => Err(on_failed),
        Err(e) => Err(classify(e)),
    }
}

pub(super) fn internal(e: impl std::error::Error + Send + Sync + 'static) -> StoreError {
    StoreError::Internal(Box::new(e))
}

/// Throttling, timeouts, unreachable endpoints and DynamoDB's 5xx are "unavailable" (503);
/// contention between transactions is a conflict; the rest is internal.
pub(super) fn classify<E, R>(e: SdkError<E, R>) -> StoreError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    R: Debug + Send + Sync + 'static,
{
    let unavailable = match &e {
        SdkError::TimeoutError(_) | SdkError::DispatchFailure(_) | SdkError::ResponseError(_) => {
            true
        }
        SdkError::ServiceError(ctx) => match ctx.err().code() {
            Some(
                "TransactionConflictException"
                | "TransactionInProgressException"
                | "TransactionConflict",
            ) => return StoreError::Conflict,
            Some(
                "ProvisionedThroughputExceededException"
                | "ThrottlingException"
                | "RequestLimitExceeded"
                | "InternalServerError"
                | "ServiceUnavailable"
                | "LimitExceededException",
            ) => true,
            _ => false,
        },
        _ => false,
    };
    if unavailable {
        StoreError::Unavailable(Box::new(e))
    } else {
        StoreError::Internal(Box::new(e))
    }
}

/// Tells why a pool's owner condition failed, from the item as it was.
pub(super) fn condition_failure(
    old: Option<&Item>,
    org_id: OrgId,
    pre: &Precondition,
) -> StoreError {
    let same_org = old
        .and_then(|i| get_s(i, "org_id").ok())
        .is_some_and(|o| o == org_id.to_string());
    if !same_org {
        StoreError::NotFound
    } else if matches!(pre, Precondition::Versions(_)) {
        StoreError::PreconditionFailed
    } else {
        StoreError::Conflict
    }
}

/// A pool update's failed condition, read from the item as it is (`old`): if the item holds
/// this write's `token`, an earlier attempt of this same request was applied and only its answer
/// was lost, so the write succeeded and the item is its result (or, if others wrote since,
/// within the token's lifetime, the item as it is now: `last_write` tells which). Otherwise the
/// write was not applied and [`condition_failure`] tells why.
pub(super) fn update_failure(
    old: Option<&Item>,
    token: &str,
    org_id: OrgId,
    pre: &Precondition,
) -> Result<Item, StoreError> {
    match old {
        Some(item) if holds_token(item, token) => Ok(item.clone()),
        _ => Err(condition_failure(old, org_id, pre)),
    }
}

/// The item holds `token` in one of its write-token buckets.
pub(super) fn holds_token(item: &Item, token: &str) -> bool {
    WRITE_TOKEN_BUCKETS.iter().any(|b| match item.get(*b) {
        Some(AttributeValue::Ss(tokens)) => tokens.iter().any(|t| t == token),
        _ => false,
    })
}

// ---- transactions ------------------------------------------------------------------------

/// A transaction's actions, named. DynamoDB reports cancellation reasons by position, so each
/// action's discriminant is its position, and the transaction is built from [`Self::ORDER`].
pub(super) trait TxAction: Copy + 'static {
    /// Every action, in transaction order.
    const ORDER: &'static [Self];

    fn position(self) -> usize;
}

/// A guardrail pool's slug change (DESIGN.md, access patterns).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum SlugChange {
    /// (a) `Update` the pool, if still at the version read.
    Pool = 0,
    /// (b) `Put` the new claim, if free.
    NewClaim = 1,
    /// (c) `Delete` the old claim, if this pool's.
    OldClaim = 2,
}

impl TxAction for SlugChange {
    const ORDER: &'static [Self] = &[Self::Pool, Self::NewClaim, Self::OldClaim];

    fn position(self) -> usize {
        self as usize
    }
}

/// A pool's change made with an `Idempotency-Key` (a rename, a contact-pool update): the pool,
/// pinned to the version read, and the key's record, if the key has none.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum RecordedUpdate {
    Pool = 0,
    Record = 1,
}

impl TxAction for RecordedUpdate {
    const ORDER: &'static [Self] = &[Self::Pool, Self::Record];

    fn position(self) -> usize {
        self as usize
    }
}

/// A slug change made with an `Idempotency-Key`: [`SlugChange`]'s three actions, then the
/// key's record.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum RecordedSlugChange {
    Pool = 0,
    NewClaim = 1,
    OldClaim = 2,
    Record = 3,
}

impl TxAction for RecordedSlugChange {
    const ORDER: &'static [Self] = &[Self::Pool, Self::NewClaim, Self::OldClaim, Self::Record];

    fn position(self) -> usize {
        self as usize
    }
}

/// A guardrail pool's creation: the pool and its slug claim, each if absent.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum CreateGuardrail {
    Pool = 0,
    Claim = 1,
}

impl TxAction for CreateGuardrail {
    const ORDER: &'static [Self] = &[Self::Pool, Self::Claim];

    fn position(self) -> usize {
        self as usize
    }
}

/// An API key's creation: its record and its key-id pointer, each if absent.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum CreateKey {
    Record = 0,
    Pointer = 1,
}

impl TxAction for CreateKey {
    const ORDER: &'static [Self] = &[Self::Record, Self::Pointer];

    fn position(self) -> usize {
        self as usize
    }
}

/// Why DynamoDB cancelled (or did not cancel) one action of a transaction.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum Reason {
    /// This action was fine; another one cancelled the transaction.
    None,
    ConditionalCheckFailed,
    TransactionConflict,
    ThrottlingError,
    ProvisionedThroughputExceeded,
    ValidationError,
    Other(String),
}

/// An action DynamoDB gave no reason for is as one it had nothing against.
static NO_REASON: Reason = Reason::None;

impl Reason {
    fn from_code(code: Option<&str>) -> Self {
        match code.unwrap_or("None") {
            "None" => Self::None,
            "ConditionalCheckFailed" => Self::ConditionalCheckFailed,
            "TransactionConflict" => Self::TransactionConflict,
            "ThrottlingError" => Self::ThrottlingError,
            "ProvisionedThroughputExceeded" => Self::ProvisionedThroughputExceeded,
            "ValidationError" => Self::ValidationError,
            other => Self::Other(other.to_owned()),
        }
    }

    /// DynamoDB's code for it.
    pub(super) fn code(&self) -> &str {
        match self {
            Self::None => "None",
            Self::ConditionalCheckFailed => "ConditionalCheckFailed",
            Self::TransactionConflict => "TransactionConflict",
            Self::ThrottlingError => "ThrottlingError",
            Self::ProvisionedThroughputExceeded => "ProvisionedThroughputExceeded",
            Self::ValidationError => "ValidationError",
            Self::Other(code) => code,
        }
    }
}

/// A cancelled transaction's reasons, one per action in action order, read by action name;
/// with the item an action's failed condition saw, where it asked for it
/// (`ReturnValuesOnConditionCheckFailure`).
#[derive(Clone, Debug, Default, PartialEq)]
pub(super) struct Cancellation(Vec<Reason>, Vec<Option<Item>>);

impl Cancellation {
    pub(super) fn from_reasons(reasons: &[CancellationReason]) -> Self {
        Self(
            reasons
                .iter()
                .map(|r| Reason::from_code(r.code()))
                .collect(),
            reasons.iter().map(|r| r.item().cloned()).collect(),
        )
    }

    /// The item the action's failed condition saw, if it asked for it.
    pub(super) fn item<A: TxAction>(&self, action: A) -> Option<&Item> {
        self.1.get(action.position()).and_then(Option::as_ref)
    }

    pub(super) fn reason<A: TxAction>(&self, action: A) -> &Reason {
        self.0.get(action.position()).unwrap_or(&NO_REASON)
    }

    /// The action's own condition failed.
    pub(super) fn failed<A: TxAction>(&self, action: A) -> bool {
        *self.reason(action) == Reason::ConditionalCheckFailed
    }

    /// What the cancellation means when it is not about the items themselves: throttling of
    /// any action is throttling (503, `Unavailable`), not contention; a `ValidationError` (or a
    /// reason this code does not know) is a store failure (500). `None` when every reason is a
    /// failed condition, a conflict with another transaction, or none: the caller reads those
    /// by action, and only contention is worth another attempt.
    pub(super) fn store_error(&self) -> Option<StoreError> {
        let codes = || self.codes().join(", ");
        if self.0.iter().any(|r| {
            matches!(
                r,
                Reason::ThrottlingError | Reason::ProvisionedThroughputExceeded
            )
        }) {
            return Some(StoreError::Unavailable(
                format!("transaction throttled: [{}]", codes()).into(),
            ));
        }
        if self
            .0
            .iter()
            .any(|r| matches!(r, Reason::ValidationError | Reason::Other(_)))
        {
            return Some(StoreError::Internal(
                format!("transaction refused: [{}]", codes()).into(),
            ));
        }
        None
    }

    /// The reason codes in action order, for logs.
    pub(super) fn codes(&self) -> Vec<&str> {
        self.0.iter().map(Reason::code).collect()
    }
}

pub(super) enum TxFailure {
    /// The transaction was cancelled; one reason per action, in action order.
    Cancelled(Cancellation),
    Store(StoreError),
}

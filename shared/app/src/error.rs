use qnet_domain::FieldErrors;
use qnet_ports::{BlobError, StoreError};

/// Every way an application operation can fail; the HTTP layer maps each to one
/// documented problem type in one place.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("invalid fields: {0}")]
    Invalid(FieldErrors),
    #[error("sign in to do this")]
    Unauthenticated,
    #[error("{0}")]
    Forbidden(&'static str),
    #[error("{0} not found")]
    NotFound(&'static str),
    #[error("{0}")]
    Conflict(String),
    #[error("the record has changed since you read it (version {current})")]
    VersionMismatch { current: u64 },
    #[error("send If-Match with the version you read")]
    VersionRequired,
    #[error("the cursor is not valid for this list")]
    BadCursor,
    #[error("the Idempotency-Key was used before with a different request")]
    IdempotencyMismatch,
    #[error("the record is too large to store")]
    TooLarge,
    /// Over a per-member limit ([`crate::limits`]); `retry_after` is in seconds.
    #[error("{detail}")]
    TooManyRequests { detail: String, retry_after: u64 },
    #[error("storage is unavailable")]
    Unavailable(String),
}

impl AppError {
    pub fn invalid(field: &str, message: &str) -> AppError {
        let mut e = FieldErrors::new();
        e.push(field, message);
        AppError::Invalid(e)
    }
}

impl From<StoreError> for AppError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::BadCursor => AppError::BadCursor,
            StoreError::TooLarge => AppError::TooLarge,
            StoreError::ConditionFailed | StoreError::TransactionConflict { .. } => {
                AppError::Conflict("someone else changed this at the same time; try again".into())
            }
            StoreError::Unavailable(m) => AppError::Unavailable(m),
        }
    }
}

impl From<BlobError> for AppError {
    fn from(e: BlobError) -> Self {
        match e {
            BlobError::NotFound => AppError::NotFound("file"),
            BlobError::Unavailable(m) => AppError::Unavailable(m),
        }
    }
}

impl From<FieldErrors> for AppError {
    fn from(e: FieldErrors) -> Self {
        AppError::Invalid(e)
    }
}

pub type AppResult<T> = Result<T, AppError>;

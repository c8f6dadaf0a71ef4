//! App Mesh's modeled errors: `x-amzn-ErrorType` plus `{"message": ...}`
//! with the model's HTTP status, so SDKs raise their modeled exceptions.

use axum::http::StatusCode;

/// The error types of the App Mesh model, plus the SigV4 ones AWS front
/// ends answer with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    BadRequest,
    Conflict,
    NotFound,
    ResourceInUse,
    TooManyTags,
    Forbidden,
    ServiceUnavailable,
    InternalServerError,
    LimitExceeded,
    TooManyRequests,
    InvalidSignature,
    UnrecognizedClient,
    AccessDenied,
    MissingAuthenticationToken,
}

impl ErrorKind {
    pub fn name(self) -> &'static str {
        match self {
            ErrorKind::BadRequest => "BadRequestException",
            ErrorKind::Conflict => "ConflictException",
            ErrorKind::NotFound => "NotFoundException",
            ErrorKind::ResourceInUse => "ResourceInUseException",
            ErrorKind::TooManyTags => "TooManyTagsException",
            ErrorKind::Forbidden => "ForbiddenException",
            ErrorKind::ServiceUnavailable => "ServiceUnavailableException",
            ErrorKind::InternalServerError => "InternalServerErrorException",
            ErrorKind::LimitExceeded => "LimitExceededException",
            ErrorKind::TooManyRequests => "TooManyRequestsException",
            ErrorKind::InvalidSignature => "InvalidSignatureException",
            ErrorKind::UnrecognizedClient => "UnrecognizedClientException",
            ErrorKind::AccessDenied => "AccessDeniedException",
            ErrorKind::MissingAuthenticationToken => "MissingAuthenticationTokenException",
        }
    }

    pub fn status(self) -> StatusCode {
        match self {
            ErrorKind::BadRequest | ErrorKind::TooManyTags | ErrorKind::LimitExceeded => {
                StatusCode::BAD_REQUEST
            }
            ErrorKind::Conflict | ErrorKind::ResourceInUse => StatusCode::CONFLICT,
            ErrorKind::NotFound => StatusCode::NOT_FOUND,
            ErrorKind::Forbidden
            | ErrorKind::InvalidSignature
            | ErrorKind::UnrecognizedClient
            | ErrorKind::AccessDenied
            | ErrorKind::MissingAuthenticationToken => StatusCode::FORBIDDEN,
            ErrorKind::ServiceUnavailable => StatusCode::SERVICE_UNAVAILABLE,
            ErrorKind::InternalServerError => StatusCode::INTERNAL_SERVER_ERROR,
            ErrorKind::TooManyRequests => StatusCode::TOO_MANY_REQUESTS,
        }
    }
}

/// An error answer of one API call.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}: {message}", kind.name())]
pub struct ApiError {
    pub kind: ErrorKind,
    pub message: String,
}

impl ApiError {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> ApiError {
        ApiError {
            kind,
            message: message.into(),
        }
    }

    pub fn bad_request(message: impl Into<String>) -> ApiError {
        ApiError::new(ErrorKind::BadRequest, message)
    }

    pub fn not_found(message: impl Into<String>) -> ApiError {
        ApiError::new(ErrorKind::NotFound, message)
    }

    pub fn conflict(message: impl Into<String>) -> ApiError {
        ApiError::new(ErrorKind::Conflict, message)
    }

    pub fn internal(message: impl Into<String>) -> ApiError {
        ApiError::new(ErrorKind::InternalServerError, message)
    }
}

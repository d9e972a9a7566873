//! The error model every API in the spec format shares, and nothing of any one API.
//!
//! A catalogue entry ([`ErrorInfo`]) names a wire code, the HTTP status it is sent with,
//! its [`ErrorCategory`] and [`RetryClass`]. The spec loader reads these; the generated
//! errors crate emits one API's catalogue as a `&'static [ErrorInfo]`; the runtimes take
//! that slice as data (the server's statuses, the client's retry classes), so they name
//! no API's codes and depend on no generated crate.

/// Error families, by HTTP status. More may come (405 came with conformance): match
/// with a `_` arm.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum ErrorCategory {
    /// 400: the request is malformed.
    InvalidRequest,
    /// 401: the credential is missing or not accepted.
    Authentication,
    /// 403: authenticated, but not permitted.
    Permission,
    /// 404: no such resource.
    NotFound,
    /// 405: the path exists, but not with this method.
    MethodNotAllowed,
    /// 409: the resource's state forbids the change.
    Conflict,
    /// 410: the resource is gone for good.
    Gone,
    /// 429: too many requests.
    RateLimit,
    /// 5xx: the server failed.
    Server,
}

impl ErrorCategory {
    /// Every category.
    pub const ALL: [ErrorCategory; 9] = [
        ErrorCategory::InvalidRequest,
        ErrorCategory::Authentication,
        ErrorCategory::Permission,
        ErrorCategory::NotFound,
        ErrorCategory::MethodNotAllowed,
        ErrorCategory::Conflict,
        ErrorCategory::Gone,
        ErrorCategory::RateLimit,
        ErrorCategory::Server,
    ];

    /// The spec's name.
    pub const fn as_str(self) -> &'static str {
        match self {
            ErrorCategory::InvalidRequest => "invalid_request",
            ErrorCategory::Authentication => "authentication",
            ErrorCategory::Permission => "permission",
            ErrorCategory::NotFound => "not_found",
            ErrorCategory::MethodNotAllowed => "method_not_allowed",
            ErrorCategory::Conflict => "conflict",
            ErrorCategory::Gone => "gone",
            ErrorCategory::RateLimit => "rate_limit",
            ErrorCategory::Server => "server",
        }
    }

    /// The category with this spec name.
    pub fn from_name(name: &str) -> Option<ErrorCategory> {
        ErrorCategory::ALL.into_iter().find(|c| c.as_str() == name)
    }

    /// Whether `status` belongs to this category.
    pub fn admits(self, status: u16) -> bool {
        match self {
            ErrorCategory::InvalidRequest => status == 400,
            ErrorCategory::Authentication => status == 401,
            ErrorCategory::Permission => status == 403,
            ErrorCategory::NotFound => status == 404,
            ErrorCategory::MethodNotAllowed => status == 405,
            ErrorCategory::Conflict => status == 409,
            ErrorCategory::Gone => status == 410,
            ErrorCategory::RateLimit => status == 429,
            ErrorCategory::Server => (500..600).contains(&status),
        }
    }
}

/// Whether and how a client retries an error.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum RetryClass {
    /// Never: the request, the credential or the state must change first.
    Never,
    /// After the wait the `Retry-After` header names.
    AfterHeader,
    /// On the backoff schedule of the retry policy.
    Backoff,
}

impl RetryClass {
    /// Every class.
    pub const ALL: [RetryClass; 3] = [RetryClass::Never, RetryClass::AfterHeader, RetryClass::Backoff];

    /// The spec's name.
    pub const fn as_str(self) -> &'static str {
        match self {
            RetryClass::Never => "never",
            RetryClass::AfterHeader => "after_header",
            RetryClass::Backoff => "backoff",
        }
    }

    /// The class with this spec name.
    pub fn from_name(name: &str) -> Option<RetryClass> {
        RetryClass::ALL.into_iter().find(|c| c.as_str() == name)
    }
}

/// What a catalogue says about one code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ErrorInfo {
    /// The wire code.
    pub code: &'static str,
    /// The HTTP status the code is sent with.
    pub status: u16,
    /// The category.
    pub category: ErrorCategory,
    /// The retry class.
    pub retry: RetryClass,
    /// What the code means.
    pub meaning: &'static str,
    /// What the caller should do.
    pub fix: &'static str,
}

/// The entry of `code` in `catalogue`, if it has one.
pub fn lookup<'a>(catalogue: &'a [ErrorInfo], code: &str) -> Option<&'a ErrorInfo> {
    catalogue.iter().find(|info| info.code == code)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_statuses_fall_in_one_category() {
        for c in ErrorCategory::ALL {
            assert_eq!(ErrorCategory::from_name(c.as_str()), Some(c));
        }
        for r in RetryClass::ALL {
            assert_eq!(RetryClass::from_name(r.as_str()), Some(r));
        }
        for status in 100..600 {
            let owners = ErrorCategory::ALL.into_iter().filter(|c| c.admits(status)).count();
            assert!(owners <= 1, "{status} is in {owners} categories");
        }
        assert_eq!(ErrorCategory::from_name("teapot"), None);
    }

    #[test]
    fn lookup_finds_a_code_or_nothing() {
        static CATALOGUE: [ErrorInfo; 1] = [ErrorInfo {
            code: "parcel_lost",
            status: 410,
            category: ErrorCategory::Gone,
            retry: RetryClass::Never,
            meaning: "",
            fix: "",
        }];
        assert_eq!(lookup(&CATALOGUE, "parcel_lost").map(|i| i.status), Some(410));
        assert_eq!(lookup(&CATALOGUE, "parcel"), None);
    }
}

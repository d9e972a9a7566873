//! `tenx-errors` against the error catalogue of the spec.

use std::path::Path;
use std::str::FromStr;

use tenx_errors::{ApiError, ErrorBody, ErrorCategory, ErrorCode, ErrorDetails, RetryClass};

fn spec() -> tenx_spec::Spec {
    tenx_spec::load_dir(&Path::new(env!("CARGO_MANIFEST_DIR")).join("../../api-spec")).unwrap_or_else(|e| panic!("{e}"))
}

fn retry_of(class: tenx_spec::RetryClass) -> RetryClass {
    match class {
        tenx_spec::RetryClass::Never => RetryClass::Never,
        tenx_spec::RetryClass::AfterHeader => RetryClass::AfterHeader,
        tenx_spec::RetryClass::Backoff => RetryClass::Backoff,
    }
}

#[test]
fn every_catalogue_code_round_trips_with_its_facts() {
    let spec = spec();
    assert_eq!(ErrorCode::ALL.len(), spec.errors.len());
    for def in &spec.errors {
        let code = ErrorCode::from_wire(&def.code);
        assert!(!matches!(code, ErrorCode::Unknown(_)), "`{}` is unknown to the crate", def.code);
        assert_eq!(code.as_str(), def.code);
        assert_eq!(code.to_string(), def.code);
        assert_eq!(ErrorCode::from_str(&def.code), Ok(code.clone()));
        let json = serde_json::to_string(&code).unwrap_or_default();
        assert_eq!(json, format!("\"{}\"", def.code));
        assert_eq!(serde_json::from_str::<ErrorCode>(&json).ok(), Some(code.clone()));
        assert_eq!(code.status(), Some(def.status.value), "{}", def.code);
        assert_eq!(code.retry_class(), Some(retry_of(def.retry)), "{}", def.code);
        assert_eq!(code.category().map(ErrorCategory::as_str), Some(def.category.as_str()));
        assert_eq!(code.description(), Some(def.meaning.as_str()));
        assert_eq!(code.fix(), Some(def.fix.as_str()));
    }
}

#[test]
fn an_unknown_code_round_trips_verbatim() {
    let code = ErrorCode::from_wire("quota_melted");
    assert_eq!(code, ErrorCode::Unknown("quota_melted".to_owned()));
    assert_eq!(code.as_str(), "quota_melted");
    assert_eq!(serde_json::to_string(&code).unwrap_or_default(), "\"quota_melted\"");
    assert_eq!(serde_json::from_str::<ErrorCode>("\"quota_melted\"").ok(), Some(code.clone()));
    assert_eq!((code.status(), code.retry_class(), code.info()), (None, None, None));
}

#[test]
fn invalid_token_is_a_401_that_never_retries_despite_its_prefix() {
    assert_eq!(ErrorCode::InvalidToken.status(), Some(401));
    assert_eq!(ErrorCode::InvalidToken.retry_class(), Some(RetryClass::Never));
    assert_eq!(ErrorCode::InvalidToken.category(), Some(ErrorCategory::Authentication));
    assert_eq!(ErrorCode::InvalidSlug.status(), Some(400));
}

#[test]
fn the_auth_page_envelope_decodes() {
    let body = r#"{"error":{"code":"insufficient_scope","message":"Token does not have the required scope: analytics.*","statusCode":403}}"#;
    let parsed: ErrorBody = serde_json::from_str(body).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(parsed.error.code, ErrorCode::InsufficientScope);
    assert_eq!(parsed.error.status_code, 403);
    assert_eq!(parsed.error.details().ok(), Some(ErrorDetails::None));
    assert_eq!(serde_json::to_string(&parsed).unwrap_or_default(), body);
}

#[test]
fn typed_details_decode_from_extra_fields() {
    let body = r#"{"error":{"code":"feature_locked","message":"Growth tools require a PRO plan.","statusCode":403,"feature":"growth_tools","requiredPlan":"PRO"}}"#;
    let parsed: ErrorBody = serde_json::from_str(body).unwrap_or_else(|e| panic!("{e}"));
    match parsed.error.details() {
        Ok(ErrorDetails::FeatureLocked(d)) => {
            assert_eq!((d.feature.as_str(), d.required_plan.as_str()), ("growth_tools", "PRO"))
        }
        other => panic!("{other:?}"),
    }
    let quota = r#"{"error":{"code":"rate_limited","message":"Daily write quota exceeded for FREE.","statusCode":429,"plan":"FREE","limits":{"writesPerDay":2},"usage":{"writesToday":2,"writesDay":"20260225"}}}"#;
    let parsed: ErrorBody = serde_json::from_str(quota).unwrap_or_else(|e| panic!("{e}"));
    match parsed.error.details() {
        Ok(ErrorDetails::RateLimited(d)) => {
            assert_eq!(d.plan.as_deref(), Some("FREE"));
            assert_eq!(d.limits.map(|l| l.writes_per_day), Some(2));
            assert_eq!(d.usage.map(|u| u.writes_day), Some("20260225".to_owned()));
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_new_error_takes_its_status_from_the_catalogue() {
    let e = ApiError::new(ErrorCode::TokenExpired, "expired");
    assert_eq!(e.status_code, 401);
    assert_eq!(e.to_string(), "token_expired (401): expired");
    assert_eq!(ApiError::new(ErrorCode::from_wire("new_thing"), "x").status_code, 500);
}

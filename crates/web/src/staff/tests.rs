//! Unit tests of the page helpers (the pages themselves are tested over HTTP in
//! crates/motcua/tests/staff_pages.rs).

use super::*;

#[test]
fn only_local_paths_are_followed_after_sign_in() {
    assert_eq!(safe_next(Some("/can-bo")), Some("/can-bo".into()));
    assert_eq!(
        safe_next(Some("/can-bo/ho-so/1?lang=en")),
        Some("/can-bo/ho-so/1?lang=en".into())
    );
    for bad in [
        "//evil.example/",
        "/\\evil.example",
        "https://evil.example/",
        "javascript:alert(1)",
        "can-bo",
        "/a\nb",
        "",
    ] {
        assert_eq!(safe_next(Some(bad)), None, "{bad:?}");
    }
    assert_eq!(safe_next(None), None);
    assert_eq!(safe_next(Some(&format!("/{}", "a".repeat(600)))), None);
}

#[test]
fn query_values_are_percent_encoded() {
    assert_eq!(url_encode("/can-bo"), "/can-bo");
    assert_eq!(url_encode("/a?b=c&d"), "/a%3Fb%3Dc%26d");
    assert_eq!(url_encode("Đ"), "%C4%90");
}

#[test]
fn each_role_has_its_inbox_statuses_and_none_is_closed() {
    for role in [Role::DeskOfficer, Role::Specialist, Role::Leader] {
        let st = role_statuses(role);
        assert!(!st.is_empty());
        assert!(st.iter().all(|s| !s.is_closed()), "{role:?}");
    }
    assert!(role_statuses(Role::DeskOfficer).contains(&Status::AwaitingReception));
    assert!(role_statuses(Role::Specialist).contains(&Status::Processing));
    assert_eq!(home_of(Role::Citizen), "/ca-nhan");
    assert_eq!(home_of(Role::Leader), "/can-bo");
}

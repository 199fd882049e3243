//! Scopes a service may ask for, and the citizen-card claims each one releases.
//!
//! A scope names what a service needs, not a card field: `age_over_19` releases one
//! boolean, never the birth date. Registrations on chain list scopes; the provider asks
//! the wallet for exactly the claims of the requested scopes (plus the card number it
//! keeps to itself) and releases exactly those claims.

/// `(scope, claims released, what the approval page says)`.
pub const SCOPES: [(&str, &[&str], &str); 7] = [
    (
        "profile",
        &["name", "birthdate"],
        "your name and date of birth",
    ),
    ("name", &["name"], "your name"),
    ("birthdate", &["birthdate"], "your date of birth"),
    (
        "age_over_14",
        &["age_over_14"],
        "whether you are 14 or older",
    ),
    (
        "age_over_19",
        &["age_over_19"],
        "whether you are 19 or older",
    ),
    (
        "age_over_65",
        &["age_over_65"],
        "whether you are 65 or older",
    ),
    (
        "resident_district",
        &["resident_district"],
        "the district (gu) you live in",
    ),
];

/// The scope every OpenID Connect request carries.
pub const OPENID: &str = "openid";

/// The claims a known scope releases; `None` for an unknown scope.
pub fn claims_of(scope: &str) -> Option<&'static [&'static str]> {
    SCOPES
        .iter()
        .find(|(name, _, _)| *name == scope)
        .map(|(_, claims, _)| *claims)
}

/// What the approval page says a scope shares.
pub fn describe(scope: &str) -> &'static str {
    SCOPES
        .iter()
        .find(|(name, _, _)| *name == scope)
        .map_or("", |(_, _, text)| *text)
}

/// Every scope in discovery's `scopes_supported`.
pub fn supported_scopes() -> Vec<&'static str> {
    std::iter::once(OPENID)
        .chain(SCOPES.iter().map(|(name, _, _)| *name))
        .collect()
}

/// Every claim in discovery's `claims_supported`.
pub fn supported_claims() -> Vec<&'static str> {
    let mut claims: Vec<&str> = ["sub", "iss", "aud", "exp", "iat", "auth_time", "nonce"].into();
    for (_, released, _) in SCOPES {
        for claim in released {
            if !claims.contains(claim) {
                claims.push(claim);
            }
        }
    }
    claims
}

/// The claims released for `scopes`, sorted and without repeats.
pub fn claims_for(scopes: &[String]) -> Vec<String> {
    let mut claims: Vec<String> = scopes
        .iter()
        .filter_map(|scope| claims_of(scope))
        .flatten()
        .map(|claim| (*claim).to_owned())
        .collect();
    claims.sort();
    claims.dedup();
    claims
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_threshold_scope_releases_one_boolean_and_never_the_birthdate() {
        assert_eq!(claims_of("age_over_19"), Some(&["age_over_19"][..]));
        let claims = claims_for(&["age_over_19".into(), "resident_district".into()]);
        assert_eq!(claims, ["age_over_19", "resident_district"]);
        assert!(!claims.iter().any(|c| c == "birthdate"));
    }

    #[test]
    fn overlapping_scopes_release_each_claim_once() {
        let claims = claims_for(&["profile".into(), "name".into(), "openid".into()]);
        assert_eq!(claims, ["birthdate", "name"]);
        assert_eq!(claims_of("card_number"), None);
    }
}

//! The Digital Credentials Query Language (OpenID4VP 1.0 section 6) as far as this
//! wallet answers it: one credential query for an SD-JWT VC of listed types, asking for
//! top-level claims by name.

use serde_json::{Map, Value};

use super::error::{server_text, Oid4vpError};
use super::{CLAIMS_MAX, NAME_BYTES_MAX, VCT_VALUES_MAX};
use crate::oid4vci::FORMAT_SD_JWT_VC;

/// A credential query this wallet can answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CredentialQuery {
    /// The query's `id`: the key of the presentation in the `vp_token`.
    pub id: String,
    /// The credential types (`meta.vct_values`) the verifier accepts, 1 to
    /// [`VCT_VALUES_MAX`].
    pub vct_values: Vec<String>,
    /// The claims asked for, by name, distinct, at most [`CLAIMS_MAX`]; empty when the
    /// verifier asks for none beyond what a verifier always sees.
    pub claims: Vec<String>,
}

/// Parses and checks a `dcql_query`. A query this wallet cannot answer in full is
/// refused ([`Oid4vpError::UnsupportedQuery`]) rather than answered in part.
pub fn parse_dcql_query(query: &Value) -> Result<CredentialQuery, Oid4vpError> {
    let query = query
        .as_object()
        .ok_or_else(|| malformed("it is not an object"))?;
    if query.contains_key("credential_sets") {
        return Err(unsupported("credential_sets"));
    }
    let credentials = query
        .get("credentials")
        .and_then(Value::as_array)
        .ok_or_else(|| malformed("credentials is missing or not an array"))?;
    let credential = match credentials.as_slice() {
        [one] => one
            .as_object()
            .ok_or_else(|| malformed("a credential query is not an object"))?,
        [] => return Err(malformed("credentials is empty")),
        _ => return Err(unsupported("more than one credential")),
    };
    let id = credential
        .get("id")
        .and_then(Value::as_str)
        .filter(|id| is_query_id(id))
        .ok_or_else(|| {
            malformed(
                "the credential query's id must be 1 to 256 characters of a-z, A-Z, 0-9, _ and -",
            )
        })?;
    match credential.get("format").and_then(Value::as_str) {
        Some(FORMAT_SD_JWT_VC) => {}
        Some(other) => {
            return Err(Oid4vpError::UnsupportedQuery {
                reason: format!(
                    "format {:?} (this wallet presents {FORMAT_SD_JWT_VC} only)",
                    server_text(other, 64)
                ),
            })
        }
        None => return Err(malformed("the credential query has no format")),
    }
    if credential.contains_key("claim_sets") {
        return Err(unsupported("claim_sets"));
    }
    Ok(CredentialQuery {
        id: id.to_owned(),
        vct_values: vct_values(credential)?,
        claims: claim_names(credential)?,
    })
}

/// `meta.vct_values`: 1 to [`VCT_VALUES_MAX`] non-empty strings.
fn vct_values(credential: &Map<String, Value>) -> Result<Vec<String>, Oid4vpError> {
    let values = credential
        .get("meta")
        .and_then(|meta| meta.get("vct_values"))
        .and_then(Value::as_array)
        .ok_or_else(|| malformed("meta.vct_values is missing or not an array"))?;
    if values.is_empty() || values.len() > VCT_VALUES_MAX {
        return Err(malformed(&format!(
            "meta.vct_values must hold 1 to {VCT_VALUES_MAX} types"
        )));
    }
    values
        .iter()
        .map(|value| {
            value
                .as_str()
                .filter(|vct| !vct.is_empty() && vct.len() <= NAME_BYTES_MAX)
                .map(str::to_owned)
                .ok_or_else(|| malformed("a vct value is not a string of 1 to 256 bytes"))
        })
        .collect()
}

/// The claim names of `claims`: each a path of one member name.
fn claim_names(credential: &Map<String, Value>) -> Result<Vec<String>, Oid4vpError> {
    let Some(claims) = credential.get("claims") else {
        return Ok(Vec::new());
    };
    let claims = claims
        .as_array()
        .ok_or_else(|| malformed("claims is not an array"))?;
    if claims.is_empty() {
        return Err(malformed("claims is empty (leave it out to ask for none)"));
    }
    if claims.len() > CLAIMS_MAX {
        return Err(Oid4vpError::UnsupportedQuery {
            reason: format!("{} claims (at most {CLAIMS_MAX})", claims.len()),
        });
    }
    let mut names: Vec<String> = Vec::with_capacity(claims.len());
    for claim in claims {
        let claim = claim
            .as_object()
            .ok_or_else(|| malformed("a claims query is not an object"))?;
        if claim.contains_key("values") {
            return Err(unsupported("claim values"));
        }
        let path = claim
            .get("path")
            .and_then(Value::as_array)
            .ok_or_else(|| malformed("a claims query has no path"))?;
        let name = match path.as_slice() {
            [Value::String(name)] if !name.is_empty() && name.len() <= NAME_BYTES_MAX => name,
            [Value::String(_)] => {
                return Err(malformed("a claim name must be 1 to 256 bytes"));
            }
            [] => return Err(malformed("a claim path is empty")),
            _ => {
                return Err(unsupported(
                    "claim paths other than one top-level claim name",
                ))
            }
        };
        if names.contains(name) {
            return Err(malformed(&format!(
                "the claim {:?} is asked for twice",
                server_text(name, 64)
            )));
        }
        names.push(name.clone());
    }
    Ok(names)
}

/// A DCQL identifier: alphanumeric, `_` and `-` (OpenID4VP 1.0 section 6.1).
fn is_query_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= NAME_BYTES_MAX
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

fn malformed(reason: &str) -> Oid4vpError {
    Oid4vpError::InvalidRequestObject {
        reason: format!("dcql_query: {reason}"),
    }
}

fn unsupported(what: &str) -> Oid4vpError {
    Oid4vpError::UnsupportedQuery {
        reason: format!("{what} (this wallet answers one credential query with claim names)"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn query(claims: Value) -> Value {
        json!({"credentials": [{
            "id": "citizen_card",
            "format": "dc+sd-jwt",
            "meta": {"vct_values": ["CitizenCard"]},
            "claims": claims,
        }]})
    }

    #[test]
    fn a_query_for_claim_names_parses() {
        let parsed = parse_dcql_query(&query(
            json!([{"path": ["card_number"]}, {"id": "a", "path": ["age_over_19"]}]),
        ))
        .expect("parses");
        assert_eq!(
            parsed,
            CredentialQuery {
                id: "citizen_card".into(),
                vct_values: vec!["CitizenCard".into()],
                claims: vec!["card_number".into(), "age_over_19".into()],
            }
        );
    }

    #[test]
    fn queries_beyond_claim_names_are_refused() {
        let unsupported_claims = [
            json!([{"path": ["address", "locality"]}]),
            json!([{"path": ["nationalities", 0]}]),
            json!([{"path": ["age_over_19"], "values": [true]}]),
            json!((0..33)
                .map(|i| json!({"path": [format!("c{i}")]}))
                .collect::<Vec<_>>()),
        ];
        for claims in unsupported_claims {
            assert!(
                matches!(
                    parse_dcql_query(&query(claims.clone())),
                    Err(Oid4vpError::UnsupportedQuery { .. })
                ),
                "{claims}"
            );
        }
        let malformed_claims = [
            json!([]),
            json!([{"path": []}]),
            json!([{"path": [""]}]),
            json!([{"path": ["a"]}, {"path": ["a"]}]),
            json!({"path": ["a"]}),
        ];
        for claims in malformed_claims {
            assert!(
                matches!(
                    parse_dcql_query(&query(claims.clone())),
                    Err(Oid4vpError::InvalidRequestObject { .. })
                ),
                "{claims}"
            );
        }
        let mut other_format = query(json!([{"path": ["a"]}]));
        other_format["credentials"][0]["format"] = json!("mso_mdoc");
        assert!(matches!(
            parse_dcql_query(&other_format),
            Err(Oid4vpError::UnsupportedQuery { .. })
        ));
        let mut two = query(json!([{"path": ["a"]}]));
        let first = two["credentials"][0].clone();
        two["credentials"]
            .as_array_mut()
            .expect("array")
            .push(first);
        assert!(matches!(
            parse_dcql_query(&two),
            Err(Oid4vpError::UnsupportedQuery { .. })
        ));
        let mut bad_id = query(json!([{"path": ["a"]}]));
        bad_id["credentials"][0]["id"] = json!("citizen card");
        assert!(matches!(
            parse_dcql_query(&bad_id),
            Err(Oid4vpError::InvalidRequestObject { .. })
        ));
        let mut no_vct = query(json!([{"path": ["a"]}]));
        no_vct["credentials"][0]["meta"] = json!({"vct_values": []});
        assert!(matches!(
            parse_dcql_query(&no_vct),
            Err(Oid4vpError::InvalidRequestObject { .. })
        ));
    }

    #[test]
    fn a_query_without_claims_asks_for_none() {
        let mut no_claims = query(json!([]));
        no_claims["credentials"][0]
            .as_object_mut()
            .expect("object")
            .remove("claims");
        assert_eq!(
            parse_dcql_query(&no_claims).expect("parses").claims,
            Vec::<String>::new()
        );
    }
}

//! Credentials of the simin card profile, issued with `simin_identity::sd_jwt` for the
//! tests: header `typ` `dc+sd-jwt` and `kid` `did:simin:<org>#key-1`, payload `iss`,
//! `vct`, `iat`, `exp`, `status`, `cnf.jwk`, every user claim top-level and selectively
//! disclosable.

use ed25519_dalek::SigningKey;
use serde_json::{json, Map, Value};
use simin_identity::did_key::ed25519_multikey;
use simin_identity::jose::{Jwk, JwsSigner};
use simin_identity::sd_jwt::{self, IssueRequest, JsonStyle, SdPolicy, TYP_SD_JWT_VC};

/// The issuer of the test cards.
pub const ISSUER_DID: &str = "did:simin:seoul.agency";
/// Its signing key's id.
pub const ISSUER_KID: &str = "did:simin:seoul.agency#key-1";
/// The type of the test cards.
pub const VCT: &str = "CitizenCard";
/// When the test cards are issued, Unix seconds.
pub const IAT: i64 = 1_790_000_000;
/// When they expire.
pub const EXP: i64 = IAT + 365 * 86_400;

/// The issuer's signing key.
pub fn issuer_key() -> SigningKey {
    SigningKey::from_bytes(&[0x15; 32])
}

/// The user claims of the test card.
pub fn claims() -> Map<String, Value> {
    let value = json!({
        "name": "Kim Ji-woo",
        "birthdate": "1990-04-01",
        "resident_district": "Mapo-gu",
        "age_over_19": true,
    });
    value.as_object().expect("an object").clone()
}

/// What to issue; tests change one thing at a time.
#[derive(Clone, Debug)]
pub struct Card {
    pub typ: &'static str,
    pub kid: String,
    pub iss: String,
    pub vct: String,
    pub holder: Option<Jwk>,
    pub claims: Map<String, Value>,
    pub iat: i64,
    pub exp: i64,
}

impl Card {
    /// A card of the profile for `holder`.
    pub fn for_holder(holder: &Jwk) -> Self {
        Self {
            typ: TYP_SD_JWT_VC,
            kid: ISSUER_KID.to_owned(),
            iss: ISSUER_DID.to_owned(),
            vct: VCT.to_owned(),
            holder: Some(holder.clone()),
            claims: claims(),
            iat: IAT,
            exp: EXP,
        }
    }

    /// Issues it, signed by `signer`, with deterministic salts.
    pub fn issue_with(&self, signer: &SigningKey) -> String {
        let mut payload = Map::new();
        payload.insert("iss".into(), Value::from(self.iss.as_str()));
        payload.insert("iat".into(), Value::from(self.iat));
        payload.insert("exp".into(), Value::from(self.exp));
        payload.insert("vct".into(), Value::from(self.vct.as_str()));
        payload.insert(
            "status".into(),
            json!({"bitstring_status_list": [{
                "id": "did:simin:seoul.agency/status/0#17",
                "type": "BitstringStatusListEntry",
                "statusPurpose": "revocation",
                "statusListIndex": "17",
                "statusListCredential": "did:simin:seoul.agency/status/0",
            }]}),
        );
        let mut policy = SdPolicy::plain();
        for (name, value) in &self.claims {
            payload.insert(name.clone(), value.clone());
            policy = policy.member(name.clone(), SdPolicy::sd());
        }
        let mut header = Map::new();
        header.insert("typ".into(), Value::from(self.typ));
        header.insert("kid".into(), Value::from(self.kid.as_str()));
        let mut counter = 0u32;
        let mut salt = || {
            counter += 1;
            format!("salt-{counter:04}-abcdefghijklmnop")
        };
        sd_jwt::issue(
            &IssueRequest {
                claims: &payload,
                policy: &policy,
                header: &header,
                holder_key: self.holder.as_ref(),
                style: JsonStyle::Compact,
            },
            &JwsSigner::Ed25519(signer.clone()),
            &mut salt,
        )
        .expect("the test card issues")
        .sd_jwt
    }

    /// Issues it with the issuer's key.
    pub fn issue(&self) -> String {
        self.issue_with(&issuer_key())
    }
}

/// The DID Resolution result a node gives for the issuer, naming `key` as `#key-1`.
pub fn resolution(key: &SigningKey) -> Value {
    json!({
        "@context": "https://w3id.org/did-resolution/v1",
        "didDocument": {
            "@context": ["https://www.w3.org/ns/did/v1", "https://w3id.org/security/multikey/v1"],
            "id": ISSUER_DID,
            "controller": ISSUER_DID,
            "verificationMethod": [{
                "id": ISSUER_KID,
                "type": "Multikey",
                "controller": ISSUER_DID,
                "publicKeyMultibase": ed25519_multikey(&key.verifying_key()),
            }],
            "assertionMethod": [ISSUER_KID],
            "capabilityInvocation": [ISSUER_KID],
        },
        "didResolutionMetadata": {"contentType": "application/did+ld+json"},
        "didDocumentMetadata": {"deactivated": false, "versionId": "1"},
    })
}

//! The issuer's metadata (OpenID4VCI 1.0 section 12.2) and its authorisation server's
//! (RFC 8414, with the pre-authorised code extensions).

use serde_json::{json, Map, Value};
use simin_identity::card;

use crate::error::RequestError;
use crate::service::IssuerService;
use crate::{FORMAT_SD_JWT_VC, GRANT_PRE_AUTHORIZED_CODE};

impl IssuerService {
    /// `GET /.well-known/openid-credential-issuer`: one `dc+sd-jwt` configuration per
    /// credential type the organisation is accredited for.
    pub async fn issuer_metadata(&self) -> Result<Value, RequestError> {
        let base = &self.config.public_url;
        let mut configurations = Map::new();
        for credential_type in self.accredited_types().await? {
            configurations.insert(
                credential_type.clone(),
                self.configuration(&credential_type).await,
            );
        }
        Ok(json!({
            "credential_issuer": base,
            "credential_endpoint": format!("{base}/credential"),
            "nonce_endpoint": format!("{base}/nonce"),
            "display": [{ "name": self.config.display_name, "locale": "ko-KR" },
                        { "name": self.config.display_name, "locale": "en-US" }],
            "credential_configurations_supported": configurations,
        }))
    }

    async fn configuration(&self, credential_type: &str) -> Value {
        // The claims a wallet may show: the schema's top-level properties.
        let claims: Vec<Value> = match self.schema(credential_type).await {
            Ok(Some(schema)) => serde_json::from_str::<Value>(&schema)
                .ok()
                .and_then(|s| s.get("properties").and_then(Value::as_object).cloned())
                .map(|properties| {
                    properties
                        .keys()
                        .take(card::CLAIMS_MAX)
                        .map(|name| json!({ "path": [name] }))
                        .collect()
                })
                .unwrap_or_default(),
            _ => Vec::new(),
        };
        json!({
            "format": FORMAT_SD_JWT_VC,
            "vct": credential_type,
            "cryptographic_binding_methods_supported": ["jwk"],
            "credential_signing_alg_values_supported": ["EdDSA"],
            "proof_types_supported": {
                "jwt": { "proof_signing_alg_values_supported": ["EdDSA", "ES256"] }
            },
            "credential_metadata": {
                "display": [{ "name": credential_type, "locale": "en-US" }],
                "claims": claims,
            },
        })
    }

    /// `GET /.well-known/oauth-authorization-server`: this service is its own
    /// authorisation server, for the pre-authorised code grant only.
    pub fn authorization_server_metadata(&self) -> Value {
        let base = &self.config.public_url;
        json!({
            "issuer": base,
            "token_endpoint": format!("{base}/token"),
            "grant_types_supported": [GRANT_PRE_AUTHORIZED_CODE],
            "pre-authorized_grant_anonymous_access_supported": true,
            "token_endpoint_auth_methods_supported": ["none"],
            "response_types_supported": [],
        })
    }
}

//! The issuer: claims plus an [`SdPolicy`] become an SD-JWT.
//!
//! Disclosures are created depth first, children before their parent, members in the
//! claims' order, and each takes the next salt from the caller's source; decoys of an
//! object take theirs after its members. `_sd` arrays are sorted, hiding the claims'
//! order (RFC 9901 section 4.2.4.1). This is the order of the reference implementation,
//! so its vectors are reproduced by feeding their salts back in.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Map, Value};

use super::disclosure::{Disclosure, JsonStyle};
use super::{
    path_text, ClaimPath, PathElement, SdJwtError, MAX_DECOYS_PER_OBJECT, MAX_DEPTH,
    MAX_DISCLOSURES, SD_ALG_SHA256,
};
use crate::jose::{b64url_sha256, sign_compact_json, Jwk, JwsSigner};

/// Which claims are selectively disclosable: a tree that mirrors the claims.
///
/// A node marked [`selectively_disclosable`](Self::selectively_disclosable) is hidden
/// behind a digest in its parent (an object member in `_sd`, an array element as
/// `{"...": digest}`); its own members or elements can be disclosable too (recursive
/// disclosure). Positions the policy does not mention are plain claims.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SdPolicy {
    /// This value is selectively disclosable (never true at the top level).
    pub selectively_disclosable: bool,
    /// Decoy digests to add to this object's `_sd` (objects only).
    pub decoys: usize,
    /// Policies of this object's members, by name.
    pub members: BTreeMap<String, SdPolicy>,
    /// Policies of this array's elements, by index.
    pub elements: BTreeMap<usize, SdPolicy>,
}

impl SdPolicy {
    /// A plain position (nothing disclosable unless members or elements say so).
    pub fn plain() -> Self {
        SdPolicy::default()
    }

    /// A selectively disclosable position.
    pub fn sd() -> Self {
        SdPolicy {
            selectively_disclosable: true,
            ..SdPolicy::default()
        }
    }

    /// Sets the policy of an object member.
    pub fn member(mut self, name: impl Into<String>, policy: SdPolicy) -> Self {
        self.members.insert(name.into(), policy);
        self
    }

    /// Sets the policy of an array element.
    pub fn element(mut self, index: usize, policy: SdPolicy) -> Self {
        self.elements.insert(index, policy);
        self
    }

    /// Adds decoy digests to this object's `_sd`.
    pub fn with_decoys(mut self, count: usize) -> Self {
        self.decoys = count;
        self
    }

    /// A policy making the claim at each path selectively disclosable (their parents stay
    /// as they are unless another path names them).
    pub fn from_paths(paths: &[ClaimPath]) -> Self {
        let mut root = SdPolicy::plain();
        for path in paths {
            let mut node = &mut root;
            for element in path {
                node = match element {
                    PathElement::Name(name) => node.members.entry(name.clone()).or_default(),
                    PathElement::Index(index) => node.elements.entry(*index).or_default(),
                };
            }
            node.selectively_disclosable = true;
        }
        root
    }
}

/// What the issuer signs.
#[derive(Debug, Clone)]
pub struct IssueRequest<'a> {
    /// The claims, including `iss`, `iat`, `exp`, `vct` and the like.
    pub claims: &'a Map<String, Value>,
    /// Which claims are selectively disclosable.
    pub policy: &'a SdPolicy,
    /// Protected header members besides `alg`, e.g. `typ` ([`super::TYP_SD_JWT_VC`]) and `kid`.
    pub header: &'a Map<String, Value>,
    /// The holder's key, put in `cnf.jwk` to enable key binding.
    pub holder_key: Option<&'a Jwk>,
    /// How the disclosures' JSON is written.
    pub style: JsonStyle,
}

/// An issued SD-JWT.
#[derive(Debug, Clone)]
pub struct Issued {
    /// `<issuer-signed JWT>~<disclosure>~...~`, for the holder.
    pub sd_jwt: String,
    /// The signed payload (with digests, `_sd_alg` and `cnf`).
    pub payload: Map<String, Value>,
    /// The disclosures, in the order they appear in `sd_jwt`.
    pub disclosures: Vec<Disclosure>,
}

/// Issues an SD-JWT; `salt` is called once per disclosure and per decoy and must return
/// distinct, non-empty strings (128 random bits in base64url is the recommended form).
pub fn issue(
    request: &IssueRequest<'_>,
    signer: &JwsSigner,
    salt: &mut dyn FnMut() -> String,
) -> Result<Issued, SdJwtError> {
    if request.policy.selectively_disclosable {
        return Err(SdJwtError::PolicyMismatch {
            path: "[]".to_owned(),
            reason: "the top level cannot be selectively disclosable",
        });
    }
    if request.claims.contains_key("_sd_alg") {
        return Err(SdJwtError::ClaimConflict("_sd_alg"));
    }
    if request.holder_key.is_some() && request.claims.contains_key("cnf") {
        return Err(SdJwtError::ClaimConflict("cnf"));
    }
    let mut builder = Builder {
        salt,
        style: request.style,
        disclosures: Vec::new(),
        salts: BTreeSet::new(),
    };
    let mut payload = builder.object(request.claims, request.policy, &mut Vec::new(), 0)?;
    payload.insert("_sd_alg".to_owned(), Value::from(SD_ALG_SHA256));
    if let Some(holder_key) = request.holder_key {
        let mut cnf = Map::new();
        cnf.insert("jwk".to_owned(), holder_key.to_json());
        payload.insert("cnf".to_owned(), Value::Object(cnf));
    }
    let jws = sign_compact_json(request.header, &payload, signer);
    let mut sd_jwt = jws;
    sd_jwt.push('~');
    for disclosure in &builder.disclosures {
        sd_jwt.push_str(disclosure.encoded());
        sd_jwt.push('~');
    }
    Ok(Issued {
        sd_jwt,
        payload,
        disclosures: builder.disclosures,
    })
}

struct Builder<'s> {
    salt: &'s mut dyn FnMut() -> String,
    style: JsonStyle,
    disclosures: Vec<Disclosure>,
    salts: BTreeSet<String>,
}

/// The policy of positions the policy tree does not mention.
static PLAIN: SdPolicy = SdPolicy {
    selectively_disclosable: false,
    decoys: 0,
    members: BTreeMap::new(),
    elements: BTreeMap::new(),
};

fn mismatch(path: &[PathElement], reason: &'static str) -> SdJwtError {
    SdJwtError::PolicyMismatch {
        path: path_text(path),
        reason,
    }
}

impl Builder<'_> {
    fn next_salt(&mut self) -> Result<String, SdJwtError> {
        let salt = (self.salt)();
        if salt.is_empty() {
            return Err(SdJwtError::InvalidSalt("the salt is empty"));
        }
        if !self.salts.insert(salt.clone()) {
            return Err(SdJwtError::InvalidSalt("a salt was returned twice"));
        }
        Ok(salt)
    }

    /// Creates a disclosure and returns its digest.
    fn disclose(&mut self, name: Option<&str>, value: &Value) -> Result<String, SdJwtError> {
        if self.disclosures.len() >= MAX_DISCLOSURES {
            return Err(SdJwtError::TooManyDisclosures {
                max: MAX_DISCLOSURES,
            });
        }
        let salt = self.next_salt()?;
        let disclosure = Disclosure::new(&salt, name, value, self.style);
        let digest = disclosure.digest().to_owned();
        self.disclosures.push(disclosure);
        Ok(digest)
    }

    fn value(
        &mut self,
        value: &Value,
        policy: &SdPolicy,
        path: &mut ClaimPath,
        depth: usize,
    ) -> Result<Value, SdJwtError> {
        match value {
            Value::Object(map) => self.object(map, policy, path, depth).map(Value::Object),
            Value::Array(items) => self.array(items, policy, path, depth).map(Value::Array),
            scalar => {
                if !policy.members.is_empty() || !policy.elements.is_empty() || policy.decoys > 0 {
                    return Err(mismatch(
                        path,
                        "the claim is neither an object nor an array",
                    ));
                }
                Ok(scalar.clone())
            }
        }
    }

    fn object(
        &mut self,
        map: &Map<String, Value>,
        policy: &SdPolicy,
        path: &mut ClaimPath,
        depth: usize,
    ) -> Result<Map<String, Value>, SdJwtError> {
        if depth > MAX_DEPTH {
            return Err(SdJwtError::TooDeep { max: MAX_DEPTH });
        }
        if !policy.elements.is_empty() {
            return Err(mismatch(path, "element policies for an object"));
        }
        if policy.members.keys().any(|name| !map.contains_key(name)) {
            return Err(mismatch(
                path,
                "a member policy names a claim that is absent",
            ));
        }
        if policy.decoys > MAX_DECOYS_PER_OBJECT {
            return Err(mismatch(path, "too many decoys"));
        }
        let mut digests = Vec::new();
        let mut plain = Map::new();
        for (name, value) in map {
            if matches!(name.as_str(), "_sd" | "..." | "_sd_alg") {
                return Err(SdJwtError::ReservedClaimName { name: name.clone() });
            }
            let member_policy = policy.members.get(name).unwrap_or(&PLAIN);
            path.push(PathElement::Name(name.clone()));
            let processed = self.value(value, member_policy, path, depth + 1)?;
            path.pop();
            if member_policy.selectively_disclosable {
                digests.push(Value::from(self.disclose(Some(name), &processed)?));
            } else {
                plain.insert(name.clone(), processed);
            }
        }
        for _ in 0..policy.decoys {
            let salt = self.next_salt()?;
            digests.push(Value::from(b64url_sha256(salt.as_bytes())));
        }
        digests.sort_by(|a, b| a.as_str().cmp(&b.as_str()));
        let mut out = Map::new();
        if !digests.is_empty() {
            out.insert("_sd".to_owned(), Value::Array(digests));
        }
        out.extend(plain);
        Ok(out)
    }

    fn array(
        &mut self,
        items: &[Value],
        policy: &SdPolicy,
        path: &mut ClaimPath,
        depth: usize,
    ) -> Result<Vec<Value>, SdJwtError> {
        if depth > MAX_DEPTH {
            return Err(SdJwtError::TooDeep { max: MAX_DEPTH });
        }
        if !policy.members.is_empty() {
            return Err(mismatch(path, "member policies for an array"));
        }
        if policy.decoys > 0 {
            return Err(mismatch(path, "decoys are supported in objects only"));
        }
        if policy.elements.keys().any(|&index| index >= items.len()) {
            return Err(mismatch(
                path,
                "an element policy is past the end of the array",
            ));
        }
        let mut out = Vec::with_capacity(items.len());
        for (index, item) in items.iter().enumerate() {
            let element_policy = policy.elements.get(&index).unwrap_or(&PLAIN);
            path.push(PathElement::Index(index));
            let processed = self.value(item, element_policy, path, depth + 1)?;
            path.pop();
            if element_policy.selectively_disclosable {
                let digest = self.disclose(None, &processed)?;
                let mut reference = Map::new();
                reference.insert("...".to_owned(), Value::from(digest));
                out.push(Value::Object(reference));
            } else {
                out.push(processed);
            }
        }
        Ok(out)
    }
}

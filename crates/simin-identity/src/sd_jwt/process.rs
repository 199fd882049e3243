//! Processing an issuer-signed payload with a set of disclosures (RFC 9901 section 7.1,
//! step 3 onwards): digests are replaced by disclosed claims, undisclosed ones dropped,
//! and every rule that makes an SD-JWT invalid is enforced.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Map, Value};

use super::{
    ClaimPath, Disclosure, PathElement, SdJwtError, MAX_DEPTH, MAX_DISCLOSURES, SD_ALG_SHA256,
};

/// The result of processing.
#[derive(Debug)]
pub(crate) struct Processed {
    /// The processed payload: digests resolved, `_sd`, `...` and `_sd_alg` removed.
    pub claims: Map<String, Value>,
    /// For each disclosure used, its path in `claims` and its index in the input.
    pub disclosed: Vec<(ClaimPath, usize)>,
}

/// Processes `payload` with `disclosures`; every disclosure must be referenced exactly once.
pub(crate) fn process(
    payload: &Map<String, Value>,
    disclosures: &[Disclosure],
) -> Result<Processed, SdJwtError> {
    match payload.get("_sd_alg") {
        None => {}
        Some(Value::String(alg)) if alg == SD_ALG_SHA256 => {}
        Some(Value::String(alg)) => return Err(SdJwtError::UnsupportedSdAlg(alg.clone())),
        Some(_) => return Err(SdJwtError::Malformed("_sd_alg is not a string")),
    }
    if disclosures.len() > MAX_DISCLOSURES {
        return Err(SdJwtError::TooManyDisclosures {
            max: MAX_DISCLOSURES,
        });
    }
    let mut by_digest = BTreeMap::new();
    for (index, disclosure) in disclosures.iter().enumerate() {
        if by_digest.insert(disclosure.digest(), index).is_some() {
            return Err(SdJwtError::DuplicateDisclosure {
                digest: disclosure.digest().to_owned(),
            });
        }
    }
    let mut walker = Walker {
        disclosures,
        by_digest,
        used: vec![false; disclosures.len()],
        seen: BTreeSet::new(),
        disclosed: Vec::new(),
    };
    let claims = walker.object(payload, &mut Vec::new(), 0, true)?;
    if let Some(unused) = walker.used.iter().position(|used| !used) {
        return Err(SdJwtError::UnreferencedDisclosure {
            digest: disclosures[unused].digest().to_owned(),
        });
    }
    Ok(Processed {
        claims,
        disclosed: walker.disclosed,
    })
}

struct Walker<'a> {
    disclosures: &'a [Disclosure],
    by_digest: BTreeMap<&'a str, usize>,
    used: Vec<bool>,
    /// Every digest embedded so far, to refuse a repeated one.
    seen: BTreeSet<String>,
    disclosed: Vec<(ClaimPath, usize)>,
}

impl<'a> Walker<'a> {
    fn value(
        &mut self,
        value: &Value,
        path: &mut ClaimPath,
        depth: usize,
    ) -> Result<Value, SdJwtError> {
        match value {
            Value::Object(map) => self.object(map, path, depth, false).map(Value::Object),
            Value::Array(items) => self.array(items, path, depth).map(Value::Array),
            scalar => Ok(scalar.clone()),
        }
    }

    /// Marks a digest as embedded and returns the matching disclosure, if presented.
    fn embedded(&mut self, digest: &str) -> Result<Option<(usize, &'a Disclosure)>, SdJwtError> {
        if !self.seen.insert(digest.to_owned()) {
            return Err(SdJwtError::DuplicateDigest {
                digest: digest.to_owned(),
            });
        }
        let disclosures = self.disclosures;
        Ok(self
            .by_digest
            .get(digest)
            .map(|&index| (index, &disclosures[index])))
    }

    fn object(
        &mut self,
        map: &Map<String, Value>,
        path: &mut ClaimPath,
        depth: usize,
        top: bool,
    ) -> Result<Map<String, Value>, SdJwtError> {
        if depth > MAX_DEPTH {
            return Err(SdJwtError::TooDeep { max: MAX_DEPTH });
        }
        let mut out = Map::new();
        for (name, value) in map {
            match name.as_str() {
                "_sd" => continue,
                "_sd_alg" if top => continue,
                "_sd_alg" | "..." => {
                    return Err(SdJwtError::ReservedClaimName { name: name.clone() })
                }
                _ => {}
            }
            path.push(PathElement::Name(name.clone()));
            let processed = self.value(value, path, depth + 1)?;
            path.pop();
            out.insert(name.clone(), processed);
        }
        let Some(digests) = map.get("_sd") else {
            return Ok(out);
        };
        let Value::Array(digests) = digests else {
            return Err(SdJwtError::Malformed("_sd is not an array"));
        };
        for digest in digests {
            let Value::String(digest) = digest else {
                return Err(SdJwtError::Malformed(
                    "_sd holds a value that is not a string",
                ));
            };
            let Some((index, disclosure)) = self.embedded(digest)? else {
                continue;
            };
            let Some(name) = disclosure.name() else {
                return Err(SdJwtError::WrongDisclosureKind {
                    digest: digest.clone(),
                    expected: "object property",
                });
            };
            if matches!(name, "_sd" | "..." | "_sd_alg") {
                return Err(SdJwtError::ReservedClaimName {
                    name: name.to_owned(),
                });
            }
            if out.contains_key(name) {
                return Err(SdJwtError::ClaimNameCollision {
                    name: name.to_owned(),
                });
            }
            self.used[index] = true;
            path.push(PathElement::Name(name.to_owned()));
            self.disclosed.push((path.clone(), index));
            let processed = self.value(disclosure.value(), path, depth + 1)?;
            path.pop();
            out.insert(name.to_owned(), processed);
        }
        Ok(out)
    }

    fn array(
        &mut self,
        items: &[Value],
        path: &mut ClaimPath,
        depth: usize,
    ) -> Result<Vec<Value>, SdJwtError> {
        if depth > MAX_DEPTH {
            return Err(SdJwtError::TooDeep { max: MAX_DEPTH });
        }
        let mut out = Vec::new();
        for item in items {
            let digest = match item {
                Value::Object(map) if map.contains_key("...") => {
                    if map.len() != 1 {
                        return Err(SdJwtError::Malformed(
                            "an array digest object has members besides \"...\"",
                        ));
                    }
                    match map.get("...") {
                        Some(Value::String(digest)) => Some(digest),
                        _ => return Err(SdJwtError::Malformed("\"...\" is not a string")),
                    }
                }
                _ => None,
            };
            let Some(digest) = digest else {
                path.push(PathElement::Index(out.len()));
                let processed = self.value(item, path, depth + 1)?;
                path.pop();
                out.push(processed);
                continue;
            };
            let Some((index, disclosure)) = self.embedded(digest)? else {
                continue;
            };
            if disclosure.name().is_some() {
                return Err(SdJwtError::WrongDisclosureKind {
                    digest: digest.clone(),
                    expected: "array element",
                });
            }
            self.used[index] = true;
            path.push(PathElement::Index(out.len()));
            self.disclosed.push((path.clone(), index));
            let processed = self.value(disclosure.value(), path, depth + 1)?;
            path.pop();
            out.push(processed);
        }
        Ok(out)
    }
}

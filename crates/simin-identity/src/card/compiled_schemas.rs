//! Compiled JSON Schemas, kept between calls of [`super::validate_claims`].
//!
//! Compiling a credential type's schema (parsing it and building its regexes) costs about
//! fifty times as much as validating a disclosure with it, and a verifier sees the same
//! few schemas again and again. The cache is keyed by the schema's exact text and the
//! mode, so a schema replaced on chain is compiled anew; it changes no result, only when
//! the work is done, and so keeps the crate's functions pure.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock, PoisonError};

use jsonschema::Validator;

/// The most compiled schemas kept per mode; when full, the cache starts over. A chain
/// registers a handful of credential types, so the bound only keeps a stream of distinct
/// schemas from growing memory.
const CACHED_SCHEMAS_MAX: usize = 64;

/// Index 0: as written (issuance); index 1: top-level `required` removed (verifiers).
type Cache = [HashMap<String, Arc<Validator>>; 2];

fn cache() -> &'static Mutex<Cache> {
    static CACHE: OnceLock<Mutex<Cache>> = OnceLock::new();
    CACHE.get_or_init(|| Mutex::new([HashMap::new(), HashMap::new()]))
}

/// The validator of `schema_json` in the given mode, compiled with `compile` on a miss.
/// Failures are not kept: an invalid schema fails again, the same way, each time.
pub(super) fn compiled<E>(
    schema_json: &str,
    for_issuance: bool,
    compile: impl FnOnce() -> Result<Validator, E>,
) -> Result<Arc<Validator>, E> {
    let mode = usize::from(!for_issuance);
    // A panic while the lock was held cannot leave a map half-updated in a way that
    // matters: every entry is a complete validator of its key.
    if let Some(hit) = cache()
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .get(mode)
        .and_then(|map| map.get(schema_json))
    {
        return Ok(Arc::clone(hit));
    }
    // Compiled outside the lock, so that other threads' lookups do not wait for it.
    let validator = Arc::new(compile()?);
    let mut guard = cache().lock().unwrap_or_else(PoisonError::into_inner);
    if let Some(map) = guard.get_mut(mode) {
        if map.len() >= CACHED_SCHEMAS_MAX {
            map.clear();
        }
        map.insert(schema_json.to_owned(), Arc::clone(&validator));
    }
    Ok(validator)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_schema_is_compiled_once_per_mode_and_errors_are_not_kept() {
        let schema = r#"{"type": "object", "title": "compiled-schemas-test"}"#;
        let mut compiles = 0;
        let mut compile = || {
            compiles += 1;
            jsonschema::validator_for(&serde_json::json!({"type": "object"}))
        };
        let first = compiled(schema, false, &mut compile).expect("compiles");
        let second = compiled(schema, false, &mut compile).expect("cached");
        assert!(Arc::ptr_eq(&first, &second));
        compiled(schema, true, &mut compile).expect("the other mode compiles");
        assert_eq!(compiles, 2);

        let broken = r#"{"title": "compiled-schemas-test-broken"}"#;
        let mut failures = 0;
        for _ in 0..2 {
            let result: Result<Arc<Validator>, &str> = compiled(broken, false, || {
                failures += 1;
                Err("invalid")
            });
            assert_eq!(result.err(), Some("invalid"));
        }
        assert_eq!(failures, 2);
    }
}

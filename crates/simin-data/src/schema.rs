//! Compiled dataset schemas, kept between batches.
//!
//! Compiling a schema costs far more than validating one reading, and a node sees the
//! same few datasets again and again. The cache is keyed by the schema's exact text, so
//! a schema replaced on chain is compiled anew; it changes no result, only when the work
//! is done (as `simin_identity::card`'s cache).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock, PoisonError};

use jsonschema::Validator;

use crate::IngestError;

/// The most compiled schemas kept; when full, the cache starts over.
const CACHED_SCHEMAS_MAX: usize = 64;

fn cache() -> &'static Mutex<HashMap<String, Arc<Validator>>> {
    static CACHE: OnceLock<Mutex<HashMap<String, Arc<Validator>>>> = OnceLock::new();
    CACHE.get_or_init(|| Mutex::new(HashMap::new()))
}

/// The validator of `schema_json`, compiled on a miss. Remote `$ref`s are not resolved
/// (the crate is built without them): a schema that needs one is refused.
pub(crate) fn compiled(schema_json: &str) -> Result<Arc<Validator>, IngestError> {
    if let Some(hit) = cache()
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .get(schema_json)
    {
        return Ok(Arc::clone(hit));
    }
    let schema: serde_json::Value =
        serde_json::from_str(schema_json).map_err(|e| IngestError::BadSchema(e.to_string()))?;
    let validator = Arc::new(
        jsonschema::validator_for(&schema).map_err(|e| IngestError::BadSchema(e.to_string()))?,
    );
    let mut guard = cache().lock().unwrap_or_else(PoisonError::into_inner);
    if guard.len() >= CACHED_SCHEMAS_MAX {
        guard.clear();
    }
    guard.insert(schema_json.to_owned(), Arc::clone(&validator));
    Ok(validator)
}

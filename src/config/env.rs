//! The environment layer: `PU_ADAPTER_<KEY>` variables and their names in errors.

use figment::providers::Env;

/// Short environment names, each standing for a full key path (`PU_ADAPTER_POSTGRES_URL`
/// for `store.postgres_url`).
const ENV_ALIASES: &[(&str, &str)] = &[
    ("STORE_KIND", "store.kind"),
    ("POSTGRES_URL", "store.postgres_url"),
    ("SQLITE_READERS", "store.sqlite_readers"),
    ("SQLITE_CACHE_MIB", "store.sqlite_cache_mib"),
];

/// Variables with the prefix that are not configuration keys (read by the CLI itself).
const ENV_NOT_KEYS: &[&str] = &["CONFIG", "LOG", "BIN"];

/// Prefixes of variables read by the test and benchmark harnesses, not by the service.
const ENV_HARNESS_PREFIXES: &[&str] = &["TEST_", "BENCH_"];

/// `PU_ADAPTER_<KEY>`, nested keys joined by `__` (`PU_ADAPTER_LIMITS__MAX_IN_FLIGHT=512`).
pub(super) fn env_layer() -> Env {
    Env::prefixed("PU_ADAPTER_")
        .filter(|k| {
            let upper = k.as_str().to_ascii_uppercase();
            !ENV_NOT_KEYS.iter().any(|n| upper == *n)
                && !ENV_HARNESS_PREFIXES.iter().any(|p| upper.starts_with(p))
        })
        .map(|k| {
            let upper = k.as_str().to_ascii_uppercase();
            match ENV_ALIASES.iter().find(|(alias, _)| *alias == upper) {
                Some((_, path)) => (*path).into(),
                None => k.as_str().to_ascii_lowercase().replace("__", ".").into(),
            }
        })
        .lowercase(false)
        .split("__")
}

/// The environment variable that sets `path`.
pub(super) fn env_name(path: &[String]) -> String {
    let dotted = path.join(".");
    match ENV_ALIASES.iter().find(|(_, p)| *p == dotted) {
        Some((alias, _)) => format!("PU_ADAPTER_{alias}"),
        None => format!("PU_ADAPTER_{}", path.join("__").to_ascii_uppercase()),
    }
}

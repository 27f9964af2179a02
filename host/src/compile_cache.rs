//! Compiled components kept on disk, so a restart loads what it compiled before instead of
//! compiling it again (`runtime.compile_cache`).
//!
//! This is wasmtime's own cache ([`wasmtime::Cache`]): an entry is keyed by a hash of the
//! component's bytes, the wasmtime version and every engine setting that shapes the code,
//! so an entry of another version or setting is never found, and one that does not load
//! (truncated, corrupt, planted garbage) is compiled afresh and replaced. We chose it over a
//! cache of our own built on `Component::serialize`: it keys on exactly what wasmtime knows
//! changes the code, validates what it loads, and trims itself in a background worker.
//!
//! What it cannot check is who wrote an entry: an entry that loads is native code the host
//! runs. So the directory must be the host's alone: [`CompileCache::open`] creates it with
//! mode 0700, and refuses one that is a link, belongs to another user, or that others may
//! write; a binding's `files` directory (which a guest writes) may never hold it or lie
//! inside it.

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use wasmtime::{Cache, CacheConfig};

use crate::error::{Error, Result};

/// The compiled-component cache of one runtime: its directory and what it has counted.
#[derive(Debug)]
pub struct CompileCache {
    cache: Cache,
    dir: PathBuf,
    /// What the runtime's metrics have been told so far (they get the difference).
    reported: Mutex<CompileCacheStats>,
}

/// How the cache has served a runtime's compiles since it started.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CompileCacheStats {
    /// Components loaded from the cache instead of being compiled.
    pub hits: u64,
    /// Components compiled (none was cached, or the entry did not load) and then stored.
    pub misses: u64,
}

impl CompileCache {
    /// Opens (creating it, mode 0700) the cache in `dir`; refuses a directory others could
    /// write, naming why.
    pub fn open(dir: &Path) -> Result<Self> {
        let refuse = |message: String| Error::Config {
            origin: "runtime.compile_cache".into(),
            message: format!("{}: {message}", dir.display()),
        };
        let dir = std::path::absolute(dir).map_err(|e| refuse(e.to_string()))?;
        create_private(&dir).map_err(|e| refuse(format!("cannot create it: {e}")))?;
        owned_by_us_alone(&dir).map_err(refuse)?;
        let dir = dir.canonicalize().map_err(|e| refuse(e.to_string()))?;
        let mut config = CacheConfig::new();
        config.with_directory(&dir);
        let cache = Cache::new(config).map_err(|e| refuse(format!("{e:#}")))?;
        Ok(CompileCache {
            cache,
            dir,
            reported: Mutex::new(CompileCacheStats::default()),
        })
    }

    /// The cache's directory (absolute, links resolved).
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Hits and misses so far.
    pub fn stats(&self) -> CompileCacheStats {
        CompileCacheStats {
            hits: self.cache.cache_hits() as u64,
            misses: self.cache.cache_misses() as u64,
        }
    }

    /// The hits and misses not yet reported (for counters), marking them reported.
    pub(crate) fn unreported(&self) -> CompileCacheStats {
        let now = self.stats();
        let mut reported = self.reported.lock().unwrap_or_else(|p| p.into_inner());
        let new = CompileCacheStats {
            hits: now.hits.saturating_sub(reported.hits),
            misses: now.misses.saturating_sub(reported.misses),
        };
        *reported = now;
        new
    }

    /// The engine setting that turns the cache on.
    pub(crate) fn wasmtime_cache(&self) -> Cache {
        self.cache.clone()
    }

    /// Whether `dir` (a binding's `files`) and the cache overlap (one is, holds or lies
    /// inside the other), so a guest could write entries the host would run.
    pub(crate) fn overlaps(&self, dir: &Path) -> bool {
        match dir.canonicalize() {
            Ok(dir) => self.dir.starts_with(&dir) || dir.starts_with(&self.dir),
            Err(_) => false,
        }
    }
}

/// Creates `dir` and any missing parents; the ones it creates get mode 0700.
fn create_private(dir: &Path) -> std::io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir)
}

/// Refuses a link, a non-directory, another user's directory, or one others may write.
#[cfg(unix)]
fn owned_by_us_alone(dir: &Path) -> std::result::Result<(), String> {
    use std::os::unix::fs::MetadataExt;
    let meta = std::fs::symlink_metadata(dir).map_err(|e| e.to_string())?;
    if meta.file_type().is_symlink() {
        return Err("is a symbolic link; name the directory itself".into());
    }
    if !meta.is_dir() {
        return Err("is not a directory".into());
    }
    // SAFETY: geteuid has no preconditions and cannot fail.
    let me = unsafe { libc::geteuid() };
    if meta.uid() != me {
        return Err(format!(
            "belongs to user {}, not to the host's user {me}: its entries are code the host runs",
            meta.uid()
        ));
    }
    if meta.mode() & 0o022 != 0 {
        return Err(format!(
            "others may write it (mode {:o}); it holds code the host runs: chmod go-w it",
            meta.mode() & 0o777
        ));
    }
    Ok(())
}

#[cfg(not(unix))]
fn owned_by_us_alone(dir: &Path) -> std::result::Result<(), String> {
    match std::fs::symlink_metadata(dir) {
        Ok(m) if m.is_dir() => Ok(()),
        Ok(_) => Err("is not a directory".into()),
        Err(e) => Err(e.to_string()),
    }
}

#[cfg(test)]
mod tests;

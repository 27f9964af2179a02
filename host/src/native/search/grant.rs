//! Hands out each tenant's search [`Engine`], kept across swaps and reloads, for a binding's
//! `files` directory.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::engine::Engine;

/// Why a search binding's `files` directory cannot hold its tenant's indexes. Each message
/// names the key (`files: ...`).
#[derive(Debug, thiserror::Error)]
pub enum GrantError {
    /// The `search` directory under `files` cannot be created.
    #[error("files: cannot create {}: {source}", .dir.display())]
    CreateDir {
        /// The directory.
        dir: PathBuf,
        /// Why not.
        source: std::io::Error,
    },
    /// Another tenant's indexes live in the same directory.
    #[error(
        "files: {} already holds tenant '{other}''s search indexes; give each tenant its own directory",
        .files.display()
    )]
    Shared {
        /// The binding's `files` directory.
        files: PathBuf,
        /// The tenant whose indexes are there.
        other: String,
    },
    /// The `search` directory under `files` is a symbolic link: the host never makes one.
    #[error(
        "files: {} is a symbolic link; the host keeps its indexes only in a directory it made",
        .dir.display()
    )]
    Link {
        /// The directory.
        dir: PathBuf,
    },
}

/// The engine of `tenant` for a binding whose `files` directory is `files`: the one it
/// already has (kept across swaps and reloads), or a new one. Refused when another tenant's
/// indexes live in the same directory.
pub fn grant(
    engines: &mut HashMap<String, Arc<Engine>>,
    tenant: &str,
    files: &Path,
) -> Result<Arc<Engine>, GrantError> {
    let root = files.join("search");
    if std::fs::symlink_metadata(&root).is_ok_and(|m| m.file_type().is_symlink()) {
        return Err(GrantError::Link { dir: root });
    }
    std::fs::create_dir_all(&root).map_err(|source| GrantError::CreateDir {
        dir: root.clone(),
        source,
    })?;
    let root = root.canonicalize().unwrap_or(root);
    if let Some((other, _)) = engines
        .iter()
        .find(|(t, e)| t.as_str() != tenant && e.root() == root)
    {
        return Err(GrantError::Shared {
            files: files.to_path_buf(),
            other: other.clone(),
        });
    }
    if let Some(engine) = engines.get(tenant).filter(|e| e.root() == root) {
        return Ok(engine.clone());
    }
    let engine = Arc::new(Engine::new(root));
    engines.insert(tenant.to_string(), engine.clone());
    Ok(engine)
}

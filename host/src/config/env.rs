//! `${NAME}` in configuration values, replaced with environment variables.

/// Why `${NAME}` in a value could not be expanded; names the key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EnvError {
    /// `${` without `}`.
    #[error("{0}: unterminated ${{ in {1:?}")]
    Unterminated(String, String),
    /// `${}`.
    #[error("{0}: empty ${{}}")]
    Empty(String),
    /// The variable is not set.
    #[error("{0}: environment variable {1} is not set")]
    Unset(String, String),
}

/// Replaces `${NAME}` with the environment variable NAME; `key` names the place in errors.
pub fn expand_env(value: &str, key: &str) -> std::result::Result<String, EnvError> {
    let mut out = String::with_capacity(value.len());
    let mut rest = value;
    while let Some(start) = rest.find("${") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let end = after
            .find('}')
            .ok_or_else(|| EnvError::Unterminated(key.to_string(), value.to_string()))?;
        let name = &after[..end];
        if name.is_empty() {
            return Err(EnvError::Empty(key.to_string()));
        }
        let v =
            std::env::var(name).map_err(|_| EnvError::Unset(key.to_string(), name.to_string()))?;
        out.push_str(&v);
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

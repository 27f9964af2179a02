//! Random numbers from the host (`wasi:random/random`), cryptographically secure. There is
//! no OS randomness on `wasm32-unknown-unknown`: crates that want it (`getrandom`) fail
//! there, so take bytes from here.

/// `len` random bytes.
pub fn bytes(len: u64) -> Vec<u8> {
    wasi::random::random::get_random_bytes(len)
}

/// A random `u64`.
pub fn u64() -> u64 {
    wasi::random::random::get_random_u64()
}

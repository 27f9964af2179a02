//! The server's integration tests, in one binary: the gateway, its keys and its connection
//! limits, the admin API, shutdown and the CLI. They need components built by
//! `make adapters` into target/components/.

mod admin;
mod cli;
mod cli_keys;
mod gateway;
mod keys;
mod keys_ops;
mod limits;
mod native;
mod redis;
mod support;

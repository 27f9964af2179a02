//! The server's integration tests, in one binary: the gateway, the admin API, shutdown and
//! the CLI. They need components built by `make adapters` into target/components/.

mod admin;
mod cli;
mod gateway;
mod native;
mod redis;
mod support;

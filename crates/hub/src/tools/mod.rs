//! The command line's helpers beside the hub: a simulated contact center that drives the
//! integration API, and the small HTTP client it uses.

pub mod http_client;
pub mod simulate;

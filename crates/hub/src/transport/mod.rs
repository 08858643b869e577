//! How the hub is reached: accepting connections (TLS, places, deadlines), the agents'
//! WebSocket connections, the contact center's integration API over HTTP, /healthz and
//! /metrics, and starting and stopping it all. Transport turns requests into calls of the
//! services and their answers into frames and HTTP responses.

pub mod asks;
pub mod connection;
pub mod integration_api;
pub mod listener;
pub mod metrics;
pub mod refusals;
pub mod server;
pub mod shared;
pub mod tls;

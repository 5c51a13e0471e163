//! The SDK's integration tests, as a contract author's crate sees the SDK: one test binary, a
//! module per topic.

mod calls;
mod interface;
mod migrate;
mod native_host;

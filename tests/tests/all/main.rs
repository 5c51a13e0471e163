//! Cross-crate and multi-process tests: one test binary, a module per topic.

mod crash;
mod interfaces;

//! HTTP integration tests of the xinfang server: one binary, the real application on port 0
//! over a fresh database per test (see `helpers`), driven with reqwest the way the console,
//! the hotline integration and petitioners' phones drive it.

mod admin;
mod analytics;
mod auth;
mod errors;
mod health;
mod helpers;
mod intake;
mod isolation;
mod lifecycle;
mod masking;
mod nodes;
mod public;
mod reminders;
mod restart;
mod routing;
mod search;

//! `xinfang`: the command line of 智慧信访平台.
//!
//! Thin by design: it parses arguments, sets up logging, opens the store and hands over to the
//! library crates. Every command takes `--database-url` (or `XINFANG_DATABASE_URL`).

mod cli;
mod demo;
mod hotspots;
mod keys;
mod model;

use clap::Parser;

/// mimalloc instead of the system allocator: a registration allocates and frees many small
/// buffers on two threads (JSON, tokens, query rows), and glibc's malloc spent a fifth of the
/// server's CPU on it under load.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("XINFANG_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,sqlx=warn")),
        )
        .with_writer(std::io::stderr)
        .init();
    let args = cli::Cli::parse();
    match cli::run(args).await {
        Ok(code) => code,
        Err(e) => {
            eprintln!("错误 error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

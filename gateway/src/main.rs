//! `musubi`: see `musubi --help`.

use std::process::ExitCode;

use clap::Parser;

/// jemalloc rather than glibc's malloc: see gateway/Cargo.toml (memory a long-running hub keeps
/// after each harvest).
#[cfg(target_os = "linux")]
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "musubi=info,warn".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    musubi_gateway::cli::run(musubi_gateway::cli::Cli::parse()).await
}

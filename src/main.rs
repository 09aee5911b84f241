//! The server binary: configuration → startup → serve (see `gatehouse --help`).

/// mimalloc instead of glibc's allocator: memory allocated on one thread and freed on
/// another (request buffers, query results) does not contend on arena locks.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    gatehouse::server::cli::main().await
}

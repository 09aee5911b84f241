//! The server binary: configuration → startup → serve (see `gatehouse --help`).

#[tokio::main]
async fn main() -> std::process::ExitCode {
    gatehouse::server::cli::main().await
}

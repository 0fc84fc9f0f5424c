//! `poolctl`: see `poolctl --help`. No log subscriber: stdout carries only the JSON result.

#[tokio::main]
async fn main() -> std::process::ExitCode {
    poolctl::main_with_args(std::env::args_os()).await
}

//! The `causeway` binary: parse the command line and hand over to [`server::cli`].

use clap::Parser;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let cli = server::cli::Cli::parse();
    match server::cli::run(cli).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("causeway: {error:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

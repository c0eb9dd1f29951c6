use clap::Parser;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let cli = anytrade::cli::Cli::parse();
    match anytrade::cli::run(cli).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("anytrade: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

use clap::Parser;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let cli = anytrade::cli::Cli::parse();
    match anytrade::cli::run(cli).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("anytrade: {e:#}");
            if e.downcast_ref::<anytrade::cli::BadInput>().is_some() {
                std::process::ExitCode::from(2)
            } else {
                std::process::ExitCode::FAILURE
            }
        }
    }
}

use std::process::ExitCode;

use clap::Parser;

#[tokio::main]
async fn main() -> ExitCode {
    let cli = anytrade::cli::Cli::parse();
    match anytrade::cli::run(cli).await {
        Ok(()) => ExitCode::SUCCESS,
        // The reader of our output went away (`| head`): that ends a listing early, it
        // is not a failure.
        Err(e)
            if e.downcast_ref::<std::io::Error>()
                .is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe) =>
        {
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("anytrade: {e:#}");
            if e.downcast_ref::<anytrade::cli::BadInput>().is_some() {
                ExitCode::from(2)
            } else {
                ExitCode::FAILURE
            }
        }
    }
}

//! `cargo run --example server`: Breadcrumb on the embedded default (SQLite under ./data) with
//! demo data. Configuration is read from `BREADCRUMB_*` variables; see the README.
//! `cargo run --example server -- help` lists the management commands (partners, API keys).

use breadcrumb_http::cli::{Command, USAGE, execute};

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let command = match Command::parse(&args) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("{e}\n\n{USAGE}");
            std::process::exit(2);
        }
    };
    if command == Command::Help {
        println!("{USAGE}");
        return;
    }
    let config = match breadcrumb_http::config::Config::from_env(command == Command::Serve) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("configuration error: {e}");
            std::process::exit(2);
        }
    };
    if command == Command::Serve {
        breadcrumb_http::startup::init_tracing(config.json_logs);
        if let Err(e) = breadcrumb_http::startup::run(config).await {
            eprintln!("Breadcrumb could not start: {e}");
            std::process::exit(1);
        }
        return;
    }
    match execute(&config, command).await {
        Ok(out) => println!("{out}"),
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(1);
        }
    }
}

//! `cargo run --example server`: Breadcrumb on the embedded default (SQLite under ./data) with
//! demo data. Configuration is read from `BREADCRUMB_*` variables; see the README.

#[tokio::main]
async fn main() {
    let config = match breadcrumb_http::config::Config::from_env(true) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("configuration error: {e}");
            std::process::exit(2);
        }
    };
    breadcrumb_http::startup::init_tracing(config.json_logs);
    if let Err(e) = breadcrumb_http::startup::run(config).await {
        eprintln!("Breadcrumb could not start: {e}");
        std::process::exit(1);
    }
}

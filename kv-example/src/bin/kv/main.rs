//! `kv`: the key/value service's command line. `serve` runs one node,
//! `cluster` a local three-node cluster of child processes; `put`, `get`,
//! `cas`, `delete` and `status` talk to a cluster over HTTP, and `bench`
//! measures one.

mod config;
mod http;
mod metrics;
mod node_ops;
mod serve;
mod status;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// A replicated key/value store on Raft.
#[derive(Debug, Parser)]
#[command(name = "kv", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run one node.
    Serve(serve::ServeArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let default_level = match cli.command {
        Command::Serve(_) => "info",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default_level));
    tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).init();
    let result: Result<(), Box<dyn std::error::Error>> = match cli.command {
        Command::Serve(args) => serve::run(args).map_err(Into::into),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            let mut message = format!("kv: error: {error}");
            let mut source = error.source();
            while let Some(cause) = source {
                message.push_str(&format!("\n  caused by: {cause}"));
                source = cause.source();
            }
            eprintln!("{message}");
            ExitCode::FAILURE
        }
    }
}

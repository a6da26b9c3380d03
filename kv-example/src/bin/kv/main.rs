//! `kv`: the key/value service's command line. `serve` runs one node,
//! `cluster` a local three-node cluster of child processes; `put`, `get`,
//! `cas`, `delete` and `status` talk to a cluster over HTTP, and `bench`
//! measures one.

mod bench;
mod client;
mod cluster;
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
    /// Run a local cluster of child processes on loopback until Ctrl-C.
    Cluster(cluster::ClusterArgs),
    /// Write a value, whatever the key's version.
    Put(client::PutArgs),
    /// Write a value only if the key is at a version (0 creates it).
    Cas(client::CasArgs),
    /// Read a key (linearizable unless --stale).
    Get(client::GetArgs),
    /// Remove a key.
    Delete(client::DeleteArgs),
    /// Show the cluster's members, roles, terms and indices.
    Status(client::StatusArgs),
    /// Measure a running cluster with concurrent clients.
    Bench(bench::BenchArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let default_level = match cli.command {
        Command::Serve(_) => "info",
        _ => "warn",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default_level));
    let colour = std::io::IsTerminal::is_terminal(&std::io::stderr());
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(colour)
        .init();
    let result: Result<(), Box<dyn std::error::Error>> = match cli.command {
        Command::Serve(args) => serve::run(args).map_err(Into::into),
        Command::Cluster(args) => cluster::run(args).map_err(Into::into),
        Command::Put(args) => client::put(args).map_err(Into::into),
        Command::Cas(args) => client::cas(args).map_err(Into::into),
        Command::Get(args) => client::get(args).map_err(Into::into),
        Command::Delete(args) => client::delete(args).map_err(Into::into),
        Command::Status(args) => client::status(args).map_err(Into::into),
        Command::Bench(args) => bench::run(args).map_err(Into::into),
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

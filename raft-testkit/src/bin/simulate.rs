//! `simulate`: the simulator's long-run and replay command.
//!
//! ```text
//! simulate [--seeds N] [--first S] [--nodes 3,5,7] [--faults all|<mix>,...]
//!          [--threads T] [--seconds S] [--healing-bound S] [--planted-bug NAME]
//!          [--stop-at-first-failure] [--pre-vote on|off|drawn] [--check-quorum on|off|drawn]
//!          [--noop-on-election on|off|drawn] [--lease-reads on|off|drawn]
//! simulate --replay SEED --nodes N --faults MIX [--seconds S] [--healing-bound S]
//!          [--planted-bug NAME] [--keep-faults 0,3,7] [--trace [--trace-from SECONDS]]
//!          [--shrink]
//! ```
//!
//! The first form spreads `N` seeds over every configuration asked for (each
//! node count with each fault mix), starting at seed `S` (default
//! 1,000,000, past the seeds the test suite runs), and reports the seeds
//! tried, the failures with their replay commands, the virtual time
//! simulated and the speed; with `--stop-at-first-failure` each
//! configuration runs its seeds only until one fails, and the count of seeds
//! it took is reported (how a planted bug's catch rate is measured). The
//! second form replays one seed; `--trace` prints
//! every step, message and state change, and `--shrink` looks for a shorter
//! fault schedule that still breaks the same property.

use std::process::ExitCode;
use std::time::{Duration, Instant};

use raft_testkit::{FaultMix, Simulation, SimulationConfig, Sweep, SweepReport};

/// Seeds per configuration between two progress lines.
const CHUNK: u64 = 2_000;

/// The parsed command line.
#[derive(Debug)]
struct Options {
    seeds: u64,
    first: u64,
    nodes: Vec<usize>,
    faults: Vec<FaultMix>,
    threads: usize,
    fault_duration: Option<Duration>,
    healing_bound: Option<Duration>,
    max_bytes_per_append: Option<u64>,
    max_inflight_appends: Option<usize>,
    max_uncommitted_entries: Option<u64>,
    pre_vote: Option<bool>,
    check_quorum: Option<bool>,
    noop_on_election: Option<bool>,
    lease_reads: Option<bool>,
    #[cfg(feature = "planted-bugs")]
    planted_bug: Option<raft_core::PlantedBug>,
    replay: Option<u64>,
    keep_faults: Option<Vec<usize>>,
    trace: bool,
    trace_from: Duration,
    shrink: bool,
    stop_at_first_failure: bool,
}

fn main() -> ExitCode {
    let arguments: Vec<String> = std::env::args().skip(1).collect();
    if arguments.iter().any(|argument| argument == "--help" || argument == "-h") {
        usage();
        return ExitCode::SUCCESS;
    }
    match parse(arguments) {
        Ok(options) if options.replay.is_some() => replay(&options),
        Ok(options) => long_run(&options),
        Err(message) => {
            eprintln!("simulate: {message}");
            usage();
            ExitCode::from(2)
        }
    }
}

fn usage() {
    for line in [
        "usage: simulate [--seeds N] [--first S] [--nodes 3,5,7] [--faults all|MIX,...] [--threads T]",
        "                [--seconds S] [--healing-bound S] [--stop-at-first-failure]",
        "                [--max-bytes-per-append B] [--max-inflight-appends N]",
        "                [--max-uncommitted-entries N] [--planted-bug NAME]",
        "                [--pre-vote S] [--check-quorum S] [--noop-on-election S] [--lease-reads S]",
        "       simulate --replay SEED --nodes N --faults MIX [the same settings]",
        "                [--keep-faults 0,3,7] [--trace [--trace-from SECONDS]] [--shrink]",
    ] {
        eprintln!("{line}");
    }
    let mixes: Vec<&str> = FaultMix::ALL.iter().map(|mix| mix.name()).collect();
    eprintln!("fault mixes: {}", mixes.join(", "));
    eprintln!(
        "S is on, off or drawn (the seed draws it); defaults: drawn, lease reads off; --no-pre-vote is --pre-vote off"
    );
}

fn parse(arguments: Vec<String>) -> Result<Options, String> {
    // The protocol switches start where a simulation's configuration does.
    let defaults = SimulationConfig::new(3, FaultMix::Chaos);
    let mut options = Options {
        seeds: 10_000,
        first: 1_000_000,
        nodes: vec![3, 5, 7],
        faults: FaultMix::ALL.to_vec(),
        threads: std::thread::available_parallelism().map_or(1, |count| count.get()),
        fault_duration: None,
        healing_bound: None,
        max_bytes_per_append: None,
        max_inflight_appends: None,
        max_uncommitted_entries: None,
        pre_vote: defaults.pre_vote,
        check_quorum: defaults.check_quorum,
        noop_on_election: defaults.noop_on_election,
        lease_reads: defaults.lease_reads,
        #[cfg(feature = "planted-bugs")]
        planted_bug: None,
        replay: None,
        keep_faults: None,
        trace: false,
        trace_from: Duration::ZERO,
        shrink: false,
        stop_at_first_failure: false,
    };
    let mut arguments = arguments.into_iter();
    while let Some(flag) = arguments.next() {
        let mut value = || arguments.next().ok_or_else(|| format!("{flag} needs a value"));
        match flag.as_str() {
            "--seeds" => options.seeds = number(&value()?)?,
            "--first" => options.first = number(&value()?)?,
            "--replay" => options.replay = Some(number(&value()?)?),
            "--threads" => options.threads = number::<usize>(&value()?)?.max(1),
            "--nodes" => {
                options.nodes = value()?.split(',').map(number).collect::<Result<_, _>>()?
            }
            "--faults" => {
                let names = value()?;
                options.faults = if names == "all" {
                    FaultMix::ALL.to_vec()
                } else {
                    names
                        .split(',')
                        .map(|name| name.parse().map_err(|error| format!("{error}")))
                        .collect::<Result<_, String>>()?
                };
            }
            "--seconds" => options.fault_duration = Some(seconds(&value()?)?),
            "--healing-bound" => options.healing_bound = Some(seconds(&value()?)?),
            "--max-bytes-per-append" => options.max_bytes_per_append = Some(number(&value()?)?),
            "--max-inflight-appends" => options.max_inflight_appends = Some(number(&value()?)?),
            "--max-uncommitted-entries" => {
                options.max_uncommitted_entries = Some(number(&value()?)?)
            }
            "--no-pre-vote" => options.pre_vote = Some(false),
            "--pre-vote" => options.pre_vote = switch(&value()?)?,
            "--check-quorum" => options.check_quorum = switch(&value()?)?,
            "--noop-on-election" => options.noop_on_election = switch(&value()?)?,
            "--lease-reads" => options.lease_reads = switch(&value()?)?,
            "--keep-faults" => {
                let list = value()?;
                options.keep_faults = Some(if list.is_empty() {
                    Vec::new()
                } else {
                    list.split(',').map(number).collect::<Result<_, _>>()?
                });
            }
            "--trace" => options.trace = true,
            "--trace-from" => options.trace_from = seconds(&value()?)?,
            "--shrink" => options.shrink = true,
            "--stop-at-first-failure" => options.stop_at_first_failure = true,
            #[cfg(feature = "planted-bugs")]
            "--planted-bug" => {
                options.planted_bug = Some(
                    raft_testkit::planted_bug_named(&value()?)
                        .map_err(|error| error.to_string())?,
                )
            }
            #[cfg(not(feature = "planted-bugs"))]
            "--planted-bug" => {
                return Err(
                    "--planted-bug needs the planted-bugs feature (--features planted-bugs)"
                        .to_owned(),
                );
            }
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    if options.replay.is_some() && (options.nodes.len() != 1 || options.faults.len() != 1) {
        return Err("--replay needs one --nodes and one --faults".to_owned());
    }
    Ok(options)
}

fn number<T: std::str::FromStr>(text: &str) -> Result<T, String> {
    text.replace('_', "").parse().map_err(|_| format!("{text:?} is not a number"))
}

/// An extension's setting: `on`, `off`, or `drawn` (`None`: the seed draws).
fn switch(text: &str) -> Result<Option<bool>, String> {
    match text {
        "on" => Ok(Some(true)),
        "off" => Ok(Some(false)),
        "drawn" => Ok(None),
        _ => Err(format!("{text:?} is not on, off or drawn")),
    }
}

fn seconds(text: &str) -> Result<Duration, String> {
    let value: f64 = text.parse().map_err(|_| format!("{text:?} is not a number of seconds"))?;
    Duration::try_from_secs_f64(value).map_err(|_| format!("{text:?} is not a number of seconds"))
}

fn config(options: &Options, nodes: usize, faults: FaultMix) -> SimulationConfig {
    let mut config = SimulationConfig::new(nodes, faults);
    if let Some(duration) = options.fault_duration {
        config.fault_duration = duration;
    }
    if let Some(bound) = options.healing_bound {
        config.healing_bound = bound;
    }
    config.max_bytes_per_append = options.max_bytes_per_append;
    config.max_inflight_appends = options.max_inflight_appends;
    config.max_uncommitted_entries = options.max_uncommitted_entries;
    config.pre_vote = options.pre_vote;
    config.check_quorum = options.check_quorum;
    config.noop_on_election = options.noop_on_election;
    config.lease_reads = options.lease_reads;
    #[cfg(feature = "planted-bugs")]
    {
        config.planted_bug = options.planted_bug;
    }
    config
}

/// Replays one seed, traced if asked, and shrinks its fault schedule if asked.
fn replay(options: &Options) -> ExitCode {
    let seed = options.replay.unwrap_or_default();
    let config = config(options, options.nodes[0], options.faults[0]);
    let started = Instant::now();
    let simulation = match Simulation::new(seed, config.clone()) {
        Ok(simulation) => simulation,
        Err(error) => {
            eprintln!("simulate: {error}");
            return ExitCode::from(2);
        }
    };
    let faults = simulation.fault_count();
    let mut simulation = simulation;
    if let Some(kept) = &options.keep_faults {
        simulation = simulation.keep_faults(kept);
    }
    if options.trace {
        simulation = simulation.trace();
    }
    let outcome = simulation.run();
    let wall = started.elapsed();
    let report = match &outcome {
        Ok(report) => report,
        Err(failure) => &failure.report,
    };
    if options.trace {
        let from = VirtualTimeFilter(options.trace_from);
        for line in report.trace.iter().filter(|line| from.keeps(line)) {
            println!("{line}");
        }
    }
    println!(
        "seed {seed}: {} nodes, faults {}, {} faults scheduled, {:.3} s simulated in {:.3} s ({} steps, digest {:016x})",
        config.nodes,
        config.faults,
        faults,
        report.simulated.as_secs_f64(),
        wall.as_secs_f64(),
        report.steps,
        report.digest
    );
    println!("{:?}", report.counters);
    match outcome {
        Ok(report) => {
            let healing = report.healing.map_or(0.0, |healing| healing.as_secs_f64());
            println!("passed: the healed cluster converged in {healing:.3} s");
            ExitCode::SUCCESS
        }
        Err(failure) => {
            println!("FAILED: {failure}");
            if options.shrink {
                shrink(seed, &config, options, &failure);
            }
            ExitCode::FAILURE
        }
    }
}

/// Looks for fewer faults that still break the same property.
fn shrink(
    seed: u64,
    config: &SimulationConfig,
    options: &Options,
    failure: &raft_testkit::Failure,
) {
    let start: Vec<usize> = match &options.keep_faults {
        Some(kept) => kept.clone(),
        None => match Simulation::new(seed, config.clone()) {
            Ok(simulation) => (0..simulation.fault_count()).collect(),
            Err(_) => return,
        },
    };
    let shrunk = raft_testkit::shrink_faults(seed, config, &start, failure.violation.property());
    let list: Vec<String> = shrunk.iter().map(usize::to_string).collect();
    println!(
        "shrunk from {} faults to {}; replay: {}",
        start.len(),
        shrunk.len(),
        config.replay_command(seed, &format!("--keep-faults {}", list.join(",")))
    );
}

/// Keeps the trace lines from a virtual time on.
struct VirtualTimeFilter(Duration);

impl VirtualTimeFilter {
    fn keeps(&self, line: &str) -> bool {
        let time = line.trim_start().split('s').next().and_then(|text| text.parse::<f64>().ok());
        time.is_none_or(|time| time >= self.0.as_secs_f64())
    }
}

/// Runs each configuration's seeds until one fails, and reports how many
/// seeds each took.
fn hunt(
    options: &Options,
    configurations: &[SimulationConfig],
    per_configuration: u64,
) -> ExitCode {
    let mut caught_all = true;
    for configuration in configurations {
        let seeds = options.first..options.first + per_configuration;
        let sweep = Sweep::new(configuration.clone())
            .seeds(seeds)
            .threads(options.threads)
            .stop_at_first_failure();
        match sweep.run() {
            Ok(report) => match report.failures.first() {
                Some(failure) => println!(
                    "{} nodes, {}: failed after {} seeds, {}: {}\n  replay: {}",
                    configuration.nodes,
                    configuration.faults,
                    report.seeds_tried,
                    failure.violation.property(),
                    failure.violation,
                    failure.replay_command()
                ),
                None => {
                    caught_all = false;
                    println!(
                        "{} nodes, {}: no failure in {} seeds",
                        configuration.nodes, configuration.faults, report.seeds_tried
                    );
                }
            },
            Err(error) => {
                eprintln!("simulate: {error}");
                return ExitCode::from(2);
            }
        }
    }
    if caught_all { ExitCode::FAILURE } else { ExitCode::SUCCESS }
}

/// Runs the seeds over every configuration asked for and reports.
fn long_run(options: &Options) -> ExitCode {
    let configurations: Vec<SimulationConfig> = options
        .nodes
        .iter()
        .flat_map(|&nodes| options.faults.iter().map(move |&faults| (nodes, faults)))
        .map(|(nodes, faults)| config(options, nodes, faults))
        .collect();
    let count = configurations.len() as u64;
    let per_configuration = options.seeds.div_ceil(count);
    if options.stop_at_first_failure {
        return hunt(options, &configurations, per_configuration);
    }
    println!(
        "{} seeds over {count} configurations ({per_configuration} each, from seed {}), {} threads",
        per_configuration * count,
        options.first,
        options.threads
    );
    let mut total = SweepReport::default();
    let started = Instant::now();
    let mut done = 0;
    while done < per_configuration {
        let chunk = CHUNK.min(per_configuration - done);
        let seeds = options.first + done..options.first + done + chunk;
        for configuration in &configurations {
            let sweep = Sweep::new(configuration.clone())
                .seeds(seeds.clone())
                .threads(options.threads)
                .keep_failures(8);
            match sweep.run() {
                Ok(report) => {
                    for failure in &report.failures {
                        println!("FAILED: {failure}");
                    }
                    total.absorb(report);
                }
                Err(error) => {
                    eprintln!("simulate: {error}");
                    return ExitCode::from(2);
                }
            }
        }
        done += chunk;
        let wall = started.elapsed().as_secs_f64();
        println!(
            "  {} seeds, {} failed, {:.0} s simulated in {:.1} s: {:.0} simulated s/s, {:.1} seeds/s",
            total.seeds_tried,
            total.failed,
            total.simulated.as_secs_f64(),
            wall,
            total.simulated.as_secs_f64() / wall,
            total.seeds_tried as f64 / wall
        );
    }
    let wall = started.elapsed();
    println!(
        "done: {} seeds, {} failed; {:.0} s simulated in {:.1} s of wall time ({:.0} simulated s/s, {:.1} seeds/s, {} steps)",
        total.seeds_tried,
        total.failed,
        total.simulated.as_secs_f64(),
        wall.as_secs_f64(),
        total.simulated.as_secs_f64() / wall.as_secs_f64(),
        total.seeds_tried as f64 / wall.as_secs_f64(),
        total.steps
    );
    let counters = &total.counters;
    println!(
        "reads: {} asked, {} indexed and checked, {} served ({} through a follower, {} answered at once by a lease), {} refused; transfers: {} taken on, {} completed",
        counters.reads,
        counters.reads_indexed,
        counters.reads_served,
        counters.follower_reads_served,
        counters.reads_answered_at_once,
        counters.reads_refused,
        counters.transfers,
        counters.transfers_completed
    );
    if let Some((seed, healing)) = total.worst_healing {
        println!(
            "slowest convergence after the faults: {:.3} s (seed {seed})",
            healing.as_secs_f64()
        );
    }
    for failure in &total.failures {
        println!("replay: {}", failure.replay_command());
    }
    if total.failed == 0 { ExitCode::SUCCESS } else { ExitCode::FAILURE }
}

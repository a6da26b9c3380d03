//! [`Sweep`]: runs many seeds of one configuration, on several threads, and
//! sums up what they did and how they failed.

use std::ops::Range;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use crate::sim::{Failure, RunCounters, Simulation, SimulationConfig, SimulationError};

/// The seeds of one configuration, run one after another on each of
/// `threads` threads. Each run is deterministic on its own, so the failures
/// found do not depend on the threads.
///
/// ```
/// use std::time::Duration;
///
/// use raft_testkit::{FaultMix, SimulationConfig, Sweep};
///
/// let mut config = SimulationConfig::new(3, FaultMix::Lossy);
/// config.fault_duration = Duration::from_secs(1);
/// let report = Sweep::new(config).seeds(0..4).threads(2).run()?;
/// assert_eq!(report.seeds_tried, 4);
/// assert!(report.failures.is_empty(), "{}", report.failures[0]);
/// # Ok::<(), raft_testkit::SimulationError>(())
/// ```
#[derive(Clone, Debug)]
pub struct Sweep {
    config: SimulationConfig,
    seeds: Range<u64>,
    threads: usize,
    stop_at_first_failure: bool,
    kept_failures: usize,
}

/// What a [`Sweep`] did.
#[derive(Clone, Debug, Default)]
pub struct SweepReport {
    /// Seeds run. With [`Sweep::stop_at_first_failure`], the seeds up to and
    /// including the first that failed (in seed order).
    pub seeds_tried: u64,
    /// Seeds that failed.
    pub failed: u64,
    /// The failures, in seed order, up to [`Sweep::keep_failures`] of them.
    pub failures: Vec<Failure>,
    /// The virtual time simulated, over all runs.
    pub simulated: Duration,
    /// Steps taken, over all runs.
    pub steps: u64,
    /// What the runs exercised, summed.
    pub counters: RunCounters,
    /// The longest a healed cluster took to converge, and its seed.
    pub worst_healing: Option<(u64, Duration)>,
    /// Wall-clock time the sweep took.
    pub wall: Duration,
}

impl SweepReport {
    /// Simulated seconds per wall-clock second, over all threads.
    pub fn speed(&self) -> f64 {
        self.simulated.as_secs_f64() / self.wall.as_secs_f64().max(1e-9)
    }

    /// Seeds per wall-clock second, over all threads.
    pub fn seeds_per_second(&self) -> f64 {
        self.seeds_tried as f64 / self.wall.as_secs_f64().max(1e-9)
    }

    /// Adds another sweep's totals to these.
    pub fn absorb(&mut self, other: SweepReport) {
        self.seeds_tried += other.seeds_tried;
        self.failed += other.failed;
        self.failures.extend(other.failures);
        self.simulated += other.simulated;
        self.steps += other.steps;
        self.counters.add(&other.counters);
        self.wall += other.wall;
        if let Some((seed, healing)) = other.worst_healing
            && self.worst_healing.is_none_or(|(_, worst)| healing > worst)
        {
            self.worst_healing = Some((seed, healing));
        }
    }
}

impl Sweep {
    /// Seeds 0 to 99 of `config`, on one thread.
    pub fn new(config: SimulationConfig) -> Sweep {
        Sweep { config, seeds: 0..100, threads: 1, stop_at_first_failure: false, kept_failures: 16 }
    }

    /// The seeds to run.
    #[must_use]
    pub fn seeds(mut self, seeds: Range<u64>) -> Sweep {
        self.seeds = seeds;
        self
    }

    /// The threads to run them on (at least one).
    #[must_use]
    pub fn threads(mut self, threads: usize) -> Sweep {
        self.threads = threads.max(1);
        self
    }

    /// Stops at the first failing seed, in seed order: the report then says
    /// how many seeds it took to find a failure.
    #[must_use]
    pub fn stop_at_first_failure(mut self) -> Sweep {
        self.stop_at_first_failure = true;
        self
    }

    /// Keeps at most `count` failures in the report (default 16); the others
    /// are only counted.
    #[must_use]
    pub fn keep_failures(mut self, count: usize) -> Sweep {
        self.kept_failures = count;
        self
    }

    /// Runs the seeds.
    ///
    /// # Errors
    /// [`SimulationError`] if the configuration is invalid.
    pub fn run(&self) -> Result<SweepReport, SimulationError> {
        self.config.validate()?;
        let started = Instant::now();
        let next = AtomicU64::new(self.seeds.start);
        // The lowest failing seed so far, when stopping at the first.
        let lowest_failure = AtomicU64::new(u64::MAX);
        let totals = Mutex::new(SweepReport::default());
        let failures = Mutex::new(Vec::new());
        std::thread::scope(|scope| {
            for _ in 0..self.threads {
                scope.spawn(|| {
                    let mut local = SweepReport::default();
                    loop {
                        let seed = next.fetch_add(1, Ordering::Relaxed);
                        let passed_first_failure = self.stop_at_first_failure
                            && seed > lowest_failure.load(Ordering::Relaxed);
                        if seed >= self.seeds.end || passed_first_failure {
                            break;
                        }
                        if let Some(failure) = self.run_seed(seed, &mut local) {
                            lowest_failure.fetch_min(seed, Ordering::Relaxed);
                            lock(&failures).push(failure);
                        }
                    }
                    lock(&totals).absorb(local);
                });
            }
        });
        let mut report = totals.into_inner().unwrap_or_else(PoisonError::into_inner);
        let mut failures = failures.into_inner().unwrap_or_else(PoisonError::into_inner);
        failures.sort_by_key(|failure| failure.report.seed);
        if self.stop_at_first_failure
            && let Some(first) = failures.first().map(|failure| failure.report.seed)
        {
            failures.truncate(1);
            report.seeds_tried = first - self.seeds.start + 1;
            report.failed = 1;
        }
        failures.truncate(self.kept_failures);
        report.failures = failures;
        report.wall = started.elapsed();
        Ok(report)
    }

    /// Runs one seed, adding its totals to `local`; returns its failure.
    fn run_seed(&self, seed: u64, local: &mut SweepReport) -> Option<Failure> {
        // Validated before the sweep began; every seed sets up alike.
        let simulation = Simulation::new(seed, self.config.clone()).ok()?;
        local.seeds_tried += 1;
        let (report, failure) = match simulation.run() {
            Ok(report) => (report, None),
            Err(failure) => ((*failure.report).clone(), Some(failure)),
        };
        local.simulated += report.simulated;
        local.steps += report.steps;
        local.counters.add(&report.counters);
        if let Some(healing) = report.healing
            && local.worst_healing.is_none_or(|(_, worst)| healing > worst)
        {
            local.worst_healing = Some((seed, healing));
        }
        local.failed += u64::from(failure.is_some());
        failure
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

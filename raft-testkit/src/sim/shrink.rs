//! [`shrink_faults`]: shortens a failing run's fault schedule while it keeps
//! breaking the same property.

use crate::sim::{Simulation, SimulationConfig};

/// The most runs one shrink tries.
const MAX_RUNS: usize = 2_000;

/// Returns a subset of the fault positions `kept` (see
/// [`Simulation::keep_faults`]) under which seed `seed` of `config` still
/// breaks `property` (a [`Violation::property`](crate::Violation::property)),
/// found by removing runs of faults, halving the run length when none can go
/// (delta debugging). The other random streams are drawn independently of
/// the schedule, so the client, network and disks behave alike as faults go.
///
/// ```
/// use raft_testkit::{FaultMix, SimulationConfig, shrink_faults};
///
/// // A run that passes has nothing to shrink towards: all faults stay.
/// let mut config = SimulationConfig::new(3, FaultMix::Crashes);
/// config.fault_duration = std::time::Duration::from_secs(1);
/// let kept = shrink_faults(1, &config, &[0, 1], "election safety");
/// assert_eq!(kept, vec![0, 1]);
/// ```
pub fn shrink_faults(
    seed: u64,
    config: &SimulationConfig,
    kept: &[usize],
    property: &str,
) -> Vec<usize> {
    let fails = |positions: &[usize]| {
        Simulation::new(seed, config.clone()).is_ok_and(|simulation| {
            simulation
                .keep_faults(positions)
                .run()
                .is_err_and(|failure| failure.violation.property() == property)
        })
    };
    let mut runs = 0;
    let mut kept = kept.to_vec();
    let mut length = kept.len().div_ceil(2).max(1);
    while !kept.is_empty() && runs < MAX_RUNS {
        let mut start = 0;
        let mut removed = false;
        while start < kept.len() && runs < MAX_RUNS {
            let end = (start + length).min(kept.len());
            let candidate: Vec<usize> = kept[..start].iter().chain(&kept[end..]).copied().collect();
            runs += 1;
            if fails(&candidate) {
                kept = candidate;
                removed = true;
            } else {
                start = end;
            }
        }
        if !removed {
            if length == 1 {
                break;
            }
            length = length.div_ceil(2);
        }
    }
    kept
}

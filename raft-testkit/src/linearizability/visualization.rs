//! [`write_visualization`]: a checked history as one self-contained HTML page,
//! with the tester's [`Annotation`]s drawn above its timelines.

use std::collections::HashMap;
use std::fmt::Write;
use std::fs;
use std::io;
use std::path::Path;

use crate::linearizability::checker::{CheckReport, PartitionReport};
use crate::linearizability::model::{Model, Operation};

mod json;

use json::{push_optional_string, push_string};

/// The page, with [`DATA_PLACEHOLDER`] where the history goes.
const PAGE: &str = include_str!("visualization/page.html");
const DATA_PLACEHOLDER: &str = "\"HISTORY_DATA\"";

/// Something the tester did during the history, drawn as a bar in a row above
/// the timelines: a partition of the network, a crash, a restart, the check
/// itself.
///
/// Times are in the history's time base (nanoseconds, like
/// [`Operation::call`]); an annotation with `start == end` is an instant,
/// drawn as a mark.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Annotation {
    /// When it began, in nanoseconds.
    pub start: u64,
    /// When it ended, in nanoseconds.
    pub end: u64,
    /// A short text shown on the bar (for example `partition [0 1] [2 3 4]`).
    pub label: String,
    /// A longer text shown on hover.
    pub description: String,
}

/// Writes to `path` an HTML page showing `history` as [`check`](crate::check)
/// saw it in `report`, with `annotations` above it.
///
/// The page is self-contained (its style and script are inline; it loads
/// nothing) and shows, per partition, one row per client with each operation
/// as a bar from its call to its return, labelled with
/// [`Model::describe_operation`]. The longest linearization found is green
/// and numbered in linearization order, the operation that breaks it red;
/// hovering an operation shows the states before and after it in that
/// linearization ([`Model::describe_state`]). The axis is in milliseconds of
/// the history's time base; the page can zoom and can compress idle time.
///
/// `report` must come from checking this `history` with this `model`. A
/// tester writes to [`visualization_path`](crate::visualization_path) when
/// [`VisualizationPolicy`](crate::VisualizationPolicy) says so.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
///
/// use raft_testkit::{
///     Annotation, KvInput, KvModel, KvOutput, Operation, VisualizationPolicy, check,
///     write_visualization,
/// };
///
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// // A read of a value nobody wrote.
/// let history = vec![Operation {
///     client: 0,
///     input: KvInput::Get { key: "k".to_owned() },
///     call: 0,
///     output: KvOutput::Get { value: "x".to_owned() },
///     returned: 2_000_000,
/// }];
/// let report = check(&KvModel, &history, Duration::from_secs(1))?;
/// let annotations = [Annotation {
///     start: 1_000_000,
///     end: 1_000_000,
///     label: "crash server 0".to_owned(),
///     description: "server 0 stops; its persister is kept".to_owned(),
/// }];
/// if VisualizationPolicy::OnFailure.should_write(report.result) {
///     let directory = tempfile::tempdir()?;
///     let path = directory.path().join("history.html");
///     write_visualization(&KvModel, &history, &report, &annotations, &path)?;
///     assert!(std::fs::read_to_string(&path)?.contains("get('k') -> 'x'"));
/// }
/// # Ok(())
/// # }
/// ```
///
/// # Errors
/// An [`io::ErrorKind::InvalidInput`] error if `report` names operations
/// `history` does not have; otherwise any error writing the file.
pub fn write_visualization<M: Model>(
    model: &M,
    history: &[Operation<M::Input, M::Output>],
    report: &CheckReport,
    annotations: &[Annotation],
    path: &Path,
) -> io::Result<()> {
    let data = history_data(model, history, report, annotations)?;
    fs::write(path, PAGE.replacen(DATA_PLACEHOLDER, &data, 1))
}

/// The JSON object the page's script draws.
fn history_data<M: Model>(
    model: &M,
    history: &[Operation<M::Input, M::Output>],
    report: &CheckReport,
    annotations: &[Annotation],
) -> io::Result<String> {
    let mut out = String::new();
    out.push_str("{\"result\":");
    push_string(&mut out, &report.result.to_string());
    out.push_str(",\"annotations\":[");
    for (number, annotation) in annotations.iter().enumerate() {
        if number > 0 {
            out.push(',');
        }
        let (start, end) = if annotation.start <= annotation.end {
            (annotation.start, annotation.end)
        } else {
            (annotation.end, annotation.start)
        };
        let _ = write!(out, "{{\"start\":{start},\"end\":{end},\"label\":");
        push_string(&mut out, &annotation.label);
        out.push_str(",\"description\":");
        push_string(&mut out, &annotation.description);
        out.push('}');
    }
    out.push_str("],\"partitions\":[");
    for (number, partition) in report.partitions.iter().enumerate() {
        if number > 0 {
            out.push(',');
        }
        push_partition(&mut out, model, history, partition)?;
    }
    out.push_str("]}");
    Ok(out)
}

/// What the page shows of one operation in the longest linearization.
struct Placement {
    /// 1-based position in the linearization.
    order: usize,
    /// The state before and after it, when the replay reached it.
    states: Option<(String, String)>,
}

fn push_partition<M: Model>(
    out: &mut String,
    model: &M,
    history: &[Operation<M::Input, M::Output>],
    partition: &PartitionReport,
) -> io::Result<()> {
    let operation = |index: usize| {
        history.get(index).ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::InvalidInput,
                format!(
                    "the report names operation {index}, but the history has {} operations",
                    history.len()
                ),
            )
        })
    };

    // Replay the longest linearization for the states around each operation.
    let mut placements: HashMap<usize, Placement> = HashMap::new();
    let mut state = Some(model.init());
    for (position, &index) in partition.longest_linearization.iter().enumerate() {
        let Operation { input, output, .. } = operation(index)?;
        let states = state.take().and_then(|before| {
            let after = model.step(&before, input, output)?;
            let described = (model.describe_state(&before), model.describe_state(&after));
            state = Some(after);
            Some(described)
        });
        placements.insert(index, Placement { order: position + 1, states });
    }
    let failing_state = state.map(|state| model.describe_state(&state));

    out.push_str("{\"key\":");
    push_optional_string(out, partition.key.as_deref());
    out.push_str(",\"result\":");
    push_string(out, &partition.result.to_string());
    let _ =
        write!(out, ",\"linearized\":{},\"operations\":[", partition.longest_linearization.len());
    for (number, &index) in partition.operations.iter().enumerate() {
        let Operation { client, input, call, output, returned } = operation(index)?;
        if number > 0 {
            out.push(',');
        }
        let _ = write!(
            out,
            "{{\"index\":{index},\"client\":{client},\"call\":{call},\"returned\":{returned},\"description\":"
        );
        push_string(out, &model.describe_operation(input, output));
        let failing = partition.failing_operation == Some(index);
        let (order, before, after) = match placements.get(&index) {
            Some(Placement { order, states }) => (
                Some(*order),
                states.as_ref().map(|(before, _)| before.as_str()),
                states.as_ref().map(|(_, after)| after.as_str()),
            ),
            None if failing => (None, failing_state.as_deref(), None),
            None => (None, None, None),
        };
        match order {
            Some(order) => {
                let _ = write!(out, ",\"order\":{order}");
            }
            None => out.push_str(",\"order\":null"),
        }
        let _ = write!(out, ",\"failing\":{failing},\"before\":");
        push_optional_string(out, before);
        out.push_str(",\"after\":");
        push_optional_string(out, after);
        out.push('}');
    }
    out.push_str("]}");
    Ok(())
}

#[cfg(test)]
mod tests;

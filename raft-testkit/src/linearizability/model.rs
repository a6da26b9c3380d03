//! [`Model`]: the sequential specification a history is checked against, and
//! [`Operation`]: one entry of a history.

use std::fmt::Debug;
use std::hash::Hash;

/// One operation of a concurrent history: who ran it, what it asked, what it
/// got, and when it was called and when it returned.
///
/// Times are nanoseconds from any fixed origin shared by the whole history
/// (the lab's tests use the start of the test). An operation may take effect
/// at any instant between `call` and `returned`, both included.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Operation<I, O> {
    /// The client that ran the operation. Used only to lay out the
    /// visualization: the check itself needs no client identities.
    pub client: usize,
    /// What the client asked for.
    pub input: I,
    /// When the client called the operation, in nanoseconds.
    pub call: u64,
    /// What the client got back.
    pub output: O,
    /// When the operation returned to the client, in nanoseconds.
    ///
    /// Invariant: `call <= returned`, which [`check`](crate::check) verifies.
    pub returned: u64,
}

/// A sequential specification: the states an object can be in, and which
/// (input, output) pairs are legal from each state.
///
/// A history is linearizable with respect to a model when its operations can
/// be put in one sequential order that respects real time (an operation that
/// returned before another was called comes first) and in which every
/// operation is a legal step of the model from the state the previous ones
/// left.
///
/// # Contract
///
/// - [`step`](Model::step) is a pure function: the same state, input and
///   output always give the same answer. The search calls it many times, in
///   any order, from several threads at once (partitions are searched in
///   parallel).
/// - [`partition_key`](Model::partition_key) may only separate operations
///   that act on independent parts of the state: the check of a history is the
///   conjunction of the checks of its partitions (P-compositionality, Horn and
///   Kroening 2015), which holds only when no operation of one partition can
///   affect another.
/// - `State`'s `Eq` and `Hash` must agree: the search memoizes the states it
///   has visited, and two equal states must behave the same from then on.
pub trait Model {
    /// A state of the object. Compared and hashed to memoize the search.
    type State: Clone + Eq + Hash + Debug;
    /// What a client asks for.
    type Input;
    /// What a client gets back.
    type Output;

    /// The state before any operation.
    fn init(&self) -> Self::State;

    /// The state after the operation `input` returning `output` runs from
    /// `state`, or `None` if that output is impossible from that state.
    fn step(
        &self,
        state: &Self::State,
        input: &Self::Input,
        output: &Self::Output,
    ) -> Option<Self::State>;

    /// The partition an operation belongs to: operations with equal keys are
    /// checked together, operations with different keys separately and in
    /// parallel.
    ///
    /// The default puts every operation under `None`, one partition for the
    /// whole history.
    fn partition_key(&self, input: &Self::Input) -> Option<String> {
        let _ = input;
        None
    }

    /// A short human-readable form of an operation, for the visualization
    /// (for example `get('x') -> '1'`).
    fn describe_operation(&self, input: &Self::Input, output: &Self::Output) -> String;

    /// A short human-readable form of a state, for the visualization.
    ///
    /// The default is the state's `Debug` form.
    fn describe_state(&self, state: &Self::State) -> String {
        format!("{state:?}")
    }
}

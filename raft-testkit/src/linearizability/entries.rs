//! [`Entries`]: a partition's call and return events in time order, as the
//! doubly linked list that the search lifts operations out of and puts back.

/// What one node of the list stands for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Event {
    /// The call of `operation`; its return is the node `matching_return`.
    Call {
        /// The operation's number within the partition.
        operation: usize,
        /// The node of the operation's return.
        matching_return: usize,
    },
    /// The return of `operation`.
    Return {
        /// The operation's number within the partition.
        operation: usize,
    },
    /// The head or the tail of the list, which never hold an event.
    Boundary,
}

#[derive(Clone, Debug)]
struct Node {
    event: Event,
    previous: usize,
    next: usize,
}

/// The events of a partition, sorted by time with calls before returns at
/// equal times (so operations that touch at an instant overlap), in an arena
/// of nodes linked by index.
///
/// Invariant: following `next` from the head reaches the tail; every
/// operation's call comes before its return; an operation is either fully in
/// the list (call and return) or fully lifted out.
#[derive(Clone, Debug)]
pub(crate) struct Entries {
    nodes: Vec<Node>,
}

const HEAD: usize = 0;
const TAIL: usize = 1;

impl Entries {
    /// The list for operations whose `i`-th (call, return) times are
    /// `intervals[i]`.
    ///
    /// Each interval must have `call <= returned`; the checker verifies this
    /// before building the list.
    pub(crate) fn new(intervals: &[(u64, u64)]) -> Entries {
        // (time, calls first, operation): a total order, so the list is
        // deterministic.
        let mut events: Vec<(u64, bool, usize)> = Vec::with_capacity(2 * intervals.len());
        for (operation, &(call, returned)) in intervals.iter().enumerate() {
            events.push((call, false, operation));
            events.push((returned, true, operation));
        }
        events.sort_unstable();

        let mut return_node = vec![0; intervals.len()];
        for (position, &(_, is_return, operation)) in events.iter().enumerate() {
            if is_return {
                return_node[operation] = position + 2;
            }
        }

        let count = events.len() + 2;
        let mut nodes = Vec::with_capacity(count);
        let first = if events.is_empty() { TAIL } else { 2 };
        let last = if events.is_empty() { HEAD } else { count - 1 };
        nodes.push(Node { event: Event::Boundary, previous: HEAD, next: first });
        nodes.push(Node { event: Event::Boundary, previous: last, next: TAIL });
        for (position, &(_, is_return, operation)) in events.iter().enumerate() {
            let index = position + 2;
            let event = if is_return {
                Event::Return { operation }
            } else {
                Event::Call { operation, matching_return: return_node[operation] }
            };
            let previous = if index == 2 { HEAD } else { index - 1 };
            let next = if index == count - 1 { TAIL } else { index + 1 };
            nodes.push(Node { event, previous, next });
        }
        Entries { nodes }
    }

    /// The first node after the head (the tail when the list is empty).
    pub(crate) fn first(&self) -> usize {
        self.nodes[HEAD].next
    }

    /// Whether every operation has been lifted out.
    pub(crate) fn is_empty(&self) -> bool {
        self.first() == TAIL
    }

    /// The node after `node`.
    pub(crate) fn next(&self, node: usize) -> usize {
        self.nodes[node].next
    }

    /// What `node` stands for.
    pub(crate) fn event(&self, node: usize) -> Event {
        self.nodes[node].event
    }

    /// Takes the operation whose call is `call` out of the list: its call and
    /// its return. `call` keeps its own links, so [`unlift`](Self::unlift)
    /// can put it back.
    pub(crate) fn lift(&mut self, call: usize) {
        let Event::Call { matching_return, .. } = self.nodes[call].event else {
            debug_assert!(false, "lift of a node that is not a call");
            return;
        };
        self.unlink(call);
        self.unlink(matching_return);
    }

    /// Puts back the operation [`lift`](Self::lift) took out. Operations must
    /// be put back in the reverse order they were lifted.
    pub(crate) fn unlift(&mut self, call: usize) {
        let Event::Call { matching_return, .. } = self.nodes[call].event else {
            debug_assert!(false, "unlift of a node that is not a call");
            return;
        };
        self.relink(matching_return);
        self.relink(call);
    }

    fn unlink(&mut self, node: usize) {
        let Node { previous, next, .. } = self.nodes[node];
        self.nodes[previous].next = next;
        self.nodes[next].previous = previous;
    }

    fn relink(&mut self, node: usize) {
        let Node { previous, next, .. } = self.nodes[node];
        self.nodes[previous].next = node;
        self.nodes[next].previous = node;
    }
}

#[cfg(test)]
mod tests;

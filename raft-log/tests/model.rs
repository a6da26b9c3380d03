//! Property tests: [`Log`] against a naive model that keeps a slot for every index.

use quickcheck::{Arbitrary, Gen, QuickCheck};
use raft_log::{Entry, Index, Log, LogError, Term};

/// The reference: one slot per index from 1, plus the base point. A slot holds
/// an entry exactly when its index lies after the base; every answer is found
/// by scanning, so nothing here shares the log's offset arithmetic.
///
/// Invariant: `slots.len() >= base`, and `slots[i - 1]` is `Some` exactly for
/// `base < i <= slots.len()`.
#[derive(Debug, Default)]
struct Model {
    base: u64,
    base_term: Term,
    slots: Vec<Option<Entry>>,
}

impl Model {
    fn last(&self) -> u64 {
        self.slots.len() as u64
    }

    fn slot(&self, index: u64) -> Option<&Entry> {
        let position = usize::try_from(index.checked_sub(1)?).ok()?;
        self.slots.get(position)?.as_ref()
    }

    fn held(&self) -> impl DoubleEndedIterator<Item = &Entry> {
        self.slots.iter().flatten()
    }

    fn last_term(&self) -> Term {
        self.slot(self.last()).map_or(self.base_term, |entry| entry.term)
    }

    fn term(&self, index: u64) -> Option<Term> {
        if index == self.base {
            return Some(self.base_term);
        }
        self.slot(index).map(|entry| entry.term)
    }

    fn entries(&self, start: u64, end: u64) -> Result<Vec<&Entry>, LogError> {
        if start > end {
            return Err(LogError::InvertedRange { start: Index(start), end: Index(end) });
        }
        if start <= self.base {
            return Err(LogError::Compacted { index: Index(start), base: Index(self.base) });
        }
        if end > self.last() + 1 {
            return Err(LogError::Unavailable { index: Index(end - 1), last: Index(self.last()) });
        }
        Ok((start..end).map(|index| self.slot(index).expect("a slot after the base")).collect())
    }

    fn first_index_of_term(&self, term: Term) -> Option<Index> {
        self.held().find(|entry| entry.term == term).map(|entry| entry.index)
    }

    fn last_index_of_term(&self, term: Term) -> Option<Index> {
        let in_tail = self.held().rev().find(|entry| entry.term == term).map(|entry| entry.index);
        in_tail.or((self.base_term == term).then_some(Index(self.base)))
    }

    fn conflict_at(&self, prev_index: u64) -> Option<(Term, Index)> {
        let term = self.slot(prev_index)?.term;
        Some((term, self.first_index_of_term(term).expect("the entry at prev_index has it")))
    }

    fn append(&mut self, entries: &[Entry]) -> Result<(), LogError> {
        for (k, entry) in entries.iter().enumerate() {
            let wanted = self.last() + 1 + k as u64;
            if entry.index.0 != wanted {
                return Err(LogError::NotContiguous {
                    last: Index(wanted - 1),
                    found: entry.index,
                });
            }
            let previous = if k == 0 { self.last_term() } else { entries[k - 1].term };
            if entry.term < previous {
                return Err(LogError::DecreasingTerm {
                    index: entry.index,
                    term: entry.term,
                    previous,
                });
            }
        }
        self.slots.extend(entries.iter().cloned().map(Some));
        Ok(())
    }

    fn push(&mut self, term: Term, data: Vec<u8>) -> Index {
        let index = Index(self.last() + 1);
        self.slots.push(Some(Entry::new(index, term, data)));
        index
    }

    fn truncate_from(&mut self, index: u64) -> Result<(), LogError> {
        if index <= self.base {
            return Err(LogError::Compacted { index: Index(index), base: Index(self.base) });
        }
        self.slots.truncate((index - 1) as usize);
        Ok(())
    }

    fn compact_through(&mut self, index: u64) -> Result<(), LogError> {
        if index <= self.base {
            return Ok(());
        }
        if index > self.last() {
            return Err(LogError::Unavailable { index: Index(index), last: Index(self.last()) });
        }
        self.base_term = self.term(index).expect("an entry after the base");
        self.base = index;
        for slot in &mut self.slots[..index as usize] {
            *slot = None;
        }
        Ok(())
    }

    fn reset(&mut self, index: u64, term: Term) {
        self.slots.clear();
        self.slots.resize(index as usize, None);
        self.base = index;
        self.base_term = term;
    }
}

/// One step of a random sequence. Indices and terms are drawn relative to the
/// log as it stands when the step runs, so that shrinking keeps steps meaningful
/// and terms never decrease (as in Raft).
#[derive(Clone, Debug)]
enum Op {
    /// A batch of `len` entries after the last one, perhaps with a flaw.
    Append { len: u8, steps: u64, data: u8, flaw: Flaw },
    /// One command pushed at the end.
    Push { step: u8, data: u8 },
    /// Truncation from an index anywhere in `0..=last + 3`.
    TruncateFrom { pick: u16 },
    /// Compaction through an index anywhere in `0..=last + 3`.
    CompactThrough { pick: u16 },
    /// A snapshot point 1 to 5 past the end.
    Reset { ahead: u8, step: u8 },
}

/// What is wrong with an appended batch, if anything.
#[derive(Clone, Copy, Debug)]
enum Flaw {
    /// Nothing: the batch follows on from the last entry.
    None,
    /// The entry at `at` (modulo the length) carries an index off by `shift`.
    Index { at: u8, shift: i8 },
    /// The entry at `at` (modulo the length) carries a term below the one
    /// before it, when that one is above 0.
    Term { at: u8, below: u8 },
}

impl Flaw {
    /// Spoils `entries` (a batch as [`batch`] builds it) after the last term `last_term`.
    fn spoil(self, entries: &mut [Entry], last_term: Term) {
        let len = entries.len();
        match self {
            _ if len == 0 => {}
            Flaw::None => {}
            Flaw::Index { at, shift } => {
                let index = &mut entries[usize::from(at) % len].index;
                *index =
                    index.0.checked_add_signed(i64::from(shift)).map_or(Index(index.0 + 4), Index);
            }
            Flaw::Term { at, below } => {
                let at = usize::from(at) % len;
                let previous = if at == 0 { last_term } else { entries[at - 1].term };
                entries[at].term = Term(previous.0.saturating_sub(1 + u64::from(below % 3)));
            }
        }
    }
}

/// How much the term grows before an entry: mostly not at all, as within one
/// leader's term, sometimes by one or two.
fn term_step(bits: u64) -> u64 {
    [0, 0, 0, 1, 2][(bits % 5) as usize]
}

fn pick_index(pick: u16, model: &Model) -> u64 {
    u64::from(pick) % (model.last() + 4)
}

/// A batch of `len` entries after the model's last, terms non-decreasing from
/// its last term; `steps` supplies three bits of term growth per entry.
fn batch(model: &Model, len: u8, steps: u64, data: u8) -> Vec<Entry> {
    let mut term = model.last_term();
    (0..len)
        .map(|k| {
            term = Term(term.0 + term_step(steps >> (3 * u32::from(k))));
            let byte = data.wrapping_add(k);
            Entry::new(
                Index(model.last() + 1 + u64::from(k)),
                term,
                vec![byte; usize::from(byte % 4)],
            )
        })
        .collect()
}

impl Arbitrary for Op {
    fn arbitrary(g: &mut Gen) -> Op {
        let kinds = [0, 0, 0, 0, 1, 1, 2, 2, 2, 3, 3, 4, 4, 5];
        match g.choose(&kinds).expect("kinds is not empty") {
            0 | 1 => {
                let flaw = match u8::arbitrary(g) % 4 {
                    0 => Flaw::Index {
                        at: u8::arbitrary(g),
                        shift: *g.choose(&[-3, -2, -1, 1, 2, 3]).expect("shifts is not empty"),
                    },
                    1 => Flaw::Term { at: u8::arbitrary(g), below: u8::arbitrary(g) },
                    _ => Flaw::None,
                };
                Op::Append {
                    len: u8::arbitrary(g) % 9,
                    steps: u64::arbitrary(g),
                    data: u8::arbitrary(g),
                    flaw,
                }
            }
            2 => Op::Push { step: u8::arbitrary(g), data: u8::arbitrary(g) },
            3 => Op::TruncateFrom { pick: u16::arbitrary(g) },
            4 => Op::CompactThrough { pick: u16::arbitrary(g) },
            _ => Op::Reset { ahead: u8::arbitrary(g), step: u8::arbitrary(g) },
        }
    }

    fn shrink(&self) -> Box<dyn Iterator<Item = Op>> {
        match *self {
            Op::Append { len, steps, data, flaw } => {
                Box::new(len.shrink().map(move |len| Op::Append { len, steps, data, flaw }))
            }
            _ => quickcheck::empty_shrinker(),
        }
    }
}

/// A sequence of up to 60 steps.
#[derive(Clone, Debug)]
struct Ops(Vec<Op>);

impl Arbitrary for Ops {
    fn arbitrary(g: &mut Gen) -> Ops {
        let len = usize::arbitrary(g) % 61;
        Ops((0..len).map(|_| Op::arbitrary(g)).collect())
    }

    fn shrink(&self) -> Box<dyn Iterator<Item = Ops>> {
        Box::new(self.0.shrink().map(Ops))
    }
}

/// The outcomes a run reached, so a test can show the generator exercises each.
#[derive(Debug, Default)]
struct Outcomes {
    appended: usize,
    append_not_contiguous: usize,
    append_decreasing_term: usize,
    pushed: usize,
    truncated: usize,
    truncate_refused: usize,
    compacted: usize,
    compact_at_or_before_base: usize,
    compact_refused: usize,
    reset: usize,
    /// The most entries the tail held after any step.
    longest_tail: usize,
}

/// Fails with `what`, the log's answer and the model's answer when they differ.
macro_rules! same {
    ($what:expr, $log:expr, $model:expr) => {{
        let (log, model) = (&$log, &$model);
        if log != model {
            return Err(format!("{}: log says {:?}, model says {:?}", $what, log, model));
        }
    }};
}

/// Compares every observable answer of `log` with the model's.
fn compare(log: &Log, model: &Model) -> Result<(), String> {
    let (base, last) = (model.base, model.last());
    same!("base_index", log.base_index(), Index(base));
    same!("base_term", log.base_term(), model.base_term);
    same!("first_index", log.first_index(), Index(base + 1));
    same!("last_index", log.last_index(), Index(last));
    same!("last_term", log.last_term(), model.last_term());
    same!("len", log.len(), model.held().count());
    same!("is_empty", log.is_empty(), model.held().next().is_none());
    same!("next_index", log.next_index(), Index(last + 1));

    for i in 0..=last + 2 {
        same!(format!("term({i})"), log.term(Index(i)), model.term(i));
        same!(format!("entry({i})"), log.entry(Index(i)), model.slot(i));
        same!(format!("conflict_at({i})"), log.conflict_at(Index(i)), model.conflict_at(i));
    }

    let mut points = vec![
        0,
        base.saturating_sub(1),
        base,
        base + 1,
        base + 2,
        (base + last) / 2,
        last.saturating_sub(1),
        last,
        last + 1,
        last + 2,
        last + 3,
    ];
    points.sort_unstable();
    points.dedup();
    for &start in &points {
        for &end in &points {
            same!(
                format!("entries({start}..{end})"),
                log.entries(Index(start)..Index(end)).map(|entries| entries.iter().collect()),
                model.entries(start, end)
            );
        }
        same!(
            format!("entries_from({start})"),
            log.entries_from(Index(start)).map(|entries| entries.iter().collect()),
            model.entries(start, last + 1)
        );
    }

    for t in 0..=model.last_term().0 + 2 {
        let term = Term(t);
        same!(
            format!("first_index_of_term({t})"),
            log.first_index_of_term(term),
            model.first_index_of_term(term)
        );
        same!(
            format!("last_index_of_term({t})"),
            log.last_index_of_term(term),
            model.last_index_of_term(term)
        );
    }

    let tail = model.held().cloned().collect();
    same!(
        "from_parts(base, base term, tail)",
        Log::from_parts(Index(base), model.base_term, tail),
        Ok(log.clone())
    );
    Ok(())
}

/// Runs `ops` on a log and the model side by side, checking every answer after
/// every step, and that a refused step leaves the log unchanged.
fn run(ops: &[Op], outcomes: &mut Outcomes) -> Result<(), String> {
    let (mut log, mut model) = (Log::new(), Model::default());
    for (step, op) in ops.iter().enumerate() {
        let before = log.clone();
        let refused = match *op {
            Op::Append { len, steps, data, flaw } => {
                let mut entries = batch(&model, len, steps, data);
                flaw.spoil(&mut entries, model.last_term());
                let expected = model.append(&entries);
                same!(format!("step {step} {op:?}"), log.append(entries), expected);
                *match expected {
                    Ok(()) => &mut outcomes.appended,
                    Err(LogError::NotContiguous { .. }) => &mut outcomes.append_not_contiguous,
                    Err(_) => &mut outcomes.append_decreasing_term,
                } += 1;
                expected.is_err()
            }
            Op::Push { step: growth, data } => {
                let term = Term(model.last_term().0 + term_step(u64::from(growth)));
                let pushed = model.push(term, vec![data]);
                same!(format!("step {step} {op:?}"), log.push(term, vec![data]), pushed);
                outcomes.pushed += 1;
                false
            }
            Op::TruncateFrom { pick } => {
                let index = pick_index(pick, &model);
                let expected = model.truncate_from(index);
                same!(format!("step {step} {op:?}"), log.truncate_from(Index(index)), expected);
                *if expected.is_ok() {
                    &mut outcomes.truncated
                } else {
                    &mut outcomes.truncate_refused
                } += 1;
                expected.is_err()
            }
            Op::CompactThrough { pick } => {
                let index = pick_index(pick, &model);
                let at_or_before_base = index <= model.base;
                let expected = model.compact_through(index);
                same!(format!("step {step} {op:?}"), log.compact_through(Index(index)), expected);
                *match (&expected, at_or_before_base) {
                    (Err(_), _) => &mut outcomes.compact_refused,
                    (Ok(()), true) => &mut outcomes.compact_at_or_before_base,
                    (Ok(()), false) => &mut outcomes.compacted,
                } += 1;
                expected.is_err()
            }
            Op::Reset { ahead, step: growth } => {
                let index = model.last() + 1 + u64::from(ahead % 5);
                let term = Term(model.last_term().0 + term_step(u64::from(growth)));
                model.reset(index, term);
                log.reset(Index(index), term);
                outcomes.reset += 1;
                false
            }
        };
        if refused && log != before {
            return Err(format!("step {step} {op:?}: refused, yet the log changed"));
        }
        outcomes.longest_tail = outcomes.longest_tail.max(log.len());
        compare(&log, &model)
            .map_err(|mismatch| format!("after step {step} {op:?}: {mismatch}"))?;
    }
    Ok(())
}

#[test]
fn log_answers_as_the_model_does_after_every_step() {
    fn property(ops: Ops) -> Result<(), String> {
        run(&ops.0, &mut Outcomes::default())
    }
    QuickCheck::new().tests(500).quickcheck(property as fn(Ops) -> Result<(), String>);
}

/// Guards the property against a generator that stops reaching some outcome:
/// a fixed seed, so the counts are the same on every run.
#[test]
fn generated_sequences_reach_every_outcome() -> Result<(), String> {
    let mut g = Gen::from_size_and_seed(100, 0x5eed);
    let mut outcomes = Outcomes::default();
    for _ in 0..100 {
        run(&Ops::arbitrary(&mut g).0, &mut outcomes)?;
    }
    let counts = [
        outcomes.appended,
        outcomes.append_not_contiguous,
        outcomes.append_decreasing_term,
        outcomes.pushed,
        outcomes.truncated,
        outcomes.truncate_refused,
        outcomes.compacted,
        outcomes.compact_at_or_before_base,
        outcomes.compact_refused,
        outcomes.reset,
    ];
    assert!(counts.iter().all(|&count| count >= 10), "{outcomes:?}");
    Ok(())
}

//! Unit tests of the ledger's checks, one per lab message.

use super::*;

fn int(value: i64) -> Command {
    Command::Int(value)
}

#[test]
fn agreeing_servers_count_as_committed() {
    let mut ledger = Ledger::new(3);
    assert_eq!(ledger.apply(0, 1, int(100)), Ok(()));
    assert_eq!(ledger.apply(2, 1, int(100)), Ok(()));
    assert_eq!(ledger.committed(1), Ok((2, Some(int(100)))));
    assert_eq!(ledger.committed(2), Ok((0, None)));
    assert_eq!(ledger.max_index(), 1);
}

#[test]
fn a_different_command_at_a_committed_index_is_an_apply_error() {
    let mut ledger = Ledger::new(3);
    ledger.apply(0, 1, int(100)).unwrap();
    assert_eq!(
        ledger.apply(1, 1, int(200)),
        Err("commit index=1 server=1 200 != server=0 100".to_owned())
    );
    assert_eq!(
        ledger.committed(1),
        Err("committed values do not match: index 1, 100, 200".to_owned())
    );
}

#[test]
fn commands_compare_by_kind_and_value() {
    let mut ledger = Ledger::new(2);
    ledger.apply(0, 1, int(5)).unwrap();
    assert!(ledger.apply(1, 1, Command::Str("5".to_owned())).is_err());
}

#[test]
fn a_gap_is_out_of_order() {
    let mut ledger = Ledger::new(1);
    ledger.apply(0, 1, int(1)).unwrap();
    assert_eq!(ledger.apply(0, 3, int(3)), Err("server 0 apply out of order 3".to_owned()));
}

#[test]
fn a_new_incarnation_must_apply_again_from_index_1() {
    let mut ledger = Ledger::new(2);
    ledger.apply(0, 1, int(1)).unwrap();
    ledger.apply(1, 1, int(1)).unwrap();
    ledger.reset(1);
    assert_eq!(ledger.committed(1), Ok((1, Some(int(1)))));
    assert_eq!(ledger.apply(1, 2, int(2)), Err("server 1 apply out of order 2".to_owned()));
}

#[test]
fn the_snapshotting_applier_wants_the_next_index() {
    let mut ledger = Ledger::new(1);
    let (outcome, _) = ledger.apply_and_snapshot(0, 2, int(2));
    assert_eq!(outcome, Err("server 0 apply out of order, expected index 1, got 2".to_owned()));
}

#[test]
fn a_snapshot_is_taken_after_every_tenth_index() {
    let mut ledger = Ledger::new(1);
    for index in 1..=8 {
        let (outcome, snapshot) = ledger.apply_and_snapshot(0, index, int(index as i64 * 10));
        assert_eq!(outcome, Ok(()));
        assert!(snapshot.is_none(), "no snapshot after index {index}");
    }
    let (outcome, snapshot) = ledger.apply_and_snapshot(0, 9, int(90));
    assert_eq!(outcome, Ok(()));
    let (last_included, commands) = decode_snapshot(&snapshot.unwrap()).unwrap();
    assert_eq!(last_included, 9);
    assert_eq!(commands.len(), 10);
    assert_eq!(commands[0], None);
    assert_eq!(commands[9], Some(int(90)));
}

#[test]
fn an_ingested_snapshot_replaces_the_record() {
    let mut source = Ledger::new(1);
    let mut snapshot = None;
    for index in 1..=9 {
        snapshot = source.apply_and_snapshot(0, index, int(index as i64)).1;
    }
    let snapshot = snapshot.unwrap();

    let mut ledger = Ledger::new(2);
    assert_eq!(ledger.ingest_snapshot(1, &snapshot, None), Ok(()));
    assert_eq!(ledger.committed(9), Ok((1, Some(int(9)))));
    let (outcome, _) = ledger.apply_and_snapshot(1, 10, int(10));
    assert_eq!(outcome, Ok(()));
    // The same snapshot again, as a restarted node delivers it first.
    assert_eq!(ledger.ingest_snapshot(1, &snapshot, Some(9)), Ok(()));
}

#[test]
fn a_snapshot_must_match_its_index() {
    let mut ledger = Ledger::new(1);
    let snapshot = encode_snapshot(9, vec![None; 10]);
    assert_eq!(
        ledger.ingest_snapshot(0, &snapshot, Some(19)),
        Err("server 0 snapshot doesn't match m.SnapshotIndex".to_owned())
    );
    assert_eq!(ledger.ingest_snapshot(0, &[], Some(9)), Err("nil snapshot".to_owned()));
    assert_eq!(ledger.ingest_snapshot(0, &[0xff], None), Err("snapshot decode error".to_owned()));
}

#[test]
fn a_missing_command_prints_as_nil() {
    assert_eq!(Shown(None).to_string(), "<nil>");
    assert_eq!(Shown(Some(&int(3))).to_string(), "3");
}

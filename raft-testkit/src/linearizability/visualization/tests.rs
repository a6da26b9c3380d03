//! Unit tests of the data the visualization page draws.

use std::time::Duration;

use super::*;
use crate::linearizability::checker::{CheckResult, check};
use crate::linearizability::kv_model::{KvInput, KvModel, KvOutput, PutOutcome};

fn stale_read_history() -> Vec<Operation<KvInput, KvOutput>> {
    let put = |value: &str, version, call, returned| Operation {
        client: 0,
        input: KvInput::Put { key: "k".to_owned(), value: value.to_owned(), version },
        call,
        output: KvOutput::Put(PutOutcome::Ok),
        returned,
    };
    let read = Operation {
        client: 1,
        input: KvInput::Get { key: "k".to_owned() },
        call: 40,
        output: KvOutput::Get { value: "a".to_owned() },
        returned: 50,
    };
    vec![put("a", 0, 0, 10), put("b", 1, 20, 30), read]
}

#[test]
fn the_data_carries_order_states_and_the_failing_operation() {
    let history = stale_read_history();
    let report = check(&KvModel, &history, Duration::from_secs(1)).unwrap();
    assert_eq!(report.result, CheckResult::Illegal);
    let annotation = Annotation {
        start: 5,
        end: 5,
        label: "crash <1>".to_owned(),
        description: "server 1 stops".to_owned(),
    };
    let data = history_data(&KvModel, &history, &report, &[annotation]).unwrap();
    assert!(data.starts_with("{\"result\":\"illegal\",\"annotations\":[{\"start\":5,\"end\":5,"));
    assert!(data.contains("\"label\":\"crash \\u003c1>\""));
    assert!(data.contains(
        "\"description\":\"put('k', 'a', 0) -> Ok\",\"order\":1,\"failing\":false,\
         \"before\":\"'' at version 0\",\"after\":\"'a' at version 1\""
    ));
    assert!(data.contains(
        "\"description\":\"get('k') -> 'a'\",\"order\":null,\"failing\":true,\
         \"before\":\"'b' at version 2\",\"after\":null"
    ));
    assert!(data.contains("\"key\":\"k\",\"result\":\"illegal\",\"linearized\":2"));
}

#[test]
fn a_report_from_another_history_is_refused() {
    let history = stale_read_history();
    let report = check(&KvModel, &history, Duration::from_secs(1)).unwrap();
    let error = history_data(&KvModel, &history[..1], &report, &[]).unwrap_err();
    assert_eq!(error.kind(), io::ErrorKind::InvalidInput);
}

#[test]
fn the_page_has_one_place_for_the_data() {
    assert_eq!(PAGE.matches(DATA_PLACEHOLDER).count(), 1);
    assert!(!PAGE.contains("http:") && !PAGE.contains("https:"));
}

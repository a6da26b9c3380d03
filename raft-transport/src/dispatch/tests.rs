//! Unit tests of handing requests to the installed handler.

use std::sync::{Arc, Mutex};

use super::Dispatcher;
use crate::{Responder, TransportError};

/// The answers a responder has given so far.
type Answers = Arc<Mutex<Vec<Option<u32>>>>;

/// A responder and the answers it has given so far.
fn recording_responder() -> (Responder<u32>, Answers) {
    let answers = Arc::new(Mutex::new(Vec::new()));
    let theirs = Arc::clone(&answers);
    (Responder::new(move |answer| theirs.lock().unwrap().push(answer)), answers)
}

fn doubling_dispatcher() -> Dispatcher<u32, u32> {
    let dispatcher = Dispatcher::new();
    dispatcher.serve(Arc::new(|n: u32| Some(n * 2))).unwrap();
    dispatcher
}

#[test]
fn the_handler_answers_through_the_responder() {
    let dispatcher = doubling_dispatcher();
    let (responder, answers) = recording_responder();
    dispatcher.dispatch(21, responder);
    assert_eq!(*answers.lock().unwrap(), [Some(42)]);
}

#[test]
fn a_request_before_serve_or_after_close_is_refused() {
    let dispatcher = Dispatcher::<u32, u32>::new();
    let (responder, answers) = recording_responder();
    dispatcher.dispatch(1, responder);
    assert_eq!(*answers.lock().unwrap(), [None]);

    let dispatcher = doubling_dispatcher();
    dispatcher.close();
    let (responder, answers) = recording_responder();
    dispatcher.dispatch(1, responder);
    assert_eq!(*answers.lock().unwrap(), [None]);
    assert!(matches!(dispatcher.serve(Arc::new(|n: u32| Some(n))), Err(TransportError::Shutdown)));
}

#[test]
fn serving_twice_is_refused() {
    let dispatcher = doubling_dispatcher();
    assert!(matches!(
        dispatcher.serve(Arc::new(|n: u32| Some(n))),
        Err(TransportError::AlreadyServing)
    ));
}

#[test]
fn a_panicking_handler_refuses_its_request_and_the_next_is_handled() {
    let dispatcher = Dispatcher::new();
    dispatcher
        .serve(Arc::new(|n: u32| {
            assert!(n != 0, "handler bug");
            Some(n)
        }))
        .unwrap();
    let (responder, answers) = recording_responder();
    dispatcher.dispatch(0, responder);
    assert_eq!(*answers.lock().unwrap(), [None]);
    let (responder, answers) = recording_responder();
    dispatcher.dispatch(5, responder);
    assert_eq!(*answers.lock().unwrap(), [Some(5)]);
}

//! Unit tests of the one-shot responder.

use std::sync::Arc;
use std::sync::Mutex;
use std::thread;

use super::Responder;

/// The answers a responder has given so far.
type Answers = Arc<Mutex<Vec<Option<u32>>>>;

/// A responder and the answers it has given so far.
fn recording_responder() -> (Responder<u32>, Answers) {
    let answers = Arc::new(Mutex::new(Vec::new()));
    let theirs = Arc::clone(&answers);
    (Responder::new(move |answer| theirs.lock().unwrap().push(answer)), answers)
}

#[test]
fn respond_sends_the_reply_once() {
    let (responder, answers) = recording_responder();
    responder.respond(7);
    assert_eq!(*answers.lock().unwrap(), [Some(7)]);
}

#[test]
fn refuse_sends_no_answer() {
    let (responder, answers) = recording_responder();
    responder.refuse();
    assert_eq!(*answers.lock().unwrap(), [None]);
}

#[test]
fn dropping_a_responder_unanswered_refuses() {
    let (responder, answers) = recording_responder();
    drop(responder);
    assert_eq!(*answers.lock().unwrap(), [None]);
}

#[test]
fn a_responder_can_answer_from_another_thread() {
    let (responder, answers) = recording_responder();
    let answered_on = thread::spawn(move || {
        responder.respond(3);
        thread::current().id()
    });
    assert_ne!(answered_on.join().unwrap(), thread::current().id());
    assert_eq!(*answers.lock().unwrap(), [Some(3)]);
}

#[test]
fn debug_says_whether_it_has_answered() {
    let (responder, _answers) = recording_responder();
    assert_eq!(format!("{responder:?}"), "Responder { answered: false }");
}

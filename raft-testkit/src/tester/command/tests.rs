//! Unit tests of the command encoding.

use super::*;

#[test]
fn commands_round_trip_and_print_like_go() {
    for command in [Command::Int(-7), Command::Int(i64::MAX), Command::Str("x y".to_owned())] {
        assert_eq!(Command::decode(&command.encode()).unwrap(), command);
    }
    assert_eq!(Command::Int(42).to_string(), "42");
    assert_eq!(Command::from("abc").to_string(), "abc");
}

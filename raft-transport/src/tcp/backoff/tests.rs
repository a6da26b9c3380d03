//! Unit tests of the reconnection backoff.

use std::time::{Duration, Instant};

use super::Backoff;

#[test]
fn waits_double_after_each_failure_up_to_the_most_and_reset_clears_them() {
    let ms = Duration::from_millis;
    let mut backoff = Backoff::new(ms(10), ms(35));
    let start = Instant::now();
    assert!(backoff.may_try(start));

    let mut now = start;
    for expected in [10, 20, 35, 35] {
        backoff.failed(now);
        assert!(!backoff.may_try(now + ms(expected) - ms(1)), "retried early after {expected} ms");
        assert!(backoff.may_try(now + ms(expected)));
        now += ms(expected);
    }

    backoff.reset();
    assert!(backoff.may_try(now));
    backoff.failed(now);
    assert!(!backoff.may_try(now + ms(9)));
    assert!(backoff.may_try(now + ms(10)));
}

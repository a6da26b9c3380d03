//! Unit tests of the bitset.

use super::*;

fn set_of(capacity: usize, bits: &[usize]) -> Bitset {
    let mut set = Bitset::new(capacity);
    for &bit in bits {
        set.insert(bit);
    }
    set
}

#[test]
fn members_come_and_go_across_word_boundaries() {
    let mut set = set_of(130, &[0, 63, 64, 129]);
    assert_eq!(set.words(), [1 | 1 << 63, 1, 2]);
    set.remove(64);
    set.remove(64);
    assert_eq!(set, set_of(130, &[0, 63, 129]));
    set.remove(0);
    set.remove(63);
    set.remove(129);
    assert_eq!(set, Bitset::new(130));
    assert_eq!(set.fingerprint(), 0);
    assert_ne!(set_of(130, &[63]), set_of(130, &[64]));
}

#[test]
fn sets_with_the_same_members_have_the_same_fingerprint() {
    let first = set_of(100, &[3, 70]);
    let mut second = set_of(100, &[70, 5]);
    assert_ne!(first.fingerprint(), second.fingerprint());
    second.remove(5);
    second.insert(3);
    assert_eq!(first, second);
    assert_eq!(first.fingerprint(), second.fingerprint());
}

#[test]
fn inserting_or_removing_twice_keeps_the_fingerprint_right() {
    let mut set = set_of(10, &[1, 2]);
    set.insert(2);
    set.remove(9);
    assert_eq!(set, set_of(10, &[2, 1]));
    set.remove(1);
    set.remove(2);
    assert_eq!(set, Bitset::new(10));
    assert_eq!(set.fingerprint(), 0);
}

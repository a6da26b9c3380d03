//! Unit tests of the memo cache.

use super::*;

fn set_of(capacity: usize, bits: &[usize]) -> Bitset {
    let mut set = Bitset::new(capacity);
    for &bit in bits {
        set.insert(bit);
    }
    set
}

#[test]
fn a_pair_is_recorded_once() {
    let mut cache = Cache::new(200);
    assert!(cache.insert(&set_of(200, &[1, 150]), &"a".to_owned()));
    assert!(!cache.insert(&set_of(200, &[150, 1]), &"a".to_owned()));
    assert_eq!(cache.len(), 1);
}

#[test]
fn the_same_set_with_another_state_or_another_set_is_new() {
    let mut cache = Cache::new(10);
    assert!(cache.insert(&set_of(10, &[2]), &1_u64));
    assert!(cache.insert(&set_of(10, &[2]), &2_u64));
    assert!(cache.insert(&set_of(10, &[3]), &1_u64));
    assert!(cache.insert(&Bitset::new(10), &1_u64));
    assert!(!cache.insert(&set_of(10, &[2]), &2_u64));
    assert_eq!(cache.len(), 4);
}

#[test]
fn many_pairs_are_each_recorded_once() {
    let mut cache = Cache::new(70);
    let pairs: Vec<(Bitset, u64)> = (0..70)
        .flat_map(|bit| (0..5).map(move |state| (set_of(70, &[bit, (bit * 7) % 70]), state)))
        .collect();
    for (set, state) in &pairs {
        assert!(cache.insert(set, state));
    }
    for (set, state) in &pairs {
        assert!(!cache.insert(set, state));
    }
    assert_eq!(cache.len(), pairs.len());
}

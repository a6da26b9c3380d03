//! Unit tests for the frame codec: round trips, torn tails and corruption.

use super::{Damage, Frame, Frames, HEADER_LEN, encode};

fn framed(payloads: &[&[u8]]) -> (Vec<u8>, Vec<u64>) {
    let mut bytes = Vec::new();
    let mut offsets = Vec::new();
    for payload in payloads {
        offsets.push(bytes.len() as u64);
        encode(payload, &mut bytes).unwrap();
    }
    (bytes, offsets)
}

fn read_all(bytes: &[u8]) -> Result<Vec<Frame<'_>>, Damage> {
    let mut frames = Frames::new(bytes, 0);
    let mut read = Vec::new();
    while let Some(frame) = frames.next_frame()? {
        read.push(frame);
    }
    Ok(read)
}

#[test]
fn frames_read_back_in_order_with_their_offsets() {
    let (bytes, offsets) = framed(&[b"one", b"", b"three"]);
    let frames = read_all(&bytes).unwrap();
    let decoded: Vec<Vec<u8>> =
        frames.iter().map(|frame| postcard::from_bytes(frame.payload).unwrap()).collect();
    assert_eq!(decoded, vec![b"one".to_vec(), Vec::new(), b"three".to_vec()]);
    assert_eq!(frames.iter().map(|frame| frame.offset).collect::<Vec<_>>(), offsets);
}

#[test]
fn a_cut_anywhere_in_the_last_frame_is_torn_at_its_start() {
    let (bytes, offsets) = framed(&[b"first", b"second frame"]);
    let last = offsets[1] as usize;
    for cut in last + 1..bytes.len() {
        let mut frames = Frames::new(&bytes[..cut], 0);
        assert!(frames.next_frame().unwrap().is_some());
        assert_eq!(frames.next_frame(), Err(Damage::Torn { offset: last as u64 }), "cut at {cut}");
        assert_eq!(frames.position(), last as u64);
    }
}

#[test]
fn a_flipped_byte_in_an_earlier_frame_is_corruption_at_its_start() {
    let (bytes, offsets) = framed(&[b"first", b"second", b"third"]);
    for at in offsets[1] as usize..offsets[2] as usize {
        let mut damaged = bytes.clone();
        damaged[at] ^= 0x20;
        assert_eq!(read_all(&damaged), Err(Damage::Corrupt { offset: offsets[1] }), "byte {at}");
    }
}

#[test]
fn a_bad_checksum_in_the_last_frame_is_torn() {
    let (mut bytes, offsets) = framed(&[b"first", b"second"]);
    let at = bytes.len() - 1;
    bytes[at] ^= 1;
    assert_eq!(read_all(&bytes), Err(Damage::Torn { offset: offsets[1] }));
}

#[test]
fn zeros_after_the_last_frame_are_torn() {
    let (mut bytes, offsets) = framed(&[b"first"]);
    let end = bytes.len() as u64;
    bytes.extend_from_slice(&[0; 3 * HEADER_LEN]);
    assert_eq!(offsets, vec![0]);
    assert_eq!(read_all(&bytes), Err(Damage::Torn { offset: end }));
}

#[test]
fn a_damaged_header_followed_by_data_is_corruption() {
    let (mut bytes, _) = framed(&[b"first"]);
    let end = bytes.len() as u64;
    bytes.extend_from_slice(&[0; HEADER_LEN]);
    bytes.push(1);
    assert_eq!(read_all(&bytes), Err(Damage::Corrupt { offset: end }));
}

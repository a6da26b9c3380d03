//! Unit and property tests of the frame codec.

use quickcheck::{Arbitrary, Gen, TestResult, quickcheck};

use super::{FrameKind, decode, encode};
use crate::error::WireError;

const MAX: u32 = 64 * 1024 * 1024;

impl Arbitrary for FrameKind {
    fn arbitrary(g: &mut Gen) -> FrameKind {
        *g.choose(&[FrameKind::Request, FrameKind::Reply, FrameKind::NoAnswer, FrameKind::Rejected])
            .unwrap()
    }
}

quickcheck! {
    fn encoding_then_decoding_gives_the_same_frame(kind: FrameKind, id: u64, payload: Vec<u8>) -> bool {
        let bytes = encode(kind, id, &payload, MAX).unwrap();
        let decoded = decode(&bytes, MAX).unwrap().unwrap();
        decoded.kind == kind
            && decoded.id == id
            && decoded.len == bytes.len()
            && postcard::from_bytes::<Vec<u8>>(&bytes[decoded.payload]).unwrap() == payload
    }

    fn every_proper_prefix_of_a_frame_is_incomplete(kind: FrameKind, id: u64, payload: Vec<u8>) -> bool {
        let bytes = encode(kind, id, &payload, MAX).unwrap();
        (0..bytes.len()).all(|cut| matches!(decode(&bytes[..cut], MAX), Ok(None)))
    }

    fn frames_back_to_back_decode_one_after_the_other(first: (FrameKind, u64, Vec<u8>), second: (FrameKind, u64, String)) -> bool {
        let mut bytes = encode(first.0, first.1, &first.2, MAX).unwrap();
        bytes.extend(encode(second.0, second.1, &second.2, MAX).unwrap());
        let one = decode(&bytes, MAX).unwrap().unwrap();
        let two = decode(&bytes[one.len..], MAX).unwrap().unwrap();
        (one.kind, one.id, two.kind, two.id) == (first.0, first.1, second.0, second.1)
            && postcard::from_bytes::<String>(&bytes[one.len..][two.payload]).unwrap() == second.2
            && one.len + two.len == bytes.len()
    }

    fn arbitrary_bytes_decode_to_a_frame_within_them_or_an_error(bytes: Vec<u8>, max: u32) -> TestResult {
        if max < 9 {
            return TestResult::discard();
        }
        TestResult::from_bool(match decode(&bytes, max) {
            Ok(Some(decoded)) => decoded.len <= bytes.len() && decoded.payload.end == decoded.len,
            Ok(None) | Err(_) => true,
        })
    }
}

#[test]
fn a_length_over_the_maximum_is_refused_from_the_prefix_alone() {
    let error = decode(&0xFFFF_FFFFu32.to_le_bytes(), MAX).unwrap_err();
    assert!(
        matches!(error, WireError::FrameTooLarge { claimed: 0xFFFF_FFFF, max: MAX }),
        "{error:?}"
    );
}

#[test]
fn a_length_shorter_than_a_header_is_refused() {
    assert!(matches!(decode(&8u32.to_le_bytes(), MAX), Err(WireError::FrameTooShort(8))));
}

#[test]
fn an_unknown_kind_is_refused_as_soon_as_it_is_read() {
    let mut bytes = 20u32.to_le_bytes().to_vec();
    bytes.push(9);
    assert!(matches!(decode(&bytes, MAX), Err(WireError::UnknownFrameKind(9))));
}

#[test]
fn encoding_a_frame_over_the_maximum_fails() {
    let error = encode(FrameKind::Request, 1, &vec![0u8; 2000], 1024).unwrap_err();
    assert!(matches!(error, WireError::FrameTooLarge { max: 1024, .. }), "{error:?}");
}

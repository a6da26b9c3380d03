//! Unit tests of one TCP connection's reader and writer.

use std::io::{self, Read};

use super::{Frame, FrameReader, FrameWriter};
use crate::error::WireError;
use crate::tcp::frame::{FrameKind, encode};

const MAX: u32 = 64 * 1024 * 1024;

/// A source that hands out its bytes a few at a time, as a socket may.
struct Trickle {
    bytes: Vec<u8>,
    at: usize,
    step: usize,
}

impl Read for Trickle {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.step.min(buf.len()).min(self.bytes.len() - self.at);
        buf[..n].copy_from_slice(&self.bytes[self.at..self.at + n]);
        self.at += n;
        Ok(n)
    }
}

fn trickle(bytes: Vec<u8>, step: usize) -> FrameReader<Trickle> {
    FrameReader::new(Trickle { bytes, at: 0, step }, MAX)
}

#[test]
fn frames_split_across_reads_come_out_whole_and_in_order() {
    let mut bytes = Vec::new();
    for id in 0..50u64 {
        bytes.extend(
            encode(FrameKind::Request, id, &vec![id as u8; id as usize * 700], MAX).unwrap(),
        );
    }
    for step in [1, 7, 4096, 1 << 20] {
        let mut reader = trickle(bytes.clone(), step);
        for id in 0..50u64 {
            let frame = reader.next_frame().unwrap().unwrap();
            assert_eq!((frame.kind, frame.id), (FrameKind::Request, id));
            assert_eq!(
                postcard::from_bytes::<Vec<u8>>(frame.payload).unwrap(),
                vec![id as u8; id as usize * 700]
            );
        }
        assert_eq!(reader.next_frame().unwrap(), None, "step {step}");
    }
}

#[test]
fn a_stream_ending_inside_a_frame_is_truncated() {
    let bytes = encode(FrameKind::Reply, 3, &"hello", MAX).unwrap();
    let mut reader = trickle(bytes[..bytes.len() - 1].to_vec(), 3);
    assert!(
        matches!(reader.next_frame(), Err(WireError::Truncated { buffered }) if buffered == bytes.len() - 1)
    );
}

#[test]
fn a_claimed_length_is_not_allocated_before_the_bytes_arrive() {
    // Claims 48 MiB, then sends a header and closes.
    let mut bytes = (48u32 << 20).to_le_bytes().to_vec();
    bytes.push(0);
    bytes.extend_from_slice(&7u64.to_le_bytes());
    let mut reader = trickle(bytes, 1 << 20);
    assert!(matches!(reader.next_frame(), Err(WireError::Truncated { buffered: 13 })));
    assert!(reader.capacity() < 1 << 20, "the reader reserved {} bytes", reader.capacity());
}

#[test]
fn what_the_writer_writes_the_reader_reads() {
    let mut sink = Vec::new();
    {
        let mut writer = FrameWriter::new(&mut sink);
        writer.write(&encode(FrameKind::NoAnswer, 1, &(), MAX).unwrap(), true).unwrap();
        writer.write(&encode(FrameKind::Rejected, 2, &"why", MAX).unwrap(), false).unwrap();
    }
    let mut reader = FrameReader::new(sink.as_slice(), MAX);
    assert_eq!(
        reader.next_frame().unwrap(),
        Some(Frame { kind: FrameKind::NoAnswer, id: 1, payload: &[] })
    );
    let rejected = reader.next_frame().unwrap().unwrap();
    assert_eq!((rejected.kind, rejected.id), (FrameKind::Rejected, 2));
    assert_eq!(postcard::from_bytes::<String>(rejected.payload).unwrap(), "why");
    assert_eq!(reader.next_frame().unwrap(), None);
}

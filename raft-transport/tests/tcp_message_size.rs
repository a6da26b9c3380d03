//! The largest request a [`TcpTransport`] carries: what
//! [`Transport::max_message_size`] reports goes through, one byte more is refused.

use std::sync::Arc;
use std::time::Duration;

use crossbeam_channel::bounded;
use raft_transport::{CallError, ClusterId, NodeId, TcpTransport, Transport};

const WAIT: Duration = Duration::from_secs(10);
const CLUSTER: ClusterId = ClusterId(9);
const SERVER: NodeId = NodeId(1);
/// The smallest maximum frame size a transport accepts, so the requests stay small.
const MAX_FRAME_SIZE: u32 = 1024;

/// A transport of node 1 that answers a request with its length, and a caller
/// that knows it; both with the smallest maximum frame size.
fn measuring_pair() -> (TcpTransport<Vec<u8>, usize>, TcpTransport<Vec<u8>, usize>) {
    let server: TcpTransport<Vec<u8>, usize> =
        TcpTransport::builder(SERVER, CLUSTER).max_frame_size(MAX_FRAME_SIZE).start().unwrap();
    server.serve(Arc::new(|bytes: Vec<u8>| Some(bytes.len()))).unwrap();
    let client = TcpTransport::builder(NodeId(2), CLUSTER)
        .max_frame_size(MAX_FRAME_SIZE)
        .peer(SERVER, server.local_addr())
        .start()
        .unwrap();
    (server, client)
}

/// A request whose postcard encoding is exactly `size` bytes.
fn request_encoding_to(size: u64) -> Vec<u8> {
    let request = (0..size)
        .rev()
        .map(|len| vec![7u8; usize::try_from(len).unwrap()])
        .find(|request| postcard::to_stdvec(request).unwrap().len() as u64 == size)
        .expect("some byte string encodes to that size");
    assert_eq!(postcard::to_stdvec(&request).unwrap().len() as u64, size);
    request
}

fn round_trip(client: &TcpTransport<Vec<u8>, usize>, request: Vec<u8>) -> Result<usize, CallError> {
    let (tx, rx) = bounded(1);
    client.call(SERVER, request, Box::new(move |outcome| tx.send(outcome).unwrap()));
    rx.recv_timeout(WAIT).expect("no outcome within 10 s")
}

#[test]
fn the_maximum_is_the_frame_size_less_the_frame_header() {
    let (server, client) = measuring_pair();
    assert_eq!(client.max_message_size(), Some(u64::from(MAX_FRAME_SIZE) - 9));
    assert_eq!(server.max_message_size(), client.max_message_size());
    let shared = Arc::new(client);
    assert_eq!(Transport::max_message_size(&shared), Some(u64::from(MAX_FRAME_SIZE) - 9));
}

#[test]
fn a_request_of_the_maximum_size_goes_through_and_one_byte_more_is_unsendable() {
    let (_server, client) = measuring_pair();
    let max = client.max_message_size().unwrap();

    let largest = request_encoding_to(max);
    let len = largest.len();
    assert_eq!(round_trip(&client, largest), Ok(len));

    let over = request_encoding_to(max + 1);
    assert!(
        matches!(round_trip(&client, over), Err(CallError::Unsendable { peer: SERVER, .. })),
        "a request one byte over the maximum was not refused as unsendable"
    );
    assert_eq!(round_trip(&client, vec![1, 2, 3]), Ok(3), "the connection still serves");
}

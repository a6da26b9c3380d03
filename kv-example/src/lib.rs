//! A replicated key/value service on top of `raft-core`, runnable as a real
//! multi-process cluster over TCP with files on disk. Not built yet: it will hold
//! the key/value state machine, duplicate detection, the server, the client and a
//! binary to run a cluster.

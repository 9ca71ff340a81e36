#![no_main]
//! Coinstore's private WebSocket frames and REST answers: `mako::fuzzing::coinstore_private`
//! (src/fuzzing/private.rs): the venue's order session, connected with an order and a cancel
//! in flight, fed each line of the input as a frame (a line starting with byte 0 as a binary
//! frame), and its REST codec answering one request of each kind (byte 0 picks the request,
//! bytes 1-2 the HTTP status, the rest is the body).
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    mako::fuzzing::coinstore_private(data);
});

//! BitMart spot (exchanges.md §5): signing and the inflater of compressed frames so far. The
//! codecs, the session and the simulator's front end are not built yet (issue 20).

/// Raw-DEFLATE market-data frames, inflated without allocating per frame.
pub mod inflate;
/// REST and WebSocket-login signing (`timestamp#memo#payload`).
pub mod sign;

//! BitMart spot (exchanges.md §5): signing so far. The codecs, the session and the simulator's
//! front end are not built yet (issue 20).

/// REST and WebSocket-login signing (`timestamp#memo#payload`).
pub mod sign;

//! Coinstore spot (exchanges.md §6): signing so far. The codecs, the session and the
//! simulator's front end are not built yet (issue 20).

/// The two-step HMAC valid inside a 30-second bucket.
pub mod sign;

//! Ids a venue gives orders and trades, held exactly as the venue sends them: Binance numbers,
//! OKX numeric strings, Bybit and Coinbase UUIDs. Inline and `Copy`, so learning one on the
//! order path allocates nothing.

use std::fmt;

/// Longest id held: a UUID with dashes is 36 bytes; the rest are shorter.
pub const MAX_VENUE_ID_LEN: usize = 48;

/// Printable ASCII, up to [`MAX_VENUE_ID_LEN`] bytes, stored inline.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
struct InlineId {
    len: u8,
    bytes: [u8; MAX_VENUE_ID_LEN],
}

impl InlineId {
    fn new(s: &[u8]) -> Option<Self> {
        if s.is_empty() || s.len() > MAX_VENUE_ID_LEN || !s.iter().all(|b| b.is_ascii_graphic()) {
            return None;
        }
        let mut bytes = [0u8; MAX_VENUE_ID_LEN];
        bytes[..s.len()].copy_from_slice(s);
        Some(Self {
            len: s.len() as u8,
            bytes,
        })
    }

    fn from_u64(mut v: u64) -> Self {
        let mut digits = [0u8; 20];
        let mut at = digits.len();
        loop {
            at -= 1;
            digits[at] = b'0' + (v % 10) as u8;
            v /= 10;
            if v == 0 {
                break;
            }
        }
        Self::new(&digits[at..]).unwrap_or_else(|| unreachable!("decimal digits are graphic"))
    }

    fn as_str(&self) -> &str {
        // Only ASCII is ever stored (checked in `new`).
        std::str::from_utf8(&self.bytes[..usize::from(self.len)]).unwrap_or("")
    }

    fn as_u64(&self) -> Option<u64> {
        let s = self.as_str();
        if s.len() > 1 && s.starts_with('0') {
            return None;
        }
        s.parse().ok()
    }
}

/// Numeric ids order as numbers (a shorter decimal string is smaller); other ids order by
/// their bytes after their length, which is a total order but means nothing about time.
impl Ord for InlineId {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.len.cmp(&other.len).then_with(|| {
            self.bytes[..usize::from(self.len)].cmp(&other.bytes[..usize::from(other.len)])
        })
    }
}

impl PartialOrd for InlineId {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

macro_rules! venue_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub struct $name(InlineId);

        impl $name {
            /// The venue's bytes; `None` when empty, longer than [`MAX_VENUE_ID_LEN`] or not
            /// printable ASCII.
            pub fn new(s: &[u8]) -> Option<Self> {
                InlineId::new(s).map(Self)
            }

            /// A venue that numbers its ids (Binance).
            pub fn from_u64(v: u64) -> Self {
                Self(InlineId::from_u64(v))
            }

            pub fn as_str(&self) -> &str {
                self.0.as_str()
            }

            /// The id as a number, when it is a plain decimal one.
            pub fn as_u64(&self) -> Option<u64> {
                self.0.as_u64()
            }
        }

        impl From<u64> for $name {
            fn from(v: u64) -> Self {
                Self::from_u64(v)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({})", stringify!($name), self.as_str())
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }
    };
}

venue_id!(
    /// The venue's id for an order.
    VenueOrderId
);
venue_id!(
    /// The venue's id for a trade (an execution).
    TradeId
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn holds_what_venues_send() {
        for s in [
            "28457",
            "452197707845865472",
            "1a2b3c4d-0000-4000-8000-1234567890ab",
        ] {
            assert_eq!(VenueOrderId::new(s.as_bytes()).unwrap().as_str(), s);
        }
        assert_eq!(VenueOrderId::from_u64(0).as_str(), "0");
        assert_eq!(TradeId::from_u64(u64::MAX).as_u64(), Some(u64::MAX));
        assert_eq!(TradeId::new(b"007").unwrap().as_u64(), None);
        assert!(VenueOrderId::new(b"").is_none());
        assert!(VenueOrderId::new(b"a b").is_none());
        assert!(VenueOrderId::new(&[b'1'; 49]).is_none());
    }

    #[test]
    fn numeric_ids_order_as_numbers() {
        let (a, b, c) = (TradeId::from(9), TradeId::from(10), TradeId::from(1_000));
        assert!(a < b && b < c);
    }
}

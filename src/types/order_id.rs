//! Client order ids: minted by the engine, sent with every order, reused on every retry.
//!
//! Layout of a minted id (24 ASCII characters, within every venue's limit):
//! `mk` + run tag (8 base-36 digits: the run's start in ms since the epoch) + strategy
//! (2 base-36 digits) + sequence (12 base-36 digits). The run tag makes ids unique across
//! restarts; the strategy and sequence let any id be traced back to who sent it.

use std::fmt;

use super::ids::StrategyId;

/// Longest id any supported venue accepts (Binance: 36).
pub const MAX_LEN: usize = 36;
const PREFIX: &[u8; 2] = b"mk";
const RUN_DIGITS: usize = 8;
const STRATEGY_DIGITS: usize = 2;
const SEQ_DIGITS: usize = 12;
const MINTED_LEN: usize = 2 + RUN_DIGITS + STRATEGY_DIGITS + SEQ_DIGITS;
const B36: &[u8; 36] = b"0123456789abcdefghijklmnopqrstuvwxyz";

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ClientOrderIdError {
    #[error("client order id is empty or longer than {MAX_LEN} characters")]
    Length,
    #[error("client order id has a character outside [.A-Za-z0-9:/_-]")]
    Charset,
    #[error("value does not fit the client order id layout")]
    Overflow,
}

/// A client order id held inline (no heap), `Copy`, comparable.
#[derive(Clone, Copy, Eq)]
pub struct ClientOrderId {
    len: u8,
    /// Zero past `len` (both constructors fill it so), so whole arrays compare as the ids do.
    bytes: [u8; MAX_LEN],
}

/// Equal ids have equal lengths and equal bytes. Compared as two 16-byte words and a 4-byte
/// one, inline: the derived comparison calls `memcmp` for the 36-byte array, and strategies
/// and gateways compare ids on every order update.
impl PartialEq for ClientOrderId {
    #[inline]
    fn eq(&self, other: &Self) -> bool {
        self.len == other.len && words(&self.bytes) == words(&other.bytes)
    }
}

/// Hashes what `eq` compares.
impl std::hash::Hash for ClientOrderId {
    fn hash<H: std::hash::Hasher>(&self, h: &mut H) {
        self.len.hash(h);
        self.bytes.hash(h);
    }
}

#[inline]
fn words(b: &[u8; MAX_LEN]) -> (u128, u128, u32) {
    let (w, rest) = b.as_chunks::<16>();
    let tail = rest.first_chunk::<4>().copied().unwrap_or_default();
    (
        u128::from_ne_bytes(w[0]),
        u128::from_ne_bytes(w[1]),
        u32::from_ne_bytes(tail),
    )
}

impl ClientOrderId {
    /// Mints the id for `seq` of `strategy` in the run started at `run_start_ms`.
    pub fn mint(
        run_start_ms: u64,
        strategy: StrategyId,
        seq: u64,
    ) -> Result<Self, ClientOrderIdError> {
        let mut bytes = [0u8; MAX_LEN];
        bytes[..2].copy_from_slice(PREFIX);
        encode_b36(run_start_ms, &mut bytes[2..2 + RUN_DIGITS])?;
        encode_b36(
            u64::from(strategy.0),
            &mut bytes[2 + RUN_DIGITS..2 + RUN_DIGITS + STRATEGY_DIGITS],
        )?;
        encode_b36(
            seq,
            &mut bytes[2 + RUN_DIGITS + STRATEGY_DIGITS..MINTED_LEN],
        )?;
        Ok(Self {
            len: MINTED_LEN as u8,
            bytes,
        })
    }

    /// Any venue-supplied id (ours or another client's), validated against the common charset.
    pub fn parse(s: &str) -> Result<Self, ClientOrderIdError> {
        let b = s.as_bytes();
        if b.is_empty() || b.len() > MAX_LEN {
            return Err(ClientOrderIdError::Length);
        }
        if !b
            .iter()
            .all(|c| c.is_ascii_alphanumeric() || b"._:/-".contains(c))
        {
            return Err(ClientOrderIdError::Charset);
        }
        let mut bytes = [0u8; MAX_LEN];
        bytes[..b.len()].copy_from_slice(b);
        Ok(Self {
            len: b.len() as u8,
            bytes,
        })
    }

    #[inline]
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes[..usize::from(self.len)]
    }

    #[inline]
    pub fn as_str(&self) -> &str {
        // Both constructors admit ASCII only.
        std::str::from_utf8(self.as_bytes()).unwrap_or("")
    }

    /// `(run_start_ms, strategy, seq)` if this id was minted by mako.
    pub fn decode(&self) -> Option<(u64, StrategyId, u64)> {
        let b = self.as_bytes();
        if b.len() != MINTED_LEN || &b[..2] != PREFIX {
            return None;
        }
        let run = decode_b36(&b[2..2 + RUN_DIGITS])?;
        let strategy = decode_b36(&b[2 + RUN_DIGITS..2 + RUN_DIGITS + STRATEGY_DIGITS])?;
        let seq = decode_b36(&b[2 + RUN_DIGITS + STRATEGY_DIGITS..])?;
        Some((run, StrategyId(u16::try_from(strategy).ok()?), seq))
    }
}

fn encode_b36(mut v: u64, out: &mut [u8]) -> Result<(), ClientOrderIdError> {
    for slot in out.iter_mut().rev() {
        *slot = B36[(v % 36) as usize];
        v /= 36;
    }
    if v == 0 {
        Ok(())
    } else {
        Err(ClientOrderIdError::Overflow)
    }
}

fn decode_b36(b: &[u8]) -> Option<u64> {
    b.iter().try_fold(0u64, |acc, &c| {
        let d = match c {
            b'0'..=b'9' => c - b'0',
            b'a'..=b'z' => c - b'a' + 10,
            _ => return None,
        };
        acc.checked_mul(36)?.checked_add(u64::from(d))
    })
}

impl fmt::Debug for ClientOrderId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ClientOrderId({})", self.as_str())
    }
}

impl fmt::Display for ClientOrderId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_equal_exactly_when_their_strings_are() {
        let a = ClientOrderId::parse("abcdefghijklmnopqrstuvwxyz0123456789").unwrap();
        let last = ClientOrderId::parse("abcdefghijklmnopqrstuvwxyz012345678X").unwrap();
        let first = ClientOrderId::parse("Xbcdefghijklmnopqrstuvwxyz0123456789").unwrap();
        let mid = ClientOrderId::parse("abcdefghijklmnopXrstuvwxyz0123456789").unwrap();
        let short = ClientOrderId::parse("abcdefghijklmnopqrstuvwxyz012345678").unwrap();
        assert!(a == ClientOrderId::parse(a.as_str()).unwrap());
        for other in [last, first, mid, short] {
            assert!(a != other, "{other:?}");
        }
        let hash = |c: &ClientOrderId| {
            use std::hash::{BuildHasher, BuildHasherDefault};
            BuildHasherDefault::<std::collections::hash_map::DefaultHasher>::default().hash_one(c)
        };
        assert_eq!(hash(&a), hash(&ClientOrderId::parse(a.as_str()).unwrap()));
    }

    #[test]
    fn minted_ids_decode_and_fit_binance() {
        let id = ClientOrderId::mint(1_723_161_253_937, StrategyId(7), 42).unwrap();
        assert_eq!(id.as_str().len(), 24);
        assert_eq!(id.decode(), Some((1_723_161_253_937, StrategyId(7), 42)));
        assert_eq!(ClientOrderId::parse(id.as_str()), Ok(id));
    }

    #[test]
    fn ids_differ_across_runs_and_sequences() {
        let a = ClientOrderId::mint(1_000, StrategyId(1), 1).unwrap();
        let b = ClientOrderId::mint(1_001, StrategyId(1), 1).unwrap();
        let c = ClientOrderId::mint(1_000, StrategyId(1), 2).unwrap();
        assert!(a != b && a != c && b != c);
    }

    #[test]
    fn foreign_ids() {
        let doc = ClientOrderId::parse("mUvoqJxFIILMdfAW5iGSOW").unwrap();
        assert_eq!(doc.decode(), None);
        assert_eq!(ClientOrderId::parse(""), Err(ClientOrderIdError::Length));
        assert_eq!(
            ClientOrderId::parse(&"a".repeat(37)),
            Err(ClientOrderIdError::Length)
        );
        assert_eq!(
            ClientOrderId::parse("a b"),
            Err(ClientOrderIdError::Charset)
        );
        assert_eq!(
            ClientOrderId::mint(u64::MAX, StrategyId(0), 0),
            Err(ClientOrderIdError::Overflow)
        );
    }
}

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
        let (strategy, seq) = self.strategy_and_seq()?;
        Some((run, strategy, seq))
    }

    /// `(strategy, seq)` if this id was minted in the run whose tag is `tag`: what `decode`
    /// gives for such an id, found by comparing the run's bytes instead of decoding them
    /// (the order table and the chase book look ids up this way on every order event).
    #[inline]
    pub fn decode_in_run(&self, tag: &RunTag) -> Option<(StrategyId, u64)> {
        if usize::from(self.len) != MINTED_LEN || self.bytes[..RUN_TAG_LEN] != tag.0 {
            return None;
        }
        self.strategy_and_seq()
    }

    #[inline]
    fn strategy_and_seq(&self) -> Option<(StrategyId, u64)> {
        let strategy = decode_b36(&self.bytes[RUN_TAG_LEN..RUN_TAG_LEN + STRATEGY_DIGITS])?;
        let seq = decode_b36(&self.bytes[RUN_TAG_LEN + STRATEGY_DIGITS..MINTED_LEN])?;
        // Two base-36 digits are below 1,296: always a `u16`.
        Some((StrategyId(strategy as u16), seq))
    }

    /// The id minted like this one (same run and strategy) for sequence `seq`: only the
    /// sequence digits are written (`CidMinter` keeps the rest). `Overflow` if this id is not
    /// a minted one or `seq` does not fit.
    pub fn with_seq(&self, seq: u64) -> Result<Self, ClientOrderIdError> {
        if usize::from(self.len) != MINTED_LEN {
            return Err(ClientOrderIdError::Overflow);
        }
        let mut id = *self;
        encode_b36(
            seq,
            &mut id.bytes[RUN_TAG_LEN + STRATEGY_DIGITS..MINTED_LEN],
        )?;
        Ok(id)
    }
}

impl ClientOrderId {
    /// The id of the next sequence number (`with_seq(seq + 1)`), by adding one to the
    /// sequence's base-36 digits in place, carrying: the minter's step, with no division.
    /// `Overflow` if this id is not a minted one or its sequence is the last.
    #[inline]
    pub fn next_seq(&self) -> Result<Self, ClientOrderIdError> {
        if usize::from(self.len) != MINTED_LEN {
            return Err(ClientOrderIdError::Overflow);
        }
        let mut id = *self;
        for b in id.bytes[RUN_TAG_LEN + STRATEGY_DIGITS..MINTED_LEN]
            .iter_mut()
            .rev()
        {
            let d = B36_VALUE[usize::from(*b)];
            if d == NOT_B36 {
                return Err(ClientOrderIdError::Overflow);
            }
            if d < 35 {
                *b = B36[usize::from(d) + 1];
                return Ok(id);
            }
            *b = b'0';
        }
        Err(ClientOrderIdError::Overflow)
    }
}

/// Length of a run tag: the prefix and the run's digits.
const RUN_TAG_LEN: usize = 2 + RUN_DIGITS;

/// The first bytes of every id minted in one run (`mk` + the run's 8 base-36 digits).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RunTag([u8; RUN_TAG_LEN]);

impl RunTag {
    /// The tag of the run started at `run_start_ms`; `None` if that does not fit the layout
    /// (no minted id can be of that run).
    pub fn new(run_start_ms: u64) -> Option<Self> {
        let mut tag = [0u8; RUN_TAG_LEN];
        tag[..2].copy_from_slice(PREFIX);
        encode_b36(run_start_ms, &mut tag[2..]).ok()?;
        Some(Self(tag))
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

/// Each byte's base-36 value, or `NOT_B36`.
const B36_VALUE: [u8; 256] = {
    let mut t = [NOT_B36; 256];
    let mut i = 0;
    while i < 36 {
        t[B36[i] as usize] = i as u8;
        i += 1;
    }
    t
};
const NOT_B36: u8 = 0xff;

/// The value of at most `SEQ_DIGITS` (12) base-36 digits, which always fits a `u64`
/// (36^12 < 2^64): no overflow check is needed.
#[inline]
fn decode_b36(b: &[u8]) -> Option<u64> {
    debug_assert!(
        b.len() <= SEQ_DIGITS,
        "Invariant: at most 12 digits, which fit a u64"
    );
    let mut v = 0u64;
    for &c in b {
        let d = B36_VALUE[usize::from(c)];
        if d == NOT_B36 {
            return None;
        }
        v = v * 36 + u64::from(d);
    }
    Some(v)
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
    fn ids_decode_in_their_run_and_take_a_new_sequence() {
        let run = 1_723_161_253_937;
        let tag = RunTag::new(run).unwrap();
        let id = ClientOrderId::mint(run, StrategyId(35), 36u64.pow(12) - 1).unwrap();
        assert_eq!(id.decode(), Some((run, StrategyId(35), 36u64.pow(12) - 1)));
        assert_eq!(
            id.decode_in_run(&tag),
            Some((StrategyId(35), 36u64.pow(12) - 1))
        );
        let other = RunTag::new(run + 1).unwrap();
        assert_eq!(id.decode_in_run(&other), None);
        for seq in [0, 1, 35, 36, 1_000_000, 36u64.pow(12) - 1] {
            assert_eq!(
                id.with_seq(seq),
                ClientOrderId::mint(run, StrategyId(35), seq)
            );
        }
        assert_eq!(
            id.with_seq(36u64.pow(12)),
            Err(ClientOrderIdError::Overflow)
        );
        let foreign = ClientOrderId::parse("mUvoqJxFIILMdfAW5iGSOW").unwrap();
        assert_eq!(foreign.decode_in_run(&tag), None);
        assert_eq!(foreign.with_seq(1), Err(ClientOrderIdError::Overflow));
        assert_eq!(foreign.next_seq(), Err(ClientOrderIdError::Overflow));
        // A minted-looking id with a byte outside base 36.
        let mut s = id.as_str().to_owned();
        s.replace_range(23..24, "Z");
        let bad = ClientOrderId::parse(&s).unwrap();
        assert_eq!((bad.decode(), bad.decode_in_run(&tag)), (None, None));
        assert_eq!(RunTag::new(u64::MAX), None);
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

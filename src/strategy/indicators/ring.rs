//! A fixed-capacity ring of the last `n` values of a series, allocated once.

/// The last `capacity` values pushed; before it is full, the values pushed so far.
#[derive(Debug, Clone)]
pub(super) struct Ring {
    /// Slot `head` holds the oldest value once the ring is full (the one the next push
    /// overwrites); before that, the next free slot.
    slots: Box<[f64]>,
    head: usize,
    /// Values pushed, saturating at the capacity.
    len: usize,
}

impl Ring {
    /// `capacity` is at least 1 (the indicators check their periods first).
    pub(super) fn new(capacity: usize) -> Self {
        debug_assert!(capacity > 0, "Invariant: a ring holds at least one value");
        Self {
            slots: vec![0.0; capacity].into_boxed_slice(),
            head: 0,
            len: 0,
        }
    }

    pub(super) fn is_full(&self) -> bool {
        self.len == self.slots.len()
    }

    pub(super) fn capacity(&self) -> usize {
        self.slots.len()
    }

    /// The oldest value held (meaningful once the ring holds a value).
    #[inline]
    pub(super) fn oldest(&self) -> f64 {
        if self.is_full() {
            self.slots[self.head]
        } else {
            self.slots[0]
        }
    }

    /// Adds `x`, dropping the oldest value when full.
    #[inline]
    pub(super) fn push(&mut self, x: f64) {
        self.slots[self.head] = x;
        self.head += 1;
        if self.head == self.slots.len() {
            self.head = 0;
        }
        if self.len < self.slots.len() {
            self.len += 1;
        }
    }

    /// The values held, in no particular order (for sums over the window).
    pub(super) fn values(&self) -> &[f64] {
        &self.slots[..self.len]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_the_last_values_and_names_the_oldest() {
        let mut r = Ring::new(3);
        r.push(1.0);
        assert_eq!((r.oldest(), r.is_full()), (1.0, false));
        r.push(2.0);
        r.push(3.0);
        assert_eq!((r.oldest(), r.is_full()), (1.0, true));
        r.push(4.0);
        assert_eq!(r.oldest(), 2.0);
        let mut v = r.values().to_vec();
        v.sort_by(f64::total_cmp);
        assert_eq!(v, [2.0, 3.0, 4.0]);
        let mut one = Ring::new(1);
        one.push(5.0);
        assert_eq!(one.oldest(), 5.0);
        one.push(6.0);
        assert_eq!((one.oldest(), one.capacity()), (6.0, 1));
    }
}

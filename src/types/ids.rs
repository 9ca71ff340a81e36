//! Dense index newtypes: each id is a position in a `Vec` allocated at start, so hot state is
//! looked up by index, never hashed.

use std::fmt;

macro_rules! dense_id {
    ($(#[$doc:meta])* $name:ident($repr:ty)) => {
        $(#[$doc])*
        #[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
        pub struct $name(pub $repr);

        impl $name {
            /// The position this id indexes in its dense table.
            #[inline]
            pub const fn index(self) -> usize {
                self.0 as usize
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}#{}", stringify!($name), self.0)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}", self.0)
            }
        }
    };
}

dense_id!(
    /// A configured venue (an exchange account and its connections), in config order.
    VenueId(u16)
);
dense_id!(
    /// A configured instrument, in config order across all venues; indexes the book cache.
    InstrumentId(u32)
);
dense_id!(
    /// A configured strategy, in config order; encoded into every client order id it mints.
    StrategyId(u16)
);

//! Cursor-paged lists on the REST seam, written once: a venue whose list answer says "there
//! is more" (Coinbase's `has_next`/`cursor`, Bybit's `nextPageCursor`) keeps the page's items
//! here, and `RestCodec::next_page` writes the follow-up request with the cursor; the REST
//! transport (`gateway::rest::RestOrders::drain`) sends it as soon as the answer has been
//! read. The merged list is handed on (as one `OpenOrders` or `Trades` event) only once the
//! last page came: a list cut short would make an open order missing from it look gone.
//!
//! A list ends without a result (the codec reports it as failed; the next sweep asks again)
//! after [`MAX_PAGES`] pages or when a cursor comes back that the list already followed (a
//! venue looping on a cursor never keeps the worker busy). Each list is keyed by its
//! `Purpose`; a new first page for the same purpose starts the list again, and a late
//! follow-up of the older list is dropped (its generation is gone).

use std::collections::VecDeque;

use super::order::Purpose;

/// Pages followed per list at most (Bybit's 50 orders a page: 1,000 open orders).
pub const MAX_PAGES: u32 = 20;

/// What one page did to its list.
#[derive(Debug, PartialEq)]
pub enum Step<T> {
    /// The list is complete: every page's items, in order.
    Done(Vec<T>),
    /// A follow-up page is due (`Pager::due` gives its cursor).
    More,
    /// The list was given up: too many pages, a repeated cursor, or the page belonged to a
    /// list started again since (then the reason is empty and nothing need be reported).
    Abandoned(String),
}

#[derive(Debug)]
struct List<T> {
    purpose: Purpose,
    generation: u64,
    items: Vec<T>,
    pages: u32,
    cursors: Vec<String>,
}

/// The lists being paged through by one codec.
#[derive(Debug)]
pub struct Pager<T> {
    lists: Vec<List<T>>,
    /// Follow-ups to write: the list's purpose, its generation and the cursor.
    due: VecDeque<(Purpose, u64, String)>,
    /// Follow-up requests in flight: request id → list generation.
    follow_ups: Vec<(u64, u64)>,
    next_generation: u64,
    /// Lists given up at the page cap or on a repeated cursor (counted for reports).
    pub capped: u64,
    /// Follow-up pages sent.
    pub followed: u64,
}

impl<T> Default for Pager<T> {
    fn default() -> Self {
        Self {
            lists: Vec::new(),
            due: VecDeque::new(),
            follow_ups: Vec::new(),
            next_generation: 1,
            capped: 0,
            followed: 0,
        }
    }
}

impl<T> Pager<T> {
    /// The next follow-up to write, if one is due: the list's purpose, the cursor, and a
    /// token to hand to [`Pager::sent`] with the request's id.
    pub fn due(&mut self) -> Option<(Purpose, String, u64)> {
        self.due.pop_front().map(|(p, g, c)| (p, c, g))
    }

    /// The follow-up with token `generation` went as request `id`.
    pub fn sent(&mut self, id: u64, generation: u64) {
        self.followed += 1;
        self.follow_ups.push((id, generation));
    }

    /// A page of the list for `purpose` came as the answer to request `id`, with `items`, and
    /// the cursor of the next page when the venue says there is one.
    pub fn page(
        &mut self,
        id: u64,
        purpose: &Purpose,
        items: Vec<T>,
        next: Option<String>,
    ) -> Step<T> {
        let follow_up = self
            .follow_ups
            .iter()
            .position(|&(i, _)| i == id)
            .map(|k| self.follow_ups.swap_remove(k).1);
        let k = match follow_up {
            None => {
                // A first page: any older list for the same purpose is over.
                self.lists.retain(|l| l.purpose != *purpose);
                self.due.retain(|(p, _, _)| p != purpose);
                if next.is_none() {
                    return Step::Done(items);
                }
                let generation = self.next_generation;
                self.next_generation += 1;
                self.lists.push(List {
                    purpose: purpose.clone(),
                    generation,
                    items: Vec::new(),
                    pages: 0,
                    cursors: Vec::new(),
                });
                self.lists.len() - 1
            }
            Some(g) => match self.lists.iter().position(|l| l.generation == g) {
                Some(k) => k,
                None => return Step::Abandoned(String::new()),
            },
        };
        let list = &mut self.lists[k];
        list.items.extend(items);
        list.pages += 1;
        match next {
            None => Step::Done(self.lists.swap_remove(k).items),
            Some(c) if list.cursors.contains(&c) || list.pages >= MAX_PAGES => {
                let why = if list.pages >= MAX_PAGES {
                    format!("more than {MAX_PAGES} pages: list given up")
                } else {
                    "the venue repeated a cursor: list given up".to_owned()
                };
                self.lists.swap_remove(k);
                self.capped += 1;
                Step::Abandoned(why)
            }
            Some(c) => {
                list.cursors.push(c.clone());
                self.due
                    .push_back((list.purpose.clone(), list.generation, c));
                Step::More
            }
        }
    }

    /// The items gathered so far by the list that follow-up request `id` belongs to (`None`
    /// for a first page, or a list given up): a venue paging by number rather than by
    /// cursor can check a new page against them (a page sent again ends the list).
    pub fn gathered(&self, id: u64) -> Option<&[T]> {
        let g = self.follow_ups.iter().find(|&&(i, _)| i == id)?.1;
        self.lists
            .iter()
            .find(|l| l.generation == g)
            .map(|l| l.items.as_slice())
    }

    /// Gives up the list that follow-up request `id` belongs to (`why`: the venue sent a page
    /// again), counted with the capped lists.
    pub fn give_up(&mut self, id: u64, why: &str) -> Step<T> {
        let Some(k) = self.follow_ups.iter().position(|&(i, _)| i == id) else {
            return Step::Abandoned(String::new());
        };
        let g = self.follow_ups.swap_remove(k).1;
        self.lists.retain(|l| l.generation != g);
        self.capped += 1;
        Step::Abandoned(why.to_owned())
    }

    /// Lists being paged through (for tests and reports).
    pub fn open_lists(&self) -> usize {
        self.lists.len()
    }
}

/// A cursor as a query value: unreserved bytes as they are, the rest `%XX`.
pub fn percent_encode(s: &str, buf: &mut Vec<u8>) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    for &b in s.as_bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            buf.push(b);
        } else {
            buf.extend_from_slice(&[b'%', HEX[usize::from(b >> 4)], HEX[usize::from(b & 15)]]);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sym() -> Purpose {
        Purpose::OpenOrders("BTCUSDT".into())
    }

    #[test]
    fn pages_are_merged_in_order_and_handed_on_once_the_last_came() {
        let mut p = Pager::<u32>::default();
        assert_eq!(p.page(1, &sym(), vec![1, 2], Some("c1".into())), Step::More);
        let (purpose, cursor, g) = p.due().expect("a follow-up");
        assert_eq!((purpose, cursor.as_str()), (sym(), "c1"));
        assert!(p.due().is_none());
        p.sent(2, g);
        assert_eq!(p.page(2, &sym(), vec![3, 4], Some("c2".into())), Step::More);
        let (_, cursor, g) = p.due().unwrap();
        assert_eq!(cursor, "c2");
        p.sent(3, g);
        assert_eq!(
            p.page(3, &sym(), vec![5], None),
            Step::Done(vec![1, 2, 3, 4, 5])
        );
        assert_eq!(p.open_lists(), 0);
        assert_eq!(p.followed, 2);
    }

    #[test]
    fn cursors_are_percent_encoded() {
        let mut b = Vec::new();
        percent_encode("page_args=12&x:y", &mut b);
        assert_eq!(b, b"page_args%3D12%26x%3Ay");
    }

    #[test]
    fn a_single_page_is_done_at_once() {
        let mut p = Pager::<u32>::default();
        assert_eq!(p.page(7, &sym(), vec![9], None), Step::Done(vec![9]));
        assert!(p.due().is_none());
        assert_eq!(p.open_lists(), 0);
    }

    #[test]
    fn a_cursor_that_never_ends_is_capped() {
        let mut p = Pager::<u32>::default();
        let mut id = 1;
        let mut step = p.page(id, &sym(), vec![0], Some("c0".into()));
        let mut pages = 1;
        while step == Step::More {
            let (_, _, g) = p.due().unwrap();
            id += 1;
            p.sent(id, g);
            step = p.page(id, &sym(), vec![pages], Some(format!("c{pages}")));
            pages += 1;
        }
        assert_eq!(pages, MAX_PAGES);
        assert!(matches!(step, Step::Abandoned(ref why) if why.contains("pages")));
        assert_eq!(p.capped, 1);
        assert_eq!(p.open_lists(), 0);
        assert!(p.due().is_none());
    }

    #[test]
    fn a_repeated_cursor_ends_the_list() {
        let mut p = Pager::<u32>::default();
        assert_eq!(p.page(1, &sym(), vec![1], Some("same".into())), Step::More);
        let (_, _, g) = p.due().unwrap();
        p.sent(2, g);
        let step = p.page(2, &sym(), vec![2], Some("same".into()));
        assert!(matches!(step, Step::Abandoned(ref why) if why.contains("repeated")));
        assert_eq!(p.capped, 1);
    }

    #[test]
    fn a_new_first_page_restarts_the_list_and_a_late_follow_up_is_dropped() {
        let mut p = Pager::<u32>::default();
        assert_eq!(p.page(1, &sym(), vec![1], Some("a".into())), Step::More);
        let (_, _, g) = p.due().unwrap();
        p.sent(2, g);
        // The next sweep's first page arrives before the follow-up's answer.
        assert_eq!(p.page(3, &sym(), vec![10], Some("b".into())), Step::More);
        assert_eq!(
            p.page(2, &sym(), vec![2], None),
            Step::Abandoned(String::new())
        );
        let (_, cursor, g) = p.due().unwrap();
        assert_eq!(cursor, "b");
        p.sent(4, g);
        assert_eq!(p.page(4, &sym(), vec![11], None), Step::Done(vec![10, 11]));
        assert_eq!(p.capped, 0);
    }

    #[test]
    fn a_list_is_given_up_when_a_page_comes_again() {
        let mut p = Pager::<u32>::default();
        assert_eq!(p.page(1, &sym(), vec![1, 2], Some("2".into())), Step::More);
        assert_eq!(p.gathered(1), None, "a first page belongs to no list yet");
        let (_, _, g) = p.due().unwrap();
        p.sent(2, g);
        assert_eq!(p.gathered(2), Some(&[1, 2][..]));
        assert_eq!(
            p.give_up(2, "page 2 repeats page 1"),
            Step::Abandoned("page 2 repeats page 1".into())
        );
        assert_eq!((p.open_lists(), p.capped), (0, 1));
        assert_eq!(p.gathered(2), None);
        assert!(p.due().is_none());
    }

    #[test]
    fn lists_of_different_purposes_are_apart() {
        let mut p = Pager::<u32>::default();
        let other = Purpose::OpenOrders("ETHUSDT".into());
        assert_eq!(p.page(1, &sym(), vec![1], Some("a".into())), Step::More);
        assert_eq!(p.page(2, &other, vec![7], Some("x".into())), Step::More);
        let (p1, _, g1) = p.due().unwrap();
        let (p2, _, g2) = p.due().unwrap();
        assert_eq!((p1, p2.clone()), (sym(), other.clone()));
        p.sent(3, g1);
        p.sent(4, g2);
        assert_eq!(p.page(4, &other, vec![8], None), Step::Done(vec![7, 8]));
        assert_eq!(p.page(3, &sym(), vec![2], None), Step::Done(vec![1, 2]));
    }
}

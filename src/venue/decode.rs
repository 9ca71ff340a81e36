//! `mako decode`'s common form: one venue message (a WebSocket frame or a REST answer) as
//! mako's normalised records — `kind` (order, fill, trade, book, bbo, balance, position) and,
//! as they apply, `cid`, `venue_order_id`, `symbol` (the venue's spelling), `side`, `price`,
//! `qty`, `filled_qty`, `status`, `trade_id`, `best_bid`, `best_ask`, `seq`; decimals as
//! plain strings, read through the engine's own fixed-point parser. Each venue's `decode`
//! module fills these from its messages; off the hot path (it allocates freely).

use serde_json::{Map, Value};

use crate::types::{OrderStatus, Qty, Side};

/// One normalised record.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Record(Map<String, Value>);

/// Why a message could not be decoded.
pub type DecodeResult = Result<Vec<Record>, String>;

impl Record {
    pub fn new(kind: &str) -> Self {
        let mut m = Map::new();
        m.insert("kind".into(), Value::String(kind.into()));
        Self(m)
    }

    /// A text field, as the venue spelled it.
    pub fn text(mut self, key: &str, v: impl Into<String>) -> Self {
        self.0.insert(key.into(), Value::String(v.into()));
        self
    }

    /// A decimal field: parsed by the engine's fixed-point parser and printed back plainly,
    /// so a value the engine cannot hold is an error here too.
    pub fn decimal(self, key: &str, v: &str) -> Result<Self, String> {
        let q = Qty::parse(v).map_err(|e| format!("{key} {v:?}: {e}"))?;
        Ok(self.text(key, q.to_string()))
    }

    /// A decimal kept as the venue wrote it (checked to be a plain decimal): for amounts that
    /// may carry more digits than the engine's 8 (OKX balances, e.g. `4834.317093622894`).
    pub fn venue_decimal(self, key: &str, v: &str) -> Result<Self, String> {
        let (int, frac) = v.split_once('.').unwrap_or((v, "0"));
        let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
        if !digits(int.strip_prefix('-').unwrap_or(int)) || !digits(frac) {
            return Err(format!("{key} {v:?}: not a plain decimal"));
        }
        Ok(self.text(key, v))
    }

    /// A signed decimal (fees that venues print negative when charged).
    pub fn signed_decimal(self, key: &str, v: &str) -> Result<Self, String> {
        match v.strip_prefix('-') {
            Some(abs) => {
                let q = Qty::parse(abs).map_err(|e| format!("{key} {v:?}: {e}"))?;
                Ok(self.text(key, format!("-{q}")))
            }
            None => self.decimal(key, v),
        }
    }

    pub fn side(self, s: Side) -> Self {
        self.text(
            "side",
            match s {
                Side::Buy => "buy",
                Side::Sell => "sell",
            },
        )
    }

    pub fn status(self, s: OrderStatus) -> Self {
        let name = match s {
            OrderStatus::New | OrderStatus::Sent | OrderStatus::Acked => "new",
            other => other.as_str(),
        };
        self.text("status", name)
    }

    pub fn seq(mut self, v: i64) -> Self {
        self.0.insert("seq".into(), Value::from(v));
        self
    }

    /// A numeric field (level counts and the like).
    pub fn number(mut self, key: &str, v: u64) -> Self {
        self.0.insert(key.into(), Value::from(v));
        self
    }

    pub fn into_value(self) -> Value {
        Value::Object(self.0)
    }
}

/// The line `mako decode` prints for one input line: the record, an array when the message
/// carried several, or `{"error": "…"}`.
pub fn line_of(result: DecodeResult) -> String {
    let v = match result {
        Ok(mut records) if records.len() == 1 => records.remove(0).into_value(),
        Ok(records) => Value::Array(records.into_iter().map(Record::into_value).collect()),
        Err(e) => {
            let mut m = Map::new();
            m.insert("error".into(), Value::String(e));
            Value::Object(m)
        }
    };
    v.to_string()
}

/// The text value of `key` in `v`.
pub fn str_field<'v>(v: &'v Value, key: &str) -> Result<&'v str, String> {
    v.get(key)
        .and_then(Value::as_str)
        .ok_or_else(|| format!("missing or non-text field {key:?}"))
}

/// A number or numeric string field as text (ids that some venues send as numbers).
pub fn id_field(v: &Value, key: &str) -> Result<String, String> {
    match v.get(key) {
        Some(Value::String(s)) => Ok(s.clone()),
        Some(Value::Number(n)) => Ok(n.to_string()),
        _ => Err(format!("missing field {key:?}")),
    }
}

/// JSON with `//` comments and trailing commas (the documentation's annotated samples) made
/// plain JSON; strings are left alone.
pub fn strip_comments(line: &str) -> String {
    drop_trailing_commas(&strip_line_comments(line))
}

/// Removes a `,` that only white space separates from the `}` or `]` after it.
fn drop_trailing_commas(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = String::with_capacity(s.len());
    let (mut in_str, mut escaped) = (false, false);
    for (i, c) in s.char_indices() {
        if in_str {
            match c {
                _ if escaped => escaped = false,
                '\\' => escaped = true,
                '"' => in_str = false,
                _ => {}
            }
        } else if c == '"' {
            in_str = true;
        } else if c == ',' {
            let next = b[i + 1..].iter().find(|x| !x.is_ascii_whitespace());
            if matches!(next, Some(b'}' | b']')) {
                continue;
            }
        }
        out.push(c);
    }
    out
}

fn strip_line_comments(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let (mut in_str, mut escaped) = (false, false);
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        if in_str {
            out.push(c);
            match c {
                _ if escaped => escaped = false,
                '\\' => escaped = true,
                '"' => in_str = false,
                _ => {}
            }
        } else if c == '/' && chars.peek() == Some(&'/') {
            for c in chars.by_ref() {
                if c == '\n' {
                    out.push('\n');
                    break;
                }
            }
        } else {
            if c == '"' {
                in_str = true;
            }
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documentation_json_is_made_plain() {
        assert_eq!(
            strip_comments("{\"a\": 1, // one\n \"b\": [1,2,],\n \"c\": \"x, }\",\n}"),
            "{\"a\": 1, \n \"b\": [1,2],\n \"c\": \"x, }\"\n}"
        );
    }
}

//! Codec tests: Binance's documentation samples, real frames, other layouts, and every error.

use super::*;

const BTC: InstrumentId = InstrumentId(0);
const BNBBTC: InstrumentId = InstrumentId(1);
const BNBUSDT: InstrumentId = InstrumentId(2);

fn parser() -> MdParser {
    let mut t = SymbolTable::new();
    t.insert("btcusdt", BTC).unwrap();
    t.insert("BNBBTC", BNBBTC).unwrap();
    t.insert("bnbusdt", BNBUSDT).unwrap();
    MdParser::new(t, TimeUnit::Millis, 64)
}

fn px(s: &str) -> Price {
    Price::parse(s).unwrap()
}

fn qt(s: &str) -> Qty {
    Qty::parse(s).unwrap()
}

fn lv(p: &str, q: &str) -> Level {
    Level {
        price: px(p),
        qty: qt(q),
    }
}

/// Parses with both decoders, checks they agree, and returns the fast-path misses it took.
fn both(p: &mut MdParser, frame: &str) -> (Result<String, MdError>, u64) {
    let before = p.fast_misses();
    let a = p.parse(frame.as_bytes()).map(|e| format!("{e:?}"));
    let misses = p.fast_misses() - before;
    let b = p.parse_generic(frame.as_bytes()).map(|e| format!("{e:?}"));
    assert_eq!(a, b, "fast and general decoders disagree on {frame}");
    (a, misses)
}

#[test]
fn documentation_samples() {
    let mut p = parser();
    // binance_bookticker.json, comments removed.
    let ev = p.parse(br#"{"u":400900217,"s":"BNBUSDT","b":"25.35190000","B":"31.21000000","a":"25.36520000","A":"40.66000000"}"#);
    assert_eq!(
        ev,
        Ok(MdEvent::BookTicker(BookTicker {
            instrument: BNBUSDT,
            update_id: 400900217,
            bid: lv("25.3519", "31.21"),
            ask: lv("25.3652", "40.66"),
        }))
    );
    // binance_depth_diff.json
    let ev = p.parse(br#"{"e":"depthUpdate","E":1672515782136,"s":"BNBBTC","U":157,"u":160,"b":[["0.0024","10"]],"a":[["0.0026","100"]]}"#);
    assert_eq!(
        ev,
        Ok(MdEvent::Depth(DepthUpdate {
            instrument: BNBBTC,
            event_time: UnixNanos::from_millis(1672515782136),
            first_update_id: 157,
            final_update_id: 160,
            bids: &[lv("0.0024", "10")],
            asks: &[lv("0.0026", "100")],
        }))
    );
    // binance_trade.json
    let ev = p.parse(br#"{"e":"trade","E":1672515782136,"s":"BNBBTC","t":12345,"p":"0.001","q":"100","T":1672515782136,"m":true,"M":true}"#);
    assert_eq!(
        ev,
        Ok(MdEvent::Trade(Trade {
            instrument: BNBBTC,
            event_time: UnixNanos::from_millis(1672515782136),
            trade_id: 12345,
            price: px("0.001"),
            qty: qt("100"),
            trade_time: UnixNanos::from_millis(1672515782136),
            buyer_is_maker: true,
        }))
    );
    // binance_server_shutdown_raw.json
    let ev = p.parse(br#"{"e":"serverShutdown","E":1770123456789}"#);
    assert_eq!(
        ev,
        Ok(MdEvent::ServerShutdown {
            event_time: UnixNanos::from_millis(1770123456789)
        })
    );
    // binance_depth_snapshot_rest.json
    let ev = p.parse(br#"{"lastUpdateId":1027024,"bids":[["4.00000000","431.00000000"]],"asks":[["4.00000200","12.00000000"]]}"#);
    assert_eq!(
        ev,
        Ok(MdEvent::Snapshot(DepthSnapshot {
            instrument: None,
            last_update_id: 1027024,
            bids: &[lv("4", "431")],
            asks: &[lv("4.000002", "12")],
        }))
    );
    // binance_ws_subscribe_response.json
    assert_eq!(
        p.parse(br#"{"result":null,"id":1}"#),
        Ok(MdEvent::CommandReply {
            id: Some(1),
            ok: true
        })
    );
    assert_eq!(
        p.parse(br#"{"error":{"code":2,"msg":"Invalid request"},"id":7}"#),
        Ok(MdEvent::CommandReply {
            id: Some(7),
            ok: false
        })
    );
    assert_eq!(
        p.fast_misses(),
        3,
        "shutdown and replies go to the general decoder"
    );
}

#[test]
fn real_frames_take_the_fast_path() {
    let mut p = parser();
    let frames = [
        r#"{"stream":"btcusdt@bookTicker","data":{"u":50093239212,"s":"BTCUSDT","b":"61837.63000000","B":"3.78826000","a":"61837.64000000","A":"1.54698000"}}"#,
        r#"{"stream":"btcusdt@trade","data":{"e":"trade","E":1723161255343,"s":"BTCUSDT","t":3735683259,"p":"61837.63000000","q":"0.02000000","T":1723161255342,"m":true,"M":true}}"#,
        r#"{"stream":"btcusdt@depth@100ms","data":{"e":"depthUpdate","E":1723161255308,"s":"BTCUSDT","U":50093239203,"u":50093239207,"b":[["55653.87000000","0.00000000"]],"a":[["61838.04000000","0.32332000"],["61844.30000000","0.40163000"]]}}"#,
        r#"{"stream":"btcusdt@depth","data":{"e":"depthUpdate","E":1,"s":"BTCUSDT","U":5,"u":5,"b":[],"a":[]}}"#,
    ];
    for f in frames {
        let (res, misses) = both(&mut p, f);
        assert!(res.is_ok(), "{f}: {res:?}");
        assert_eq!(misses, 0, "{f}");
    }
    match p.parse(frames[2].as_bytes()) {
        Ok(MdEvent::Depth(d)) => {
            assert_eq!(
                (d.instrument, d.first_update_id, d.final_update_id),
                (BTC, 50093239203, 50093239207)
            );
            assert_eq!(d.bids, &[lv("55653.87", "0")]);
            assert_eq!(
                d.asks,
                &[lv("61838.04", "0.32332"), lv("61844.3", "0.40163")]
            );
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn other_layouts_go_to_the_general_decoder_and_mean_the_same() {
    let mut p = parser();
    let canonical = r#"{"stream":"btcusdt@bookTicker","data":{"u":7,"s":"BTCUSDT","b":"1.5","B":"2","a":"1.6","A":"3"}}"#;
    let want = p.parse(canonical.as_bytes()).map(|e| format!("{e:?}"));
    assert!(want.is_ok());
    let variants = [
        // keys reordered
        r#"{"data":{"s":"BTCUSDT","u":7,"A":"3","a":"1.6","B":"2","b":"1.5"},"stream":"btcusdt@bookTicker"}"#,
        // whitespace
        "{ \"stream\" : \"btcusdt@bookTicker\",\n \"data\": {\"u\": 7, \"s\": \"BTCUSDT\", \"b\": \"1.5\", \"B\": \"2\", \"a\": \"1.6\", \"A\": \"3\"} }\n",
        // an extra field Binance might add one day
        r#"{"stream":"btcusdt@bookTicker","data":{"u":7,"s":"BTCUSDT","b":"1.5","B":"2","a":"1.6","A":"3","x":[1,{"y":null}]}}"#,
        // an escape in the symbol
        r#"{"stream":"btcusdt@bookTicker","data":{"u":7,"s":"BTC\u0055SDT","b":"1.5","B":"2","a":"1.6","A":"3"}}"#,
    ];
    for v in variants {
        let (got, misses) = both(&mut p, v);
        assert_eq!(got, want, "{v}");
        assert_eq!(misses, 1, "{v}");
    }
}

#[test]
fn microsecond_timestamps() {
    let mut t = SymbolTable::new();
    t.insert("btcusdt", BTC).unwrap();
    let mut p = MdParser::new(t, TimeUnit::Micros, 8);
    match p.parse(br#"{"e":"trade","E":1672515782136000,"s":"BTCUSDT","t":1,"p":"1","q":"1","T":1672515782136001,"m":false,"M":true}"#) {
        Ok(MdEvent::Trade(tr)) => {
            assert_eq!(tr.event_time, UnixNanos(1_672_515_782_136_000_000));
            assert_eq!(tr.trade_time, UnixNanos(1_672_515_782_136_001_000));
            assert!(!tr.buyer_is_maker);
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn errors_name_their_reason() {
    let bt = |data: &str| format!(r#"{{"stream":"btcusdt@bookTicker","data":{data}}}"#);
    let dd = |data: &str| format!(r#"{{"stream":"btcusdt@depth@100ms","data":{data}}}"#);
    let table: Vec<(String, MdError)> = vec![
        ("not json".into(), MdError::Json),
        (
            r#"{"stream":"btcusdt@trade","data":{"e":"trade""#.into(),
            MdError::Json,
        ),
        ("[1,2]".into(), MdError::NotObject),
        (r#"{"hello":1}"#.into(), MdError::UnknownEvent),
        (r#"{"e":"kline","E":1}"#.into(), MdError::UnknownEvent),
        (r#"{"e":5}"#.into(), MdError::WrongType("e")),
        (
            r#"{"stream":"btcusdt@aggTrade","data":{"e":"aggTrade"}}"#.into(),
            MdError::UnknownStream,
        ),
        (
            r#"{"stream":"btcusdt","data":{}}"#.into(),
            MdError::UnknownStream,
        ),
        (
            r#"{"stream":"ethusdt@trade","data":{}}"#.into(),
            MdError::UnknownSymbol,
        ),
        (
            r#"{"stream":1,"data":{}}"#.into(),
            MdError::WrongType("stream"),
        ),
        (
            r#"{"stream":"btcusdt@trade"}"#.into(),
            MdError::Missing("data"),
        ),
        (
            r#"{"stream":"btcusdt@trade","data":[]}"#.into(),
            MdError::WrongType("data"),
        ),
        (
            r#"{"stream":"btcusdt@trade","data":{"E":1}}"#.into(),
            MdError::Missing("e"),
        ),
        (
            r#"{"stream":"btcusdt@trade","data":{"e":"depthUpdate"}}"#.into(),
            MdError::EventMismatch,
        ),
        (
            bt(r#"{"s":"BTCUSDT","b":"1","B":"1","a":"2","A":"1"}"#),
            MdError::Missing("u"),
        ),
        (
            bt(r#"{"u":"7","s":"BTCUSDT","b":"1","B":"1","a":"2","A":"1"}"#),
            MdError::WrongType("u"),
        ),
        (
            bt(r#"{"u":-7,"s":"BTCUSDT","b":"1","B":"1","a":"2","A":"1"}"#),
            MdError::WrongType("u"),
        ),
        (
            bt(r#"{"u":7.5,"s":"BTCUSDT","b":"1","B":"1","a":"2","A":"1"}"#),
            MdError::WrongType("u"),
        ),
        (
            bt(r#"{"u":7,"s":"ETHUSDT","b":"1","B":"1","a":"2","A":"1"}"#),
            MdError::SymbolMismatch,
        ),
        (
            bt(r#"{"u":7,"s":"BTCUSDT","b":1,"B":"1","a":"2","A":"1"}"#),
            MdError::WrongType("b"),
        ),
        (
            bt(r#"{"u":7,"s":"BTCUSDT","b":"1e3","B":"1","a":"2","A":"1"}"#),
            MdError::Decimal {
                field: "b",
                err: DecimalError::InvalidChar(1),
            },
        ),
        (
            bt(r#"{"u":7,"s":"BTCUSDT","b":"1","B":"0.000000001","a":"2","A":"1"}"#),
            MdError::Decimal {
                field: "B",
                err: DecimalError::TooPrecise,
            },
        ),
        (
            dd(r#"{"e":"depthUpdate","E":1,"s":"BTCUSDT","U":9,"u":8,"b":[],"a":[]}"#),
            MdError::BadUpdateRange,
        ),
        (
            dd(r#"{"e":"depthUpdate","E":1,"s":"BTCUSDT","U":8,"u":9,"b":[["1"]],"a":[]}"#),
            MdError::BadLevel,
        ),
        (
            dd(r#"{"e":"depthUpdate","E":1,"s":"BTCUSDT","U":8,"u":9,"b":[["1","2","3"]],"a":[]}"#),
            MdError::BadLevel,
        ),
        (
            dd(r#"{"e":"depthUpdate","E":1,"s":"BTCUSDT","U":8,"u":9,"b":[[1,2]],"a":[]}"#),
            MdError::BadLevel,
        ),
        (
            dd(r#"{"e":"depthUpdate","E":1,"s":"BTCUSDT","U":8,"u":9,"b":[],"a":[["0","2"]]}"#),
            MdError::ZeroPrice,
        ),
        (
            dd(r#"{"e":"depthUpdate","E":1,"s":"BTCUSDT","U":8,"u":9,"b":{},"a":[]}"#),
            MdError::WrongType("b"),
        ),
        (
            dd(r#"{"e":"depthUpdate","E":1,"s":"BTCUSDT","U":8,"u":9,"b":[],"a":[["1","-2"]]}"#),
            MdError::Decimal {
                field: "qty",
                err: DecimalError::InvalidChar(0),
            },
        ),
        (
            r#"{"lastUpdateId":5,"bids":[]}"#.into(),
            MdError::Missing("asks"),
        ),
        (
            r#"{"e":"trade","E":1,"s":"XRPUSDT","t":1,"p":"1","q":"1","T":1,"m":true,"M":true}"#
                .into(),
            MdError::UnknownSymbol,
        ),
        (
            r#"{"e":"trade","E":1,"s":"BTCUSDT","t":1,"p":"1","q":"1","T":1,"m":"yes","M":true}"#
                .into(),
            MdError::WrongType("m"),
        ),
    ];
    let mut p = parser();
    for (frame, want) in &table {
        assert_eq!(both(&mut p, frame).0, Err(*want), "{frame}");
    }
}

#[test]
fn parse_snapshot_names_the_instrument() {
    let mut p = parser();
    let body = br#"{"lastUpdateId":9,"bids":[["1","1"]],"asks":[["2","1"]]}"#;
    let s = p.parse_snapshot(body, BTC).unwrap();
    assert_eq!(
        (s.instrument, s.last_update_id, s.bids.len()),
        (Some(BTC), 9, 1)
    );
    assert_eq!(
        p.parse_snapshot(br#"{"result":null,"id":1}"#, BTC),
        Err(MdError::UnknownEvent)
    );
}

#[test]
fn stream_symbol_reads_the_prefix() {
    assert_eq!(
        stream_symbol(br#"{"stream":"btcusdt@trade","data":{}}"#),
        Some("btcusdt")
    );
    assert_eq!(stream_symbol(br#"{"stream":"","data":{}}"#), None);
    assert_eq!(stream_symbol(br#"{"lastUpdateId":1}"#), None);
    assert_eq!(stream_symbol(br#"{"stream":"b\"x@t"}"#), None);
}

#[test]
fn hostile_shapes_are_errors_not_panics() {
    let mut p = parser();
    let deep_arrays = "[".repeat(100_000) + &"]".repeat(100_000);
    assert_eq!(p.parse(deep_arrays.as_bytes()), Err(MdError::Json));
    let deep_objects = "{\"a\":".repeat(50_000) + "1" + &"}".repeat(50_000);
    assert!(p.parse(deep_objects.as_bytes()).is_err());
    // A snapshot far larger than Binance's 5000-level limit still parses.
    let level = r#"["1.5","2"],"#;
    let big = format!(
        r#"{{"lastUpdateId":1,"bids":[{}["1.5","3"]],"asks":[]}}"#,
        level.repeat(100_000)
    );
    match p.parse(big.as_bytes()) {
        Ok(MdEvent::Snapshot(s)) => assert_eq!(s.bids.len(), 100_001),
        other => panic!("{:?}", other.map(|_| ())),
    }
    assert_eq!(p.parse(b""), Err(MdError::Json));
    assert_eq!(p.parse(b"null"), Err(MdError::NotObject));
}

//! The HTTP side of the status endpoint: Prometheus text, control calls and their token,
//! malformed requests.

use super::*;

fn check_exposition(text: &str) -> HashMap<String, String> {
    let mut types: HashMap<String, String> = HashMap::new();
    let mut helped: HashSet<String> = HashSet::new();
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("# HELP ") {
            let name = rest.split(' ').next().unwrap();
            assert!(helped.insert(name.to_string()), "HELP twice for {name}");
        } else if let Some(rest) = line.strip_prefix("# TYPE ") {
            let mut it = rest.split(' ');
            let (name, kind) = (it.next().unwrap(), it.next().unwrap());
            assert!(helped.contains(name), "TYPE before HELP for {name}");
            assert!(["counter", "gauge", "summary"].contains(&kind), "{kind}");
            assert!(types.insert(name.to_string(), kind.to_string()).is_none());
        } else {
            assert!(
                !line.starts_with('#') && !line.is_empty(),
                "stray line {line:?}"
            );
            let name_end = line.find(['{', ' ']).unwrap();
            let name = &line[..name_end];
            assert!(name.starts_with("mako_"), "{name}");
            let family = ["_sum", "_count"]
                .iter()
                .find_map(|s| {
                    name.strip_suffix(s)
                        .filter(|f| types.get(*f).is_some_and(|k| k == "summary"))
                })
                .unwrap_or(name);
            assert!(
                types.contains_key(family),
                "sample of undeclared family {name}"
            );
            let value = line.rsplit(' ').next().unwrap();
            assert!(
                value.parse::<f64>().is_ok() || ["NaN", "+Inf", "-Inf"].contains(&value),
                "{line}"
            );
        }
    }
    types
}

#[test]
fn metrics_are_valid_prometheus_text() {
    let s = start(None);
    feed_engine_state(&s.updates);
    wait_status(s.addr, "the fill", |v| {
        v["recent_trades"].as_array().is_some_and(|a| !a.is_empty())
    });
    let (status, ct, text) = get(s.addr, "/metrics");
    assert_eq!(status, 200);
    assert!(ct.starts_with("text/plain; version=0.0.4"), "{ct}");
    let types = check_exposition(&text);
    for f in [
        "mako_info",
        "mako_venue_messages_total",
        "mako_venue_resyncs_total",
        "mako_orders",
        "mako_fills_total",
        "mako_risk_rejections_total",
        "mako_queue_depth",
        "mako_latency_seconds",
        "mako_kill_switch",
    ] {
        assert!(types.contains_key(f), "family {f} missing");
    }
    let scrape = prometheus_parse::Scrape::parse(text.lines().map(|l| Ok(l.to_string()))).unwrap();
    let find = |metric: &str, labels: &[(&str, &str)]| {
        scrape
            .samples
            .iter()
            .find(|s| s.metric == metric && labels.iter().all(|(k, v)| s.labels.get(k) == Some(*v)))
            .unwrap_or_else(|| panic!("no sample {metric} {labels:?}"))
            .value
            .clone()
    };
    use prometheus_parse::Value as V;
    assert!(
        matches!(find("mako_info", &[("mode", "paper"), ("run_id", "42")]), V::Gauge(v) if v == 1.0)
    );
    assert!(
        matches!(find("mako_venue_messages_total", &[("venue", "binance")]), V::Counter(v) if v == 12_345.0)
    );
    assert!(
        matches!(find("mako_orders", &[("venue", "binance"), ("state", "filled")]), V::Gauge(v) if v == 3.0)
    );
    assert!(
        matches!(find("mako_risk_rejections_total", &[("rule", "max_position")]), V::Counter(v) if v == 3.0)
    );
    assert!(
        matches!(find("mako_strategy_position", &[("strategy", "mm-eth")]), V::Gauge(v) if v == -0.015)
    );
    // A label value with a quote in it is escaped, and the parser reads it back.
    assert!(text.contains(r#"venue="sim\"x""#));
    match find(
        "mako_latency_seconds",
        &[("venue", "binance"), ("measurement", "rest_rtt")],
    ) {
        V::Summary(q) => {
            let p99 = q.iter().find(|c| c.quantile == 0.99).unwrap();
            assert!((p99.count - 0.003).abs() < 1e-12, "{}", p99.count);
        }
        other => panic!("not a summary: {other:?}"),
    }
}

#[test]
fn control_needs_the_token_and_a_valid_one_routes_the_command() {
    let s = start(Some(SecretSource::File(token_file("control"))));
    let good = format!("Bearer {TOKEN}");
    let table: [(&str, Option<&str>, u16); 6] = [
        ("/control/kill", None, 401),
        ("/control/kill", Some("Bearer wrong"), 403),
        ("/control/kill", Some(TOKEN), 401),
        (
            "/control/strategies/mm-eth/pause",
            Some(&format!("Bearer {TOKEN}x")),
            403,
        ),
        ("/control/reload", Some("Basic Zm9vOmJhcg=="), 401),
        ("/control/strategies/nope/pause", Some(good.as_str()), 404),
    ];
    for (path, auth, want) in table {
        let (status, body) = post(s.addr, path, auth);
        assert_eq!(status, want, "{path} {auth:?}: {body}");
        assert!(body["error"].is_string(), "{body}");
        assert!(!body.to_string().contains(TOKEN), "the token never echoes");
    }
    assert!(s.control.try_recv().is_none(), "nothing refused was routed");
    assert!(!s.kill.is_tripped());

    let (status, body) = post(s.addr, "/control/strategies/mm-eth/pause", Some(&good));
    assert_eq!(status, 202, "{body}");
    assert_eq!(body["accepted"], "pause");
    assert_eq!(body["strategy"], "mm-eth");
    let (status, _) = post(s.addr, "/control/strategies/mm-btc/resume", Some(&good));
    assert_eq!(status, 202);
    let (status, _) = post(s.addr, "/control/reload", Some(&good));
    assert_eq!(status, 202);
    let (status, _) = post(s.addr, "/control/kill", Some(&good));
    assert_eq!(status, 202);
    let got: Vec<ControlCommand> = std::iter::from_fn(|| s.control.try_recv()).collect();
    assert_eq!(
        got,
        vec![
            ControlCommand::Pause(StrategyId(1)),
            ControlCommand::Resume(StrategyId(0)),
            ControlCommand::Reload { request: 1 },
            ControlCommand::Kill,
        ]
    );
    assert!(s.kill.is_tripped());
    assert_eq!(s.kill.reason(), KillReason::Operator);
    let (status, _, _) = get(s.addr, "/control/kill");
    assert_eq!(status, 405, "control is POST only");
}

#[test]
fn without_a_configured_token_every_control_call_is_refused() {
    let s = start(None);
    for auth in [None, Some("Bearer anything"), Some("Bearer ")] {
        let (status, _) = post(s.addr, "/control/kill", auth);
        assert!(status == 401 || status == 403, "{auth:?}: {status}");
    }
    assert!(s.control.try_recv().is_none());
    assert!(!s.kill.is_tripped());
}

/// Sends raw bytes and returns the status line of the answer (empty if none).
fn raw(addr: SocketAddr, bytes: &[u8]) -> String {
    let mut c = TcpStream::connect(addr).unwrap();
    c.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    c.write_all(bytes).unwrap();
    let _ = c.shutdown(std::net::Shutdown::Write);
    let mut out = Vec::new();
    let _ = c.read_to_end(&mut out);
    String::from_utf8_lossy(&out)
        .lines()
        .next()
        .unwrap_or("")
        .to_string()
}

#[test]
fn malformed_requests_get_4xx_and_the_server_keeps_serving() {
    let s = start(None);
    let cases: [&[u8]; 5] = [
        b"BLAH\r\n\r\n",
        b"GET /status HTTP/9.9\r\n\r\n",
        b"GET /status HTTP/1.1\r\nHost: x\r\nContent-Length: nope\r\n\r\n",
        b"\x00\x01\x02\xff\r\n\r\n",
        b"POST /status HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999\r\n\r\n",
    ];
    for bytes in cases {
        let line = raw(s.addr, bytes);
        if !line.is_empty() {
            let code: u16 = line
                .split(' ')
                .nth(1)
                .and_then(|c| c.parse().ok())
                .unwrap_or(0);
            assert!(
                (400..500).contains(&code) || code == 505,
                "{bytes:?}: {line}"
            );
        }
        // Whatever happened to that connection, the server still answers.
        assert_eq!(json(s.addr, "/health")["ok"], true);
    }
    let (status, _, body) = get(s.addr, "/nope");
    assert_eq!(status, 404);
    assert!(serde_json::from_str::<Value>(&body).unwrap()["error"].is_string());
    let (status, body) = post(s.addr, "/status", None);
    assert_eq!(status, 405);
    assert_eq!(body["status"], 405);
    // One byte over the largest body (a model upload's): refused before it is read.
    let head = format!(
        "POST /health HTTP/1.1\r\nHost: x\r\nContent-Length: {}\r\n\r\n",
        super::route::MAX_BODY + 1
    );
    let line = raw(s.addr, head.as_bytes());
    assert!(line.contains(" 413 "), "{line}");
    assert_eq!(json(s.addr, "/status")["run_id"], 42);
}

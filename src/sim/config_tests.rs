use super::*;

#[test]
fn defaults_validate() {
    let c = SimConfig::default();
    assert_eq!(c.symbols[0].symbol, "BTCUSDT");
    assert_eq!(c.accounts[0].api_key, DOC_API_KEY);
    assert_eq!(c.ping_interval, Duration::from_secs(20));
    assert_eq!(c.pong_timeout, Duration::from_secs(60));
}

#[test]
fn errors_name_their_keys() {
    let t: toml::Table = r#"
            source = "replay"
            [[symbols]]
            tick_size = "abc"
            [faults]
            http_5xx_rate = 2.0
        "#
    .parse()
    .unwrap();
    let err = SimConfig::from_table(&t).unwrap_err().to_string();
    assert!(err.contains("sim.replay_file"), "{err}");
    assert!(err.contains("sim.symbols[0].tick_size"), "{err}");
    assert!(err.contains("sim.faults.http_5xx_rate"), "{err}");
}

#[test]
fn the_example_file_validates() {
    let path = std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/config/sim.toml"));
    let c = SimConfig::from_file(path).unwrap();
    assert_eq!(c.symbols.len(), 2);
    assert_eq!(c.tls_port, Some(9443));
    // The same keys under `[sim]` in an engine config.
    let t: toml::Table = "[sim]\nport = 0\nseed = 5\n".parse().unwrap();
    let c = SimConfig::from_table(t["sim"].as_table().unwrap()).unwrap();
    assert_eq!(
        c.source,
        SourceConfig::Walk {
            seed: 5,
            interval: Duration::from_millis(50)
        }
    );
}

#[test]
fn unknown_keys_are_refused() {
    let t: toml::Table = "prot = 1".parse().unwrap();
    let err = SimConfig::from_table(&t).unwrap_err().to_string();
    assert!(err.contains("prot"), "{err}");
}

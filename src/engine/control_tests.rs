//! The control actor driven by hand: commands, reloads, model swaps.

use super::*;
use crate::engine::reload::tests::{BASE, cfg};
use crate::runtime::{Clock, Shutdown};

fn ctx() -> Ctx {
    Ctx {
        clock: Clock::live(),
        shutdown: Shutdown::new(),
        host: "control-test",
    }
}

#[test]
fn commands_reach_the_strategy_and_reload_replies_match_their_request() {
    let config = cfg(BASE);
    let mut controls = StrategyControls::new(1);
    let (cmd_tx, cmd_rx) = bounded("c", 8, FullPolicy::Backpressure);
    let (reply_tx, reply_rx) = bounded("r", 8, FullPolicy::DropNewest);
    let (status_tx, status_rx) = bounded("s", 8, FullPolicy::DropNewest);
    let kill = KillSwitch::default();
    let mut actor = ControlActor::new(&config, &controls, kill.clone())
        .with_endpoint(cmd_rx, reply_tx, status_tx);
    let (strategy_rx, acks) = controls.take(StrategyId(0)).unwrap();
    assert!(controls.take(StrategyId(0)).is_none(), "taken once");
    let mut cx = ctx();
    actor.start(&mut cx).unwrap();

    cmd_tx.send(ControlCommand::Pause(StrategyId(0))).unwrap();
    cmd_tx.send(ControlCommand::Resume(StrategyId(0))).unwrap();
    cmd_tx.send(ControlCommand::Reload { request: 7 }).unwrap();
    cmd_tx.send(ControlCommand::Kill).unwrap();
    assert_eq!(actor.poll(&mut cx), 4);
    assert!(matches!(
        strategy_rx.try_recv(),
        Some(StrategyControl::Pause)
    ));
    assert!(matches!(
        strategy_rx.try_recv(),
        Some(StrategyControl::Resume)
    ));
    let reply = reply_rx.try_recv().unwrap();
    assert_eq!(
        (reply.request, reply.status),
        (7, 409),
        "no file to reload from"
    );
    assert!(reply.body["error"].is_string());
    assert!(kill.is_tripped());
    // The pause and the resume are activity rows.
    for word in ["paused", "resumed"] {
        match status_rx.try_recv() {
            Some(StatusUpdate::Activity(row)) => assert!(row.message.contains(word), "{row:?}"),
            other => panic!("{other:?}"),
        }
    }

    // What a strategy applied reaches the status room; a refusal does not.
    let mut t = toml::Table::new();
    t.insert("spread_bps".into(), toml::Value::Integer(9));
    acks.send(ReloadAck {
        strategy: StrategyId(0),
        result: Ok(t.clone()),
    })
    .unwrap();
    acks.send(ReloadAck {
        strategy: StrategyId(0),
        result: Err(vec![("k".into(), "m".into())]),
    })
    .unwrap();
    actor.poll(&mut cx);
    match status_rx.try_recv() {
        Some(StatusUpdate::Params {
            strategy, params, ..
        }) => {
            assert_eq!((strategy, params), (StrategyId(0), t));
        }
        other => panic!("{other:?}"),
    }
    assert!(status_rx.try_recv().is_none());
}

#[test]
fn a_watched_file_reloads_on_change_and_a_refused_reload_sends_nothing() {
    let dir = std::env::temp_dir().join(format!("mako-control-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("c.toml");
    std::fs::write(&path, BASE).unwrap();
    let config = cfg(BASE);
    let mut controls = StrategyControls::new(1);
    let mut actor = ControlActor::new(&config, &controls, KillSwitch::default());
    actor.watch(path.clone(), config).unwrap();
    actor.set_check_every(Duration::ZERO);
    let (rx, _acks) = controls.take(StrategyId(0)).unwrap();
    let mut cx = ctx();
    actor.start(&mut cx).unwrap();
    actor.poll(&mut cx);
    assert!(rx.try_recv().is_none(), "nothing changed");

    std::fs::write(&path, BASE.replace("spread_bps = 4", "spread_bps = 12")).unwrap();
    actor.poll(&mut cx);
    match rx.try_recv() {
        Some(StrategyControl::Reload(t)) => {
            assert_eq!(t.get("spread_bps"), Some(&toml::Value::Integer(12)));
        }
        other => panic!("{other:?}"),
    }
    std::fs::write(
        &path,
        BASE.replace("tick_size = \"0.01\"", "tick_size = \"0.05\""),
    )
    .unwrap();
    let (status, body) = actor.reload(ReloadSource::Endpoint);
    assert_eq!(status, 409, "{body}");
    assert!(rx.try_recv().is_none(), "a refused reload sends nothing");
    std::fs::remove_dir_all(&dir).ok();
}

/// The LightGBM demo model with its leaf values changed: another model, the same
/// feature.
fn rise_model(leaves: &str) -> String {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/lgbm/bot_rise.model.txt"
    ))
    .unwrap();
    assert!(text.contains("leaf_value=-2 2"));
    text.replace("leaf_value=-2 2", &format!("leaf_value={leaves}"))
}

#[test]
fn a_model_upload_is_checked_written_and_sent_and_a_bad_one_changes_nothing() {
    let dir = std::env::temp_dir().join(format!("mako-model-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("m.txt");
    let first = rise_model("-2 2");
    std::fs::write(&path, &first).unwrap();
    let text = BASE.replace("kind = \"spread\"", "kind = \"lgbm\"");
    let params_at = text.find("[strategies.params]").unwrap();
    let text = format!(
        "{}[strategies.params]\nmodel = {:?}\nfeatures = {{ ret = \"price_change_1\" }}\n",
        &text[..params_at],
        path.display().to_string()
    );
    let config = cfg(&text);
    let mut controls = StrategyControls::new(1);
    let mut actor = ControlActor::new(&config, &controls, KillSwitch::default());
    assert!(actor.is_needed(), "a model file is watched");
    actor.set_check_every(Duration::ZERO);
    let (rx, _acks) = controls.take(StrategyId(0)).unwrap();
    let mut cx = ctx();
    actor.start(&mut cx).unwrap();
    actor.poll(&mut cx);
    assert!(rx.try_recv().is_none(), "nothing changed");

    // Refused, each with its reason; the file and the strategy are left alone.
    let truncated = &first[..first.len() / 2];
    let (status, body) = actor.swap_model(StrategyId(0), truncated.as_bytes(), true);
    assert_eq!(status, 422, "{body}");
    assert!(
        body["error"].as_str().unwrap().contains("cannot be used"),
        "{body}"
    );
    let other_feature = rise_model("-2 2").replace("feature_names=ret", "feature_names=spread_z");
    let (status, body) = actor.swap_model(StrategyId(0), other_feature.as_bytes(), true);
    assert_eq!(status, 422, "{body}");
    assert!(
        body["error"].as_str().unwrap().contains("spread_z"),
        "{body}"
    );
    assert_eq!(std::fs::read_to_string(&path).unwrap(), first);
    assert!(rx.try_recv().is_none(), "a refused model is not sent");

    // Accepted: written over the file, then sent; the watch does not send it twice.
    let second = rise_model("-3 3");
    let (status, body) = actor.swap_model(StrategyId(0), second.as_bytes(), true);
    assert_eq!(status, 200, "{body}");
    assert_eq!(std::fs::read_to_string(&path).unwrap(), second);
    let sent = match rx.try_recv() {
        Some(StrategyControl::Model(m)) => m,
        other => panic!("{other:?}"),
    };
    assert_eq!(body["model"].as_str(), Some(sent.hash()));
    let mut out = [0.0];
    sent.predict(&[0.5], &mut out).unwrap();
    assert!(
        (out[0] - 1.0 / (1.0 + (-3.0f64).exp())).abs() < 1e-12,
        "{out:?}"
    );
    actor.poll(&mut cx);
    assert!(
        rx.try_recv().is_none(),
        "the upload's own write is not a change"
    );

    // A file written over by the operator is read, checked and sent.
    let third = rise_model("-4.5 4.5"); // another length: a coarse mtime still sees it
    std::fs::write(&path, &third).unwrap();
    actor.poll(&mut cx);
    match rx.try_recv() {
        Some(StrategyControl::Model(m)) => {
            let mut out = [0.0];
            m.predict(&[0.5], &mut out).unwrap();
            assert!((out[0] - 1.0 / (1.0 + (-4.5f64).exp())).abs() < 1e-12);
        }
        other => panic!("{other:?}"),
    }
    // A kind without a model refuses uploads.
    let spread = cfg(BASE);
    let mut controls = StrategyControls::new(1);
    let mut plain = ControlActor::new(&spread, &controls, KillSwitch::default());
    let _ = controls.take(StrategyId(0));
    assert_eq!(
        plain.swap_model(StrategyId(0), second.as_bytes(), true).0,
        409
    );
    std::fs::remove_dir_all(&dir).ok();
}

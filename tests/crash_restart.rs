//! The engine killed with SIGKILL mid-run, then started again: nothing the database had
//! committed is lost, and the restarted engine reconciles the orders the dead one left open
//! with the venue's own record. The engine runs as a real `mako run` process against a
//! simulator in this test's process, so the kill is a real one.

mod common;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use common::{start_sim, wait_for};
use mako::config::Mode;
use mako::persist::{RunScope, load_orders};
use mako::sim::SimHandle;
use mako::types::OrderStatus;
use mako::types::Qty;
use rusqlite::{Connection, OpenFlags};
use serde_json::Value;

/// Binance's published documentation key pair (exchanges.md §1.5), the simulator's account.
const DOC_API_KEY: &str = "vmPUZE6mv9SD5VNHk4HlWFsOr6aKE2zvsw0MuIgwCIPy6utIco14y7Ju91duEh8A";
const DOC_SECRET: &str = "NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j";

const SIM_MARKET: &str = r#"
[[symbols]]
symbol = "SOLUSDT"
base = "SOL"
quote = "USDT"
tick_size = "0.01"
step_size = "0.001"
min_qty = "0.001"
min_notional = "5"
start_price = "150.00"
levels = 200

[[accounts]]
balances = { SOL = "100", USDT = "20000" }
"#;

fn config(sim: &SimHandle, dir: &Path) -> String {
    format!(
        r#"
[engine]
name = "crash"
mode = "sim"
data_dir = {dir:?}
log_format = "human"
log_filter = "info"

[[venues]]
name = "binance"
kind = "binance-spot"
ws_url = "{ws}"
rest_url = "{rest}"
ws_api_url = "{api}"
order_transport = "ws-api"
streams = ["bookTicker", "depth", "trade"]
api_key_env = "MAKO_CRASH_KEY"
api_secret_env = "MAKO_CRASH_SECRET"
cancel_unknown_orders = true

[[instruments]]
venue = "binance"
symbol = "SOLUSDT"
base = "SOL"
quote = "USDT"
tick_size = "0.01"
lot_size = "0.001"
min_qty = "0.001"
max_qty = "9000"
min_notional = "5"

[risk]
max_order_qty = "2"
max_order_notional = "500"
max_open_orders = 10
price_collar_bps = 100
max_orders_per_sec = 20

[[strategies]]
id = "mm-sol"
kind = "spread"
venue = "binance"
instrument = "SOLUSDT"

[strategies.params]
spread_bps = 2
order_size = "0.5"
stale_tolerance_bps = 10
refresh_interval = "30s"
base_allocation = "20"
quote_allocation = "3000"

[persistence]
path = "crash.sqlite"
batch_window = "20ms"

[status]
console_interval = "1s"
"#,
        dir = dir.display().to_string(),
        ws = sim.ws_url(),
        rest = sim.rest_url(),
        api = sim.ws_api_url(),
    )
}

struct Rig {
    sim: SimHandle,
    dir: PathBuf,
    config: PathBuf,
}

impl Rig {
    fn new() -> Self {
        let sim = start_sim(SIM_MARKET);
        let dir = std::env::temp_dir().join(format!("mako-crash-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("crash.toml");
        std::fs::write(&path, config(&sim, &dir)).unwrap();
        Self {
            sim,
            dir,
            config: path,
        }
    }

    fn engine(&self, extra: &[&str], log: &str) -> Child {
        let out = std::fs::File::create(self.dir.join(format!("{log}.out"))).unwrap();
        let err = std::fs::File::create(self.dir.join(format!("{log}.err"))).unwrap();
        Command::new(env!("CARGO_BIN_EXE_mako"))
            .arg("run")
            .arg(&self.config)
            .args(extra)
            .env("MAKO_CRASH_KEY", DOC_API_KEY)
            .env("MAKO_CRASH_SECRET", DOC_SECRET)
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .spawn()
            .expect("mako starts")
    }

    fn log(&self, name: &str) -> String {
        let read = |ext| std::fs::read_to_string(self.dir.join(format!("{name}.{ext}")));
        format!(
            "--- {name} stdout\n{}\n--- {name} stderr\n{}",
            read("out").unwrap_or_default(),
            read("err").unwrap_or_default()
        )
    }

    fn db(&self) -> Connection {
        self.try_db().expect("the database opens")
    }

    /// The database read-only, once the engine has created it.
    fn try_db(&self) -> Option<Connection> {
        Connection::open_with_flags(
            self.dir.join("crash.sqlite"),
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .ok()
    }

    /// The simulator's orders of the engine's account, by client id.
    fn sim_orders(&self) -> HashMap<String, Value> {
        self.sim.state()["accounts"][0]["orders"]
            .as_array()
            .unwrap()
            .iter()
            .map(|o| (o["clientOrderId"].as_str().unwrap().to_owned(), o.clone()))
            .collect()
    }
}

/// Committed order rows: cid → (status, filled units, final).
fn committed_orders(conn: &Connection) -> HashMap<String, (String, i64, bool)> {
    let mut st = conn
        .prepare("SELECT cid, status, filled_qty_e8, final FROM orders WHERE mode = 'sim'")
        .unwrap();
    st.query_map([], |r| {
        Ok((
            r.get::<_, String>(0)?,
            (r.get(1)?, r.get(2)?, r.get::<_, i64>(3)? != 0),
        ))
    })
    .unwrap()
    .map(Result::unwrap)
    .collect()
}

fn fill_count(conn: &Connection) -> i64 {
    conn.query_row("SELECT count(*) FROM fills WHERE mode = 'sim'", [], |r| {
        r.get(0)
    })
    .unwrap()
}

fn venue_status(s: OrderStatus) -> &'static str {
    match s {
        OrderStatus::New | OrderStatus::Sent => "UNSENT",
        OrderStatus::Acked => "NEW",
        OrderStatus::PartiallyFilled => "PARTIALLY_FILLED",
        OrderStatus::Filled => "FILLED",
        OrderStatus::Cancelled => "CANCELED",
        OrderStatus::Rejected => "REJECTED",
        OrderStatus::Expired => "EXPIRED",
    }
}

fn is_open(o: &Value) -> bool {
    o["status"] == "NEW" || o["status"] == "PARTIALLY_FILLED"
}

#[test]
fn a_killed_engine_loses_nothing_committed_and_its_successor_reconciles() {
    let rig = Rig::new();

    // First run: trade until orders rest on the venue and some have filled, then SIGKILL.
    let mut first = rig.engine(&[], "first");
    let trading = wait_for(Duration::from_secs(60), || {
        if let Ok(Some(status)) = first.try_wait() {
            panic!("the engine exited early ({status}):\n{}", rig.log("first"));
        }
        let open: Vec<String> = rig
            .sim_orders()
            .into_iter()
            .filter(|(_, o)| is_open(o))
            .map(|(cid, _)| cid)
            .collect();
        let conn = rig.try_db()?;
        // The engine may not have created its tables yet.
        conn.prepare("SELECT 1 FROM fills").ok()?;
        let committed = committed_orders(&conn);
        // Kill while orders rest on the venue that the database holds as open.
        let stored_open = open
            .iter()
            .filter(|c| committed.get(*c).is_some_and(|o| !o.2))
            .count();
        (open.len() >= 2 && committed.len() >= 4 && stored_open >= 1 && fill_count(&conn) >= 1)
            .then_some(())
    });
    assert!(
        trading.is_some(),
        "the engine never had resting and filled orders:\n{}",
        rig.log("first")
    );
    // What the writer has committed by now must survive the kill.
    let before_kill = committed_orders(&rig.db());
    let fills_before_kill = fill_count(&rig.db());
    first.kill().expect("SIGKILL");
    first.wait().unwrap();

    let conn = rig.db();
    let check: String = conn
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(check, "ok", "the database survives a SIGKILL intact");
    let after_kill = committed_orders(&conn);
    for (cid, (status, filled, fin)) in &before_kill {
        let (s2, f2, fin2) = after_kill
            .get(cid)
            .unwrap_or_else(|| panic!("{cid} was committed before the kill and is gone"));
        assert!(
            f2 >= filled && (fin2 >= fin),
            "{cid}: committed {status} filled {filled} final {fin}, after the kill {s2} {f2} {fin2}"
        );
    }
    assert!(
        fill_count(&conn) >= fills_before_kill,
        "committed fills were lost"
    );
    let stopped: Option<i64> = conn
        .query_row("SELECT stopped_at FROM runs ORDER BY id LIMIT 1", [], |r| {
            r.get(0)
        })
        .unwrap();
    assert_eq!(stopped, None, "the first run never stopped: it was killed");
    drop(conn);
    let left_open: Vec<String> = rig
        .sim_orders()
        .into_iter()
        .filter(|(_, o)| is_open(o))
        .map(|(cid, _)| cid)
        .collect();
    assert!(!left_open.is_empty(), "the killed engine left orders open");

    // Second run: it loads the dead run's open orders, asks the venue about them, cancels
    // what is still open (or stop does), and ends with every order final and agreeing.
    let mut second = rig.engine(&["--for", "8s"], "second");
    let status = wait_for(Duration::from_secs(90), || second.try_wait().unwrap())
        .expect("the second run stops by itself");
    assert!(
        status.success(),
        "second run failed:\n{}",
        rig.log("second")
    );

    let sim = rig.sim_orders();
    let still_open: Vec<&String> = sim.keys().filter(|c| is_open(&sim[*c])).collect();
    assert!(
        still_open.is_empty(),
        "orders left open on the venue: {still_open:?}\n{}",
        rig.log("second")
    );
    assert!(
        rig.log("second").contains("orders earlier runs left open"),
        "the second run loaded the first run's open orders:\n{}",
        rig.log("second")
    );
    let conn = rig.db();
    let stored = load_orders(&conn, Mode::Sim, RunScope::All).unwrap();
    let by_cid: HashMap<String, &mako::types::Order> = stored
        .iter()
        .map(|o| (o.cid.as_str().to_owned(), o))
        .collect();
    let mut diffs = Vec::new();
    for cid in &left_open {
        if !by_cid.contains_key(cid) {
            diffs.push(format!(
                "{cid}: open on the venue at the restart, never stored"
            ));
        }
    }
    for o in &stored {
        let cid = o.cid.as_str();
        if !o.status.is_final() {
            diffs.push(format!("{cid}: stored as {:?}, not final", o.status));
        }
        let Some(s) = sim.get(cid) else {
            if o.status != OrderStatus::Rejected && o.status != OrderStatus::Expired {
                diffs.push(format!(
                    "{cid}: stored {:?}, unknown to the venue",
                    o.status
                ));
            }
            continue;
        };
        let venue = s["status"].as_str().unwrap();
        if venue_status(o.status) != venue {
            diffs.push(format!("{cid}: stored {:?}, venue {venue}", o.status));
        }
        let exec = Qty::parse(s["executedQty"].as_str().unwrap()).unwrap();
        if o.filled_qty != exec {
            diffs.push(format!(
                "{cid}: stored filled {}, venue {exec}",
                o.filled_qty
            ));
        }
    }
    assert!(
        diffs.is_empty(),
        "the database disagrees with the venue:\n{}\n{}",
        diffs.join("\n"),
        rig.log("second")
    );
    // The orders the dead run had stored as open are the ones its successor had to settle
    // (the loop above checked each is now final and agrees with the venue).
    let stranded: Vec<&String> = after_kill
        .iter()
        .filter(|(_, o)| !o.2)
        .map(|(cid, _)| cid)
        .collect();
    assert!(
        !stranded.is_empty(),
        "the killed run left orders stored as open"
    );
    for cid in stranded {
        assert!(by_cid.contains_key(cid), "{cid} was stored and is gone");
    }
    if std::env::var_os("MAKO_KEEP").is_none() {
        let _ = std::fs::remove_dir_all(&rig.dir);
    }
}

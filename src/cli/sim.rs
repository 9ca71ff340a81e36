//! `mako sim`: serves the exchange simulator on loopback until Ctrl-C.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use crate::sim::{SimConfig, Simulator};

const USAGE: &str = "usage: mako sim [--config <file>] [--port <port>] [--tls-port <port>]";

pub fn run(args: &[String]) -> ExitCode {
    let mut path: Option<PathBuf> = None;
    let mut port: Option<u16> = None;
    let mut tls_port: Option<u16> = None;
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let value = |it: &mut std::slice::Iter<String>| it.next().cloned();
        match a.as_str() {
            "--config" | "-c" => path = value(&mut it).map(PathBuf::from),
            "--port" => port = value(&mut it).and_then(|v| v.parse().ok()),
            "--tls-port" => tls_port = value(&mut it).and_then(|v| v.parse().ok()),
            "-h" | "--help" => {
                println!("{USAGE}");
                return ExitCode::SUCCESS;
            }
            other => {
                eprintln!("mako sim: unexpected argument {other:?}\n{USAGE}");
                return ExitCode::from(2);
            }
        }
    }
    let cfg = match &path {
        Some(p) => SimConfig::from_file(p),
        None => Ok(SimConfig::default()),
    };
    let mut cfg = match cfg {
        Ok(c) => c,
        Err(e) => {
            eprintln!("mako sim: {e}");
            return ExitCode::from(2);
        }
    };
    if let Some(p) = port {
        cfg.port = p;
    }
    if tls_port.is_some() {
        cfg.tls_port = tls_port;
    }
    let stop = Arc::new(AtomicBool::new(false));
    for sig in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        if let Err(e) = signal_hook::flag::register(sig, stop.clone()) {
            eprintln!("mako sim: cannot install signal handler: {e}");
            return ExitCode::FAILURE;
        }
    }
    let mut sim = match Simulator::start(cfg) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("mako sim: {e}");
            return ExitCode::FAILURE;
        }
    };
    println!("mako sim: Binance Spot simulator running (Ctrl-C to stop)");
    println!(
        "  market data  {}/ws/<stream>  {}/stream?streams=<a>/<b>",
        sim.ws_url(),
        sim.ws_url()
    );
    println!("  REST         {}/api/v3/...", sim.rest_url());
    println!("  WS API       {}", sim.ws_api_url());
    println!(
        "  admin        {}/state  {}/faults",
        sim.admin_url(),
        sim.admin_url()
    );
    if let (Some(wss), Some(https)) = (sim.wss_url(), sim.https_url()) {
        println!("  TLS          {wss}  {https}  (self-signed certificate below)");
        if let Some(pem) = sim.tls_cert_pem() {
            print!("{pem}");
        }
    }
    while !stop.load(Ordering::Relaxed) {
        std::thread::sleep(Duration::from_millis(100));
    }
    println!("mako sim: stopping");
    sim.shutdown();
    ExitCode::SUCCESS
}

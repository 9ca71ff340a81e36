//! `[runtime]`: which host (thread) runs which actor. Every actor the config implies is placed
//! on exactly one host; without `[[runtime.hosts]]` a layout safe on a 2-core box is used.

use std::time::Duration;

use crate::runtime::IdlePolicy;
use crate::types::{StrategyId, VenueId};

use super::error::ConfigErrors;
use super::fields::{self, Checked, Reported, join};
use super::model::{ActorName, HostConfig, HostPriority, RuntimeConfig};
use super::raw::{RawHost, RawIdle, RawList, RawPriority, RawRuntime};

pub const DEFAULT_SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(5);

/// What the rest of the config implies about actors, as far as it could be read.
#[derive(Debug, Default)]
pub(super) struct Actors<'a> {
    /// Venue names by file position (`VenueId`).
    pub venues: Vec<&'a str>,
    /// Strategy ids by file position (`StrategyId`).
    pub strategies: Vec<&'a str>,
    /// Names of venues and strategies that failed to read: placements naming them are not
    /// reported again.
    pub broken: Vec<&'a str>,
    /// Some venue or strategy failed to read, so the implied set is incomplete.
    pub incomplete: bool,
    pub persist: bool,
    pub status: bool,
    pub notify: bool,
}

impl Actors<'_> {
    /// Every actor the config implies, in a sensible poll order: feeds, strategies, gateways,
    /// then the services.
    pub fn implied(&self) -> Vec<ActorName> {
        // A name used twice is already an error; its later entries imply nothing more.
        let firsts = |names: &[&str]| -> Vec<u16> {
            (0..names.len())
                .filter(|&i| !names[..i].contains(&names[i]))
                .map(|i| i as u16)
                .collect()
        };
        let venues = firsts(&self.venues);
        let mut out: Vec<ActorName> = venues
            .iter()
            .map(|&v| ActorName::Feed(VenueId(v)))
            .collect();
        out.extend(
            firsts(&self.strategies)
                .into_iter()
                .map(|s| ActorName::Strategy(StrategyId(s))),
        );
        out.extend(venues.iter().map(|&v| ActorName::Gateway(VenueId(v))));
        out.push(ActorName::Latency);
        let services = [
            (self.persist, ActorName::Persist),
            (self.status, ActorName::Status),
            (self.notify, ActorName::Notify),
        ];
        out.extend(services.into_iter().filter_map(|(on, a)| on.then_some(a)));
        out
    }

    /// The name the config uses for an actor, e.g. `feed:binance`.
    pub fn label(&self, a: &ActorName) -> String {
        let venue = |v: &VenueId| self.venues.get(v.index()).copied().unwrap_or("?");
        match a {
            ActorName::Feed(v) => format!("feed:{}", venue(v)),
            ActorName::Gateway(v) => format!("gateway:{}", venue(v)),
            ActorName::Strategy(s) => {
                format!(
                    "strategy:{}",
                    self.strategies.get(s.index()).copied().unwrap_or("?")
                )
            }
            ActorName::Latency => "latency".to_owned(),
            ActorName::Persist => "persist".to_owned(),
            ActorName::Status => "status".to_owned(),
            ActorName::Notify => "notify".to_owned(),
        }
    }

    /// Reads an actor name from a host's list.
    fn parse(&self, s: &str) -> Parsed {
        let venue = |v: &str, make: fn(VenueId) -> ActorName| match self
            .venues
            .iter()
            .position(|n| *n == v)
        {
            Some(i) => Parsed::Actor(make(VenueId(i as u16))),
            None if self.broken.contains(&v) => Parsed::Skip,
            None => Parsed::Error(format!(
                "{s:?} names no venue: the venues are {}",
                list_or_none(&self.venues)
            )),
        };
        let not_implied =
            |why: &str| Parsed::Error(format!("{s:?}: {why}, so there is no {s} actor; remove it"));
        match s.split_once(':') {
            Some(("feed", v)) => venue(v, ActorName::Feed),
            Some(("gateway", v)) => venue(v, ActorName::Gateway),
            Some(("strategy", id)) => match self.strategies.iter().position(|n| *n == id) {
                Some(i) => Parsed::Actor(ActorName::Strategy(StrategyId(i as u16))),
                None if self.broken.contains(&id) => Parsed::Skip,
                None => Parsed::Error(format!(
                    "{s:?} names no strategy: the strategies are {}",
                    list_or_none(&self.strategies)
                )),
            },
            None if s == "latency" => Parsed::Actor(ActorName::Latency),
            None if s == "persist" && self.persist => Parsed::Actor(ActorName::Persist),
            None if s == "persist" => not_implied("persistence is disabled"),
            None if s == "status" && self.status => Parsed::Actor(ActorName::Status),
            None if s == "status" => not_implied("[status] sets neither bind nor console_interval"),
            None if s == "notify" && self.notify => Parsed::Actor(ActorName::Notify),
            None if s == "notify" => not_implied("[notifications.telegram] is not configured"),
            _ => Parsed::Error(format!(
                "{s:?} is not an actor name: use feed:<venue>, gateway:<venue>, \
                 strategy:<id>, latency, persist, status or notify"
            )),
        }
    }
}

enum Parsed {
    Actor(ActorName),
    /// Names something that failed to read; already reported.
    Skip,
    Error(String),
}

fn list_or_none(names: &[&str]) -> String {
    if names.is_empty() {
        "none".to_owned()
    } else {
        format!("{names:?}")
    }
}

/// Hot-path actors run on hot hosts; services (disk, network, timers) on low ones.
fn priority_of(a: &ActorName) -> HostPriority {
    match a {
        ActorName::Feed(_) | ActorName::Gateway(_) | ActorName::Strategy(_) => HostPriority::Hot,
        ActorName::Latency | ActorName::Persist | ActorName::Status | ActorName::Notify => {
            HostPriority::Low
        }
    }
}

/// The layout used without `[[runtime.hosts]]`: one unpinned `backoff` host `hot` with every
/// feed, strategy and gateway, and one unpinned `park` host `service` with the rest. Two
/// threads that give their cores back when idle: safe on a 2-core box.
pub(super) fn default_hosts(actors: &Actors<'_>) -> Vec<HostConfig> {
    let (hot, low): (Vec<ActorName>, Vec<ActorName>) = actors
        .implied()
        .into_iter()
        .partition(|a| priority_of(a) == HostPriority::Hot);
    vec![
        HostConfig {
            name: "hot".to_owned(),
            core: None,
            idle: IdlePolicy::Backoff,
            priority: HostPriority::Hot,
            actors: hot,
        },
        HostConfig {
            name: "service".to_owned(),
            core: None,
            idle: IdlePolicy::Park,
            priority: HostPriority::Low,
            actors: low,
        },
    ]
}

/// Bounds of `runtime.warm_send_us`: below 10 µs it would spin the hot core on sends, above
/// 100 ms the path is cold again between two.
const WARM_SEND_US_MIN: u64 = 10;
const WARM_SEND_US_MAX: u64 = 100_000;

/// Checks `[runtime]` and the placement of every implied actor.
pub(super) fn runtime(
    raw: Option<&RawRuntime>,
    hosts: Option<&RawList<RawHost>>,
    actors: &Actors<'_>,
    errors: &mut ConfigErrors,
) -> Checked<RuntimeConfig> {
    let shutdown_timeout = fields::positive_duration(
        errors,
        "runtime.shutdown_timeout",
        raw.and_then(|r| r.shutdown_timeout.as_ref()),
        DEFAULT_SHUTDOWN_TIMEOUT,
    );
    let warm_send = match raw.and_then(|r| r.warm_send_us) {
        None | Some(0) => Ok(None),
        Some(us @ WARM_SEND_US_MIN..=WARM_SEND_US_MAX) => Ok(Some(Duration::from_micros(us))),
        Some(us) => {
            errors.push(
                "runtime.warm_send_us",
                format!(
                    "{us} µs is outside {WARM_SEND_US_MIN}..={WARM_SEND_US_MAX} (0 or absent: off)"
                ),
            );
            Err(Reported)
        }
    };
    let hosts = match hosts {
        Some(list) if !list.items.is_empty() => place(list, actors, errors),
        _ => Ok(default_hosts(actors)),
    };
    Ok(RuntimeConfig {
        hosts: hosts?,
        shutdown_timeout: shutdown_timeout?,
        warm_send: warm_send?,
    })
}

fn place(
    list: &RawList<RawHost>,
    actors: &Actors<'_>,
    errors: &mut ConfigErrors,
) -> Checked<Vec<HostConfig>> {
    let mut ok = list.all_ok();
    let mut out = Vec::with_capacity(list.items.len());
    // Where each actor was placed: (actor, host index).
    let mut placed: Vec<(ActorName, usize)> = Vec::new();
    for (i, h) in list.ok() {
        let path = format!("runtime.hosts[{i}]");
        let p = |k: &str| join(&path, k);
        ok &= fields::name(errors, &p("name"), &h.name).is_ok();
        if let Some((j, _)) = list.ok().find(|(j, o)| *j < i && o.name == h.name) {
            errors.push(
                p("name"),
                format!("{:?} is already the name of runtime.hosts[{j}]", h.name),
            );
            ok = false;
        }
        let idle = match h.idle {
            RawIdle::Spin => IdlePolicy::Spin,
            RawIdle::Backoff => IdlePolicy::Backoff,
            RawIdle::Park => IdlePolicy::Park,
        };
        let priority = match h.priority {
            RawPriority::Hot => HostPriority::Hot,
            RawPriority::Low => HostPriority::Low,
        };
        if idle == IdlePolicy::Spin && h.core.is_none() {
            errors.push(
                p("idle"),
                "a spin host burns a whole core: pin it with core = <n>, or use idle = \"backoff\"",
            );
            ok = false;
        }
        if let Some(core) = h.core
            && let Some((j, other)) = list.ok().find(|(j, o)| {
                *j < i
                    && o.core == Some(core)
                    && (o.idle == RawIdle::Spin || idle == IdlePolicy::Spin)
            })
        {
            errors.push(
                p("core"),
                format!(
                    "core {core} is also runtime.hosts[{j}]'s ({:?}) and one of them spins: a \
                     spinning host needs its core to itself",
                    other.name
                ),
            );
            ok = false;
        }
        if h.actors.is_empty() {
            errors.push(
                p("actors"),
                "is empty: place actors on this host or remove it",
            );
            ok = false;
        }
        let mut host_actors = Vec::with_capacity(h.actors.len());
        for (k, s) in h.actors.iter().enumerate() {
            let at = format!("{path}.actors[{k}]");
            let actor = match actors.parse(s) {
                Parsed::Actor(a) => a,
                Parsed::Skip => continue,
                Parsed::Error(msg) => {
                    errors.push(at, msg);
                    ok = false;
                    continue;
                }
            };
            if let Some((_, j)) = placed.iter().find(|(a, _)| *a == actor) {
                let other = list
                    .items
                    .get(*j)
                    .and_then(Option::as_ref)
                    .map_or("?", |o| o.name.as_str());
                errors.push(
                    at,
                    format!("{s:?} is already placed on host {other:?}; place it once"),
                );
                ok = false;
                continue;
            }
            if priority_of(&actor) != priority {
                let msg = match priority_of(&actor) {
                    HostPriority::Hot => format!(
                        "{s:?} is hot-path work and must not wait behind a low-priority thread: \
                         place it on a host with priority = \"hot\""
                    ),
                    HostPriority::Low => format!(
                        "{s:?} is low-priority work (timers, disk or network) that could stall \
                         the hot path: place it on a host with priority = \"low\""
                    ),
                };
                errors.push(at, msg);
                ok = false;
            }
            placed.push((actor.clone(), i));
            host_actors.push(actor);
        }
        out.push(HostConfig {
            name: h.name.clone(),
            core: h.core,
            idle,
            priority,
            actors: host_actors,
        });
    }
    // A missing placement may be on a host that failed to read, or for an actor the rest of
    // the config could not say; only report it when both are complete.
    if list.all_ok() && !actors.incomplete {
        for a in actors.implied() {
            if !placed.iter().any(|(p, _)| *p == a) {
                // A bot slot (`[bots]`) the hosts do not name runs beside the strategies
                // (on the first host that runs one, else the first hot host).
                if actors.label(&a).starts_with("strategy:slot-") {
                    let beside = out
                        .iter()
                        .position(|h| h.actors.iter().any(|x| matches!(x, ActorName::Strategy(_))))
                        .or_else(|| out.iter().position(|h| h.priority == HostPriority::Hot));
                    if let Some(h) = beside {
                        out[h].actors.push(a.clone());
                        placed.push((a, h));
                        continue;
                    }
                }
                // A service (latency, persist, status, notify) the hosts do not name runs on
                // the first low-priority host: adding Telegram to a config that places its
                // actors needs no second edit. Hot-path work is never placed for the user.
                if priority_of(&a) == HostPriority::Low
                    && let Some(h) = out.iter().position(|h| h.priority == HostPriority::Low)
                {
                    out[h].actors.push(a.clone());
                    placed.push((a, h));
                    continue;
                }
                let why = match priority_of(&a) {
                    HostPriority::Hot => {
                        "add it to the actors of a [[runtime.hosts]] with \
                                          priority = \"hot\""
                    }
                    HostPriority::Low => {
                        "no host has priority = \"low\" to run it: add one, \
                                          or add it to the actors of one"
                    }
                };
                errors.push(
                    "runtime.hosts",
                    format!(
                        "actor {:?} is not placed on any host: {why}",
                        actors.label(&a)
                    ),
                );
                ok = false;
            }
        }
    }
    if ok { Ok(out) } else { Err(Reported) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use RawIdle::*;
    use RawPriority::*;

    fn world() -> Actors<'static> {
        Actors {
            venues: vec!["binance", "okx"],
            strategies: vec!["mm-btc"],
            persist: true,
            status: true,
            notify: false,
            ..Default::default()
        }
    }

    fn host(
        name: &str,
        core: Option<usize>,
        idle: RawIdle,
        priority: RawPriority,
        actors: &[&str],
    ) -> Option<RawHost> {
        Some(RawHost {
            name: name.to_owned(),
            core,
            idle,
            priority,
            actors: actors.iter().map(|s| (*s).to_owned()).collect(),
        })
    }

    const HOT: &[&str] = &[
        "feed:binance",
        "feed:okx",
        "strategy:mm-btc",
        "gateway:binance",
        "gateway:okx",
    ];
    const LOW: &[&str] = &["latency", "persist", "status"];

    fn check(
        items: Vec<Option<RawHost>>,
        actors: &Actors<'_>,
    ) -> (Option<Vec<HostConfig>>, Vec<String>) {
        let mut errors = ConfigErrors::default();
        let list = RawList {
            items,
            broken_names: Vec::new(),
        };
        let r = place(&list, actors, &mut errors).ok();
        assert_eq!(r.is_none(), !errors.is_empty());
        (r, errors.iter().map(ToString::to_string).collect())
    }

    fn paths(errs: &[String]) -> Vec<&str> {
        errs.iter().map(|e| e.split(": ").next().unwrap()).collect()
    }

    #[test]
    fn defaults_place_everything_on_two_unpinned_hosts() {
        let w = world();
        let hosts = default_hosts(&w);
        assert_eq!(hosts.len(), 2);
        assert!(
            hosts
                .iter()
                .all(|h| h.core.is_none() && h.idle != IdlePolicy::Spin)
        );
        let labels = |h: &HostConfig| h.actors.iter().map(|a| w.label(a)).collect::<Vec<_>>();
        assert_eq!(labels(&hosts[0]), HOT);
        assert_eq!(labels(&hosts[1]), LOW);
        // The default layout passes the same checks as a written one.
        let (r, errs) = check(
            vec![
                host("hot", None, Backoff, Hot, HOT),
                host("service", None, Park, Low, LOW),
            ],
            &w,
        );
        assert!(errs.is_empty(), "{errs:?}");
        assert_eq!(r.unwrap()[0].actors, hosts[0].actors);
    }

    #[test]
    fn placement_rules() {
        let low = || host("svc", None, Park, Low, LOW);
        type Case = (Vec<Option<RawHost>>, &'static [&'static str]);
        let cases: Vec<Case> = vec![
            // One pinned spinning host per venue pipeline.
            (
                vec![
                    host(
                        "a",
                        Some(2),
                        Spin,
                        Hot,
                        &["feed:binance", "strategy:mm-btc", "gateway:binance"],
                    ),
                    host("b", Some(3), Spin, Hot, &["feed:okx", "gateway:okx"]),
                    low(),
                ],
                &[],
            ),
            // Spin without a core.
            (
                vec![host("a", None, Spin, Hot, HOT), low()],
                &["runtime.hosts[0].idle"],
            ),
            // Two hosts on one core, one spinning.
            (
                vec![
                    host(
                        "a",
                        Some(1),
                        Spin,
                        Hot,
                        &["feed:binance", "feed:okx", "strategy:mm-btc"],
                    ),
                    host(
                        "b",
                        Some(1),
                        Backoff,
                        Hot,
                        &["gateway:binance", "gateway:okx"],
                    ),
                    low(),
                ],
                &["runtime.hosts[1].core"],
            ),
            // Duplicate host name.
            (
                vec![
                    host("a", None, Backoff, Hot, HOT),
                    host("a", None, Park, Low, LOW),
                ],
                &["runtime.hosts[1].name"],
            ),
            // Unknown actors, and one placed twice.
            (
                vec![
                    host(
                        "a",
                        None,
                        Backoff,
                        Hot,
                        &[
                            "feed:binance",
                            "feed:okx",
                            "strategy:mm-btc",
                            "gateway:binance",
                            "gateway:okx",
                            "feed:kraken",
                            "strategy:nope",
                            "router",
                            "feed:binance",
                        ],
                    ),
                    low(),
                ],
                &[
                    "runtime.hosts[0].actors[5]",
                    "runtime.hosts[0].actors[6]",
                    "runtime.hosts[0].actors[7]",
                    "runtime.hosts[0].actors[8]",
                ],
            ),
            // Not implied: notifications are not configured.
            (
                vec![
                    host("a", None, Backoff, Hot, HOT),
                    host(
                        "svc",
                        None,
                        Park,
                        Low,
                        &["latency", "persist", "status", "notify"],
                    ),
                ],
                &["runtime.hosts[1].actors[3]"],
            ),
            // Hot-path work left unplaced.
            (
                vec![
                    host("a", None, Backoff, Hot, &HOT[..4]),
                    host("svc", None, Park, Low, LOW),
                ],
                &["runtime.hosts"],
            ),
            // Services left unplaced with no low-priority host to take them.
            (
                vec![host("a", None, Backoff, Hot, HOT)],
                &["runtime.hosts", "runtime.hosts", "runtime.hosts"],
            ),
            // Wrong priority both ways.
            (
                vec![
                    host(
                        "a",
                        None,
                        Backoff,
                        Hot,
                        &[
                            "feed:binance",
                            "feed:okx",
                            "strategy:mm-btc",
                            "gateway:binance",
                            "gateway:okx",
                            "persist",
                        ],
                    ),
                    host("svc", None, Park, Low, &["latency", "status"]),
                    host("slow", None, Park, Low, &[]),
                ],
                &["runtime.hosts[0].actors[5]", "runtime.hosts[2].actors"],
            ),
        ];
        for (n, (items, want)) in cases.into_iter().enumerate() {
            let (_, errs) = check(items, &world());
            assert_eq!(paths(&errs), want, "case {n}: {errs:#?}");
        }
    }

    #[test]
    fn broken_names_are_not_reported_twice() {
        let mut w = world();
        w.broken = vec!["kraken"];
        w.incomplete = true;
        let (_, errs) = check(
            vec![host(
                "a",
                None,
                Backoff,
                Hot,
                &["feed:kraken", "feed:binance"],
            )],
            &w,
        );
        assert!(errs.is_empty(), "{errs:?}");
    }

    #[test]
    fn messages_say_what_to_do() {
        let (_, errs) = check(
            vec![
                host("a", None, Backoff, Hot, &HOT[..4]),
                host("svc", None, Park, Low, &["latency", "status"]),
            ],
            &world(),
        );
        assert_eq!(
            errs,
            [
                "runtime.hosts: actor \"gateway:okx\" is not placed on any host: add it to the actors of a [[runtime.hosts]] with priority = \"hot\""
            ]
        );
        let (_, errs) = check(vec![host("a", None, Backoff, Hot, HOT)], &world());
        assert_eq!(
            errs[0],
            "runtime.hosts: actor \"latency\" is not placed on any host: no host has priority = \"low\" to run it: add one, or add it to the actors of one"
        );
    }

    /// A service the hosts do not name (here `persist`, and `notify` once notifications are
    /// configured) runs on the first low-priority host, after the ones placed there.
    #[test]
    fn unplaced_services_go_to_the_first_low_host() {
        let mut w = world();
        w.notify = true;
        let (r, errs) = check(
            vec![
                host("a", Some(1), Backoff, Hot, HOT),
                host("svc", None, Park, Low, &["latency", "status"]),
                host("svc2", None, Park, Low, &[]),
            ],
            &w,
        );
        // The empty host is still refused: only the services' placement is implied.
        assert_eq!(paths(&errs), ["runtime.hosts[2].actors"], "{errs:?}");
        assert!(r.is_none());
        let (r, errs) = check(
            vec![
                host("a", Some(1), Backoff, Hot, HOT),
                host("svc", None, Park, Low, &["latency", "status"]),
            ],
            &w,
        );
        assert!(errs.is_empty(), "{errs:?}");
        let hosts = r.unwrap();
        let labels = |h: &HostConfig| h.actors.iter().map(|a| w.label(a)).collect::<Vec<_>>();
        assert_eq!(labels(&hosts[0]), HOT);
        assert_eq!(
            labels(&hosts[1]),
            ["latency", "status", "persist", "notify"]
        );
    }
}

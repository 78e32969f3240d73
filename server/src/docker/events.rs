//! The engine's container events (OOM, death by SIGKILL, start), followed continuously between
//! refreshes. Asking for a window of past events at each refresh is not enough: the engine keeps
//! only a short buffer (256 events in Docker 20.10), and one container running out of memory can
//! report hundreds of `oom` events, pushing everything else out of it.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bollard::Docker;
use bollard::query_parameters::EventsOptions;
use futures::StreamExt;
use time::OffsetDateTime;

use super::observation::{ContainerEvent, ContainerEventKind};

/// Events kept while waiting for the next refresh; the oldest go first beyond this.
const MAX_WAITING: usize = 10_000;
/// Pause before following the stream again after the engine closed it or could not be reached.
const RECONNECT_AFTER: Duration = Duration::from_secs(5);

/// One engine's event stream, followed by a task of its own from the first refresh on, and the
/// events it delivered that no refresh has taken yet.
#[derive(Default)]
pub struct EventFeed {
    waiting: Arc<Mutex<VecDeque<(String, ContainerEvent)>>>,
    follower: Mutex<Option<tokio::task::JoinHandle<()>>>,
}

impl EventFeed {
    /// Starts following the engine's stream from `since` (the engine replays what it still has),
    /// unless a follower runs already.
    pub fn follow(&self, docker: &Docker, engine: &str, since: OffsetDateTime) {
        let Ok(mut follower) = self.follower.lock() else {
            return;
        };
        if follower.as_ref().is_some_and(|task| !task.is_finished()) {
            return;
        }
        let (docker, engine, waiting) = (docker.clone(), engine.to_string(), self.waiting.clone());
        *follower = Some(tokio::spawn(follow(docker, engine, since, waiting)));
    }

    /// The delivered events that happened up to `until`, by container id; later ones wait for
    /// the next refresh.
    pub fn take_until(&self, until: OffsetDateTime) -> HashMap<String, Vec<ContainerEvent>> {
        let mut by_container: HashMap<String, Vec<ContainerEvent>> = HashMap::new();
        let Ok(mut waiting) = self.waiting.lock() else {
            return by_container;
        };
        let mut later = VecDeque::new();
        for (id, event) in waiting.drain(..) {
            if event.at <= until {
                by_container.entry(id).or_default().push(event);
            } else {
                later.push_back((id, event));
            }
        }
        *waiting = later;
        for events in by_container.values_mut() {
            events.sort_by_key(|e| e.at);
        }
        by_container
    }
}

impl Drop for EventFeed {
    fn drop(&mut self) {
        if let Ok(mut follower) = self.follower.lock()
            && let Some(task) = follower.take()
        {
            task.abort();
        }
    }
}

async fn follow(
    docker: Docker,
    engine: String,
    mut since: OffsetDateTime,
    waiting: Arc<Mutex<VecDeque<(String, ContainerEvent)>>>,
) {
    loop {
        let options = EventsOptions {
            since: Some(stamp(since)),
            until: None,
            filters: Some(HashMap::from([
                ("type".to_string(), vec!["container".to_string()]),
                (
                    "event".to_string(),
                    vec!["oom".to_string(), "die".to_string(), "start".to_string()],
                ),
            ])),
        };
        let mut stream = docker.events(Some(options));
        while let Some(item) = stream.next().await {
            let message = match item {
                Ok(message) => message,
                Err(e) => {
                    tracing::debug!(engine = %engine, error = %e, "the event stream broke off");
                    break;
                }
            };
            let Some((id, event)) = container_event(&message) else {
                continue;
            };
            // Resume after the last event seen, so a reconnection delivers nothing twice.
            since = event.at + time::Duration::nanoseconds(1);
            if let Ok(mut waiting) = waiting.lock() {
                if waiting.len() == MAX_WAITING {
                    waiting.pop_front();
                }
                waiting.push_back((id, event));
            }
        }
        tokio::time::sleep(RECONNECT_AFTER).await;
    }
}

/// Docker reads `seconds.nanoseconds`; whole seconds would repeat or drop events of one second.
fn stamp(t: OffsetDateTime) -> String {
    format!("{}.{:09}", t.unix_timestamp(), t.nanosecond())
}

/// A container event as plain data, or nothing for events the audit does not use.
fn container_event(event: &bollard::models::EventMessage) -> Option<(String, ContainerEvent)> {
    let actor = event.actor.as_ref()?;
    let id = actor.id.clone()?;
    let at = match event.time_nano {
        Some(nanos) => OffsetDateTime::from_unix_timestamp_nanos(i128::from(nanos)).ok()?,
        None => OffsetDateTime::from_unix_timestamp(event.time?).ok()?,
    };
    let kind = match event.action.as_deref()? {
        "oom" => ContainerEventKind::OomKill,
        "start" => ContainerEventKind::Started,
        "die" => {
            let exit = actor
                .attributes
                .as_ref()
                .and_then(|a| a.get("exitCode"))
                .map(String::as_str);
            if exit != Some("137") {
                return None;
            }
            ContainerEventKind::Killed
        }
        _ => return None,
    };
    Some((id, ContainerEvent { at, kind }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refreshes_take_the_events_up_to_their_start_and_leave_the_rest() {
        let feed = EventFeed::default();
        let at = |secs: i64| OffsetDateTime::UNIX_EPOCH + time::Duration::seconds(secs);
        {
            let mut waiting = feed.waiting.lock().expect("lock");
            for (id, secs) in [("a", 12), ("b", 5), ("a", 3), ("a", 30)] {
                waiting.push_back((
                    id.to_string(),
                    ContainerEvent {
                        at: at(secs),
                        kind: ContainerEventKind::OomKill,
                    },
                ));
            }
        }
        let taken = feed.take_until(at(20));
        let times = |id: &str| taken[id].iter().map(|e| e.at).collect::<Vec<_>>();
        assert_eq!(times("a"), [at(3), at(12)], "in order of time");
        assert_eq!(times("b"), [at(5)]);
        let next = feed.take_until(at(40));
        assert_eq!(
            next["a"].len(),
            1,
            "the later one waited for the next refresh"
        );
        assert!(feed.take_until(at(50)).is_empty());
    }
}

use super::*;
use chrono::Utc;
use std::fmt::Debug;
use std::sync::Arc;
use tessera_domain::{TenantId, UserId};
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Level, Metadata, Subscriber};
use uuid::Uuid;

const PERSONAL: &str = "someone@example.test";

fn event(kind: &str, actor: Option<UserId>) -> DomainEvent {
    DomainEvent {
        id: Uuid::now_v7(),
        kind: kind.to_owned(),
        tenant_id: TenantId(Uuid::now_v7()),
        actor,
        at: Utc::now(),
        data: serde_json::json!({ "email": PERSONAL, "changed": ["name"] }),
    }
}

fn kinds(sink: &MemoryEventSink) -> Vec<String> {
    sink.events().into_iter().map(|e| e.kind).collect()
}

#[tokio::test]
async fn keeps_the_most_recent_events_oldest_first() {
    let sink = MemoryEventSink::new(3);
    assert!(sink.events().is_empty());
    for kind in ["a", "b", "c", "d", "e"] {
        sink.record(event(kind, None)).await.unwrap();
    }
    assert_eq!(kinds(&sink), ["c", "d", "e"]);
    assert_eq!(sink.capacity(), 3);
}

#[tokio::test]
async fn events_are_kept_whole() {
    let sink = MemoryEventSink::new(10);
    let recorded = event("tenant.settings_updated", Some(UserId(Uuid::now_v7())));
    sink.record(recorded.clone()).await.unwrap();
    assert_eq!(sink.events(), [recorded]);
}

#[tokio::test]
async fn a_snapshot_does_not_change_with_later_events() {
    let sink = MemoryEventSink::new(2);
    sink.record(event("a", None)).await.unwrap();
    let snapshot = sink.events();
    sink.record(event("b", None)).await.unwrap();
    sink.record(event("c", None)).await.unwrap();
    assert_eq!(snapshot.len(), 1);
    assert_eq!(snapshot[0].kind, "a");
    assert_eq!(kinds(&sink), ["b", "c"]);
}

#[tokio::test]
async fn zero_capacity_logs_but_keeps_nothing() {
    let sink = MemoryEventSink::new(0);
    let logs = Captured::default();
    let _guard = tracing::subscriber::set_default(logs.clone());
    sink.record(event("a", None)).await.unwrap();
    assert!(sink.events().is_empty());
    assert_eq!(logs.messages(Level::INFO), ["domain event"]);
}

#[tokio::test]
async fn concurrent_records_are_all_kept() {
    let sink = Arc::new(MemoryEventSink::new(100));
    let tasks: Vec<_> = (0..20)
        .map(|i| {
            let sink = Arc::clone(&sink);
            tokio::spawn(async move { sink.record(event(&format!("k{i}"), None)).await })
        })
        .collect();
    for task in tasks {
        task.await.unwrap().unwrap();
    }
    assert_eq!(sink.events().len(), 20);
}

#[tokio::test]
async fn info_names_kind_tenant_and_actor_but_never_the_data() {
    let sink = MemoryEventSink::new(1);
    let logs = Captured::default();
    let _guard = tracing::subscriber::set_default(logs.clone());
    let actor = UserId(Uuid::now_v7());
    let recorded = event("user.role_changed", Some(actor));
    sink.record(recorded.clone()).await.unwrap();

    let info = logs.at(Level::INFO);
    assert_eq!(info.len(), 1, "{info:?}");
    let fields = &info[0];
    let field = |name: &str| fields.iter().find(|(n, _)| n == name).map(|(_, v)| v.clone());
    assert_eq!(field("message").as_deref(), Some("domain event"));
    assert_eq!(field("kind").as_deref(), Some("user.role_changed"));
    assert_eq!(field("tenant_id"), Some(recorded.tenant_id.to_string()));
    assert_eq!(field("actor"), Some(actor.to_string()));
    assert_eq!(field("event_id"), Some(recorded.id.to_string()));
    assert_eq!(field("data"), None);
    assert!(fields.iter().all(|(_, v)| !v.contains(PERSONAL)), "{fields:?}");

    // The payload is there for whoever turns debug on.
    let debug = logs.at(Level::DEBUG);
    assert!(debug.iter().flatten().any(|(n, v)| n == "data" && v.contains(PERSONAL)));
}

#[tokio::test]
async fn an_event_without_actor_logs_no_actor() {
    let sink = MemoryEventSink::new(1);
    let logs = Captured::default();
    let _guard = tracing::subscriber::set_default(logs.clone());
    sink.record(event("tenant.suspended", None)).await.unwrap();
    let info = logs.at(Level::INFO);
    assert_eq!(info.len(), 1);
    assert!(info[0].iter().all(|(n, _)| n != "actor"), "{info:?}");
}

type Fields = Vec<(String, String)>;

/// A subscriber that records every event's level and fields.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<(Level, Fields)>>>);

impl Captured {
    fn at(&self, level: Level) -> Vec<Fields> {
        let events = self.0.lock().unwrap();
        events.iter().filter(|(l, _)| *l == level).map(|(_, f)| f.clone()).collect()
    }

    fn messages(&self, level: Level) -> Vec<String> {
        self.at(level).into_iter().flatten().filter(|(n, _)| n == "message").map(|(_, v)| v).collect()
    }
}

struct Collect(Fields);

impl Visit for Collect {
    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.push((field.name().to_owned(), value.to_owned()));
    }

    fn record_debug(&mut self, field: &Field, value: &dyn Debug) {
        self.0.push((field.name().to_owned(), format!("{value:?}")));
    }
}

impl Subscriber for Captured {
    fn enabled(&self, _: &Metadata<'_>) -> bool {
        true
    }

    fn new_span(&self, _: &Attributes<'_>) -> Id {
        Id::from_u64(1)
    }

    fn record(&self, _: &Id, _: &Record<'_>) {}

    fn record_follows_from(&self, _: &Id, _: &Id) {}

    fn event(&self, event: &Event<'_>) {
        let mut fields = Collect(Vec::new());
        event.record(&mut fields);
        self.0.lock().unwrap().push((*event.metadata().level(), fields.0));
    }

    fn enter(&self, _: &Id) {}

    fn exit(&self, _: &Id) {}
}

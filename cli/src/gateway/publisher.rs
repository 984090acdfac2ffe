//! The one task that talks to the broker.
//!
//! Listeners hand it the messages one instrument message produced and wait; it
//! answers when each of them is either acknowledged by the broker (PUBACK, QoS 1) or
//! written durably to the [spool](super::spool). Only then does the listener
//! acknowledge the instrument, so a message the instrument was told is safe is never
//! only in memory.
//!
//! Messages are kept in one queue ordered by a sequence number and published in that
//! order. A message is spooled when the broker is unreachable when it arrives, when
//! the connection drops before its PUBACK, or when its PUBACK takes longer than
//! `spool_after`; spooled messages stay in the queue and are published (again) after
//! a reconnect with their original `msg-id`. QoS 1 allows the broker to see a message
//! twice; consumers drop duplicates by `msg-id`.
//!
//! Every connection attempt gets a fresh rumqttc client and event loop (a
//! *generation*): requests queued inside an old event loop die with it, so a packet
//! identifier is only ever matched to a publish of the current connection.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use rumqttc::v5::mqttbytes::QoS;
use rumqttc::v5::mqttbytes::v5::{
    LastWill, LastWillProperties, Packet, PubAckReason, PublishProperties,
};
use rumqttc::v5::{AsyncClient, Event, EventLoop, MqttOptions};
use rumqttc::{Outgoing, TlsConfiguration, Transport};
use tokio::sync::{mpsc, oneshot};
use tokio::time::Instant;

use super::config::{BrokerConfig, DeliveryConfig};
use super::deadletter::DeadLetters;
use super::publication::Publication;
use super::spool::Spool;

/// What the gateway counts; published with its status.
#[derive(Debug, Default)]
pub(crate) struct Counters {
    /// Instrument messages accepted (parsed and mapped).
    pub(crate) received: AtomicU64,
    /// MQTT messages acknowledged by the broker.
    pub(crate) published: AtomicU64,
    /// MQTT messages written to the spool.
    pub(crate) spooled: AtomicU64,
    /// Instrument messages (or broker-refused MQTT messages) put in the dead-letter folder.
    pub(crate) dead_lettered: AtomicU64,
    /// Connections to the broker lost and made again.
    pub(crate) reconnects: AtomicU64,
}

impl Counters {
    /// The counters as a JSON object.
    pub(crate) fn to_json(&self) -> serde_json::Value {
        let get = |counter: &AtomicU64| counter.load(Ordering::Relaxed);
        serde_json::json!({
            "received": get(&self.received),
            "published": get(&self.published),
            "spooled": get(&self.spooled),
            "dead_lettered": get(&self.dead_lettered),
            "reconnects": get(&self.reconnects),
        })
    }
}

/// Adds one to a counter.
pub(crate) fn count(counter: &AtomicU64, n: u64) {
    counter.fetch_add(n, Ordering::Relaxed);
}

enum Command {
    /// Messages to deliver; `done` hears when all are safe.
    Submit {
        messages: Vec<Publication>,
        done: Option<oneshot::Sender<Result<(), String>>>,
    },
    /// Stop taking work, deliver or spool what is queued, say goodbye.
    Shutdown { offline: Publication },
}

/// The listeners' side of the publisher.
#[derive(Clone)]
pub(crate) struct PublisherHandle {
    commands: mpsc::Sender<Command>,
    pub(crate) counters: Arc<Counters>,
}

impl PublisherHandle {
    /// Delivers `messages` and waits until each is acknowledged by the broker or
    /// spooled. An error means they are neither: do not acknowledge the instrument.
    pub(crate) async fn deliver(&self, messages: Vec<Publication>) -> Result<(), String> {
        if messages.is_empty() {
            return Ok(());
        }
        let (done, wait) = oneshot::channel();
        self.commands
            .send(Command::Submit {
                messages,
                done: Some(done),
            })
            .await
            .map_err(|_| "the gateway is shutting down".to_owned())?;
        wait.await
            .map_err(|_| "the gateway is shutting down".to_owned())?
    }

    /// Queues a message without waiting (the gateway's own status messages).
    pub(crate) async fn send(&self, message: Publication) {
        let _ = self
            .commands
            .send(Command::Submit {
                messages: vec![message],
                done: None,
            })
            .await;
    }

    /// Asks the publisher to finish: queued messages are delivered or spooled, then
    /// `offline` is published (retained) and the connection closed cleanly.
    pub(crate) async fn shutdown(&self, offline: Publication) {
        let _ = self.commands.send(Command::Shutdown { offline }).await;
    }
}

struct Entry {
    publication: Publication,
    batch: Option<u64>,
    /// Acknowledged by the broker or spooled: the instrument may be told.
    safe: bool,
    spooled: bool,
    /// Published on the current connection (waiting for its PUBACK).
    sent: bool,
    since: Instant,
}

struct Batch {
    unsafe_count: usize,
    done: oneshot::Sender<Result<(), String>>,
}

/// Where a packet identifier came from.
#[derive(Clone, Copy)]
enum Sent {
    Entry(u64),
    Birth,
}

struct Connection {
    generation: u64,
    client: AsyncClient,
    connected: bool,
    /// Publishes handed to rumqttc whose packet identifier is not known yet, in order.
    awaiting_pkid: VecDeque<Sent>,
    by_pkid: HashMap<u16, Sent>,
    inflight: usize,
}

type GenerationEvent = (u64, Result<Event, String>);

/// What the publisher starts from.
pub(crate) struct Setup {
    pub(crate) broker: BrokerConfig,
    pub(crate) delivery: DeliveryConfig,
    pub(crate) spool: Spool,
    /// Messages read back from the spool; they go first, in order.
    pub(crate) recovered: Vec<(u64, Publication)>,
    /// The highest sequence number in the spool.
    pub(crate) last_sequence: u64,
    /// Published (retained) after every connect.
    pub(crate) birth: Publication,
    /// Left with the broker as the last will.
    pub(crate) will: Publication,
    pub(crate) dead_letters: Arc<DeadLetters>,
}

/// Starts the publisher task.
pub(crate) fn start(setup: Setup) -> (PublisherHandle, tokio::task::JoinHandle<()>) {
    let Setup {
        broker,
        delivery,
        spool,
        recovered,
        last_sequence,
        birth,
        will,
        dead_letters,
    } = setup;
    let (commands, receiver) = mpsc::channel(64);
    let counters = Arc::new(Counters::default());
    let mut entries = BTreeMap::new();
    let now = Instant::now();
    for (sequence, publication) in recovered {
        entries.insert(
            sequence,
            Entry {
                publication,
                batch: None,
                safe: true,
                spooled: true,
                sent: false,
                since: now,
            },
        );
    }
    let task = Task {
        broker,
        delivery,
        spool,
        entries,
        next_sequence: last_sequence + 1,
        batches: HashMap::new(),
        next_batch: 0,
        birth,
        will,
        dead_letters,
        counters: Arc::clone(&counters),
        connection: None,
        generation: 0,
        failures: 0,
    };
    let handle = tokio::spawn(task.run(receiver));
    (PublisherHandle { commands, counters }, handle)
}

struct Task {
    broker: BrokerConfig,
    delivery: DeliveryConfig,
    spool: Spool,
    entries: BTreeMap<u64, Entry>,
    next_sequence: u64,
    batches: HashMap<u64, Batch>,
    next_batch: u64,
    birth: Publication,
    will: Publication,
    dead_letters: Arc<DeadLetters>,
    counters: Arc<Counters>,
    connection: Option<Connection>,
    generation: u64,
    /// Connection attempts failed in a row, for the back-off.
    failures: u32,
}

impl Task {
    async fn run(mut self, mut commands: mpsc::Receiver<Command>) {
        let (events_tx, mut events) = mpsc::channel::<GenerationEvent>(1024);
        let mut reconnect_at = Some(Instant::now());
        let mut tick = tokio::time::interval(Duration::from_millis(100));
        let mut shutdown: Option<(Publication, Instant)> = None;
        loop {
            let taking = shutdown.is_none() && self.entries.len() < self.delivery.max_queue;
            let retry = async {
                match reconnect_at {
                    Some(at) => tokio::time::sleep_until(at).await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                command = commands.recv(), if taking => match command {
                    Some(Command::Submit { messages, done }) => {
                        self.accept(messages, done);
                        // Take whatever else is waiting, so one spool write covers it all.
                        while self.entries.len() < self.delivery.max_queue {
                            match commands.try_recv() {
                                Ok(Command::Submit { messages, done }) => self.accept(messages, done),
                                Ok(Command::Shutdown { offline }) => {
                                    shutdown = Some((offline, Instant::now() + Duration::from_secs(5)));
                                    break;
                                }
                                Err(_) => break,
                            }
                        }
                        if self.is_connected() {
                            self.publish_ready();
                        } else {
                            self.spool_unsafe(|_| true);
                        }
                    }
                    Some(Command::Shutdown { offline }) => {
                        shutdown = Some((offline, Instant::now() + Duration::from_secs(5)));
                    }
                    None => {
                        shutdown = Some((self.will.clone(), Instant::now() + Duration::from_secs(5)));
                    }
                },
                Some((generation, event)) = events.recv() => {
                    if generation == self.generation
                        && let Some(at) = self.on_event(event)
                    {
                        reconnect_at = Some(at);
                    }
                }
                () = retry => {
                    reconnect_at = None;
                    self.connect(events_tx.clone());
                }
                _ = tick.tick() => {
                    let limit = self.delivery.spool_after;
                    let now = Instant::now();
                    self.spool_unsafe(|entry| now.duration_since(entry.since) >= limit);
                }
            }
            if let Some((offline, deadline)) = &shutdown {
                let drained = self.entries.values().all(|entry| entry.spooled);
                if drained || Instant::now() >= *deadline || !self.is_connected() {
                    self.spool_unsafe(|_| true);
                    self.say_goodbye(offline.clone(), &mut events).await;
                    return;
                }
            }
        }
    }

    fn is_connected(&self) -> bool {
        self.connection.as_ref().is_some_and(|c| c.connected)
    }

    fn accept(
        &mut self,
        messages: Vec<Publication>,
        done: Option<oneshot::Sender<Result<(), String>>>,
    ) {
        let batch = done.map(|done| {
            let id = self.next_batch;
            self.next_batch += 1;
            self.batches.insert(
                id,
                Batch {
                    unsafe_count: messages.len(),
                    done,
                },
            );
            id
        });
        let now = Instant::now();
        for publication in messages {
            let sequence = self.next_sequence;
            self.next_sequence += 1;
            self.entries.insert(
                sequence,
                Entry {
                    publication,
                    batch,
                    safe: false,
                    spooled: false,
                    sent: false,
                    since: now,
                },
            );
        }
    }

    /// Starts a connection attempt with a fresh client and event loop.
    fn connect(&mut self, events: mpsc::Sender<GenerationEvent>) {
        self.generation += 1;
        let generation = self.generation;
        let mut options = MqttOptions::new(
            self.broker.client_id.clone(),
            self.broker.host.clone(),
            self.broker.port,
        );
        options
            .set_keep_alive(self.broker.keep_alive)
            .set_clean_start(true)
            .set_connection_timeout(10)
            .set_outgoing_inflight_upper_limit(self.delivery.max_inflight)
            .set_request_channel_capacity(usize::from(self.delivery.max_inflight) + 8)
            .set_last_will(LastWill::new(
                self.will.topic.clone(),
                self.will.payload.clone(),
                QoS::AtLeastOnce,
                true,
                Some(LastWillProperties {
                    delay_interval: None,
                    payload_format_indicator: Some(self.will.payload_format_indicator),
                    message_expiry_interval: None,
                    content_type: Some(self.will.content_type.clone()),
                    response_topic: None,
                    correlation_data: None,
                    user_properties: self.will.user_properties.clone(),
                }),
            ));
        if let (Some(user), password) = (&self.broker.username, &self.broker.password) {
            let password = password
                .as_ref()
                .map(|secret| String::from_utf8_lossy(&secret.0).into_owned())
                .unwrap_or_default();
            options.set_credentials(user.clone(), password);
        }
        if let Some(tls) = &self.broker.tls {
            options.set_transport(Transport::Tls(TlsConfiguration::Simple {
                ca: tls.ca.clone(),
                alpn: None,
                client_auth: tls
                    .client
                    .as_ref()
                    .map(|(cert, key)| (cert.clone(), key.0.clone())),
            }));
        }
        let (client, eventloop) =
            AsyncClient::new(options, usize::from(self.delivery.max_inflight) + 8);
        tokio::spawn(forward(generation, eventloop, events));
        self.connection = Some(Connection {
            generation,
            client,
            connected: false,
            awaiting_pkid: VecDeque::new(),
            by_pkid: HashMap::new(),
            inflight: 0,
        });
    }

    /// Handles an event of the current connection; returns when to try again after
    /// the connection failed.
    fn on_event(&mut self, event: Result<Event, String>) -> Option<Instant> {
        match event {
            Ok(Event::Incoming(Packet::ConnAck(_))) => {
                self.failures = 0;
                tracing::info!(host = %self.broker.host, port = self.broker.port, "connected to the broker");
                let birth = self.birth.clone();
                if let Some(connection) = &mut self.connection {
                    connection.connected = true;
                    if publish(&connection.client, &birth) {
                        connection.awaiting_pkid.push_back(Sent::Birth);
                    }
                }
                for entry in self.entries.values_mut() {
                    entry.sent = false;
                }
                self.publish_ready();
                None
            }
            Ok(Event::Outgoing(Outgoing::Publish(pkid))) => {
                if let Some(connection) = &mut self.connection
                    && let Some(sent) = connection.awaiting_pkid.pop_front()
                {
                    connection.by_pkid.insert(pkid, sent);
                }
                None
            }
            Ok(Event::Incoming(Packet::PubAck(ack))) => {
                let sent = self
                    .connection
                    .as_mut()
                    .and_then(|connection| connection.by_pkid.remove(&ack.pkid));
                if let Some(Sent::Entry(sequence)) = sent {
                    if let Some(connection) = &mut self.connection {
                        connection.inflight = connection.inflight.saturating_sub(1);
                    }
                    self.on_puback(sequence, ack.reason);
                }
                self.publish_ready();
                None
            }
            Ok(Event::Incoming(Packet::Disconnect(disconnect))) => {
                tracing::warn!(reason = ?disconnect.reason_code, "the broker disconnected us");
                None
            }
            Ok(_) => None,
            Err(error) => {
                let was_connected = self.is_connected();
                if was_connected {
                    count(&self.counters.reconnects, 1);
                    tracing::warn!(%error, "lost the broker; spooling until it is back");
                } else if self.failures == 0 {
                    tracing::warn!(%error, "cannot reach the broker; spooling");
                }
                self.connection = None;
                self.failures = self.failures.saturating_add(1);
                self.spool_unsafe(|_| true);
                for entry in self.entries.values_mut() {
                    entry.sent = false;
                }
                // 0.2 s, 0.4 s … up to 5 s between attempts.
                let backoff =
                    Duration::from_millis(200u64 << self.failures.min(5).saturating_sub(1))
                        .min(Duration::from_secs(5));
                Some(Instant::now() + backoff)
            }
        }
    }

    fn on_puback(&mut self, sequence: u64, reason: PubAckReason) {
        let Some(entry) = self.entries.remove(&sequence) else {
            return;
        };
        let accepted = matches!(
            reason,
            PubAckReason::Success | PubAckReason::NoMatchingSubscribers
        );
        if accepted {
            count(&self.counters.published, 1);
        } else {
            // The broker refuses this message (ACL, quota, invalid): retrying will not
            // help. Keep it where an operator finds it, instead of dropping it.
            tracing::error!(topic = %entry.publication.topic, msg_id = entry.publication.msg_id(), ?reason, "the broker refused a message; dead-lettered");
            count(&self.counters.dead_lettered, 1);
            let reason = format!("broker refused the message: {reason:?}");
            let mut bytes = Vec::new();
            entry.publication.encode(&mut bytes);
            if let Err(error) = self.dead_letters.write("broker", "mqtt", &bytes, &reason) {
                tracing::error!(%error, "could not write the dead-letter file");
            }
        }
        if entry.spooled
            && let Err(error) = self.spool.acknowledge(sequence)
        {
            tracing::error!(%error, "could not update the spool");
        }
        if !entry.safe {
            self.mark_safe(entry.batch);
        }
    }

    fn mark_safe(&mut self, batch: Option<u64>) {
        let Some(id) = batch else {
            return;
        };
        let finished = match self.batches.get_mut(&id) {
            Some(batch) => {
                batch.unsafe_count = batch.unsafe_count.saturating_sub(1);
                batch.unsafe_count == 0
            }
            None => false,
        };
        if finished && let Some(batch) = self.batches.remove(&id) {
            let _ = batch.done.send(Ok(()));
        }
    }

    /// Publishes queued messages in order while there is room in flight.
    fn publish_ready(&mut self) {
        let Some(connection) = &mut self.connection else {
            return;
        };
        if !connection.connected {
            return;
        }
        let limit = usize::from(self.delivery.max_inflight);
        for (sequence, entry) in self.entries.iter_mut() {
            if connection.inflight >= limit {
                break;
            }
            if entry.sent {
                continue;
            }
            if !publish(&connection.client, &entry.publication) {
                // The event loop is gone; its error event will follow.
                break;
            }
            entry.sent = true;
            connection.inflight += 1;
            connection.awaiting_pkid.push_back(Sent::Entry(*sequence));
        }
    }

    /// Writes every not-yet-safe message that `due` selects to the spool (one
    /// `fsync`) and tells the waiting listeners.
    fn spool_unsafe(&mut self, due: impl Fn(&Entry) -> bool) {
        let selected: Vec<u64> = self
            .entries
            .iter()
            .filter(|(_, entry)| !entry.spooled && due(entry))
            .map(|(sequence, _)| *sequence)
            .collect();
        if selected.is_empty() {
            return;
        }
        let written =
            tokio::task::block_in_place(|| {
                self.spool.append(selected.iter().filter_map(|sequence| {
                    Some((*sequence, &self.entries.get(sequence)?.publication))
                }))
            });
        match written {
            Ok(()) => {
                count(&self.counters.spooled, selected.len() as u64);
                for sequence in selected {
                    let batch = match self.entries.get_mut(&sequence) {
                        Some(entry) => {
                            entry.spooled = true;
                            let was_safe = entry.safe;
                            entry.safe = true;
                            (!was_safe).then_some(entry.batch)
                        }
                        None => None,
                    };
                    if let Some(batch) = batch {
                        self.mark_safe(batch);
                    }
                }
            }
            Err(error) => {
                // Neither delivered nor durable: the instruments must not be told
                // their messages are safe. Fail the waiting batches; the messages
                // stay queued and are still published when the broker is back.
                tracing::error!(%error, spool = %self.spool.path().display(), "cannot write the spool");
                for sequence in selected {
                    let batch = self.entries.get_mut(&sequence).and_then(|entry| {
                        let batch = entry.batch.take();
                        entry.safe = true;
                        batch
                    });
                    if let Some(batch) = batch.and_then(|id| self.batches.remove(&id)) {
                        let _ = batch
                            .done
                            .send(Err(format!("cannot write the spool: {error}")));
                    }
                }
            }
        }
    }

    /// Publishes the offline status and closes the connection cleanly (no will).
    async fn say_goodbye(
        &mut self,
        offline: Publication,
        events: &mut mpsc::Receiver<GenerationEvent>,
    ) {
        let Some(connection) = self.connection.take() else {
            return;
        };
        if !connection.connected {
            return;
        }
        if !publish(&connection.client, &offline) {
            return;
        }
        // Wait (briefly) for its PUBACK, then DISCONNECT. Publishes still waiting for
        // their packet id come out first; the one after them is the offline status.
        let deadline = Instant::now() + Duration::from_secs(2);
        let mut earlier = connection.awaiting_pkid.len();
        let mut offline_pkid = None;
        loop {
            let event = match tokio::time::timeout_at(deadline, events.recv()).await {
                Ok(Some((generation, event))) if generation == connection.generation => {
                    match event {
                        Ok(event) => event,
                        // The connection is gone: no PUBACK will come.
                        Err(_) => break,
                    }
                }
                Ok(Some(_)) => continue,
                _ => break,
            };
            match event {
                Event::Outgoing(Outgoing::Publish(pkid)) if earlier == 0 => {
                    offline_pkid = Some(pkid);
                }
                Event::Outgoing(Outgoing::Publish(_)) => earlier -= 1,
                Event::Incoming(Packet::PubAck(ack)) if Some(ack.pkid) == offline_pkid => break,
                _ => {}
            }
        }
        let _ = connection.client.disconnect().await;
        tracing::info!("disconnected from the broker");
    }
}

/// Hands a publish to the event loop; `false` if the event loop is gone.
fn publish(client: &AsyncClient, publication: &Publication) -> bool {
    let properties = PublishProperties {
        payload_format_indicator: Some(publication.payload_format_indicator),
        message_expiry_interval: publication.message_expiry,
        content_type: Some(publication.content_type.clone()),
        user_properties: publication.user_properties.clone(),
        ..PublishProperties::default()
    };
    client
        .try_publish_with_properties(
            publication.topic.clone(),
            QoS::AtLeastOnce,
            publication.retain,
            publication.payload.clone(),
            properties,
        )
        .is_ok()
}

/// Runs one event loop until it fails, forwarding its events.
async fn forward(generation: u64, mut eventloop: EventLoop, events: mpsc::Sender<GenerationEvent>) {
    loop {
        let event = eventloop.poll().await.map_err(|error| error.to_string());
        let failed = event.is_err();
        if events.send((generation, event)).await.is_err() || failed {
            return;
        }
    }
}

//! The optional Prometheus endpoint: `GET /metrics` answers with the gateway's
//! counters in the text exposition format 0.0.4.
//!
//! A deliberately small HTTP/1.1 server over a tokio `TcpListener`: it reads one
//! request head (at most [`MAX_REQUEST_BYTES`], within [`REQUEST_TIMEOUT`]), answers
//! it and closes the connection. `GET /metrics` gets the counters, another path 404,
//! another method on `/metrics` 405, anything unreadable 400 (431 when too large). At
//! most [`MAX_SCRAPES`] requests are served at once; more connections are closed
//! unanswered, so a misbehaving client cannot make the gateway hold much memory.

use std::fmt::Write as _;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Semaphore, watch};
use tokio::task::JoinSet;

use super::config::{ListenerConfig, Transport};
use super::publisher::Counters;

/// The largest request head read; Prometheus sends a few hundred bytes.
pub(crate) const MAX_REQUEST_BYTES: usize = 8 * 1024;
/// How long a client has to send its request head.
pub(crate) const REQUEST_TIMEOUT: Duration = Duration::from_secs(5);
/// Requests served at once.
pub(crate) const MAX_SCRAPES: usize = 4;

/// What one listener counts (the gateway-wide [`Counters`] add up all listeners and
/// the broker side).
#[derive(Debug, Default)]
pub(crate) struct ListenerCounters {
    /// Instrument messages accepted (parsed and mapped).
    pub(crate) received: AtomicU64,
    /// Instrument input refused and put in the dead-letter folder.
    pub(crate) dead_lettered: AtomicU64,
    /// Instrument links made: TCP connections accepted, or the serial port opened.
    pub(crate) links: AtomicU64,
    /// Instrument links up now.
    pub(crate) links_up: AtomicU64,
    /// Serial ports only: attempts to open the port that failed.
    pub(crate) open_failures: AtomicU64,
}

impl ListenerCounters {
    /// Counts a link coming up (`true`) or going down.
    pub(crate) fn link(&self, up: bool) {
        if up {
            self.links.fetch_add(1, Ordering::Relaxed);
            self.links_up.fetch_add(1, Ordering::Relaxed);
        } else {
            let _ = self
                .links_up
                .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| {
                    Some(n.saturating_sub(1))
                });
        }
    }
}

/// A metric family: name, type, help, and its samples.
struct Family<'a> {
    name: &'a str,
    kind: &'a str,
    help: &'a str,
}

/// Renders the counters in the Prometheus text format 0.0.4.
pub(crate) fn render(counters: &Counters, listeners: &[Arc<ListenerConfig>]) -> String {
    let get = |counter: &AtomicU64| counter.load(Ordering::Relaxed);
    let mut out = String::new();
    let gateway = [
        (
            "labwire_gateway_received_total",
            "Instrument messages accepted (parsed and mapped).",
            get(&counters.received),
        ),
        (
            "labwire_gateway_published_total",
            "MQTT messages acknowledged by the broker.",
            get(&counters.published),
        ),
        (
            "labwire_gateway_spooled_total",
            "MQTT messages written to the spool.",
            get(&counters.spooled),
        ),
        (
            "labwire_gateway_dead_lettered_total",
            "Instrument messages, or MQTT messages the broker refused, put in the dead-letter folder.",
            get(&counters.dead_lettered),
        ),
        (
            "labwire_gateway_reconnects_total",
            "Connections to the broker lost and made again.",
            get(&counters.reconnects),
        ),
    ];
    for (name, help, value) in gateway {
        header(
            &mut out,
            &Family {
                name,
                kind: "counter",
                help,
            },
        );
        let _ = writeln!(out, "{name} {value}");
    }
    type Read = fn(&ListenerCounters) -> u64;
    let per_listener: [(Family<'_>, Read, bool); 5] = [
        (
            Family {
                name: "labwire_listener_received_total",
                kind: "counter",
                help: "Instrument messages accepted on this listener.",
            },
            |c| c.received.load(Ordering::Relaxed),
            false,
        ),
        (
            Family {
                name: "labwire_listener_dead_lettered_total",
                kind: "counter",
                help: "Instrument input refused on this listener and dead-lettered.",
            },
            |c| c.dead_lettered.load(Ordering::Relaxed),
            false,
        ),
        (
            Family {
                name: "labwire_listener_links_total",
                kind: "counter",
                help: "Instrument links made (TCP connections accepted, serial port opened).",
            },
            |c| c.links.load(Ordering::Relaxed),
            false,
        ),
        (
            Family {
                name: "labwire_listener_links_up",
                kind: "gauge",
                help: "Instrument links up now.",
            },
            |c| c.links_up.load(Ordering::Relaxed),
            false,
        ),
        (
            Family {
                name: "labwire_listener_open_failures_total",
                kind: "counter",
                help: "Failed attempts to open the serial port.",
            },
            |c| c.open_failures.load(Ordering::Relaxed),
            true,
        ),
    ];
    for (family, read, serial_only) in per_listener {
        let listeners = listeners
            .iter()
            .filter(|listener| !serial_only || matches!(listener.transport, Transport::Serial(_)))
            .collect::<Vec<_>>();
        if listeners.is_empty() {
            continue;
        }
        header(&mut out, &family);
        for listener in listeners {
            let _ = write!(out, "{}{{listener=\"", family.name);
            escape_label(&mut out, &listener.name);
            out.push_str("\",instrument=\"");
            escape_label(&mut out, &listener.instrument);
            out.push_str("\",transport=\"");
            out.push_str(listener.transport.kind());
            let _ = writeln!(out, "\"}} {}", read(&listener.counters));
        }
    }
    out
}

fn header(out: &mut String, family: &Family<'_>) {
    // HELP text escapes only `\` and line feeds (format 0.0.4).
    let help = family.help.replace('\\', "\\\\").replace('\n', "\\n");
    let _ = writeln!(out, "# HELP {} {help}", family.name);
    let _ = writeln!(out, "# TYPE {} {}", family.name, family.kind);
}

/// A label value with `\`, `"` and line feeds escaped (format 0.0.4).
fn escape_label(out: &mut String, value: &str) {
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
}

/// What a request asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Route {
    /// `GET /metrics`.
    Metrics,
    /// Another path.
    NotFound,
    /// `/metrics` with another method.
    MethodNotAllowed,
    /// Not an HTTP/1 request line.
    BadRequest,
}

/// Reads the request line of a request head.
pub(crate) fn route(head: &[u8]) -> Route {
    let line_end = head.iter().position(|b| *b == b'\n').unwrap_or(head.len());
    let Some(line) = head.get(..line_end) else {
        return Route::BadRequest;
    };
    let Ok(line) = std::str::from_utf8(line) else {
        return Route::BadRequest;
    };
    let mut parts = line.trim_end_matches('\r').split(' ');
    let (Some(method), Some(target), Some(version), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Route::BadRequest;
    };
    if !version.starts_with("HTTP/1.") || method.is_empty() {
        return Route::BadRequest;
    }
    // A query string does not change what is served.
    let path = target.split_once('?').map_or(target, |(path, _)| path);
    match (method, path) {
        ("GET", "/metrics") => Route::Metrics,
        (_, "/metrics") => Route::MethodNotAllowed,
        _ => Route::NotFound,
    }
}

/// The end of the request head (after its blank line), if complete.
fn head_end(bytes: &[u8]) -> Option<usize> {
    let crlf = bytes
        .windows(4)
        .position(|window| window == b"\r\n\r\n")
        .map(|at| at + 4);
    let lf = bytes
        .windows(2)
        .position(|window| window == b"\n\n")
        .map(|at| at + 2);
    match (crlf, lf) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

/// The whole HTTP response to a request.
pub(crate) fn respond(route: Route, body: impl FnOnce() -> String) -> Vec<u8> {
    let (status, content_type, extra, body) = match route {
        Route::Metrics => (
            "200 OK",
            "text/plain; version=0.0.4; charset=utf-8",
            "",
            body(),
        ),
        Route::NotFound => (
            "404 Not Found",
            "text/plain; charset=utf-8",
            "",
            "not found: the metrics are at /metrics\n".to_owned(),
        ),
        Route::MethodNotAllowed => (
            "405 Method Not Allowed",
            "text/plain; charset=utf-8",
            "Allow: GET\r\n",
            "only GET\n".to_owned(),
        ),
        Route::BadRequest => (
            "400 Bad Request",
            "text/plain; charset=utf-8",
            "",
            "bad request\n".to_owned(),
        ),
    };
    let mut response = format!(
        "HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\n{extra}Connection: close\r\n\r\n",
        body.len()
    )
    .into_bytes();
    response.extend_from_slice(body.as_bytes());
    response
}

/// Serves scrapes until the gateway stops.
pub(crate) async fn serve(
    socket: TcpListener,
    counters: Arc<Counters>,
    listeners: Arc<[Arc<ListenerConfig>]>,
    mut stopping: watch::Receiver<bool>,
) {
    let slots = Arc::new(Semaphore::new(MAX_SCRAPES));
    let mut scrapes = JoinSet::new();
    loop {
        let accepted = tokio::select! {
            accepted = socket.accept() => accepted,
            _ = stopping.changed() => break,
        };
        let stream = match accepted {
            Ok((stream, _)) => stream,
            Err(error) => {
                tracing::warn!(%error, "metrics: accept failed");
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        let Ok(slot) = Arc::clone(&slots).try_acquire_owned() else {
            tracing::debug!("metrics: too many scrapes at once; closing one");
            continue;
        };
        let (counters, listeners) = (Arc::clone(&counters), Arc::clone(&listeners));
        scrapes.spawn(async move {
            let _ =
                tokio::time::timeout(REQUEST_TIMEOUT, answer(stream, &counters, &listeners)).await;
            drop(slot);
        });
        while scrapes.try_join_next().is_some() {}
    }
    scrapes.abort_all();
    while scrapes.join_next().await.is_some() {}
}

/// Reads one request head and answers it.
async fn answer(
    mut stream: TcpStream,
    counters: &Counters,
    listeners: &[Arc<ListenerConfig>],
) -> std::io::Result<()> {
    let mut head = Vec::new();
    let mut buffer = [0u8; 1024];
    let route = loop {
        let n = stream.read(&mut buffer).await?;
        if n == 0 {
            return Ok(());
        }
        head.extend_from_slice(buffer.get(..n).unwrap_or_default());
        if let Some(end) = head_end(&head) {
            break route(head.get(..end).unwrap_or_default());
        }
        if head.len() > MAX_REQUEST_BYTES {
            let response = b"HTTP/1.1 431 Request Header Fields Too Large\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
            stream.write_all(response).await?;
            return close(stream).await;
        }
    };
    let response = respond(route, || render(counters, listeners));
    stream.write_all(&response).await?;
    close(stream).await
}

/// Ends the response, then reads (and drops) what the client still sends, a bounded
/// amount: closing a socket with unread input resets the connection, and the client
/// might lose the response with it.
async fn close(mut stream: TcpStream) -> std::io::Result<()> {
    stream.shutdown().await?;
    let mut sink = [0u8; 1024];
    let mut left = 64 * 1024usize;
    let _ = tokio::time::timeout(Duration::from_secs(1), async {
        while left > 0 {
            match stream.read(&mut sink).await {
                Ok(0) | Err(_) => break,
                Ok(n) => left = left.saturating_sub(n),
            }
        }
    })
    .await;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gateway::config;

    fn listeners() -> Vec<Arc<ListenerConfig>> {
        let text = "[mapping]\nsite = \"s\"\ngateway = \"gw\"\nprivacy = \"full\"\n\
                    [[listeners]]\nprotocol = \"mllp\"\nbind = \"127.0.0.1:0\"\ninstrument = \"chem-1\"\n\
                    [[listeners]]\nprotocol = \"astm\"\nbind = \"127.0.0.1:0\"\ninstrument = \"heme-1\"\n";
        config::parse(text, std::path::Path::new("."))
            .unwrap()
            .listeners
            .into_iter()
            .map(Arc::new)
            .collect()
    }

    #[test]
    fn counters_render_in_the_text_format() {
        let counters = Counters::default();
        counters.received.store(3, Ordering::Relaxed);
        counters.published.store(7, Ordering::Relaxed);
        let listeners = listeners();
        listeners[0].counters.received.store(2, Ordering::Relaxed);
        listeners[1].counters.link(true);
        listeners[1].counters.link(true);
        listeners[1].counters.link(false);
        let text = render(&counters, &listeners);
        assert!(text.contains(
            "# HELP labwire_gateway_received_total Instrument messages accepted (parsed and mapped).\n\
             # TYPE labwire_gateway_received_total counter\n\
             labwire_gateway_received_total 3\n"
        ));
        assert!(text.contains("\nlabwire_gateway_published_total 7\n"));
        assert!(text.contains("\nlabwire_gateway_reconnects_total 0\n"));
        assert!(text.contains(
            "\nlabwire_listener_received_total{listener=\"listeners[0]\",instrument=\"chem-1\",transport=\"tcp\"} 2\n"
        ));
        assert!(text.contains(
            "\nlabwire_listener_links_total{listener=\"listeners[1]\",instrument=\"heme-1\",transport=\"tcp\"} 2\n"
        ));
        assert!(text.contains("# TYPE labwire_listener_links_up gauge\n"));
        assert!(text.contains(
            "\nlabwire_listener_links_up{listener=\"listeners[1]\",instrument=\"heme-1\",transport=\"tcp\"} 1\n"
        ));
        // Only serial listeners have open failures: no family without samples.
        assert!(!text.contains("open_failures"));
        // Every line is a comment or `name[{labels}] value`; every family is typed once.
        for line in text.lines() {
            if line.starts_with('#') {
                continue;
            }
            let (series, value) = line.rsplit_once(' ').unwrap();
            assert!(value.parse::<u64>().is_ok(), "{line}");
            let name = series.split('{').next().unwrap();
            assert_eq!(
                text.matches(&format!("# TYPE {name} ")).count(),
                1,
                "{line}"
            );
        }
        assert!(text.ends_with('\n'));
    }

    #[test]
    fn links_up_never_goes_below_zero() {
        let counters = ListenerCounters::default();
        counters.link(false);
        assert_eq!(counters.links_up.load(Ordering::Relaxed), 0);
    }

    #[test]
    fn label_values_are_escaped() {
        let mut out = String::new();
        escape_label(&mut out, "a\"b\\c\nd");
        assert_eq!(out, "a\\\"b\\\\c\\nd");
    }

    #[test]
    fn only_get_metrics_is_served() {
        assert_eq!(
            route(b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n"),
            Route::Metrics
        );
        assert_eq!(route(b"GET /metrics?x=1 HTTP/1.0\r\n\r\n"), Route::Metrics);
        assert_eq!(route(b"GET / HTTP/1.1\r\n\r\n"), Route::NotFound);
        assert_eq!(route(b"GET /metricsx HTTP/1.1\r\n\r\n"), Route::NotFound);
        assert_eq!(
            route(b"POST /metrics HTTP/1.1\r\n\r\n"),
            Route::MethodNotAllowed
        );
        assert_eq!(route(b"GET /metrics\r\n\r\n"), Route::BadRequest);
        assert_eq!(route(b"GET /metrics HTTP/2\r\n\r\n"), Route::BadRequest);
        assert_eq!(route(b"\xff\xfe\r\n\r\n"), Route::BadRequest);
        assert_eq!(route(b""), Route::BadRequest);
    }

    #[test]
    fn the_head_ends_at_the_blank_line() {
        assert_eq!(head_end(b"GET / HTTP/1.1\r\nA: b\r\n\r\nbody"), Some(24));
        assert_eq!(head_end(b"GET / HTTP/1.1\n\n"), Some(16));
        assert_eq!(head_end(b"GET / HTTP/1.1\r\nA: b\r\n"), None);
    }

    #[test]
    fn responses_carry_their_length_and_type() {
        let response = respond(Route::Metrics, || "a 1\n".to_owned());
        let text = String::from_utf8(response).unwrap();
        assert!(text.starts_with("HTTP/1.1 200 OK\r\n"));
        assert!(text.contains("Content-Type: text/plain; version=0.0.4; charset=utf-8\r\n"));
        assert!(text.ends_with("Content-Length: 4\r\nConnection: close\r\n\r\na 1\n"));
        let text = String::from_utf8(respond(Route::NotFound, String::new)).unwrap();
        assert!(text.starts_with("HTTP/1.1 404 Not Found\r\n"));
        let text = String::from_utf8(respond(Route::MethodNotAllowed, String::new)).unwrap();
        assert!(text.contains("\r\nAllow: GET\r\n"));
    }

    #[tokio::test]
    async fn the_endpoint_answers_over_tcp_and_refuses_oversized_requests() {
        let socket = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = socket.local_addr().unwrap();
        let counters = Arc::new(Counters::default());
        counters.spooled.store(5, Ordering::Relaxed);
        let listeners: Arc<[Arc<ListenerConfig>]> = listeners().into();
        let (stop, stopping) = watch::channel(false);
        let server = tokio::spawn(serve(socket, counters, listeners, stopping));
        let ask = |request: Vec<u8>| async move {
            let mut stream = TcpStream::connect(address).await.unwrap();
            // The server may answer (and close) before an oversized request is written.
            let _ = stream.write_all(&request).await;
            let _ = stream.shutdown().await;
            let mut response = Vec::new();
            let _ = stream.read_to_end(&mut response).await;
            String::from_utf8(response).unwrap()
        };
        let response = ask(b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n".to_vec()).await;
        assert!(response.starts_with("HTTP/1.1 200 OK\r\n"), "{response}");
        assert!(response.contains("\nlabwire_gateway_spooled_total 5\n"));
        let response = ask(b"GET /other HTTP/1.1\r\n\r\n".to_vec()).await;
        assert!(response.starts_with("HTTP/1.1 404 "), "{response}");
        let mut huge = b"GET /metrics HTTP/1.1\r\n".to_vec();
        huge.extend(std::iter::repeat_n(b'a', MAX_REQUEST_BYTES + 10));
        let response = ask(huge).await;
        assert!(response.starts_with("HTTP/1.1 431 "), "{response}");
        stop.send(true).unwrap();
        tokio::time::timeout(Duration::from_secs(5), server)
            .await
            .unwrap()
            .unwrap();
    }
}

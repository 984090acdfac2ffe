//! `labwire replay --connections N --repeat R`: many instruments at once, for load
//! tests of a gateway or LIS. Each connection sends every message R times over MLLP,
//! each after the previous ACK, and the run is summarised in one JSON line: messages,
//! acknowledgements, throughput and ACK latency percentiles.

use std::io::Write;
use std::net::TcpStream;
use std::time::{Duration, Instant};

use labwire_hl7::MllpDecoder;
use serde::Serialize;

use crate::replay::{ack_outcome, read_ack};

/// The summary line.
#[derive(Serialize)]
pub(crate) struct Summary {
    pub(crate) connections: usize,
    pub(crate) messages: usize,
    pub(crate) acknowledged: usize,
    pub(crate) rejected: usize,
    pub(crate) failed: usize,
    pub(crate) seconds: f64,
    pub(crate) messages_per_second: f64,
    pub(crate) latency_ms: Latency,
}

/// ACK latency percentiles, in milliseconds.
#[derive(Serialize)]
pub(crate) struct Latency {
    pub(crate) p50: f64,
    pub(crate) p99: f64,
    pub(crate) max: f64,
}

#[derive(Default)]
struct Tally {
    acknowledged: usize,
    rejected: usize,
    failed: usize,
    latencies: Vec<Duration>,
}

/// Runs `connections` MLLP senders in parallel.
pub(crate) fn mllp(
    address: &str,
    messages: &[Vec<u8>],
    connections: usize,
    repeat: usize,
    timeout: Duration,
) -> Result<Summary, String> {
    let mut framed = Vec::with_capacity(messages.len());
    for message in messages {
        let mut frame = Vec::with_capacity(message.len() + 3);
        labwire_hl7::mllp::encode(message, &mut frame).map_err(|err| err.to_string())?;
        framed.push(frame);
    }
    let started = Instant::now();
    let tallies: Vec<Result<Tally, String>> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..connections)
            .map(|_| scope.spawn(|| sender(address, &framed, repeat, timeout)))
            .collect();
        workers
            .into_iter()
            .map(|worker| {
                worker
                    .join()
                    .unwrap_or_else(|_| Err("a sender thread panicked".into()))
            })
            .collect()
    });
    let seconds = started.elapsed().as_secs_f64();
    let mut total = Tally::default();
    for tally in tallies {
        let tally = tally?;
        total.acknowledged += tally.acknowledged;
        total.rejected += tally.rejected;
        total.failed += tally.failed;
        total.latencies.extend(tally.latencies);
    }
    total.latencies.sort_unstable();
    let percentile = |p: f64| {
        let count = total.latencies.len();
        if count == 0 {
            return 0.0;
        }
        let rank = ((count as f64) * p).ceil() as usize;
        let index = rank.clamp(1, count) - 1;
        total
            .latencies
            .get(index)
            .map_or(0.0, |latency| latency.as_secs_f64() * 1000.0)
    };
    let messages = messages.len() * repeat * connections;
    Ok(Summary {
        connections,
        messages,
        acknowledged: total.acknowledged,
        rejected: total.rejected,
        failed: total.failed,
        seconds,
        messages_per_second: if seconds > 0.0 {
            messages as f64 / seconds
        } else {
            0.0
        },
        latency_ms: Latency {
            p50: percentile(0.50),
            p99: percentile(0.99),
            max: percentile(1.0),
        },
    })
}

fn sender(
    address: &str,
    framed: &[Vec<u8>],
    repeat: usize,
    timeout: Duration,
) -> Result<Tally, String> {
    let mut stream = TcpStream::connect(address).map_err(|err| format!("{address}: {err}"))?;
    stream
        .set_read_timeout(Some(timeout))
        .map_err(|err| err.to_string())?;
    let _ = stream.set_nodelay(true);
    let mut decoder = MllpDecoder::new(16 * 1024 * 1024);
    let mut tally = Tally {
        latencies: Vec::with_capacity(framed.len() * repeat),
        ..Tally::default()
    };
    for _ in 0..repeat {
        for frame in framed {
            let sent = Instant::now();
            stream
                .write_all(frame)
                .map_err(|err| format!("{address}: {err}"))?;
            match read_ack(&mut stream, &mut decoder) {
                Ok(ack) => {
                    tally.latencies.push(sent.elapsed());
                    match ack_outcome(&ack).0 {
                        "acknowledged" => tally.acknowledged += 1,
                        "rejected" => tally.rejected += 1,
                        _ => tally.failed += 1,
                    }
                }
                Err(_) => {
                    // The connection is no longer in step: count the rest as failed.
                    let sent_so_far = tally.acknowledged + tally.rejected + tally.failed;
                    tally.failed += framed.len() * repeat - sent_so_far;
                    return Ok(tally);
                }
            }
        }
    }
    Ok(tally)
}

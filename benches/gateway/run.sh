#!/usr/bin/env bash
# Gateway load benchmark (issue: 16 instruments replaying ORU^R01 / OUL^R22 over MLLP
# into mosquitto with QoS 1). Not run by CI: it is a measurement, not a test.
#
#   benches/gateway/run.sh [CONNECTIONS] [REPEAT]
#
# Needs mosquitto. Prints the load generator's summary (throughput, ACK latency
# percentiles) and the gateway's peak resident memory. Load generator, gateway and
# broker share the machine, so the figure is for all three on it.
set -euo pipefail
cd "$(dirname "$0")/../.."
connections=${1:-16}
repeat=${2:-400}

cargo build --release --locked -p labwire-cli >&2
bin=${CARGO_TARGET_DIR:-target}/release/labwire
work=$(mktemp -d)
cleanup() {
    [ -n "${gateway:-}" ] && kill "$gateway" 2>/dev/null || true
    [ -n "${broker:-}" ] && kill "$broker" 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])' 2>/dev/null || echo 18883)
printf 'listener %s 127.0.0.1\nallow_anonymous true\nmax_queued_messages 100000\nuser root\n' "$port" >"$work/mosquitto.conf"
mosquitto -c "$work/mosquitto.conf" >"$work/mosquitto.log" 2>&1 &
broker=$!
cat >"$work/gateway.toml" <<TOML
spool_dir = "spool"
dead_letter_dir = "dead-letter"
[broker]
url = "mqtt://127.0.0.1:$port"
[mapping]
site = "bench"
gateway = "gw-bench"
privacy = "pseudonymized"
[mapping.pseudonymization]
key_hex = "000102030405060708090a0b0c0d0e0f"
key_id = "k1"
[[listeners]]
protocol = "mllp"
bind = "127.0.0.1:0"
instrument = "chem-1"
max_connections = 64
TOML
LABWIRE_LOG=warn "$bin" gateway --config "$work/gateway.toml" >"$work/gateway.out" 2>"$work/gateway.log" &
gateway=$!
for _ in $(seq 50); do grep -q listening "$work/gateway.out" 2>/dev/null && break; sleep 0.1; done
address=$(sed -n 's/.*"address":"\([^"]*\)".*/\1/p' "$work/gateway.out" | head -n 1)

# The two message shapes of the goal: an ORU^R01 and an OUL^R22 (IHE LAW).
messages="hl7/tests/data/labwire_oru_r01_sn_values.hl7 samples/data/hl7-immunoassay-oul-r22.mllp"
for file in $messages; do [ -f "$file" ] || { echo "missing $file" >&2; exit 1; }; done
echo "gateway at $address; $connections connections x $repeat rounds of: $messages" >&2
"$bin" replay --to "$address" --protocol mllp --connections "$connections" --repeat "$repeat" $messages
echo "gateway peak RSS: $(grep VmHWM /proc/$gateway/status | awk '{print $2, $3}')"

#!/usr/bin/env bash
# Make sure the real services the tests use are reachable on loopback; start our own where one is not.
# The project's machines start PostgreSQL before every session and CI run; elsewhere we install
# Debian's package and start a cluster bound to 127.0.0.1 only.  Never skips: tests need the real thing.
set -euo pipefail

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

ensure_postgres() {
  if port_open 5432; then return 0; fi
  echo "PostgreSQL is not reachable on 127.0.0.1:5432: starting one"
  if ! command -v pg_ctlcluster >/dev/null 2>&1; then
    if [ "$(id -u)" -ne 0 ]; then echo "need root to apt-get install postgresql" >&2; exit 1; fi
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
  fi
  ver=$(ls /etc/postgresql | sort -V | tail -n 1)
  conf="/etc/postgresql/$ver/main"
  sed -i "s/^#\?listen_addresses.*/listen_addresses = '127.0.0.1'/" "$conf/postgresql.conf"
  if ! grep -q '^host all all 127.0.0.1/32 trust' "$conf/pg_hba.conf"; then
    sed -i '1i host all all 127.0.0.1/32 trust' "$conf/pg_hba.conf"
  fi
  pg_ctlcluster --skip-systemctl-redirect "$ver" main start || true
  for _ in $(seq 1 30); do port_open 5432 && break; sleep 1; done
  port_open 5432 || { echo "PostgreSQL did not start" >&2; exit 1; }
}

# Mosquitto for the field tests (tests/field): an anonymous broker bound to loopback only.  Tests of device
# authentication and ACLs start their own brokers on free ports with password and ACL files.
ensure_mosquitto() {
  if port_open 1883; then return 0; fi
  echo "Mosquitto is not reachable on 127.0.0.1:1883: starting one"
  if ! command -v mosquitto >/dev/null 2>&1 && [ ! -x /usr/sbin/mosquitto ]; then
    if [ "$(id -u)" -ne 0 ]; then echo "need root to apt-get install mosquitto" >&2; exit 1; fi
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq mosquitto >/dev/null
  fi
  bin=$(command -v mosquitto || echo /usr/sbin/mosquitto)
  conf="${TMPDIR:-/tmp}/hengqi-mosquitto.conf"
  printf 'listener 1883 127.0.0.1\nallow_anonymous true\nuser %s\n' "$(id -un)" > "$conf"
  "$bin" -d -c "$conf"
  for _ in $(seq 1 30); do port_open 1883 && break; sleep 1; done
  port_open 1883 || { echo "Mosquitto did not start" >&2; exit 1; }
}

# NATS with JetStream for the stream tests (tests/field/test_stream.py): loopback only, state in a temporary folder.
ensure_nats() {
  if port_open 4222; then return 0; fi
  echo "NATS is not reachable on 127.0.0.1:4222: starting one with JetStream"
  if ! command -v nats-server >/dev/null 2>&1 && [ ! -x /usr/sbin/nats-server ]; then
    if [ "$(id -u)" -ne 0 ]; then echo "need root to apt-get install nats-server" >&2; exit 1; fi
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nats-server >/dev/null
  fi
  bin=$(command -v nats-server || echo /usr/sbin/nats-server)
  store="${TMPDIR:-/tmp}/hengqi-nats"
  mkdir -p "$store"
  nohup "$bin" -a 127.0.0.1 -p 4222 -js -sd "$store" >"$store/nats.log" 2>&1 &
  for _ in $(seq 1 30); do port_open 4222 && break; sleep 1; done
  port_open 4222 || { echo "NATS did not start" >&2; exit 1; }
}

ensure_postgres
ensure_mosquitto
ensure_nats
echo "services: PostgreSQL 127.0.0.1:5432, Mosquitto 127.0.0.1:1883 and NATS 127.0.0.1:4222 reachable"

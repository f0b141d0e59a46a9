#!/usr/bin/env bash
# Local single-node Apache Kafka 4.x broker (KRaft combined mode) from Maven-resolved jars.
# No Docker, no Kafka tarball: `install` resolves the jars with Maven, `start` runs kafka.Kafka.
#
# Usage: kafka.sh install|start|stop|restart|status|wipe
#
# Environment (defaults in brackets):
#   KAFKA_PORT            client listener, 127.0.0.1 only          [19092]
#   KAFKA_CONTROLLER_PORT KRaft controller listener, 127.0.0.1     [19093]
#   VAR_DIR               runtime state root                        [<repo>/var]
#   KAFKA_START_TIMEOUT   seconds to wait for readiness             [120]
#   KAFKA_STOP_TIMEOUT    seconds to wait after SIGTERM, then KILL  [30]
#   KAFKA_HEAP_OPTS       heap flags                                [-Xms256m -Xmx768m]
#   KAFKA_JVM_OPTS        extra JVM flags, appended last            []
#   KAFKA_FAST_START      1 = C1-only JIT + AppCDS class archive    [1]
#   JAVA_HOME             Java 17+ (else `java` on PATH)
#
# Layout under $VAR_DIR/kafka: libs/ (jars), data/ (KRaft log dir), logs/ (server.log,
# kafka.out, format.log), server.properties (generated from server.properties.in),
# kafka.pid, cds/ (class-data-sharing archive, rebuilt automatically).
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
PORT=${KAFKA_PORT:-19092}
CPORT=${KAFKA_CONTROLLER_PORT:-19093}
VAR_DIR=${VAR_DIR:-$HERE/../../../var}
mkdir -p "$VAR_DIR"
VAR_DIR=$(cd "$VAR_DIR" && pwd)
KDIR=$VAR_DIR/kafka
LIBS=$KDIR/libs
DATA=$KDIR/data
LOGS=$KDIR/logs
PIDFILE=$KDIR/kafka.pid
PROPS=$KDIR/server.properties
CDS=$KDIR/cds/kafka.jsa          # promoted from $CDS.pending only after a clean exit
START_TIMEOUT=${KAFKA_START_TIMEOUT:-120}
STOP_TIMEOUT=${KAFKA_STOP_TIMEOUT:-30}
FAST=${KAFKA_FAST_START:-1}
JAVA=${JAVA_HOME:+$JAVA_HOME/bin/}java
READY_LINE="Kafka Server started"   # KafkaBroker.STARTED_MESSAGE, logged by KafkaRaftServer

# Kafka's kafka-run-class.sh performance defaults, plus a small heap.
read -r -a HEAP <<<"${KAFKA_HEAP_OPTS:--Xms256m -Xmx768m}"
read -r -a EXTRA <<<"${KAFKA_JVM_OPTS:-}"
JVM=("${HEAP[@]}" -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -XX:InitiatingHeapOccupancyPercent=35
     -XX:+ExplicitGCInvokesConcurrent -XX:MaxInlineLevel=15 -XX:+ExitOnOutOfMemoryError
     -Djava.awt.headless=true "-XX:ErrorFile=$LOGS/hs_err_pid%p.log"
     "-Dlog4j2.configurationFile=file:$HERE/log4j2.xml" "-Dkafka.logs.dir=$LOGS")
# C1 only: on 2 cores it starts ~0.5 s faster, uses ~30 MB less RSS, and aiokafka
# throughput measured equal or better (C2 compiler threads compete with the clients).
[ "$FAST" = 1 ] && JVM+=(-XX:TieredStopAtLevel=1)
CP="$LIBS/*"   # quoted on purpose: the JVM expands dir/* itself

say() { echo "kafka: $*"; }
die() { echo "kafka: ERROR: $*" >&2; exit 1; }

# The pid is ours only if it is alive AND runs kafka.Kafka with our properties file
# (guards against a stale pid file whose number was reused by another process).
live_pid() {
  local pid
  [ -f "$PIDFILE" ] || return 1
  pid=$(cat "$PIDFILE" 2>/dev/null) || return 1
  [[ $pid =~ ^[0-9]+$ ]] || return 1
  kill -0 "$pid" 2>/dev/null || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF "kafka.Kafka $PROPS" || return 1
  echo "$pid"
}

# Client port of the broker described by the generated server.properties.
running_port() {
  sed -n 's#^listeners=PLAINTEXT://127\.0\.0\.1:\([0-9]*\),.*#\1#p' "$PROPS" 2>/dev/null || true
}

port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# This run's server.log output. Log4j rolls server.log at 20 MB (log4j2.xml), and a broker with many
# partitions can roll it during startup: the file written before launch (inode $2) counts from byte offset
# $1 on, wherever the roll moved it; every log file created after the launch (marker file $3) counts whole.
run_log() {
  local f
  for f in "$LOGS"/server.log.* "$LOGS"/server.log; do
    [ -f "$f" ] || continue
    if [ -n "$2" ] && [ "$(stat -c %i "$f")" = "$2" ]; then
      tail -c +"$(($1 + 1))" "$f"
    elif [ "$f" -nt "$3" ]; then
      cat "$f"
    fi
  done
}

# Tail of this run's output only: its server.log lines (run_log's arguments) and kafka.out.
log_tail() {
  echo "----- $LOGS/server.log (this run, last 60 lines) -----" >&2
  run_log "$@" | tail -n 60 >&2
  if [ -s "$LOGS/kafka.out" ]; then
    echo "----- $LOGS/kafka.out (JVM stdout/stderr) -----" >&2
    tail -n 40 "$LOGS/kafka.out" >&2
  fi
}

jars_present() { [ -f "$LIBS/.installed" ] && compgen -G "$LIBS/kafka_2.13-*.jar" >/dev/null; }

cmd_install() {
  if jars_present; then
    say "jars already in $LIBS ($(compgen -G "$LIBS/*.jar" | wc -l) jars), skipping install"
    return 0
  fi
  command -v mvn >/dev/null || die "mvn not found (needed once to resolve the Kafka jars)"
  say "resolving Kafka jars with Maven into $LIBS (first run downloads ~45 MB)"
  local tmp t0
  t0=$SECONDS
  tmp=$KDIR/libs.tmp.$$
  rm -rf "$tmp"
  mkdir -p "$KDIR"
  # (sed only strips the stray ANSI reset codes Maven 3.8 prints even with -B -q)
  if ! mvn -B -q -f "$HERE/pom.xml" dependency:copy-dependencies \
         -DincludeScope=runtime -DoutputDirectory="$tmp" 2>&1 | sed -e $'s/\e\\[[0-9;]*m//g'; then
    rm -rf "$tmp"
    die "mvn dependency:copy-dependencies failed"
  fi
  compgen -G "$tmp/kafka_2.13-*.jar" >/dev/null || { rm -rf "$tmp"; die "kafka_2.13 jar missing after resolve"; }
  date -u +%FT%TZ >"$tmp/.installed"
  rm -rf "$LIBS" "$KDIR/cds"      # a CDS archive is only valid for the exact jars it was built from
  mv "$tmp" "$LIBS"               # a half-finished download never looks installed
  say "installed $(compgen -G "$LIBS/*.jar" | wc -l) jars in $((SECONDS - t0)) s"
}

render_props() {
  sed -e "s#@PORT@#$PORT#g" -e "s#@CPORT@#$CPORT#g" -e "s#@DATA@#$DATA#g" \
      "$HERE/server.properties.in" >"$PROPS.tmp"
  mv "$PROPS.tmp" "$PROPS"
}

# Kafka cluster id: 16 random bytes, base64url without padding (22 chars), like
# org.apache.kafka.common.Uuid.randomUuid(); must not start with '-'. (Saves a JVM launch
# of `kafka-storage random-uuid`.)
new_cluster_id() {
  local id
  while :; do
    id=$(head -c 16 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=\n')
    [[ $id == -* ]] || { echo "$id"; return; }
  done
}

format_once() {
  # Formatted once; later port changes are fine (the single voter's endpoint is updated
  # automatically at startup, KIP-853).
  [ -f "$DATA/meta.properties" ] && return 0
  local cid
  cid=$(new_cluster_id)
  mkdir -p "$DATA"
  say "formatting KRaft storage in $DATA (cluster id $cid, --standalone)"
  if ! "$JAVA" "${HEAP[@]}" -XX:TieredStopAtLevel=1 \
         -cp "$CP" kafka.tools.StorageTool format --standalone \
         --cluster-id "$cid" --config "$PROPS" >"$LOGS/format.log" 2>&1; then
    cat "$LOGS/format.log" >&2
    die "kafka-storage format failed"
  fi
}

# AppCDS (JDK 13+ dynamic archive): the first broker run records its loaded classes into
# $CDS.pending when it exits; `stop` promotes it after a clean (SIGTERM) exit. Later starts
# map it (~0.8 s faster). A truncated archive crashes the JVM (SIGBUS), hence the promotion
# step; a stale one (other JDK/jars) is ignored by -Xshare:auto.
cds_opts() {
  [ "$FAST" = 1 ] || return 0
  if [ -s "$CDS" ]; then
    echo "-XX:SharedArchiveFile=$CDS"
  else
    mkdir -p "$(dirname "$CDS")"
    rm -f "$CDS.pending"
    echo "-XX:ArchiveClassesAtExit=$CDS.pending"
  fi
  echo "-Xlog:cds*=off"
}

# Launch the broker and wait for readiness. Returns 0 when ready; when the process died,
# returns its exit status (>= 128: killed by a signal, e.g. a JVM crash).
launch() {
  local pid offset=0 inode="" t0 deadline rc marker="$KDIR/.launched"
  local -a cds=()
  mapfile -t cds < <(cds_opts)
  # Only log lines written after this point count as "ready" (server.log is appended to, and rolled).
  if [ -f "$LOGS/server.log" ]; then
    offset=$(stat -c %s "$LOGS/server.log")
    inode=$(stat -c %i "$LOGS/server.log")
  fi
  touch "$marker"
  say "starting broker (client 127.0.0.1:$PORT, controller 127.0.0.1:$CPORT, logs $LOGS)"
  t0=$(date +%s%N)
  nohup "$JAVA" "${JVM[@]}" ${cds[@]+"${cds[@]}"} ${EXTRA[@]+"${EXTRA[@]}"} \
      -cp "$CP" kafka.Kafka "$PROPS" >"$LOGS/kafka.out" 2>&1 </dev/null 9>&- &
  pid=$!
  echo "$pid" >"$PIDFILE"

  deadline=$((SECONDS + START_TIMEOUT))
  while :; do
    if run_log "$offset" "$inode" "$marker" | grep -qF "$READY_LINE"; then
      say "ready on 127.0.0.1:$PORT (pid $pid, $(( ($(date +%s%N) - t0) / 1000000 )) ms)"
      return 0
    fi
    if ! kill -0 "$pid" 2>/dev/null; then
      rc=0; wait "$pid" || rc=$?
      rm -f "$PIDFILE" "$CDS.pending"
      log_tail "$offset" "$inode" "$marker"
      echo "kafka: broker process $pid exited with status $rc during startup" >&2
      return $((rc == 0 ? 1 : rc))
    fi
    if [ "$SECONDS" -ge "$deadline" ]; then
      log_tail "$offset" "$inode" "$marker"
      echo "kafka: ERROR: not ready after ${START_TIMEOUT} s; stopping pid $pid" >&2
      stop_pid "$pid" || true
      rm -f "$CDS.pending"
      exit 1
    fi
    sleep 0.2
  done
}

cmd_start() {
  local pid
  mkdir -p "$KDIR"
  cd "$KDIR"   # JVM working directory: stray files (hs_err, ...) land in var/, not in the caller's cwd
  # Serialise concurrent starts (fd 9 is closed for the broker, see launch).
  exec 9>"$KDIR/.lock"
  if command -v flock >/dev/null; then flock -w "$((START_TIMEOUT + 60))" 9 || die "lock busy"; fi

  if pid=$(live_pid); then
    local running
    running=$(running_port)
    say "already running (pid $pid) on 127.0.0.1:$running"
    [ "$running" = "$PORT" ] || say "WARNING: KAFKA_PORT=$PORT requested, but the running broker listens on $running (stop it first to change ports)"
    return 0
  fi
  rm -f "$PIDFILE"
  command -v "$JAVA" >/dev/null || die "java not found (Java 17+ required; set JAVA_HOME)"
  port_busy "$PORT" && die "127.0.0.1:$PORT is already in use by another process"
  port_busy "$CPORT" && die "127.0.0.1:$CPORT is already in use by another process"

  cmd_install
  mkdir -p "$DATA" "$LOGS"
  render_props
  format_once

  local rc=0
  launch || rc=$?
  [ "$rc" = 0 ] && return 0
  # A JVM crash (signal) with a mapped archive: the archive may be damaged; retry once without.
  if [ "$rc" -ge 128 ] && [ "$FAST" = 1 ] && [ -e "$CDS" ]; then
    say "JVM crashed with the CDS archive in use; deleting $CDS and retrying once"
    rm -f "$CDS"
    rc=0
    launch || rc=$?
    [ "$rc" = 0 ] && return 0
  fi
  die "broker exited during startup (see the log tail above; logs in $LOGS)"
}

# SIGTERM (controlled shutdown), wait, then SIGKILL. Returns 1 if SIGKILL was needed.
stop_pid() {
  local pid=$1 deadline
  kill -TERM "$pid" 2>/dev/null || { rm -f "$PIDFILE"; return 0; }
  deadline=$((SECONDS + STOP_TIMEOUT))
  while kill -0 "$pid" 2>/dev/null; do
    if [ "$SECONDS" -ge "$deadline" ]; then
      say "pid $pid still alive after ${STOP_TIMEOUT} s, sending SIGKILL"
      kill -KILL "$pid" 2>/dev/null || true
      while kill -0 "$pid" 2>/dev/null; do sleep 0.1; done
      rm -f "$PIDFILE"
      return 1
    fi
    sleep 0.1
  done
  rm -f "$PIDFILE"
}

cmd_stop() {
  local pid
  if ! pid=$(live_pid); then
    rm -f "$PIDFILE"
    say "not running"
    return 0
  fi
  say "stopping pid $pid"
  if stop_pid "$pid"; then
    if [ -s "$CDS.pending" ]; then
      mv -f "$CDS.pending" "$CDS"
      say "class-data-sharing archive saved ($CDS); next starts are faster"
    fi
    say "stopped"
  else
    rm -f "$CDS.pending"
    say "stopped (killed)"
  fi
}

cmd_status() {
  local pid
  if pid=$(live_pid); then
    say "running (pid $pid) on 127.0.0.1:$(running_port), data $DATA"
    return 0
  fi
  say "not running"
  return 3
}

cmd_wipe() {
  cmd_stop
  say "deleting $DATA, $LOGS and generated config (jars in $LIBS are kept)"
  rm -rf "$DATA" "$LOGS" "$PROPS"
}

case "${1:-}" in
  install) cmd_install ;;
  start) cmd_start ;;
  stop) cmd_stop ;;
  restart) cmd_stop; cmd_start ;;
  status) cmd_status ;;
  wipe) cmd_wipe ;;
  *) echo "usage: $0 install|start|stop|restart|status|wipe" >&2; exit 2 ;;
esac

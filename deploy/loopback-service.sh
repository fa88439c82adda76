# Sourced by the loopback servers' scripts (deploy/hdfs, deploy/s3): the part of starting and
# stopping a server by its recorded PID that they share. NAME is the script's name in messages.

# await_service NAME WHAT PID_FILE LOG SECONDS STOP_SCRIPT STATE READY: runs READY (a function
# that prints the server's address and succeeds once it serves) every 0.1 s; prints its address
# last and returns once it does; exits 1 with the end of LOG if the server dies or SECONDS pass.
await_service() {
  local name="$1" what="$2" pid_file="$3" log="$4" seconds="$5" stop_script="$6" state="$7" ready="$8" address
  for _ in $(seq $((seconds * 10))); do
    if address="$("$ready")" && [[ -n "$address" ]]; then
      echo "$name: $what up (pid $(cat "$pid_file"), log $log)" >&2
      echo "$address"
      return 0
    fi
    if ! kill -0 "$(cat "$pid_file")" 2>/dev/null; then
      echo "$name: $what exited while starting; the end of $log:" >&2
      tail -n 30 "$log" >&2
      rm -f "$pid_file"
      exit 1
    fi
    sleep 0.1
  done
  echo "$name: $what did not serve within $seconds s; the end of $log:" >&2
  tail -n 30 "$log" >&2
  "$stop_script" "$state" >&2 || true
  exit 1
}

# stop_service NAME PID_FILE SECONDS: SIGTERM to the recorded PID, SIGKILL if it still runs after
# SECONDS; removes PID_FILE. Nothing recorded is nothing to stop.
stop_service() {
  local name="$1" pid_file="$2" seconds="$3" pid
  if [[ ! -f "$pid_file" ]]; then
    echo "$name: no $pid_file; nothing to stop" >&2
    return 0
  fi
  pid="$(cat "$pid_file")"
  if kill -0 "$pid" 2>/dev/null; then
    kill "$pid"
    for _ in $(seq $((seconds * 10))); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
    if kill -0 "$pid" 2>/dev/null; then
      echo "$name: pid $pid did not stop within $seconds s; killing it" >&2
      kill -9 "$pid" 2>/dev/null || true
    fi
  fi
  rm -f "$pid_file"
  echo "$name: stopped pid $pid" >&2
}

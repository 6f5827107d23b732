#!/bin/sh
# Container entry point: sizes the V8 heap from the container's memory limit, then runs the
# compiled server. A fixed --max-old-space-size would be wrong both ways: 1 GiB on Render's
# 512 MB starter instance gets the process killed by the kernel before V8 collects garbage,
# and on a 4 GB instance it leaves most of the memory unused.
#   HEAP_PERCENT   share of the limit given to the old generation (default 70: buffers, sockets
#                  and native memory live outside the V8 heap)
#   NODE_OPTIONS   an explicit --max-old-space-size there wins
set -eu

limit_bytes() {
  # cgroup v2, then v1; "max" or an absurdly large number means no limit.
  # CGROUP_MEMORY_FILES replaces the two paths (tests).
  for file in ${CGROUP_MEMORY_FILES:-/sys/fs/cgroup/memory.max /sys/fs/cgroup/memory/memory.limit_in_bytes}; do
    if [ -r "$file" ]; then
      value=$(cat "$file")
      case "$value" in
        max | '' ) return 1 ;;
      esac
      # Anything above 1 TiB is cgroup v1's way of saying "unlimited".
      if [ "$value" -lt 1099511627776 ] 2>/dev/null; then
        echo "$value"
        return 0
      fi
      return 1
    fi
  done
  return 1
}

case "${NODE_OPTIONS:-}" in
  *max-old-space-size*) ;;
  *)
    if bytes=$(limit_bytes); then
      percent=${HEAP_PERCENT:-70}
      heap_mb=$((bytes / 1048576 * percent / 100))
      [ "$heap_mb" -lt 128 ] && heap_mb=128
      export NODE_OPTIONS="${NODE_OPTIONS:-} --max-old-space-size=$heap_mb"
      # Load shedding (503 with Retry-After) starts before V8 runs out: at 90 % of that heap.
      : "${MAX_HEAP_USED_BYTES:=$((heap_mb * 1048576 * 90 / 100))}"
      export MAX_HEAP_USED_BYTES
    fi
    ;;
esac

# The tracing preload runs before the app loads (instrumentation) and does nothing unless an
# OTLP endpoint is set (docs/operations.md, "Tracing").
exec node --import ./dist/src/telemetry/register.js dist/src/server.js "$@"

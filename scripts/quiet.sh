# Sourced by the setup scripts: run a long, chatty step with its output in a log file, and say
# what runs, for how long, and (on failure) the end of the log.
#   quietly "what it does" command args...
quietly() {
    local what="$1"; shift
    local log
    log="$(mktemp "${TMPDIR:-/tmp}/lifb-setup.XXXXXX")"
    local t0=$SECONDS
    printf '%s ... ' "$what"
    if "$@" >"$log" 2>&1; then
        echo "done in $((SECONDS - t0)) s"
        rm -f "$log"
    else
        local rc=$?
        echo "FAILED after $((SECONDS - t0)) s (exit $rc); the end of its output (all of it: $log):"
        tail -n 20 "$log" | sed 's/^/    /'
        return "$rc"
    fi
}

// The one table of berth's statistics: every count, occupancy gauge and latency histogram, with its names and help.

/// Caller-side figures, one set per worker (`WorkerCounters`). In /stats they are members of `totals`; in /metrics
/// they have no `upstream` label.
///
/// Adding a figure is adding a case here or to `UpstreamStat` (and counting it where it happens): storage, the merge
/// across workers, /stats, /metrics and the check against docs/stats.schema.json all loop over the cases. What is not
/// a count (an upstream's state, pause mode, epoch, limits and timeouts; callers open; upstreams known) is state,
/// written by hand where it is rendered.
enum WorkerStat: Int, CaseIterable, Sendable {
    // Counts; stored at `rawValue` (they come first, checked in StatTableTests).
    case callersAccepted, requestsReceived, badRequests, headerTimeouts, tunnels, responsesWithExtraBytes, vmRestores, callersReclaimed
    // By cause.
    case errors
    // Admin work on the loop (AdminHold.swift), stored after the counts.
    case adminLoopHold, adminLoopCPU

    /// The row.
    var column: StatColumn {
        switch self {
        case .callersAccepted:
            StatColumn(.counter, "callers_accepted", "berth_callers_accepted_total", "Caller connections accepted.")
        case .requestsReceived:
            StatColumn(.counter, "requests_received", "berth_requests_received_total", "Request heads received from callers.")
        case .badRequests:
            StatColumn(.counter, "bad_requests", "berth_bad_requests_total",
                       "Request heads berth refused as malformed (answered 400, caller connection closed).")
        case .headerTimeouts:
            StatColumn(.counter, "header_timeouts", "berth_header_timeouts_total",
                       "Callers cut off for not sending a whole request head within the header timeout (408).")
        case .tunnels:
            StatColumn(.counter, "tunnels", "berth_tunnels_total", "CONNECT and Upgrade tunnels opened.")
        case .responsesWithExtraBytes:
            StatColumn(.counter, "responses_with_extra_bytes", "berth_responses_with_extra_bytes_total",
                       "Upstream responses followed by bytes their framing did not account for; the connection was closed, not reused.")
        case .vmRestores:
            // Counted once per process, by the worker that owns the watch, so the sum over workers is the count.
            StatColumn(.counter, "vm_restores", "berth_vm_restores_total",
                       "Times the VM was restored from a snapshot (vmgenid or VMClock said so): every pooled connection was dropped and every epoch moved on.")
        case .callersReclaimed:
            StatColumn(.counter, "callers_reclaimed", "berth_callers_reclaimed_total",
                       "Callers closed to make room for a new one at max-callers: a lingering one (its error answer sent) or the one idle longest, of any worker.")
        case .errors:
            StatColumn(.counterBy(.errorCause), "errors", "berth_errors_total",
                       "Requests berth answered itself, by Berth-Error cause (including causes with no upstream).")
        case .adminLoopHold:
            StatColumn(.histogram, "admin_loop_hold_ms", "berth_admin_loop_hold_seconds",
                       "Wall time each admin callback held its worker's loop (handling an admin request, one slice of a /stats snapshot, merge or render, a /metrics page): the longest a proxied request on that loop waited behind admin work.")
        case .adminLoopCPU:
            StatColumn(.histogram, "admin_loop_cpu_ms", "berth_admin_loop_cpu_seconds",
                       "Thread CPU time of the same admin callbacks: far below their wall time, the thread was waiting for a core, not working.")
        }
    }

    /// Position among the histograms, which come last (checked in StatTableTests).
    @inline(__always)
    var slot: Int { rawValue &- WorkerStat.adminLoopHold.rawValue }
}

/// Per-upstream figures (`UpstreamCounters`, and the pool's occupancy in `PoolSnapshot`). In /stats they are members
/// of each upstream and, summed over every upstream, of `totals`; in /metrics they carry an `upstream` label, and the
/// series without one is the total.
enum UpstreamStat: Int, CaseIterable, Sendable {
    // Occupancy now, read from the pool's state by `PoolSnapshot`.
    case open, idle, busy, connecting, pending
    // Counts kept by the pool.
    case opened, reused, requests, retries, resumes, tlsHandshakesFull, tlsHandshakesResumed, tlsHandshakeFailures, generationChanges
    // By reason and by cause.
    case closed, failures, replays, replaySkipped, pauses
    // Latency.
    case acquireWait, timeToFirstByte

    /// The row.
    var column: StatColumn {
        switch self {
        case .open:
            StatColumn(.gauge, "open", "berth_upstream_open_connections", "Upstream connections open or opening (idle + busy + connecting).")
        case .idle:
            StatColumn(.gauge, "idle", "berth_upstream_idle_connections", "Idle pooled upstream connections.")
        case .busy:
            StatColumn(.gauge, "busy", "berth_upstream_busy_connections", "Upstream connections carrying a request.")
        case .connecting:
            StatColumn(.gauge, "connecting", "berth_upstream_connecting_connections", "Upstream connections being opened.")
        case .pending:
            StatColumn(.gauge, "pending", "berth_upstream_pending_requests", "Requests waiting for a connection.")
        case .opened:
            StatColumn(.counter, in: "connections", "opened", "berth_connections_opened_total", "Upstream connections opened.")
        case .reused:
            StatColumn(.counter, in: "connections", "reused", "berth_connections_reused_total", "Requests served on a pooled connection.")
        case .requests:
            StatColumn(.counter, "requests", "berth_requests_total", "Requests routed to an upstream.")
        case .retries:
            StatColumn(.counter, "retries", "berth_retries_total", "Requests retried on a fresh connection after a reused one failed.")
        case .resumes:
            StatColumn(.counter, "resumes", "berth_upstream_resumes_total",
                       "Paused upstreams made active again, with a new epoch, once neither the API nor the freezer watch held them.")
        case .tlsHandshakesFull:
            StatColumn(.counter, in: "tls", "handshakes_full", "berth_tls_handshakes_full_total",
                       "TLS handshakes with a certificate exchange (no cached session resumed).")
        case .tlsHandshakesResumed:
            StatColumn(.counter, in: "tls", "handshakes_resumed", "berth_tls_handshakes_resumed_total",
                       "TLS handshakes that resumed the session cached for the upstream.")
        case .tlsHandshakeFailures:
            StatColumn(.counter, in: "tls", "handshake_failures", "berth_tls_handshake_failures_total", "TLS handshakes that failed or timed out.")
        case .generationChanges:
            StatColumn(.counter, "generation_changes", "berth_upstream_generation_changes_total",
                       "Times a request named a new generation (Berth-Generation) for the upstream's address, the first included.")
        case .pauses:
            StatColumn(.counterBy(.pauseCause), "pauses", "berth_upstream_pauses_total",
                       "Upstream pauses by cause: api (/pause), watch (the freezer watch saw its cgroup frozen), both (one joined a pause the other held).")
        case .closed:
            StatColumn(.counterBy(.closeReason), in: "connections", "closed", "berth_connections_closed_total", "Upstream connections closed, by reason.")
        case .failures:
            StatColumn(.counterBy(.errorCause), "failures", "berth_upstream_failures_total", "Requests to an upstream that failed, by Berth-Error cause.")
        case .replays:
            StatColumn(.counterBy(.retryReason), "replays", "berth_replays_total",
                       "Requests sent again on a fresh connection after a reused one ended before any response byte, by the rule that allowed it.")
        case .replaySkipped:
            StatColumn(.counterBy(.replaySkip), "replay_skipped", "berth_replay_skipped_total",
                       "Requests under replay: unread that could not keep a copy of their body, by reason.")
        case .acquireWait:
            StatColumn(.histogram, in: "latency_ms", "acquire_wait", "berth_acquire_wait_seconds", "Time a request waited for an upstream connection.")
        case .timeToFirstByte:
            StatColumn(.histogram, in: "latency_ms", "time_to_first_byte", "berth_time_to_first_byte_seconds",
                       "Time from sending a request to its first response byte.")
        }
    }

    /// The cases of one kind, in table order.
    static func all(_ kind: StatKind) -> [UpstreamStat] { allCases.filter { $0.column.kind == kind } }

    /// Position among the cases of its kind, which are declared together (checked in StatTableTests): the distance
    /// from the first of them. A constant wherever the case is named, so counting on the data path is one add.
    @inline(__always)
    var slot: Int {
        switch self {
        case .open, .idle, .busy, .connecting, .pending: rawValue &- UpstreamStat.open.rawValue
        case .opened, .reused, .requests, .retries, .resumes, .tlsHandshakesFull, .tlsHandshakesResumed, .tlsHandshakeFailures,
             .generationChanges:
            rawValue &- UpstreamStat.opened.rawValue
        case .acquireWait, .timeToFirstByte: rawValue &- UpstreamStat.acquireWait.rawValue
        case .closed, .failures, .replays, .replaySkipped, .pauses: 0
        }
    }
}

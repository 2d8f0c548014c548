"""The bench/run chart: requests/s, proxy CPU per request and added latency per target (matplotlib, optional)."""

from procs import log


def chart(summary, targets, path, title):
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        log("matplotlib missing: chart skipped")
        return False
    colors = {"direct": "#999999", "berth": "#2a7ab0", "berth2": "#6aa6d0", "nginx": "#3c9a3c", "nginx2": "#7cc47c",
              "haproxy": "#d0772b", "haproxy2": "#e8a66b", "floor": "#bbbbbb",
              "berth-tls": "#1f5f8b", "berth-tls-new": "#8ab8de", "haproxy-tls": "#a85a1c", "haproxy-tls-new": "#f0c08f",
              "nginx-tls": "#2e7a2e"}
    fig, axes = plt.subplots(1, 3, figsize=(13, 4.2))
    ax = axes[0]
    rps = [summary[t]["rps"] for t in targets]
    bars = ax.bar(targets, rps, color=[colors.get(t, "#555") for t in targets])
    for t, bar in zip(targets, bars):
        r = summary[t]
        if "rps_min" in r:
            ax.errorbar(bar.get_x() + bar.get_width() / 2, r["rps"],
                        yerr=[[r["rps"] - r["rps_min"]], [r["rps_max"] - r["rps"]]], color="black", capsize=4)
    ax.bar_label(bars, fmt="%.0f", fontsize=8)
    ax.set_title("requests/s (higher is better)")
    prox = [t for t in targets if summary[t]["proxy_cpu_us_per_req"] is not None]
    ax = axes[1]
    cpu = [summary[t]["proxy_cpu_us_per_req"] for t in prox]
    bars = ax.bar(prox, cpu, color=[colors.get(t, "#555") for t in prox])
    ax.bar_label(bars, fmt="%.1f", fontsize=8)
    ax.set_title("proxy CPU µs per request (lower is better)")
    ax = axes[2]
    # Latency added to the direct baseline when it was measured; otherwise the latency itself.
    d = summary.get("direct")
    import numpy as np
    x = np.arange(len(prox))
    base50, base99 = (d["p50_us"], d["p99_us"]) if d else (0, 0)
    a50 = [summary[t]["p50_us"] - base50 for t in prox]
    a99 = [summary[t]["p99_us"] - base99 for t in prox]
    b1 = ax.bar(x - 0.2, a50, 0.4, label="p50", color="#6a9fd0")
    b2 = ax.bar(x + 0.2, a99, 0.4, label="p99", color="#1f4e79")
    ax.bar_label(b1, fmt="%.0f", fontsize=8)
    ax.bar_label(b2, fmt="%.0f", fontsize=8)
    ax.set_xticks(x, prox)
    ax.legend(fontsize=8)
    ax.set_title("added latency µs vs direct (lower is better)" if d else "latency µs (lower is better; no direct run)")
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    return True

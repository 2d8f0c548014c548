"""The bench/run report: medians of the rounds per target, and the table printed at the end."""

import statistics


def median_row(rows):
    out = {"target": rows[0]["target"], "rounds": len(rows)}
    for k, v in rows[0].items():
        if k == "target":
            continue
        vals = [r[k] for r in rows if r[k] is not None]
        if not vals:
            out[k] = None
        elif k == "errors":
            out[k] = sum(vals)
        else:
            m = statistics.median(vals)
            out[k] = round(m, 3) if isinstance(m, float) else m
    if len(rows) > 1:
        rps = [r["rps"] for r in rows]
        out["rps_min"], out["rps_max"] = min(rps), max(rps)
        cpu = [r["proxy_cpu_us_per_req"] for r in rows if r["proxy_cpu_us_per_req"] is not None]
        if cpu:
            out["cpu_min"], out["cpu_max"] = min(cpu), max(cpu)
    return out


def fmt(v, spec="{:.0f}"):
    return "-" if v is None else spec.format(v)


def table(summary, targets):
    direct = summary.get("direct")
    hdr = (f"{'target':<15} {'req/s':>9} {'p50 µs':>7} {'p99 µs':>7} {'+p50':>6} {'+p99':>6} "
           f"{'cpu µs/req':>10} {'user':>5} {'sys':>5} {'proxy cores':>11} {'up µs/req':>9} {'wrk cores':>9} {'other cores':>11} {'errors':>6}")
    lines = [hdr, "-" * len(hdr)]
    for t in targets:
        r = summary[t]
        add50 = r["p50_us"] - direct["p50_us"] if direct and t != "direct" else None
        add99 = r["p99_us"] - direct["p99_us"] if direct and t != "direct" else None
        lines.append(f"{t:<15} {fmt(r['rps']):>9} {fmt(r['p50_us']):>7} {fmt(r['p99_us']):>7} {fmt(add50):>6} "
                     f"{fmt(add99):>6} {fmt(r['proxy_cpu_us_per_req'], '{:.2f}'):>10} "
                     f"{fmt(r.get('proxy_user_us_per_req'), '{:.1f}'):>5} {fmt(r.get('proxy_sys_us_per_req'), '{:.1f}'):>5} "
                     f"{fmt(r['proxy_cores'], '{:.2f}'):>11} {fmt(r['upstream_cpu_us_per_req'], '{:.2f}'):>9} "
                     f"{fmt(r['wrk_cores'], '{:.2f}'):>9} {fmt(r['other_cores'], '{:.2f}'):>11} {r['errors']:>6}")
    return "\n".join(lines)

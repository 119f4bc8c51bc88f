"""The results as table rows (kept in results.json) and as a Markdown table."""

from __future__ import annotations

from typing import Any

MET, MISSED, INFO = "met", "MISSED", "-"
LABELS = {
    "board": "week board, 50 trips",
    "detail": "event detail (10 payments, 10 waivers)",
    "payment": "log a payment",
    "waiver": "sign a waiver",
    "login": "login",
    "waiver_page": "waiver page (GET)",
    "waiver_record": "one waiver, whole (crew)",
    "payments_csv": "payments.csv, board week",
    "authorizer": "authorizer run (revocation: the account's token version)",
    "tip": "log a tip for the crew (3-way split)",
    "refund": "log a refund",
    "cashup": "cash-up of a day (its 10 entries)",
}


def _verdict(ok: bool) -> str:
    return MET if ok else MISSED


def _row(section: str, measure: str, result: str, goal: str = "", verdict: str = INFO) -> dict:
    return {
        "section": section,
        "measure": measure,
        "result": result,
        "goal": goal,
        "verdict": verdict,
    }


def rows(sections: dict[str, Any]) -> list[dict[str, str]]:
    out: list[dict[str, str]] = []
    cold = sections.get("cold")
    if cold:
        app, bare, auth = cold["app_ms"], cold["bare_ms"], cold["authorizer_ms"]
        out.append(
            _row(
                "1 cold start",
                f"app: import + first GET /api/events/{{id}} vs bare boto3 handler, CPU time "
                f"(median of {cold['rounds']} alternating pairs)",
                f"{app['cpu']:.0f} ms vs {bare['cpu']:.0f} ms = {cold['ratio']:.2f}x "
                f"(wall, spawn to answer: {app['wall']:.0f} vs {bare['wall']:.0f} ms = "
                f"{cold['ratio_wall']:.2f}x)",
                f"<= {cold['goal']:.2f}x",
                _verdict(cold["ratio"] <= cold["goal"]),
            )
        )
        out.append(
            _row(
                "1 cold start",
                "  split (CPU): init (interpreter + imports) + first request",
                f"app {app['init_cpu']:.0f} + {app['first_request_cpu']:.0f} ms; "
                f"bare {bare['init_cpu']:.0f} + {bare['first_request_cpu']:.0f} ms "
                "(bare makes its client in init, the app on first use)",
            )
        )
        out.append(
            _row(
                "1 cold start",
                "authorizer (own Lambda): import + verify token, key from Secrets Manager",
                f"{auth['cpu']:.0f} ms CPU = {cold['authorizer_ratio']:.2f}x the bare handler",
            )
        )
        only = cold["extra_imports_ms"]
        extra = ", ".join(f"{k} {v:.0f}" for k, v in list(only.items())[:6])
        out.append(
            _row(
                "1 cold start",
                "  modules only the app imports (ms self time, python -X importtime, best of 3)",
                f"{sum(only.values()):.0f} ms: {extra}" if only else "none",
            )
        )
    warm = sections.get("warm")
    if warm:
        for name in ("board", "detail", "payment", "waiver"):
            if name not in warm:
                continue
            w = warm[name]
            out.append(
                _row(
                    "2 warm",
                    f"{LABELS[name]}: app p50 / p99 (CPU) vs its {w['aws_calls']} AWS call(s) alone",
                    f"{w['app_p50_ms']:.2f} / {w['app_p99_ms']:.2f} ms vs "
                    f"{w['stub_p50_ms']:.2f} / {w['stub_p99_ms']:.2f} ms = "
                    f"{w['ratio_p50']:.1f}x at p50 (+{w['overhead_p50_ms']:.2f} ms)",
                )
            )
        if "authorizer" in warm:
            a = warm["authorizer"]
            out.append(
                _row(
                    "2 warm",
                    "authorizer: verify a token, p50 / p99",
                    f"{a['app_p50_ms']:.3f} / {a['app_p99_ms']:.3f} ms",
                )
            )
    cost = sections.get("cost")
    if cost:
        small, large = cost["sizes"][0], cost["sizes"][-1]
        for name, c in cost["requests"].items():
            ops = " + ".join(f"{n} {op}" for op, n in c["operations"].items()) or "none"
            goal = "1 call, same items" if name in ("board", "detail", "payment", "waiver") else ""
            verdict = INFO
            if "same_calls_as_payment" in c:
                goal = "same calls as a payment"
                verdict = _verdict(
                    c["same_calls_as_payment"] and c["same_items"] and not c["scans"]
                )
            elif goal:
                verdict = _verdict(c["one_call"] and c["same_items"] and not c["scans"])
            elif not c["same_items"] or c["scans"]:
                verdict = MISSED
            out.append(
                _row(
                    "3 DynamoDB",
                    f"{LABELS.get(name, name)}: calls; items examined at "
                    f"{small:,} / {large:,} trips",
                    f"{c['calls']} ({ops}); {c['items_small']} / {c['items_large']} items",
                    goal,
                    verdict,
                )
            )
    email = sections.get("email")
    if email:
        out.append(
            _row(
                "4 email",
                f"payment p50 with SES {email['ses_delay_s']:.0f} s late vs SES fast "
                f"({email['payments_each']} each)",
                f"{email['slow_p50_ms']:.1f} ms vs {email['fast_p50_ms']:.1f} ms = "
                f"{email['ratio']:.2f}x; SES calls inside requests: "
                f"{email['ses_calls_during_payment_requests']}",
                f"<= {email['goal']:.1f}x",
                _verdict(email["ratio"] <= email["goal"]),
            )
        )
        out.append(
            _row(
                "4 email",
                "  where the delay went: outbox drain with SES late",
                f"{email['outbox_delivered']} emails in {email['outbox_drain_ms']:.0f} ms",
            )
        )
    foot = sections.get("footprint")
    if foot:
        counts = foot["bcrypt"]
        others = {k: v for k, v in counts.items() if k != "login"}
        ok = counts.get("login") == 1 and not any(others.values())
        out.append(
            _row(
                "5 counts",
                "bcrypt checks: login; each other request (" + ", ".join(others) + ")",
                f"{counts.get('login')}; " + ", ".join(str(v) for v in others.values()),
                "1; 0",
                _verdict(ok),
            )
        )
        package = foot["package"]
        if package.get("bytes"):
            text = (
                f"{package['bytes'] / 1024:.0f} KiB ({package['files']} files, "
                f"{package['unpacked_bytes'] / 1024:.0f} KiB unpacked)"
            )
            if package.get("note"):
                text += f"; {package['note']}"
        else:
            text = f"n/a: {package.get('reason')}"
        out.append(_row("5 counts", "deployment.zip (chalice package --stage prod)", text))
        page = foot["page"]
        out.append(
            _row(
                "5 counts",
                f"dispatch page: spa/ .html + .js + .css ({page['files']} files)",
                f"{page['bytes'] / 1024:.1f} KiB ({page['gzip_bytes'] / 1024:.1f} KiB gzipped)",
            )
        )
    out.extend(page_rows(sections.get("page")))
    return out


def page_rows(page: dict[str, Any] | None) -> list[dict[str, str]]:
    """6. The dispatch page in Chromium on emulated lines (bench/page.py)."""
    if not page:
        return []
    if page.get("skipped"):
        return [_row("6 page", "dispatch page in Chromium", f"n/a: {page['skipped']}")]
    goals = page["goals"]
    out = []
    for name, net in page["networks"].items():
        new = net["new"]
        line = f"{name} ({net['rtt_ms']} ms, {net['kbps']} kbit/s)"
        result = (
            f"{new['board_visible_ms']:.0f} ms; floor {new['floor_ms']:.0f} ms = "
            f"{new['ratio_to_floor']:.2f}x; {new['requests_before_board']} requests before the "
            f"board data, {new['requests']} in all"
        )
        old = net.get("baseline")
        if old:
            result += (
                f" (page before issue 13: {old['board_visible_ms']:.0f} ms, "
                f"{old['requests']} requests = {old['board_visible_ms'] / new['board_visible_ms']:.1f}x slower)"
            )
        ok = new["board_visible_ms"] <= goals["cold_ms"]
        if name == "slow 3G":
            ok = ok and new["requests_before_board"] <= goals["cold_requests"]
            goal = f"<= {goals['cold_ms']} ms, <= {goals['cold_requests']} requests before"
            verdict = _verdict(ok)
        else:
            goal, verdict = "", INFO
        cards = f", {new['cards']} trips" if new.get("cards") else ""
        if "server_ms" in new:
            result += (
                f"; of which the local API's own time {new['server_ms']:.0f} ms: "
                f"{new['less_server_ms']:.0f} ms without it"
            )
        out.append(
            _row(
                "6 page",
                f"board visible, empty cache, {line}{cards}, median of {page['rounds']}",
                result,
                goal,
                verdict,
            )
        )
        link = net.get("week_link")
        if link:
            fast = link["board_visible_ms"] <= goals["cold_ms"]
            out.append(
                _row(
                    "6 page",
                    f"a week's link (#/week/...), empty cache, {line}, median of {page['rounds']}",
                    f"{link['board_visible_ms']:.0f} ms; floor {link['floor_ms']:.0f} ms = "
                    f"{link['ratio_to_floor']:.2f}x; {link['requests_before_board']} requests "
                    f"before the board data; of which the local API's own time "
                    f"{link['server_ms']:.0f} ms: {link['less_server_ms']:.0f} ms without it",
                    f"<= {goals['cold_ms']} ms" if name == "slow 3G" else "",
                    _verdict(fast) if name == "slow 3G" else INFO,
                )
            )
    board = page.get("board")
    if board:
        out.append(
            _row(
                "6 page",
                f"the board's answer, {board['trips']} trips, gzipped: view=board vs whole events",
                f"{board['board_bytes_per_trip']:.0f} vs {board['whole_events_bytes_per_trip']:.0f}"
                f" bytes per trip ({board['board_gzip_bytes']:,} vs "
                f"{board['whole_events_gzip_bytes']:,} bytes); the local API answers in "
                f"{board.get('board_answer_ms', 0):.0f} vs {board.get('whole_events_answer_ms', 0):.0f} ms",
                "",
                INFO,
            )
        )
    warm = page["warm_ms"]
    out.append(
        _row(
            "6 page",
            "board visible, warm (service worker + board kept on the phone): " + ", ".join(warm),
            " / ".join(f"{v:.0f} ms" for v in warm.values()),
            f"<= {goals['warm_ms']} ms",
            _verdict(max(warm.values()) <= goals["warm_ms"]),
        )
    )
    weight = page["weight"]
    # Results recorded before the board's path was measured lack it.
    if "board_gzip_bytes" in weight:
        out.append(
            _row(
                "6 page",
                f"page weight: the board's path gzipped ({', '.join(weight['board_files'])})",
                f"{weight['board_gzip_bytes']:,} bytes (all of spa/: {weight['gzip_bytes']:,} bytes"
                f" gzipped in {weight['files']} files)",
                f"<= {goals['weight_gzip_bytes']:,} bytes",
                _verdict(weight["board_gzip_bytes"] <= goals["weight_gzip_bytes"]),
            )
        )
    return out


def table(results: dict[str, Any]) -> str:
    """A Markdown table of the rows, headed by when and where it ran."""
    head = (
        f"Ship Captain Crew benchmarks, {results['generated_at']}"
        f"{' (--quick)' if results.get('quick') else ''}: Python {results['python']}, "
        f"{results['machine']}, load average {results['load_average_at_start'][0]} at start"
    )
    lines = [head, "", "| section | measure | result | goal | verdict |", "|---|---|---|---|---|"]
    for row in results["rows"]:
        cells = (row["section"], row["measure"], row["result"], row["goal"], row["verdict"])
        lines.append("| " + " | ".join(c.replace("|", "/") for c in cells) + " |")
    return "\n".join(lines)

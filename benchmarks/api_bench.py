"""API throughput and latency: the app on Ray Serve beside the same app under plain uvicorn, in one run.

Authenticated read routes (``GET /engagements/{id}``: token check, engagement and team lookup; ``GET /me``)
against the embedded default (SQLite under a scratch data directory):

- saturation: 50 concurrent connections for 30 s with ``wrk`` (Debian's; ``apt-get install -y wrk``),
  reporting throughput and p50/p95/p99 latency;
- fixed offered load: 100 requests per second for 20 s from an open-loop asyncio/httpx generator (wrk2 is
  not packaged in Debian): each request is sent at its scheduled time whether or not earlier ones have
  answered, and its latency counts from that scheduled time, so a stalled server cannot hide its queue
  (no coordinated omission). Reports p50/p95/p99.

Targets: Serve's saturated throughput at least half of uvicorn's; p95 under 50 ms at 100 requests/s.

The two servers are measured one after the other, never at once: plain uvicorn first (uvloop, httptools, no
access log, one process), then Ray Serve with its HAProxy ingress (``RAY_SERVE_ENABLE_HA_PROXY=1``: HAProxy
forwards straight to the replicas' own HTTP servers, skipping the Python proxy), access logs off,
``--replicas`` replicas of ``--max-ongoing`` concurrent requests each. Rate limits are raised for the run
(this measures the server, not the limiter). All traffic stays on 127.0.0.1.

    python benchmarks/api_bench.py                      # both servers, both routes (about 4 minutes)
    python benchmarks/api_bench.py --duration 10 --rate-duration 10 --routes engagement

The machine is shared and has 2 cores: the load generator, the server and anything else running compete,
so figures vary from run to run; compare the two servers within one run.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROUTES = {"engagement": "/engagements/{engagement_id}", "me": "/me"}
WRK_SCRIPT = """
wrk.headers["Authorization"] = "Bearer %s"
done = function(summary, latency, requests)
  local errors = summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout
  io.write(string.format("RESULT {\\"requests\\": %%d, \\"duration_us\\": %%d, \\"errors\\": %%d, \\"non2xx\\": %%d, " ..
    "\\"p50_us\\": %%d, \\"p95_us\\": %%d, \\"p99_us\\": %%d}\\n", summary.requests, summary.duration, errors,
    summary.errors.status, latency:percentile(50), latency:percentile(95), latency:percentile(99)))
end
"""
BENCH_ENV = {"AUDITRAY_ENV": "local", "AUDITRAY_API_RATE_PER_SECOND": "1000000", "AUDITRAY_API_RATE_BURST": "1000000",
             "AUDITRAY_API_DOCS": "false"}


def prepare(data_dir: Path) -> dict:
    """A firm, a partner on an engagement's team, and a signed-in access token."""
    from datetime import date
    from decimal import Decimal

    from auditray.auth.services import open_session
    from auditray.settings import get_settings
    from auditray.store import (
        EngagementCreate,
        OrganizationCreate,
        Role,
        UserCreate,
        init_db,
        make_engine,
        session_scope,
    )
    from auditray.store import services as svc

    settings = get_settings()
    init_db(settings.resolved_database_url)
    engine = make_engine(settings.resolved_database_url)
    with session_scope(engine) as session:
        org = svc.create_organization(session, OrganizationCreate(name="Bench Audit LLP", slug="bench"))
        partner = svc.create_user(session, UserCreate(email="partner@bench.example", full_name="Bench Partner",
                                                      role=Role.partner), org_id=org.id, actor="system")
        engagement = svc.create_engagement(session, EngagementCreate(
            client_name="Bench Client Inc.", name="FY2025", fiscal_year=2025, period_start=date(2025, 1, 1),
            period_end=date(2025, 12, 31), materiality=Decimal("100000.00"),
            performance_materiality=Decimal("75000.00")), org_id=org.id, actor=partner)
        svc.add_engagement_member(session, engagement_id=engagement.id, user_id=partner.id, org_id=org.id,
                                  actor=partner)
        token = open_session(session, partner, secret=settings.secret_key).tokens.access_token
    engine.dispose()
    return {"token": token, "engagement_id": engagement.id}


def wait_healthy(url: str, timeout: float = 180.0) -> None:
    import httpx

    deadline = time.monotonic() + timeout
    while True:
        try:
            if httpx.get(f"{url}/health", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError(f"{url} did not become healthy in {timeout:.0f} s")
        time.sleep(0.2)


def saturate(url: str, token: str, *, connections: int, duration: int, threads: int) -> dict:
    """wrk, closed loop: as many requests as ``connections`` keep-alive connections can push."""
    wrk = shutil.which("wrk")
    if wrk is None:
        raise SystemExit("wrk is not installed: apt-get install -y wrk")
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(WRK_SCRIPT % token)
    try:
        out = subprocess.run([wrk, f"-t{threads}", f"-c{connections}", f"-d{duration}s", "--timeout", "10s",
                              "-s", script.name, url], capture_output=True, text=True, timeout=duration + 60,
                             check=True).stdout
    finally:
        os.unlink(script.name)
    result = json.loads(next(line for line in out.splitlines() if line.startswith("RESULT "))[7:])
    seconds = result["duration_us"] / 1e6
    return {"rps": result["requests"] / seconds, "requests": result["requests"], "errors": result["errors"],
            "non2xx": result["non2xx"], "p50_ms": result["p50_us"] / 1000, "p95_ms": result["p95_us"] / 1000,
            "p99_ms": result["p99_us"] / 1000}


async def _open_loop(url: str, token: str, rate: float, duration: float) -> dict:
    import httpx

    headers = {"Authorization": f"Bearer {token}"}
    latencies: list[float] = []
    failures = 0
    limits = httpx.Limits(max_connections=500, max_keepalive_connections=100)
    async with httpx.AsyncClient(headers=headers, limits=limits, timeout=30) as client:
        await client.get(url)  # open a connection before the clock starts

        async def one(scheduled: float) -> None:
            nonlocal failures
            try:
                response = await client.get(url)
                ok = response.status_code == 200
            except httpx.HTTPError:
                ok = False
            if ok:
                latencies.append(time.perf_counter() - scheduled)
            else:
                failures += 1

        start = time.perf_counter() + 0.05
        tasks = []
        for i in range(int(rate * duration)):
            scheduled = start + i / rate
            delay = scheduled - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(one(scheduled)))
        await asyncio.gather(*tasks)
        elapsed = time.perf_counter() - start
    quantiles = statistics.quantiles(latencies, n=100) if len(latencies) > 1 else [float("nan")] * 99
    return {"offered_rps": rate, "achieved_rps": len(latencies) / elapsed, "requests": len(latencies) + failures,
            "errors": failures, "p50_ms": quantiles[49] * 1000, "p95_ms": quantiles[94] * 1000,
            "p99_ms": quantiles[98] * 1000}


def fixed_rate(url: str, token: str, *, rate: float, duration: float) -> dict:
    try:
        import uvloop

        return uvloop.run(_open_loop(url, token, rate, duration))
    except ImportError:
        return asyncio.run(_open_loop(url, token, rate, duration))


def measure(name: str, base: str, prepared: dict, args: argparse.Namespace) -> list[dict]:
    rows = []
    for route in args.routes:
        url = base + ROUTES[route].format(engagement_id=prepared["engagement_id"])
        print(f"  {name} {ROUTES[route]}: warm-up, {args.duration} s at {args.connections} connections, "
              f"{args.rate_duration} s at {args.rate:g} req/s ...", flush=True)
        saturate(url, prepared["token"], connections=args.connections, duration=3, threads=args.threads)
        saturated = saturate(url, prepared["token"], connections=args.connections, duration=args.duration,
                             threads=args.threads)
        steady = fixed_rate(url, prepared["token"], rate=args.rate, duration=args.rate_duration)
        rows.append({"server": name, "route": ROUTES[route], "saturated": saturated, "fixed_rate": steady})
    return rows


def run_uvicorn_server(port: int) -> None:
    """Subprocess mode: the app under plain uvicorn, as a single process would serve it."""
    import uvicorn
    from auditray.api import create_app
    from auditray.runs import InlineLauncher

    uvicorn.run(create_app(launcher=InlineLauncher()), host="127.0.0.1", port=port, loop="uvloop",
                http="httptools", access_log=False, log_level="warning")


def start_serve(port: int, args: argparse.Namespace) -> None:
    if args.ha_proxy:
        os.environ["RAY_SERVE_ENABLE_HA_PROXY"] = "1"
    import ray
    from auditray.api.serve import build_app
    from auditray.settings import get_settings
    from ray import serve

    ray.init(num_cpus=os.cpu_count(), include_dashboard=False, log_to_driver=False,
             runtime_env={"env_vars": dict(BENCH_ENV)})
    serve.start(http_options={"host": "127.0.0.1", "port": port},
                logging_config={"enable_access_log": False, "log_level": "WARNING"})
    settings = get_settings()
    overrides = {"data_dir": str(settings.data_dir), "env": "local",
                 "secret_key": settings.secret_key.get_secret_value()}
    api = {"rate_per_second": 1_000_000, "rate_burst": 1_000_000, "docs": False}
    serve.run(build_app({"settings": overrides, "api_settings": api, "num_replicas": args.replicas,
                         "max_ongoing_requests": args.max_ongoing}), name="api", route_prefix="/")


def report(rows: list[dict], args: argparse.Namespace) -> None:
    print()
    print(f"{'server':<10} {'route':<30} {'sat. req/s':>10} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'err':>5}  "
          f"{'@' + format(args.rate, 'g') + '/s p50':>10} {'p95':>7} {'p99':>7} {'err':>4}")
    for row in rows:
        s, f = row["saturated"], row["fixed_rate"]
        print(f"{row['server']:<10} {row['route']:<30} {s['rps']:>10.0f} {s['p50_ms']:>8.1f} {s['p95_ms']:>8.1f} "
              f"{s['p99_ms']:>8.1f} {s['errors'] + s['non2xx']:>5}  {f['p50_ms']:>10.1f} {f['p95_ms']:>7.1f} "
              f"{f['p99_ms']:>7.1f} {f['errors']:>4}")
    print()
    by = {(r["server"], r["route"]): r for r in rows}
    for route in sorted({r["route"] for r in rows}):
        plain, serve = by.get(("uvicorn", route)), by.get(("serve", route))
        if plain and serve:
            ratio = serve["saturated"]["rps"] / plain["saturated"]["rps"]
            p95 = serve["fixed_rate"]["p95_ms"]
            print(f"{route}: Serve/uvicorn saturated throughput {ratio:.2f}x (target >= 0.5: "
                  f"{'met' if ratio >= 0.5 else 'NOT met'}); Serve p95 at {args.rate:g} req/s {p95:.1f} ms "
                  f"(target < 50 ms: {'met' if p95 < 50 else 'NOT met'})")
    print(json.dumps({"args": vars(args), "rows": rows}, default=str))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=int, default=30, help="Seconds of saturation per route and server.")
    parser.add_argument("--connections", type=int, default=50)
    parser.add_argument("--threads", type=int, default=1, help="wrk threads (1 leaves a core to the server).")
    parser.add_argument("--rate", type=float, default=100.0, help="Offered requests per second, open loop.")
    parser.add_argument("--rate-duration", type=float, default=20.0)
    parser.add_argument("--routes", nargs="+", choices=sorted(ROUTES), default=["engagement", "me"])
    parser.add_argument("--replicas", type=int, default=2)
    parser.add_argument("--max-ongoing", type=int, default=64)
    parser.add_argument("--no-ha-proxy", dest="ha_proxy", action="store_false")
    parser.add_argument("--skip", choices=["uvicorn", "serve"], action="append", default=[])
    parser.add_argument("--uvicorn-server", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.uvicorn_server:
        run_uvicorn_server(args.uvicorn_server)
        return

    from auditray.api.local import free_port

    scratch = Path(tempfile.mkdtemp(prefix="auditray-api-bench-"))
    env = {**BENCH_ENV, "AUDITRAY_DATA_DIR": str(scratch), "AUDITRAY_SECRET_KEY": secrets.token_urlsafe(48)}
    os.environ.update(env)
    print(f"Auditray API benchmark on {os.cpu_count()} cores (shared machine: figures are noisy); "
          f"data in {scratch}", flush=True)
    prepared = prepare(scratch)
    rows: list[dict] = []
    try:
        if "uvicorn" not in args.skip:
            port = free_port()
            server = subprocess.Popen([sys.executable, __file__, "--uvicorn-server", str(port)], env={**os.environ})
            try:
                wait_healthy(f"http://127.0.0.1:{port}")
                rows += measure("uvicorn", f"http://127.0.0.1:{port}", prepared, args)
            finally:
                server.terminate()
                server.wait(30)
        if "serve" not in args.skip:
            port = free_port()
            started = time.perf_counter()
            start_serve(port, args)
            wait_healthy(f"http://127.0.0.1:{port}")
            print(f"  Ray Serve up in {time.perf_counter() - started:.0f} s ({args.replicas} replicas, "
                  f"max_ongoing_requests={args.max_ongoing}, HAProxy ingress {'on' if args.ha_proxy else 'off'})",
                  flush=True)
            try:
                rows += measure("serve", f"http://127.0.0.1:{port}", prepared, args)
            finally:
                from ray import serve

                serve.shutdown()
                import ray

                ray.shutdown()
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    report(rows, args)


if __name__ == "__main__":
    main()

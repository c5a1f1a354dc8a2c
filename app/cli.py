"""The ``hotfix-lane`` command: serve, worker, database and delivery tools, local checks."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import signal
import sys
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime
from typing import Any

from pydantic import ValidationError
from sqlalchemy.engine import Engine
from sqlmodel import Session

from app.settings import ConfigError, Settings, get_settings

EXIT_CONFIG = 2


def _settings() -> Settings:
    try:
        return get_settings()
    except ValidationError as exc:
        first = exc.errors()[0]
        name = "HOTFIX_LANE_" + "_".join(str(p) for p in first["loc"]).upper()
        raise ConfigError(f"{name}: {first['msg']}") from exc


def _out(text: str = "") -> None:
    sys.stdout.write(text + "\n")


def _graceful_server(config: Any) -> Any:
    """uvicorn's server, stopping on SIGTERM/SIGINT with exit status 0.

    uvicorn re-raises the signal once it has shut down gracefully, so a clean stop would end
    with 143 and read as a crash to a supervisor; the graceful shutdown is what it ran.
    """
    import uvicorn

    class Server(uvicorn.Server):
        @contextlib.contextmanager
        def capture_signals(self) -> Iterator[None]:
            previous = {sig: signal.signal(sig, self.handle_exit) for sig in _STOP_SIGNALS}
            try:
                yield
            finally:
                for sig, handler in previous.items():
                    signal.signal(sig, handler)

    return Server(config)


_STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


def _quiet_server(config: Any) -> Any:
    """uvicorn's server leaving signals alone: the worker's own handlers stop both."""
    import uvicorn

    class Server(uvicorn.Server):
        @contextlib.contextmanager
        def capture_signals(self) -> Iterator[None]:
            yield

    return Server(config)


def cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn

    from app.logs import configure
    from app.main import create_app
    from app.store.db import check_database, make_engine

    settings = _settings()
    configure(settings.log_level, json_output=settings.log_json)
    settings.require_webhook_secret()
    engine = make_engine(settings.database_url)
    check_database(engine)
    engine.dispose()
    app = create_app(settings, run_worker=not args.no_worker)
    config = uvicorn.Config(
        app, host=args.host, port=args.port, log_config=None, access_log=False, lifespan="on"
    )
    server = _graceful_server(config)
    server.run()
    return 0 if server.started else 1


def cmd_worker(args: argparse.Namespace) -> int:
    from app.clock import Clock
    from app.github.preload import preload
    from app.logs import configure
    from app.wiring import run_worker

    settings = _settings()
    configure(settings.log_level, json_output=settings.log_json)
    engine = _engine(settings)
    preload()  # before the first job, not in the middle of it

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in _STOP_SIGNALS:
            loop.add_signal_handler(sig, stop.set)
        if args.metrics_port is None:
            await run_worker(settings, engine, Clock(), stop)
            return
        import uvicorn

        from app.main import operations_app

        config = uvicorn.Config(
            operations_app(engine),
            host=args.metrics_host,
            port=args.metrics_port,
            log_config=None,
            access_log=False,
        )
        server = _quiet_server(config)
        serving = asyncio.create_task(server.serve())
        try:
            await run_worker(settings, engine, Clock(), stop)
        finally:
            server.should_exit = True
            await serving

    try:
        asyncio.run(main())
    finally:
        engine.dispose()
    return 0


def _engine(settings: Settings | None = None) -> Engine:
    """An engine on the configured database, migrated: what every admin command starts from."""
    from app.store import migrate
    from app.store.db import check_database, make_engine

    engine = make_engine((settings or _settings()).database_url)
    check_database(engine)
    migrate.upgrade(engine)
    return engine


def cmd_db_upgrade(_args: argparse.Namespace) -> int:
    engine = _engine()
    _out(f"database schema is up to date ({engine.url.get_backend_name()})")
    return 0


def cmd_db_prune(args: argparse.Namespace) -> int:
    """Delete what is past the retention now (what the hourly job does)."""
    from datetime import timedelta

    from app.clock import Clock
    from app.store.prune import prune

    settings = _settings()
    engine = _engine(settings)
    try:
        before = Clock().now() - timedelta(days=settings.retention_days)
        pruned = prune(engine, before=before, dry_run=args.dry_run)
    finally:
        engine.dispose()
    verb = "would delete" if args.dry_run else "deleted"
    _out(
        f"{verb} {pruned.deliveries} deliveries and {pruned.jobs} done jobs older than "
        f"{settings.retention_days} days, and {pruned.evaluations} superseded evaluations of "
        "ordinary pull requests"
    )
    return 0


def cmd_deliveries_list(args: argparse.Namespace) -> int:
    from app.intake.stored import listing, listing_json

    with Session(_engine()) as session:
        if args.json:
            _out(listing_json(session, limit=args.limit))
        else:
            _out("\n".join(listing(session, limit=args.limit)))
    return 0


def cmd_deliveries_show(args: argparse.Namespace) -> int:
    from app.intake.stored import details

    with Session(_engine()) as session:
        lines = details(session, delivery_id=args.id, body=args.body)
    if lines is None:
        sys.stderr.write(f"hotfix-lane: no delivery {args.id}\n")
        return 1
    _out("\n".join(lines))
    return 0


def cmd_deliveries_replay(args: argparse.Namespace) -> int:
    from app.clock import Clock
    from app.jobs import queue
    from app.store.db import session_scope
    from app.store.deliveries import DELIVERY_JOB, delivery_job_key, get_delivery

    engine = _engine()
    with session_scope(engine) as session:
        if get_delivery(session, delivery_id=args.id) is None:
            sys.stderr.write(f"hotfix-lane: no delivery {args.id}\n")
            return 1
        key, now = delivery_job_key(args.id), Clock().timestamp()
        if not queue.requeue(session, key=key, now=now):
            queue.enqueue(session, kind=DELIVERY_JOB, key=key, ref=args.id, now=now)
    _out(f"delivery {args.id} queued again")
    return 0


def cmd_deliveries_recover(args: argparse.Namespace) -> int:
    """Ask GitHub to redeliver what it failed to deliver and we never stored."""
    from datetime import timedelta

    from app.clock import Clock
    from app.intake.recovery import recover
    from app.lane.reconcile import sweep
    from app.retry import Defer
    from app.wiring import open_services

    settings = _settings()
    if not settings.github_configured:
        sys.stderr.write(
            "hotfix-lane: deliveries recover needs the App (HOTFIX_LANE_GITHUB_APP_ID and "
            "_PRIVATE_KEY)\n"
        )
        return EXIT_CONFIG
    clock = Clock()
    since = clock.now() - timedelta(hours=args.since_hours)
    if args.since is not None:
        if (given := _utc_date("--since", args.since)) is None:
            return EXIT_CONFIG
        since = given
    engine = _engine(settings)

    async def run() -> Any:
        async with open_services(settings, engine, clock) as services:
            assert services.gateway is not None
            recovered = await recover(services, services.gateway, since=since, limit=args.limit)
            swept = None if args.no_sweep else await sweep(services, limit=args.limit)
            return recovered, swept

    try:
        result, swept = asyncio.run(run())
    except Defer as exc:
        sys.stderr.write(f"hotfix-lane: GitHub asks to wait ({exc.reason}); try again later\n")
        return 1
    finally:
        engine.dispose()
    if args.json:
        report: dict[str, Any] = {
            "listed": result.listed,
            "missing": result.missing,
            "redelivered": list(result.redelivered),
            "failed": list(result.failed),
        }
        if swept is not None:
            report["sweep"] = {
                "compared": swept.compared,
                "evaluate": list(swept.evaluate),
                "closed": list(swept.closed),
                "unreadable": list(swept.unreadable),
                "failed": list(swept.failed),
                "stopped": swept.stopped,
            }
        _out(json.dumps(report))
    else:
        _out(
            f"{result.listed} delivery attempts since {since.astimezone(UTC):%Y-%m-%d %H:%M} UTC; "
            f"{result.missing} never delivered nor stored; redelivered: "
            f"{', '.join(result.redelivered) or 'none'}"
        )
        if swept is not None:
            _out(
                f"{swept.compared} open lane PRs compared with GitHub; queued for evaluation "
                f"at a new head: {', '.join(swept.evaluate) or 'none'}; closed on GitHub, "
                f"queued: {', '.join(swept.closed) or 'none'}"
                + (f"; cannot be read: {', '.join(swept.unreadable)}" if swept.unreadable else "")
                + (f"; stopped early: {swept.stopped}" if swept.stopped else "")
            )
    incomplete = swept is not None and (swept.failed or swept.stopped)
    return 1 if result.failed or incomplete else 0


def cmd_check(args: argparse.Namespace) -> int:
    from pathlib import Path

    from app.clock import Clock
    from app.lane.local import LocalCheckError, exit_code, format_table, run_local_check
    from app.policy.loader import DEFAULT_SOURCE, PolicyError, default_policy_text, load_policy

    repo = Path(args.repo)
    local = repo / ".github" / "hotfix-lane.yml"
    try:
        policy = load_policy(
            [
                (DEFAULT_SOURCE, default_policy_text()),
                (str(local), local.read_text() if local.is_file() else None),
            ]
        )
        verdicts = run_local_check(repo, args.base, policy, Clock().now())
    except (LocalCheckError, PolicyError) as exc:
        sys.stderr.write(f"hotfix-lane: {exc}\n")
        return EXIT_CONFIG
    _out(format_table(verdicts))
    return exit_code(verdicts)


def cmd_validate_config(args: argparse.Namespace) -> int:
    from pathlib import Path

    from app.policy.loader import validate_policy_file

    if args.org is None and args.repo is None:
        if args.file is None:
            sys.stderr.write("hotfix-lane: validate-config needs FILE, or --org and/or --repo\n")
            return EXIT_CONFIG
        errors = validate_policy_file(Path(args.file))
        for error in errors:
            sys.stderr.write(f"{error}\n")
        if not errors:
            _out(f"{args.file}: valid")
        return 1 if errors else 0
    return _validate_layers(args.org, args.repo, as_json=args.json)


def _validate_layers(org: str | None, repo: str | None, *, as_json: bool) -> int:
    """Print the effective policy of ``org`` and ``repo`` files and what the floor ignored."""
    from pathlib import Path

    from app.policy.preview import preview

    result = preview(Path(org) if org else None, Path(repo) if repo else None)
    for line in result.messages:
        sys.stderr.write(f"{line}\n")
    if result.text is None:
        return 1
    _out(result.json if as_json else result.text)
    return 0


def cmd_ledger_list(args: argparse.Namespace) -> int:
    from datetime import UTC, datetime

    from app.ledger import report
    from app.ledger.records import list_hotfixes

    since = None
    if args.since:
        try:
            since = datetime.fromisoformat(args.since)
        except ValueError:
            sys.stderr.write(f"hotfix-lane: --since {args.since!r} is not a date (YYYY-MM-DD)\n")
            return EXIT_CONFIG
        since = since if since.tzinfo else since.replace(tzinfo=UTC)
    with Session(_engine()) as session:
        rows = list_hotfixes(session, since=since)
    _out(report.as_json(rows) if args.json else "\n".join(report.as_table(rows)))
    return 0


def _utc_date(flag: str, value: str) -> datetime | None:
    """A ``--since``/``--until`` value as a UTC time (a date is its midnight), or None once the
    problem is on stderr."""
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        sys.stderr.write(f"hotfix-lane: {flag} {value!r} is not a date (YYYY-MM-DD)\n")
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def cmd_report(args: argparse.Namespace) -> int:
    from app.clock import Clock
    from app.ledger import review

    since = _utc_date("--since", args.since)
    until = _utc_date("--until", args.until) if args.until else Clock().now()
    if since is None or until is None:
        return EXIT_CONFIG
    if until <= since:
        sys.stderr.write(f"hotfix-lane: --until {until:%Y-%m-%d %H:%M} is not after --since\n")
        return EXIT_CONFIG
    with Session(_engine()) as session:
        figures = review.build_review(session, since=since, until=until, org=args.org)
    if args.csv:
        # The CSV ends with its own newline.
        sys.stdout.write(review.as_csv(figures))
    else:
        _out(review.as_json(figures) if args.json else "\n".join(review.as_text(figures)))
    return 0


def cmd_runbook_last_worked(args: argparse.Namespace) -> int:
    from app.ledger import last_worked

    with Session(_engine()) as session:
        rows = last_worked.last_worked(session, limit=args.limit)
    _out(last_worked.as_json(rows) if args.json else "\n".join(last_worked.as_table(rows)))
    return 0


def _positive(value: str) -> int:
    number = int(value)
    if number < 1:
        raise argparse.ArgumentTypeError(f"{value} is not a positive number")
    return number


def cmd_followups_list(args: argparse.Namespace) -> int:
    from app.followups import queries, report

    states = [queries.OPEN] if args.open else [queries.OVERDUE] if args.overdue else None
    with Session(_engine()) as session:
        rows = queries.listing(session, states=states)
    _out(report.as_json(rows) if args.json else "\n".join(report.as_table(rows)))
    return 0


def cmd_followups_show(args: argparse.Namespace) -> int:
    from app.followups import queries, report

    with Session(_engine()) as session:
        rows = queries.listing(session, incident=args.incident)
    if not rows:
        sys.stderr.write(f"hotfix-lane: no follow-ups for {args.incident}\n")
        return 1
    _out("\n".join(report.as_text(rows)))
    return 0


def cmd_notices_list(args: argparse.Namespace) -> int:
    from app.notify.outbox import list_notices

    with Session(_engine()) as session:
        rows = list_notices(session, limit=args.limit)
    if args.json:
        _out(
            json.dumps(
                [
                    {
                        "key": row.key,
                        "kind": row.kind,
                        "status": row.status,
                        "channel": row.channel,
                        "violation": row.violation,
                        "text": row.text,
                        "created_at": row.created_at.isoformat(),
                        "sent_at": row.sent_at.isoformat() if row.sent_at else None,
                    }
                    for row in rows
                ],
                indent=2,
            )
        )
        return 0
    _out(f"{'CREATED (UTC)':<17} {'STATUS':<8} {'CHANNEL':<18} TEXT")
    for row in rows:
        _out(f"{row.created_at:%Y-%m-%d %H:%M} {row.status:<8} {row.channel:<18} {row.text}")
    return 0


def cmd_notices_resend(_args: argparse.Namespace) -> int:
    from app.clock import Clock
    from app.notify.outbox import resend_stored

    with Session(_engine()) as session:
        count = resend_stored(session, now=Clock().timestamp())
    _out(f"{count} stored notice(s) queued to be sent")
    return 0


def _version() -> str:
    """The installed distribution's version (the source tree's when run from a checkout)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("hotfix-lane")
    except PackageNotFoundError:
        return "unknown (not installed)"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="hotfix-lane", description="Enforce the hotfix-lane runbook on pull requests."
    )
    parser.add_argument("--version", action="version", version=f"hotfix-lane {_version()}")
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="run the webhook API and the worker")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument(
        "--no-worker",
        action="store_true",
        help="accept webhooks only; run `hotfix-lane worker` elsewhere",
    )
    serve.set_defaults(func=cmd_serve)

    worker = sub.add_parser("worker", help="process stored deliveries and jobs")
    worker.add_argument(
        "--metrics-port", type=int, help="serve /healthz, /readyz and /metrics on this port"
    )
    worker.add_argument("--metrics-host", default="0.0.0.0")  # noqa: S104 - a probe target
    worker.set_defaults(func=cmd_worker)

    db = sub.add_parser("db", help="database schema").add_subparsers(dest="db", required=True)
    db.add_parser("upgrade", help="apply migrations").set_defaults(func=cmd_db_upgrade)
    prune_cmd = db.add_parser("prune", help="delete what is past HOTFIX_LANE_RETENTION_DAYS")
    prune_cmd.add_argument("--dry-run", action="store_true", help="count, delete nothing")
    prune_cmd.set_defaults(func=cmd_db_prune)

    deliveries = sub.add_parser("deliveries", help="stored webhook deliveries").add_subparsers(
        dest="deliveries", required=True
    )
    listing = deliveries.add_parser("list", help="newest first")
    listing.add_argument("--limit", type=_positive, default=50)
    listing.add_argument("--json", action="store_true")
    listing.set_defaults(func=cmd_deliveries_list)
    show = deliveries.add_parser("show", help="one delivery and its job")
    show.add_argument("id")
    show.add_argument("--body", action="store_true", help="also print the raw payload")
    show.set_defaults(func=cmd_deliveries_show)
    replay = deliveries.add_parser("replay", help="queue a stored delivery again")
    replay.add_argument("id")
    replay.set_defaults(func=cmd_deliveries_replay)
    recover = deliveries.add_parser(
        "recover", help="ask GitHub to redeliver what it failed to deliver and we never stored"
    )
    window = recover.add_mutually_exclusive_group()
    window.add_argument("--since-hours", type=float, default=24.0, metavar="HOURS")
    window.add_argument("--since", help="from this date or time on (ISO 8601, UTC)")
    recover.add_argument("--limit", type=_positive, default=50)
    recover.add_argument(
        "--no-sweep",
        action="store_true",
        help="only redeliveries: skip comparing the open lane PRs with GitHub",
    )
    recover.add_argument("--json", action="store_true")
    recover.set_defaults(func=cmd_deliveries_recover)

    ledger = sub.add_parser("ledger", help="the hotfix ledger").add_subparsers(
        dest="ledger", required=True
    )
    ledger_list = ledger.add_parser("list", help="merged hotfixes, oldest first")
    ledger_list.add_argument("--since", help="only merges on or after this date (YYYY-MM-DD)")
    ledger_list.add_argument("--json", action="store_true", help="one JSON array")
    ledger_list.set_defaults(func=cmd_ledger_list)

    report = sub.add_parser(
        "report",
        help="the quarterly review's figures: hotfixes by repository and author, follow-ups "
        "kept and missed, rate-limit trips",
    )
    report.add_argument("--since", required=True, help="from this date on (YYYY-MM-DD, UTC)")
    report.add_argument("--until", help="up to, not including, this date (default: now)")
    report.add_argument("--org", help="one organisation only")
    report_format = report.add_mutually_exclusive_group()
    report_format.add_argument("--json", action="store_true", help="one JSON object")
    report_format.add_argument("--csv", action="store_true", help="section,name,value rows")
    report.set_defaults(func=cmd_report)

    runbook = sub.add_parser("runbook", help="the runbook's own record").add_subparsers(
        dest="runbook", required=True
    )
    worked = runbook.add_parser(
        "last-worked", help='the "When this runbook last worked" table, newest first'
    )
    worked.add_argument("--json", action="store_true", help="one JSON array")
    worked.add_argument("--limit", type=_positive, default=20)
    worked.set_defaults(func=cmd_runbook_last_worked)

    notices = sub.add_parser("notices", help="the audit notice outbox").add_subparsers(
        dest="notices", required=True
    )
    notices_list = notices.add_parser("list", help="newest first")
    notices_list.add_argument("--limit", type=_positive, default=50)
    notices_list.add_argument("--json", action="store_true")
    notices_list.set_defaults(func=cmd_notices_list)
    notices.add_parser(
        "resend", help="send the notices kept while no Slack token was set"
    ).set_defaults(func=cmd_notices_resend)

    followups = sub.add_parser("followups", help="what merged hotfixes still owe").add_subparsers(
        dest="followups", required=True
    )
    followups_list = followups.add_parser("list", help="every follow-up, soonest due first")
    which = followups_list.add_mutually_exclusive_group()
    which.add_argument("--open", action="store_true", help="only those not yet due or done")
    which.add_argument("--overdue", action="store_true", help="only those past their deadline")
    followups_list.add_argument("--json", action="store_true", help="one JSON array")
    followups_list.set_defaults(func=cmd_followups_list)
    followups_show = followups.add_parser("show", help="the follow-ups of one incident")
    followups_show.add_argument("incident", metavar="INC-ID")
    followups_show.set_defaults(func=cmd_followups_show)

    check = sub.add_parser("check", help="check the current branch before pushing")
    check.add_argument("--repo", default=".")
    check.add_argument("--base", default=None)
    check.set_defaults(func=cmd_check)

    validate = sub.add_parser(
        "validate-config",
        help="validate a policy file, or print what an organisation and a repository file make",
    )
    validate.add_argument("file", nargs="?", help="one policy file to check on its own")
    validate.add_argument(
        "--org", metavar="FILE", help="the organisation's .github/hotfix-lane.yml"
    )
    validate.add_argument("--repo", metavar="FILE", help="the repository's .github/hotfix-lane.yml")
    validate.add_argument("--json", action="store_true", help="print JSON instead of YAML")
    validate.set_defaults(func=cmd_validate_config)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    func: Callable[[argparse.Namespace], int] = args.func
    try:
        return func(args)
    except ConfigError as exc:
        sys.stderr.write(f"hotfix-lane: {exc}\n")
        return EXIT_CONFIG
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":  # pragma: no cover
    with contextlib.suppress(BrokenPipeError):
        sys.exit(main())

"""The ``tunewave`` command.

``tunewave run`` is the whole product on one machine: it uses DATABASE_URL and REDIS_URL when
they are set and otherwise starts embedded PostgreSQL and Redis under ``settings.data_dir``,
applies migrations, runs the startup steps, then supervises the web server, a Celery worker
and Celery beat until Ctrl-C or SIGTERM (see tunewave/supervisor.py for what happens when a child
dies). ``tunewave migrate`` upgrades the schema to the newest revision. Preparing a database
(migrate, catalog import, demo seed) lives in tunewave/bootstrap.py, shared with the benchmarks.

Adding a command (``train`` and ``evaluate`` are planned): write an
``add_*_command(subcommands)`` function that registers a subparser and sets its ``handler``
(called with the parsed arguments and the settings, returning the exit status), and list it
in ``COMMANDS``.
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import logging
import os
import signal
import socket
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import IO, Any, TextIO

import httpx

from api.core.config import Settings, get_settings
from api.core.logging import configure_logging
from tunewave.bootstrap import (
    BootstrapError,
    import_catalog,
    migrate,
    migrate_if_needed,
    seed_demo_listeners,
)
from tunewave.embedded import EmbeddedServiceError
from tunewave.supervisor import ChildSpec, Supervisor

logger = logging.getLogger(__name__)

READY_TIMEOUT_S = 90.0

Handler = Callable[[argparse.Namespace, Settings], int]
Subcommands = Any  # argparse's private _SubParsersAction

# Run by `tunewave run` after migrations, in order, with the settings the processes will get
# (embedded URLs filled in), while the web server starts and before the worker and beat do;
# the address is printed once they are done. Each step runs on every start,
# so it must be idempotent. Loading the demo catalog on first start belongs here. The console
# names a step by its function name; a step may return a short summary shown next to it
# (e.g. "32833 tracks").
StartupStep = Callable[[Settings], str | None]
STARTUP_STEPS: list[StartupStep] = []  # filled below, once the steps are defined


class CommandError(Exception):
    """A failure the user can act on: printed as one line, exit status 1."""


# --- migrate ---------------------------------------------------------------------------------


@contextlib.contextmanager
def _database(settings: Settings) -> Iterator[str]:
    """DATABASE_URL, or the embedded database (started if needed, stopped if we started it)."""
    if settings.database_url:
        yield settings.database_url
        return
    from tunewave.embedded import EmbeddedPostgres

    postgres = EmbeddedPostgres(settings.data_dir)
    database_url = postgres.start()
    try:
        yield database_url
    finally:
        # Leave a server that `tunewave run` started running; stop one we started.
        if not postgres.reused:
            postgres.stop()


def _migrate_handler(args: argparse.Namespace, settings: Settings) -> int:
    with _database(settings) as database_url:
        migrate(database_url)
    return 0


def add_migrate_command(subcommands: Subcommands) -> None:
    parser = subcommands.add_parser(
        "migrate",
        help="apply database migrations (alembic upgrade head)",
        description=(
            "Upgrade the database schema to the newest migration. Uses DATABASE_URL; when it "
            "is unset, the embedded PostgreSQL in the data directory (started if needed)."
        ),
    )
    parser.set_defaults(handler=_migrate_handler)


# --- run -------------------------------------------------------------------------------------


def process_specs(settings: Settings, *, worker: bool = True, beat: bool = True) -> list[ChildSpec]:
    python = sys.executable
    specs = [
        ChildSpec(
            "web",
            [
                python,
                "-m",
                "uvicorn",
                "api.main:app",
                "--host",
                settings.host,
                "--port",
                str(settings.port),
            ],
        )
    ]
    if worker:
        specs.append(
            ChildSpec(
                "worker",
                [python, "-m", "celery", "-A", "workers.celery_app", "worker", "--loglevel=INFO"],
                # Cold shutdown: Ctrl-C should not wait for a running training. Tasks are
                # acknowledged late and idempotent, so an interrupted one runs again on the
                # next start.
                stop_signal=signal.SIGQUIT,
            )
        )
    if beat:
        specs.append(
            ChildSpec(
                "beat",
                [python, "-m", "celery", "-A", "workers.celery_app", "beat", "--loglevel=INFO"],
            )
        )
    return specs


def browser_url(settings: Settings) -> str:
    host = settings.host
    if host in ("0.0.0.0", "::", ""):  # noqa: S104 - mapping a bind-all address to loopback
        host = "127.0.0.1"
    if ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{settings.port}"


def child_environment(settings: Settings) -> dict[str, str]:
    """The environment of the web, worker and beat processes."""
    env = dict(os.environ)
    env["DATABASE_URL"] = settings.require_database_url()
    env["REDIS_URL"] = settings.require_redis_url()
    env["PYTHONUNBUFFERED"] = "1"
    # The SPA is served by this API, so unless configured otherwise OAuth redirects and the
    # frontend live at the address we listen on (which --port may have changed).
    url = browser_url(settings)
    if "frontend_url" not in settings.model_fields_set:
        env["TUNEWAVE_FRONTEND_URL"] = url
    if "public_api_url" not in settings.model_fields_set:
        env["TUNEWAVE_PUBLIC_API_URL"] = url
    return env


def _ensure_port_free(host: str, port: int) -> None:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        # Same option uvicorn sets, so a port in TIME_WAIT from a previous run counts as free.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            raise CommandError(
                f"cannot listen on {host}:{port} ({exc.strerror}); stop whatever uses it "
                "or pass --port"
            ) from exc


@contextlib.contextmanager
def _data_dir_lock(data_dir: Path) -> Iterator[None]:
    """One `tunewave run` per data directory: two would share one embedded database."""
    data_dir.mkdir(parents=True, exist_ok=True)
    handle: IO[str] = (data_dir / "run.lock").open("a+")
    try:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            raise CommandError(
                f"another `tunewave run` is using {data_dir}; stop it first "
                "(or set TUNEWAVE_DATA_DIR)"
            ) from exc
        yield
    finally:
        handle.close()


def _raise_keyboard_interrupt(signum: int, _frame: object) -> None:
    raise KeyboardInterrupt


def _wait_until_ready(supervisor: Supervisor, url: str) -> bool:
    deadline = time.monotonic() + READY_TIMEOUT_S
    with httpx.Client(timeout=2.0) as client:
        while time.monotonic() < deadline:
            if supervisor.stop_requested.is_set() or supervisor.exited_child() is not None:
                return False
            try:
                if client.get(f"{url}/readyz").status_code == 200:
                    return True
            except httpx.TransportError:
                pass
            supervisor.stop_requested.wait(0.25)
    logger.warning("the API is not ready after %.0fs; still waiting for it", READY_TIMEOUT_S)
    return False


class Story:
    """The console of `tunewave run`: one line per startup phase with its duration."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream or sys.stdout
        self.started = time.monotonic()
        self.stopping_at: float | None = None

    def say(self, text: str) -> None:
        print(text, file=self.stream, flush=True)

    @contextlib.contextmanager
    def phase(self, label: str) -> Iterator[list[str]]:
        """Time the block; it may append a detail to the list it is given."""
        detail: list[str] = []
        started = time.monotonic()
        yield detail
        seconds = time.monotonic() - started
        logger.info("startup phase done", extra={"phase": label, "seconds": round(seconds, 2)})
        suffix = f": {detail[0]}" if detail else ""
        self.say(f"  {label}{suffix} ({seconds:.1f}s)")


def _configure_run_logging(settings: Settings, log_dir: Path, verbose: bool) -> None:
    """This process's own log records go to <log_dir>/tunewave.log; the console gets warnings
    and errors only (everything with --verbose)."""
    from api.core.logging import JsonFormatter, PlainFormatter

    configure_logging(settings.log_level, settings.log_json)
    if verbose:
        return
    log_dir.mkdir(parents=True, exist_ok=True)
    root = logging.getLogger()
    console = root.handlers[0]
    console.setFormatter(PlainFormatter("tunewave: %(levelname)s: %(message)s"))
    console.setLevel(logging.WARNING)
    to_file = logging.FileHandler(log_dir / "tunewave.log", encoding="utf-8")
    to_file.setFormatter(
        JsonFormatter()
        if settings.log_json
        else PlainFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
    )
    root.addHandler(to_file)


def log_directory(settings: Settings) -> Path:
    return settings.data_dir / "logs"


def run(
    settings: Settings, *, worker: bool = True, beat: bool = True, verbose: bool = False
) -> int:
    _ensure_port_free(settings.host, settings.port)
    embedded = not settings.database_url or not settings.redis_url
    log_dir = log_directory(settings)
    _configure_run_logging(settings, log_dir, verbose)
    story = Story()
    story.say(f"Starting TuneWave (data in {_shown(settings.data_dir)}, logs in {_shown(log_dir)})")
    # Until the supervisor takes over, SIGTERM unwinds like Ctrl-C so embedded servers stop.
    signal.signal(signal.SIGTERM, _raise_keyboard_interrupt)
    with contextlib.ExitStack() as stack:
        stack.callback(_say_stopped, story)
        try:
            if embedded:
                stack.enter_context(_data_dir_lock(settings.data_dir))
            settings = _start_services(settings, stack, story)
            with story.phase("database schema") as detail:
                detail.append(
                    migrate_if_needed(
                        settings.require_database_url(), settings.data_dir / "migrated.json"
                    )
                )
            supervisor = Supervisor(
                process_specs(settings, worker=worker, beat=beat),
                child_environment(settings),
                log_dir=log_dir,
                stream=verbose,
            )
            stack.callback(supervisor.stop)
            stack.callback(story.say, "Stopping TuneWave...")
            # The web server starts now and imports its modules on one core while the steps
            # run on the other; the address is printed once both are done.
            web_started = time.monotonic()
            supervisor.start(["web"])
            for step in STARTUP_STEPS:
                label = step.__name__.replace("_", " ")
                with story.phase(label) as detail:
                    summary = step(settings)
                    if summary:
                        detail.append(summary)
        except KeyboardInterrupt:
            logger.info("interrupted during startup")
            return 130

        supervisor.install_signal_handlers()
        url = browser_url(settings)
        ready = _wait_until_ready(supervisor, url)
        story.say(f"  web server (started {time.monotonic() - web_started:.1f}s ago)")
        # The worker and beat start once the web server answers, so that it has the CPU while
        # it starts (tasks sent meanwhile wait in Redis).
        others = [spec.name for spec in supervisor.specs if spec.name != "web"]
        if others and not supervisor.stop_requested.is_set():
            supervisor.start(others)
            story.say(f"  {', '.join(others)}: starting in the background")
        if ready:
            story.say(
                f"\nTuneWave is running at {url}  (ready in "
                f"{time.monotonic() - story.started:.1f}s; Ctrl-C stops it)\n"
            )
        exited = supervisor.wait()
        story.stopping_at = time.monotonic()
        if exited is None:
            logger.info("stopping")
        return 0 if exited is None else 1


def _shown(path: Path) -> str:
    """``path`` relative to the working directory when it is below it."""
    try:
        return f"{path.resolve().relative_to(Path.cwd())}/"
    except ValueError:
        return str(path)


def _say_stopped(story: Story) -> None:
    if story.stopping_at is not None:
        story.say(f"TuneWave stopped ({time.monotonic() - story.stopping_at:.1f}s)")


def _check_redis(url: str, *, embedded: bool) -> str:
    from redis.exceptions import RedisError

    from api.core.redis_version import RedisVersionError, check_redis_version_sync, redacted

    try:
        return check_redis_version_sync(url)
    except RedisVersionError as exc:
        raise CommandError(str(exc)) from exc
    except RedisError as exc:
        if embedded:
            raise CommandError(f"the embedded Redis does not answer: {exc}") from exc
        raise CommandError(f"cannot reach Redis at {redacted(url)}: {exc}") from exc


def _start_services(
    settings: Settings, stack: contextlib.ExitStack, story: Story | None = None
) -> Settings:
    """Start the embedded servers the settings leave unset (and check Redis's version);
    return settings naming them."""
    from tunewave.embedded import EmbeddedPostgres, EmbeddedRedis

    story = story or Story(open(os.devnull, "w"))  # noqa: SIM115 - closed with the process
    updates: dict[str, str] = {}
    if not settings.database_url:
        with story.phase("PostgreSQL") as detail:
            postgres = EmbeddedPostgres(settings.data_dir)
            # Registered first so it stops last: the processes using it are gone by then.
            stack.callback(postgres.stop)
            updates["database_url"] = postgres.start()
            detail.append("embedded" + (", already running" if postgres.reused else ""))
    with story.phase("Redis") as detail:
        if not settings.redis_url:
            redis_server = EmbeddedRedis(settings.data_dir)
            stack.callback(redis_server.stop)
            updates["redis_url"] = redis_server.start()
            detail.append("embedded " + _check_redis(updates["redis_url"], embedded=True))
        else:
            detail.append(_check_redis(settings.redis_url, embedded=False))
    return settings.model_copy(update=updates)


def _run_handler(args: argparse.Namespace, settings: Settings) -> int:
    overrides: dict[str, object] = {}
    if args.host is not None:
        overrides["host"] = args.host
    if args.port is not None:
        overrides["port"] = args.port
    return run(
        settings.model_copy(update=overrides),
        worker=args.worker,
        beat=args.beat,
        verbose=args.verbose,
    )


def _port(value: str) -> int:
    try:
        port = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a port number: {value!r}") from None
    if not 1 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"port must be 1-65535, got {port}")
    return port


def add_run_command(subcommands: Subcommands) -> None:
    parser = subcommands.add_parser(
        "run",
        help="run TuneWave: API + SPA, Celery worker and beat",
        description=(
            "Run everything on this machine. With DATABASE_URL/REDIS_URL unset, starts "
            "embedded PostgreSQL and Redis in the data directory (TUNEWAVE_DATA_DIR, default "
            ".tunewave/). Applies migrations, then runs the web server, a Celery worker and "
            "Celery beat until Ctrl-C or SIGTERM; if one of them dies, all are stopped."
        ),
    )
    parser.add_argument("--host", help="interface to listen on (default: TUNEWAVE_HOST)")
    parser.add_argument("--port", type=_port, help="port to listen on (default: PORT)")
    parser.add_argument(
        "--no-worker", dest="worker", action="store_false", help="do not start a Celery worker"
    )
    parser.add_argument(
        "--no-beat", dest="beat", action="store_false", help="do not start Celery beat"
    )
    parser.add_argument(
        "--verbose",
        action="store_true",
        help="stream every log line of the web server, worker and beat to the console "
        "(otherwise they go to logs/ in the data directory, and only errors are shown)",
    )
    parser.set_defaults(handler=_run_handler)


# --- catalog ---------------------------------------------------------------------------------


def load_demo_catalog(settings: Settings) -> str:
    """Startup step: a first start loads the catalog, so the product has music to play."""
    started = time.monotonic()
    tracks = import_catalog(settings.require_database_url(), only_if_empty=True)
    logger.info(
        "catalog ready",
        extra={"tracks": tracks, "seconds": round(time.monotonic() - started, 2)},
    )
    return f"{tracks} tracks"


def load_demo_listeners(settings: Settings) -> str:
    """Startup step: a first start turns the catalog's playlists into demo listeners and asks
    the worker for an initial training, so recommendations have taste to work from."""
    started = time.monotonic()
    events = seed_demo_listeners(settings.require_database_url())
    if events:
        logger.info(
            "demo listeners loaded",
            extra={"events": events, "seconds": round(time.monotonic() - started, 2)},
        )
        request_training(settings, reason="first start")
        return f"{events} listening events loaded, first training queued"
    return "already loaded"


def request_training(settings: Settings, *, reason: str) -> None:
    """Queue a training run; the worker picks it up as soon as it is consuming."""
    from celery import Celery

    from api.core.redis import redis_ssl_options

    url = settings.require_redis_url()
    sender = Celery("tunewave", broker=url, broker_use_ssl=redis_ssl_options(url))
    try:
        sender.send_task("workers.training.train_recommender", kwargs={"reason": reason})
    finally:
        sender.close()


def _catalog_import_handler(args: argparse.Namespace, settings: Settings) -> int:
    path: Path | None = args.file
    if path is not None and not path.is_file():
        raise CommandError(f"no such file: {path}")
    with _database(settings) as database_url:
        migrate(database_url)
        tracks = import_catalog(database_url, path)
    print(f"catalog: {tracks} tracks imported or refreshed")
    return 0


def add_catalog_command(subcommands: Subcommands) -> None:
    parser = subcommands.add_parser(
        "catalog",
        help="manage the local track catalog",
        description="The local catalog: the tracks rooms queue and search falls back to.",
    )
    actions = parser.add_subparsers(title="actions", metavar="ACTION", required=True)
    import_parser = actions.add_parser(
        "import",
        help="load the bundled Spotify catalog (idempotent)",
        description=(
            "Load tracks, artists and genres from data/spotify-tracks/spotify_songs.csv.gz "
            "(or --file, same columns). Running it again refreshes and adds nothing twice. "
            "Uses DATABASE_URL, or the embedded database."
        ),
    )
    import_parser.add_argument("--file", type=Path, help="a CSV(.gz) in the same format")
    import_parser.set_defaults(handler=_catalog_import_handler)


# --- evaluate --------------------------------------------------------------------------------


def _evaluate_handler(args: argparse.Namespace, settings: Settings) -> int:
    # Imported here: the recommender pulls in scikit-learn and implicit, which no other
    # command needs.
    from recommender.cli import run_evaluation

    models = [name.strip() for name in args.models.split(",") if name.strip()]
    try:
        run_evaluation(
            args.dataset, models, args.folds, args.seed, args.tune, args.max_trials, args.output
        )
    except ValueError as exc:
        raise CommandError(str(exc)) from exc
    return 0


def add_evaluate_command(subcommands: Subcommands) -> None:
    parser = subcommands.add_parser(
        "evaluate",
        help="evaluate the recommender models offline on a bundled data set",
        description=(
            "Per-user random k-fold evaluation with full-catalogue ranking (docs/"
            "recommender.md): precision, recall, nDCG, MAP @10/@20 and coverage per model."
        ),
    )
    parser.add_argument("--dataset", default="lastfm-hetrec2011", help="bundled data set")
    parser.add_argument(
        "--models",
        default="popularity,itemknn,bpr,als,content,hybrid",
        help="comma-separated model names (default: all)",
    )
    parser.add_argument("--folds", type=int, default=5, help="number of folds (default 5)")
    parser.add_argument("--seed", type=int, default=0, help="split seed (default 0)")
    parser.add_argument(
        "--tune", action="store_true", help="also search parameters per fold (slower)"
    )
    parser.add_argument("--max-trials", type=int, default=10, help="trials per family with --tune")
    parser.add_argument("--output", type=Path, help="write the per-fold rows to this CSV")
    parser.set_defaults(handler=_evaluate_handler)


# --- train -----------------------------------------------------------------------------------


def _train_handler(args: argparse.Namespace, settings: Settings) -> int:
    if args.queue:
        request_training(settings, reason="tunewave train")
        print("training queued; a worker will run it")
        return 0
    import asyncio
    import json

    from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine

    from api.core.redis import new_redis
    from api.recommendations.training import TrainingResult, training_service

    if settings.redis_url is None:
        raise CommandError(
            "REDIS_URL is not set: training publishes to Redis (with the embedded services, "
            "tunewave run trains on its first start and every night)"
        )
    with _database(settings) as database_url:
        run_settings = settings.model_copy(update={"database_url": database_url})

        async def train() -> TrainingResult:
            # Its own engine and Redis client, built from these settings (the database may
            # be the embedded one started above, which no environment variable names).
            engine = create_async_engine(database_url)
            redis = new_redis(run_settings)
            try:
                return await training_service.train_and_publish(
                    redis,
                    run_settings,
                    maker=async_sessionmaker(engine, expire_on_commit=False, autoflush=False),
                    model_name=args.model,
                    params=json.loads(args.params) if args.params else None,
                    progress=lambda message: print(f"  {message}", flush=True),
                )
            finally:
                await redis.aclose()
                await engine.dispose()

        result = asyncio.run(train())
    print(f"training: {result.status} {result.version or ''} {result.detail}".rstrip())
    for key in ("ndcg@10", "precision@10", "recall@10", "map@10", "coverage@10"):
        if key in result.metrics:
            live = (result.live_metrics or {}).get(key)
            suffix = f" (live {live:.4f})" if live is not None else ""
            print(f"  {key}: {result.metrics[key]:.4f}{suffix}")
    return 0 if result.status in {"published", "skipped"} else 1


def add_train_command(subcommands: Subcommands) -> None:
    parser = subcommands.add_parser(
        "train",
        help="train the recommender and publish it (unless worse than the live one)",
        description=(
            "Export listening history from PostgreSQL, train, evaluate on a holdout against "
            "the live model, record the run in model_runs and publish the new version to "
            "Redis. Exit status 1 when the new model was rejected as worse."
        ),
    )
    parser.add_argument("--model", default="hybrid", help="registry name (default: hybrid)")
    parser.add_argument("--params", help="model parameters as JSON, e.g. '{\"factors\": 64}'")
    parser.add_argument(
        "--queue", action="store_true", help="let a worker run it instead of this process"
    )
    parser.set_defaults(handler=_train_handler)


# --- entry point -----------------------------------------------------------------------------

COMMANDS: tuple[Callable[[Subcommands], None], ...] = (
    add_run_command,
    add_migrate_command,
    add_catalog_command,
    add_train_command,
    add_evaluate_command,
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="tunewave",
        description="TuneWave: listen together. Settings come from TUNEWAVE_* variables.",
    )
    subcommands = parser.add_subparsers(title="commands", metavar="COMMAND", required=True)
    for add_command in COMMANDS:
        add_command(subcommands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        settings = get_settings()
    except (ValueError, RuntimeError) as exc:  # a bad TUNEWAVE_* value, or dev secrets in prod
        print(f"tunewave: invalid settings: {exc}", file=sys.stderr)
        return 2
    configure_logging(settings.log_level, settings.log_json)
    handler: Handler = args.handler
    try:
        return handler(args, settings)
    except (CommandError, BootstrapError, EmbeddedServiceError) as exc:
        print(f"tunewave: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


STARTUP_STEPS.append(load_demo_catalog)
STARTUP_STEPS.append(load_demo_listeners)

if __name__ == "__main__":
    sys.exit(main())

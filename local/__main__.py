"""``python -m local serve|openapi|requirements``: the local runtime and the project's generators."""

from __future__ import annotations

import argparse
import faulthandler
import logging
import os
import signal
import sys
import threading
from datetime import datetime
from pathlib import Path

from local.heap import collect_less_often

collect_less_often()  # before local.runtime imports moto and botocore (local/heap.py)

from local.runtime import ROOT, LocalRuntime  # noqa: E402

STOP_SECONDS = 45.0


def _stop_anyway() -> None:
    """Ctrl-C stops the runtime within STOP_SECONDS: past them, what is still running is printed (every
    thread's stack, to find what held the stop) and the process leaves without it."""
    print(f"Still stopping after {STOP_SECONDS:g} s; what runs now:", flush=True)
    faulthandler.dump_traceback(file=sys.stdout, all_threads=True)
    print("Stopped (without waiting for the threads above).", flush=True)
    os._exit(0)


def wait_for(stopping: threading.Event, parent: int | None = None) -> None:
    """Until ``stopping`` is set (by the Ctrl-C handler), waiting a little at a time: Python runs a signal's
    handler in the main thread once that thread runs again, and the kernel may deliver Ctrl-C to any other
    thread, which left an endless wait blocked for good (e2e teardowns waited 120 s for a served app that
    had not even begun to stop). With ``parent`` (a process id), also until that process is gone: a test
    run that is killed, not stopped, leaves no served app behind it, holding its ports."""
    while not stopping.wait(0.5):
        if parent is not None and os.getppid() != parent:
            print(f"The process that started this one ({parent}) is gone.", flush=True)
            return


def serve(args: argparse.Namespace) -> int:
    from local.demo import seed

    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(name)s %(message)s", datefmt="%H:%M:%S")
    logging.getLogger("local").setLevel(logging.INFO)
    parent = os.getppid() if args.stop_with_parent else None  # before the start: it may die meanwhile
    stopping = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stopping.set())

    runtime = LocalRuntime(
        port=args.port, smtp_port=args.smtp_port, time_scale=args.time_scale, clock_start=args.clock_start
    )
    runtime.start(seed=lambda: seed(demo=not args.no_demo))
    session = runtime.session
    print(
        f"\nRelance is up at {session['baseUrl']}\n"
        f"  web app / dev page : {session['baseUrl']}/  ({session['baseUrl']}/dev)\n"
        f"  API                : {session['baseUrl']}/v1  (docs: {session['baseUrl']}/v1/docs)\n"
        f"  portal             : {session.get('demoPortalUrl') or session['baseUrl'] + '/portal'}\n"
        f"  payments           : Stripe's local stand-in ({session['baseUrl']}/dev/stripe/events)\n"
        f"  outbox             : {session['baseUrl']}/dev/outbox\n"
        f"  inbound mail (SMTP): {runtime.host}:{session['smtpPort']}  (customer replies: smtplib works)\n"
        f"  organization       : {session['organization']['name']}\n"
        f"  admin API key      : {session['apiKey']}  (header X-Api-Key)\n"
        f"  demo users         : {len(session['users'])}  ({session['baseUrl']}/dev/login)\n"
        f"  clock              : {args.time_scale:g}x real time (POST /dev/clock to jump)\n"
        f"  session file       : {runtime.session_file}\n"
        "Press Ctrl-C to stop.",
        flush=True,
    )
    if runtime.skipped:
        print(f"Not emulated locally (no local meaning): {', '.join(runtime.skipped)}", flush=True)
    wait_for(stopping, parent=parent)
    print("Stopping…", flush=True)
    watchdog = threading.Timer(STOP_SECONDS, _stop_anyway)
    watchdog.daemon = True
    watchdog.start()
    runtime.stop()
    watchdog.cancel()
    print("Stopped.", flush=True)
    # Everything is closed; what remains are daemon threads asleep inside moto's Step Functions
    # executions (Wait states). Finalizing the interpreter over them aborts the process, so leave now.
    sys.stderr.flush()
    os._exit(0)


def openapi(args: argparse.Namespace) -> int:
    from local.openapi import generate

    text = generate()
    if args.check:
        current = Path(args.output).read_text(encoding="utf-8") if Path(args.output).exists() else ""
        if current != text:
            print(f"{args.output} is out of date: run `make openapi`", file=sys.stderr)
            return 1
        return 0
    Path(args.output).write_text(text, encoding="utf-8")
    print(f"wrote {args.output}")
    return 0


def requirements(args: argparse.Namespace) -> int:
    from local.layer import layer_requirements

    Path(args.output).write_text(layer_requirements(), encoding="utf-8")
    print(f"wrote {args.output}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m local", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    serve_parser = commands.add_parser("serve", help="run the whole system on localhost")
    serve_parser.add_argument("--port", type=int, default=3000)
    serve_parser.add_argument("--smtp-port", type=int, default=2525, help="inbound mail (0: any free port)")
    serve_parser.add_argument("--no-demo", action="store_true", help="start one empty organization")
    serve_parser.add_argument(
        "--time-scale", type=float, default=1.0, help="virtual seconds per real second (8640: a day in 10 s)"
    )
    serve_parser.add_argument(
        "--clock-start",
        type=datetime.fromisoformat,
        default=None,
        help="start the simulated clock at this moment (ISO 8601 with its offset, e.g. 2026-11-30T23:30:00+09:00)",
    )
    serve_parser.add_argument(
        "--stop-with-parent",
        action="store_true",
        help="stop when the process that started this one ends (tests: a killed run leaves nothing behind)",
    )
    serve_parser.set_defaults(run=serve)

    openapi_parser = commands.add_parser("openapi", help="write the API's OpenAPI document")
    openapi_parser.add_argument("--output", default=str(ROOT / "functions" / "api" / "openapi.json"))
    openapi_parser.add_argument("--check", action="store_true", help="fail if the file is out of date")
    openapi_parser.set_defaults(run=openapi)

    requirements_parser = commands.add_parser("requirements", help="write the layer's requirements.txt")
    requirements_parser.add_argument("--output", default=str(ROOT / "layers" / "core" / "requirements.txt"))
    requirements_parser.set_defaults(run=requirements)

    args = parser.parse_args(argv)
    return int(args.run(args))


if __name__ == "__main__":
    sys.exit(main())

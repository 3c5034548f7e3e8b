"""`python -m orchestrator serve | demo | validate | register | audit`."""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
from pathlib import Path

from orchestrator.commands.loader import CommandsFileError, check_commands, check_prompt_folder
from orchestrator.settings import DEFAULT_COMMANDS_FILE, Role, SettingsError, load_settings
from orchestrator.terminal import terminal_safe


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="orchestrator", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="serve the interactions endpoint and run the worker locally")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8787)
    serve.add_argument(
        "--job-time-limit",
        type=_positive_seconds,
        default=60.0,
        metavar="SECONDS",
        help="a job's deadline; a job whose process died is run again 1.5 times this after it began (default: 60)",
    )
    gateway = commands.add_parser(
        "gateway", help="the same bot over Discord's gateway (no public URL needed); needs orchestrator[gateway]"
    )
    gateway.add_argument(
        "--health-port", type=int, metavar="N", help="serve GET /healthz on 127.0.0.1:N (200 while connected)"
    )
    demo = commands.add_parser("demo", help="play the whole flow locally against stand-in Discord and GitHub APIs")
    demo.add_argument("--gateway", action="store_true", help="the same bot over a stand-in Discord gateway")
    validate = commands.add_parser("validate", help="check the commands file, every prompt file and the settings")
    validate.add_argument("--commands-file", type=Path, help="the file to check (default: COMMANDS_FILE)")
    validate.add_argument("--no-settings", action="store_true", help="check only the commands and prompt files")
    validate.add_argument(
        "--remote",
        action="store_true",
        help="also read each command's workflow from GitHub at its ref and report where they disagree "
        "(with --no-settings, only GITHUB_TOKEN, GITHUB_REPOSITORY and GITHUB_API_URL are read)",
    )
    register = commands.add_parser("register", help="put the command set on Discord (one bulk overwrite)")
    register.add_argument("--guild", metavar="ID", help="register in this server (at once) instead of globally")
    register.add_argument("--dry-run", action="store_true", help="show the diff and the exact body; send nothing")
    register.add_argument("--force", action="store_true", help="send the set even when nothing changed")
    audit = commands.add_parser("audit", help="read the audit trail of command attempts from STATE_STORE")
    audit.add_argument("--user", metavar="ID", help="only this Discord user's attempts")
    audit.add_argument("--since", default="7d", help="30m, 24h, 7d or an ISO date/time (default: 7d)")
    audit.add_argument("--limit", type=int, default=100, help="at most this many, newest first (default: 100)")
    audit.add_argument("--json", action="store_true", help="one JSON object per line")
    args = parser.parse_args(argv)

    if args.command == "validate":
        return _validate(args.commands_file, check_settings=not args.no_settings, remote=args.remote)
    if args.command == "serve":
        return _serve(args.host, args.port, args.job_time_limit)
    if args.command == "gateway":
        return _gateway(args.health_port)
    if args.command == "register":
        from orchestrator.registration.run import run_register

        return run_register(guild_id=args.guild, dry_run=args.dry_run, force=args.force, out=sys.stdout, err=sys.stderr)
    if args.command == "audit":
        from orchestrator.audit.report import run_audit

        return run_audit(
            user_id=args.user, since=args.since, limit=args.limit, as_json=args.json, out=sys.stdout, err=sys.stderr
        )
    if args.gateway:
        try:
            from orchestrator_dev.demo.gateway import run_gateway_demo
        except ImportError as exc:  # the stand-in gateway and the bot's side both need the extra
            if _is_dev_package(exc):
                return _demo_unavailable(exc)
            print(
                f"`demo --gateway` needs discord.py: pip install -e '.[gateway]' ({exc.name} is missing)",
                file=sys.stderr,
            )
            return 2
        return run_gateway_demo()
    try:
        from orchestrator_dev.demo.endpoint import run_demo
    except ImportError as exc:
        if not _is_dev_package(exc):
            raise
        return _demo_unavailable(exc)
    return run_demo()


def _is_dev_package(exc: ImportError) -> bool:
    return (exc.name or "").split(".")[0] == "orchestrator_dev"


def _demo_unavailable(exc: ImportError) -> int:
    """The demo is development code, in the package beside this one: an install from a checkout has
    it, the Lambda artifact does not."""
    print(
        f"the demo needs orchestrator_dev, installed beside this package from a checkout: pip install -e . "
        f"({exc.name} is missing)",
        file=sys.stderr,
    )
    return 2


def _positive_seconds(text: str) -> float:
    try:
        seconds = float(text)
    except ValueError:
        seconds = 0.0
    if not 0 < seconds < float("inf"):
        raise argparse.ArgumentTypeError(f"expected a positive number of seconds, got {text!r}")
    return seconds


def _validate(commands_file: Path | None, *, check_settings: bool, remote: bool = False) -> int:
    problems: list[str] = []
    path = commands_file or Path(os.environ.get("COMMANDS_FILE") or DEFAULT_COMMANDS_FILE)
    settings = None
    if check_settings:
        try:
            settings = load_settings()
            problems.extend(f"settings: {p}" for p in settings.alert_problems())
        except SettingsError as exc:
            problems.extend(f"settings: {p}" for p in exc.problems)
    command_set, command_problems = check_commands(path)
    problems.extend(f"{path}: {p}" for p in command_problems)
    problems.extend(check_prompt_folder(path))
    for problem in problems:
        print(terminal_safe(problem))
    if problems:
        return 1
    if remote and command_set is not None:
        if settings is None:
            try:
                settings = load_settings(roles={Role.WORKFLOWS})
            except SettingsError as exc:
                for problem in exc.problems:
                    print(terminal_safe(f"settings: {problem}"))
                return 1
        from orchestrator.workflows.remote import checked_with_settings

        found = checked_with_settings(settings, command_set)[1]
        for drift in found:
            print(terminal_safe(str(drift)))
        if any(drift.error for drift in found):
            return 1
    count = len(command_set.commands) if command_set else 0
    print(f"ok: {path} defines {count} command(s)" + ("" if check_settings else " (settings not checked)"))
    return 0


def _gateway(health_port: int | None) -> int:
    from orchestrator.observability.logging import configure_logging

    configure_logging("gateway", level=os.environ.get("LOG_LEVEL", "INFO"))
    try:
        from orchestrator.gateway.run import run_gateway
    except ImportError as exc:  # discord.py is an extra: the Lambda functions never need it
        print(
            f"`gateway` needs discord.py: pip install 'orchestrator[gateway]' ({exc.name} is missing)", file=sys.stderr
        )
        return 2
    return run_gateway(health_port=health_port, err=sys.stderr)


def _serve(host: str, port: int, job_time_limit: float) -> int:
    from orchestrator.adapters.local_server import LocalRuntime
    from orchestrator.observability.logging import configure_logging

    configure_logging("serve", level=os.environ.get("LOG_LEVEL", "INFO"))
    try:
        runtime = LocalRuntime(load_settings(), host=host, port=port, job_time_limit=job_time_limit)
    except (SettingsError, CommandsFileError) as exc:
        print(terminal_safe(str(exc)), file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"cannot listen on {host}:{port}: {exc.strerror}", file=sys.stderr)
        return 2
    stopped = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopped.set())
    runtime.start()
    try:
        stopped.wait()
    except KeyboardInterrupt:
        pass
    finally:
        runtime.stop()
    return 0

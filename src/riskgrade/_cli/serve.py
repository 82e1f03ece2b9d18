"""``riskgrade serve``: run the HTTP JSON service (docs/platform.md) on uvicorn.

Every limit is an option and an environment variable (``RISKGRADE_SERVE_*``), with a default. With
``--workers N`` uvicorn's supervisor runs N worker processes on the one port, each with its own copy of
the app (made from the options in ``RISKGRADE_SERVE_WORKER_OPTIONS``, where the API keys the command read
are given as their SHA-256 only) and restarts one that dies.
Exit codes: 0 stopped; 2 the optional extra ``riskgrade[serve]`` is not installed, or an API key file
cannot be read (usage).
"""

from __future__ import annotations

import functools
import os

import click

from riskgrade._cli.main import _lang, _lang_option

__all__ = ["serve_cmd"]


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="address to listen on")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(0, 65535), help="TCP port")
@click.option("--ruleset", "-r", "rulesets", multiple=True, type=click.Path(exists=True, dir_okay=False),
              help="also serve this ruleset file, under its id (repeatable)")
@click.option("--max-body", "max_body", default=8 * 1024 * 1024, show_default=True, type=click.IntRange(1),
              metavar="BYTES", envvar="RISKGRADE_SERVE_MAX_BODY", show_envvar=True,
              help="the largest request body (413 above it)")
@click.option("--max-batch", "max_batch", default=10_000, show_default=True, type=click.IntRange(1),
              metavar="N", envvar="RISKGRADE_SERVE_MAX_BATCH", show_envvar=True,
              help="the most records in one request (413 above it)")
@click.option("--timeout", default=30.0, show_default=True, type=click.FloatRange(0, min_open=True),
              metavar="SECONDS", envvar="RISKGRADE_SERVE_TIMEOUT", show_envvar=True,
              help="the most time one request may take, body included (408 above it)")
@click.option("--api-key-file", "key_file", type=click.Path(dir_okay=False), default=None,
              envvar="RISKGRADE_SERVE_API_KEY_FILE", show_envvar=True,
              help="require an API key from this file (one a line) on every request but /healthz and the "
                   "OpenAPI document (401 without)")
@click.option("--access-log", "access_log", default=None, metavar="FILE", envvar="RISKGRADE_SERVE_ACCESS_LOG",
              show_envvar=True, help="append one JSON line per decision to FILE (- for standard error)")
@click.option("--reload-check", "reload_check", default=1.0, show_default=True, type=click.FloatRange(0),
              metavar="SECONDS", envvar="RISKGRADE_SERVE_RELOAD_CHECK", show_envvar=True,
              help="look at a served ruleset's files for a change at most this often (0: before every request)")
@click.option("--workers", default=1, show_default=True, type=click.IntRange(1), metavar="N",
              envvar="RISKGRADE_SERVE_WORKERS", show_envvar=True,
              help="worker processes sharing the port (each compiles the rulesets and serves on its own)")
@click.option("--keep-freed-memory/--return-freed-memory", "keep_memory", default=True, show_default=True,
              envvar="RISKGRADE_SERVE_KEEP_FREED_MEMORY", show_envvar=True,
              help="keep memory a request freed for the next one (glibc mallopt; a 1,000-record answer no longer "
                   "faults its pages in anew) rather than give it back to the system at once")
@click.option("--log-level", "log_level", default="info", show_default=True,
              type=click.Choice(["critical", "error", "warning", "info", "debug"]), envvar="RISKGRADE_SERVE_LOG_LEVEL",
              show_envvar=True, help="uvicorn's own log: at info a line per request on standard output, from warning up "
                                     "none (the decisions go to --access-log either way)")
@_lang_option
def serve_cmd(host: str, port: int, rulesets: tuple[str, ...], max_body: int, max_batch: int, timeout: float,
              key_file: str | None, access_log: str | None, reload_check: float, workers: int,
              keep_memory: bool, log_level: str, lang: str | None) -> None:
    """Serve POST /v1/grade/{ruleset}, /v1/explain/{ruleset}, /v1/whatif/{ruleset}, /v1/assess,
    GET /v1/rulesets[/{id}], /healthz and the OpenAPI document at /openapi.json (needs: pip install
    'riskgrade[serve]'). API keys may also be given in RISKGRADE_SERVE_API_KEYS (comma-separated)."""
    try:
        # the web stack is an optional extra, imported only when serving
        import uvicorn

        from riskgrade._serve.app import OPTIONS_ENV, ServeOptions, create_app, read_api_keys, worker_options
        from riskgrade._serve.malloc import keep_freed_memory
    except ImportError as e:
        need = "riskgrade serve 需要可选依赖" if _lang(lang) == "zh" else "riskgrade serve needs the extra"
        raise click.UsageError(f"{need}: pip install 'riskgrade[serve]' ({e})") from None
    try:
        keys = read_api_keys(key_file, os.environ.get("RISKGRADE_SERVE_API_KEYS"))
    except (OSError, UnicodeDecodeError) as e:
        raise click.BadParameter(f"cannot read {key_file}: {e}", param_hint="--api-key-file") from None
    if key_file is not None and not keys:
        raise click.BadParameter(f"{key_file} has no keys", param_hint="--api-key-file")
    options = ServeOptions(rulesets, max_body=max_body, max_batch=max_batch, timeout=timeout, api_keys=keys,
                           access_log=access_log, reload_check=reload_check)
    if keep_memory and not keep_freed_memory():
        click.echo("riskgrade serve: this C library has no mallopt or refused a threshold; --keep-freed-memory "
                   "is not (wholly) in effect", err=True)
    app = create_app(options)  # compiled here first: a broken ruleset file stops the start, before any worker
    # h11, not httptools even when installed: uvicorn on httptools drops the body of a request that offers an
    # HTTP/2 upgrade (Java's HttpClient does by default, curl --http2 too) -- tests/test_integration.py::test_java
    run = functools.partial(uvicorn.run, host=host, port=port, log_level=log_level, ws="none", lifespan="off",
                            http="h11")
    if workers == 1:
        run(app)
        return
    # uvicorn's supervisor spawns the workers; each makes its app from the options in the environment
    os.environ[OPTIONS_ENV] = worker_options(options, keep_freed_memory=keep_memory)
    run("riskgrade._serve.app:app_from_environment", factory=True, workers=workers)
